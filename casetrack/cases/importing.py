"""Importing the list of assigned petitions (交办清单) from a spreadsheet.

Four steps, shared by the pages and ``flask cases import``:

1. ``read_sheet`` reads an .xlsx (openpyxl, read-only, formulas kept as formulas so they can
   be refused) or a .csv (UTF-8 with or without BOM, else GB18030) into a header row and rows;
   anything that is not a spreadsheet, or holds formulas, is refused as a whole.
2. ``auto_mapping`` maps the file's headers to our columns (template headers and common
   synonyms); the user may adjust it.
3. ``preview_import`` checks EVERY row — required fields, dates, village and unit names of the
   town, ID check digits, phone formats (through ``services.validate_case_input``, the same rule
   as the registration form), duplicates inside the file — and sets aside rows whose 交办文号
   already exists in the town. Nothing is written.
4. ``run_import`` registers the new rows through ``services.register_case`` (and accepts and
   assigns those naming a unit), all in the caller's one transaction: the caller commits once,
   or rolls everything back.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from casetrack.auth.models import User
from casetrack.auth.permissions import has_right
from casetrack.cases import services
from casetrack.cases.import_files import (
    EXAMPLE_MARK,
    TEMPLATE_SHEET,
    Grid,
    ImportFileError,
    ReadLimits,
    read_grid,
)
from casetrack.cases.import_files import cell_text as _text
from casetrack.cases.import_files import present as _present
from casetrack.cases.kinds.petition import rules as prules
from casetrack.cases.labels import FORM_LABELS, LEDGER_HEADERS
from casetrack.cases.models import Case, CaseKind
from casetrack.cases.numbering import reserve_numbers
from casetrack.cases.repeats import EarlierCases
from casetrack.core.errors import DomainError, PermissionDenied, ValidationError
from casetrack.core.i18n import LIST_SEPARATOR, N_, Joined, Msg
from casetrack.core.normalize import canonical_ref, search_key
from casetrack.core.time import local_date
from casetrack.notify.services import digest_notifications
from casetrack.org.models import Town, Unit, Village

#: the header row is looked for among the first rows (a title row may sit above it)
HEADER_SEARCH_ROWS = 10
#: during a big import, refresh PostgreSQL's planner statistics this often (rows)
ANALYZE_EVERY = 500
#: the earliest date accepted in a file
MIN_DATE = dt.date(2000, 1, 1)


@dataclass(frozen=True)
class Column:
    """One column of the template: the field it fills, its header, the synonyms recognised."""

    key: str
    header: str
    required: bool = False
    synonyms: tuple[str, ...] = ()
    hint: str = ""


COLUMNS: tuple[Column, ...] = (
    Column("external_ref", "交办文号", True,
           ("文号", "交办编号", "交办单号", "信访件编号", "信访编号", "件号", "信访件号", "编号"),
           N_("上级交办的文号，用于识别重复导入")),
    Column("title", "标题", True, ("事项标题", "信访事项", "事由", "诉求标题", "主题"),
           N_("不超过200字")),
    Column("source", "来源", False, ("信访来源", "来源渠道", "渠道", "信访形式", "信访方式"),
           "默认“上级交办”；可填 " + "、".join(prules.SOURCES.values())),
    Column("petition_class", "信访类别", True, ("信访类型", "诉求类别", "信访性质"),
           "、".join(prules.CLASSES)),
    Column("category", "内容分类", False,
           ("问题分类", "内容类别", "问题类别", "事项分类", "问题属性", "分类"),
           N_("默认“其他”")),
    Column("village", "村（居）", False,
           ("村居", "所属村", "村委会", "村（社区）", "村/社区", "社区", "所在村", "村居委会"),
           N_("须与本镇村（居）名称一致")),
    Column("received_on", "收到日期", True,
           ("交办日期", "收件日期", "登记日期", "收到时间", "来信日期", "交办时间"),
           N_("如 2026-11-20")),
    Column("external_due_on", "上级办理期限", False,
           ("办理期限", "办结期限", "上级期限", "限办日期", "期限", "限办时间", "反馈期限"),
           N_("上级交办的事项必填")),
    Column("external_authority", "交办机关", False, ("交办单位", "转送机关", "来文单位", "交办部门")),
    Column("group_size", "人数", False, ("信访人数", "来访人数"), N_("默认 1")),
    Column("party_name", "信访人姓名", True, ("信访人", "姓名", "当事人", "来访人", "反映人")),
    Column("id_number", "身份证号", False, ("身份证号码", "证件号码", "身份证", "公民身份号码",
                                                  "居民身份证号码", "身份证件号码", "证件号")),
    Column("phone", "联系电话", False, ("电话", "手机", "手机号码", "联系方式", "电话号码",
                                              "手机号", "联系手机", "联系号码", "联系电话号码")),
    Column("address", "地址", False, ("住址", "家庭住址", "联系地址", "通讯地址")),
    Column("unit", "承办单位", False, ("责任单位", "办理单位", "承办部门", "责任部门",
                                                "主办单位", "承办单位(部门)", "责任单位(部门)"),
           N_("填写后导入即受理并交办该单位；须与本镇承办单位名称一致")),
    Column("summary", "摘要", False, ("内容摘要", "主要内容", "诉求内容", "信访内容", "事项摘要", "内容")),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
DATE_KEYS = ("received_on", "external_due_on")
#: where the service's field errors belong in the file
SERVICE_FIELD_COLUMNS = {
    "title": "title", "source": "source", "category": "category",
    "petition_class": "petition_class", "village_id": "village", "external_ref": "external_ref",
    "external_due_on": "external_due_on", "received_on": "received_on",
    "group_size": "group_size", "parties": "party_name", "parties-0-name": "party_name",
    "parties-0-id_number": "id_number", "parties-0-phone": "phone", "parties-0-role": "party_name",
    "kind": "title",
}


# --------------------------------------------------------------------------- reading


@dataclass
class Sheet:
    """A spreadsheet reduced to its header row and its non-empty data rows."""

    filename: str
    headers: list[str]
    #: (row number as the spreadsheet shows it, cell values)
    rows: list[tuple[int, list[Any]]]
    #: the worksheet read (None for CSV) and every visible sheet of the workbook
    sheet_name: str | None = None
    sheets: list[str] = field(default_factory=list)
    #: rows marked 【示例】 (the template's example), never imported
    example_rows: list[int] = field(default_factory=list)

    def to_json(self) -> str:
        """The parsed sheet as JSON: an upload is parsed once and each step reads this."""
        return json.dumps({"filename": self.filename, "headers": self.headers,
                           "rows": [[n, [_cell_to_json(v) for v in values]]
                                    for n, values in self.rows],
                           "sheet_name": self.sheet_name, "sheets": self.sheets,
                           "example_rows": self.example_rows}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Sheet:
        raw = json.loads(text)
        return cls(filename=raw["filename"], headers=raw["headers"],
                   rows=[(n, [_cell_from_json(v) for v in values]) for n, values in raw["rows"]],
                   sheet_name=raw["sheet_name"], sheets=raw["sheets"],
                   example_rows=raw["example_rows"])


def _cell_to_json(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, dt.time | dt.timedelta):
        return str(value)
    return value


def _cell_from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if "datetime" in value:
            return dt.datetime.fromisoformat(value["datetime"])
        return dt.date.fromisoformat(value["date"])
    return value


def max_rows() -> int:
    return int(current_app.config.get("IMPORT_MAX_ROWS", 20000))


def read_sheet(filename: str, data: bytes, row_limit: int | None = None,
               sheet: str | None = None) -> Sheet:
    """Read an .xlsx or .csv file (for a workbook, the visible sheet ``sheet`` or the one
    chosen by ``import_files.read_grid``); raises ``ImportFileError`` for anything else and
    ``SheetChoiceNeeded`` when the user must pick the sheet."""
    limit = row_limit if row_limit is not None else max_rows()
    limits = ReadLimits.from_config(current_app.config, limit + HEADER_SEARCH_ROWS)
    return _to_sheet(filename, read_grid(filename, data, limits, sheet), limit)


def _to_sheet(filename: str, grid: Grid, limit: int) -> Sheet:
    """Find the header row (a title row may sit above it) and keep the rows below it."""
    if not grid.rows:
        raise ImportFileError(N_("表格中没有任何内容"))
    header_at = 0
    for i, (_number, values) in enumerate(grid.rows[:HEADER_SEARCH_ROWS]):
        if sum(1 for v in values if match_header(_text(v))) >= 2:
            header_at = i
            break
    header_values = grid.rows[header_at][1]
    headers = [_text(v) for v in header_values]
    while headers and not headers[-1]:
        headers.pop()
    if len([h for h in headers if h]) < 2:
        raise ImportFileError(N_("未找到表头行：第一行应为列名（如 交办文号、标题、收到日期），请使用导入模板"))
    rows = [(n, list(v[:len(headers)]) + [None] * (len(headers) - len(v)))
            for n, v in grid.rows[header_at + 1:]]
    if len(rows) > limit:
        raise ImportFileError(N_("一次最多导入 %(n)s 行，本文件超过此数，请分批导入"),
                              params={"n": limit})
    return Sheet(filename=filename, headers=headers, rows=rows, sheet_name=grid.sheet,
                 sheets=grid.sheets, example_rows=grid.example_rows)


# --------------------------------------------------------------------------- mapping


def _norm(header: str) -> str:
    """A header as compared: NFKC (full-width forms), no whitespace or line breaks
    (Alt+Enter in Excel), brackets folded, required-marks and colons dropped, lower-case."""
    return search_key(header).translate(_HEADER_NOISE)


_HEADER_NOISE = str.maketrans("", "", "*:※＊")


def _lookup() -> dict[str, tuple[int, str]]:
    """Normalised header → (rank, column key). Rank 0: the template's header and the app's
    own labels (the registration form's and the ledger's, ``cases/labels.py``), so a file
    the app exported maps back whole; rank 1: the common synonyms of other offices' lists.
    A name that is one of our labels means what our label means (the ledger's 类别 is the
    content category)."""
    table: dict[str, tuple[int, str]] = {}
    for col in COLUMNS:
        own = (col.header, FORM_LABELS.get(col.key), LEDGER_HEADERS.get(col.key))
        for rank, names in ((0, own), (1, (*col.synonyms, col.key))):
            for name in names:
                if name and table.get(_norm(name), (2, ""))[0] > rank:
                    table[_norm(name)] = (rank, col.key)
    return table


_LOOKUP = _lookup()
#: the ledger's columns computed from a case's history (编号, 状态, 办结日期...): recognised
#: in a file the app exported, never imported
_DERIVED = frozenset(_norm(h) for k, h in LEDGER_HEADERS.items() if k not in COLUMN_BY_KEY)


def _match(header: str) -> tuple[int, str] | None:
    return _LOOKUP.get(_norm(header)) if header else None


def match_header(header: str) -> str | None:
    """Our column key for a header in the file, or None."""
    found = _match(header)
    return found[1] if found else None


def derived_headers(headers: list[str], mapping: dict[str, int]) -> list[str]:
    """The file's headers that fill no field and are the app's own computed ledger columns
    (an exported ledger): known, and not imported."""
    used = set(mapping.values())
    return [h for i, h in enumerate(headers) if h and i not in used and _norm(h) in _DERIVED]


def unmapped_headers(headers: list[str], mapping: dict[str, int]) -> list[str]:
    """The file's column headers that fill no field and are not the app's own computed
    columns: their data is not imported, and nobody said why."""
    used = set(mapping.values())
    return [h for i, h in enumerate(headers)
            if h and i not in used and _norm(h) not in _DERIVED]


def mapping_complete(headers: list[str], mapping: dict[str, int]) -> bool:
    """Every header of the file is recognised and every required field has its column: the
    mapping step has nothing to ask."""
    return not unmapped_headers(headers, mapping) and not check_mapping(headers, mapping)


def auto_mapping(headers: list[str]) -> dict[str, int]:
    """Column key → index of the header in the file, for every header recognised; when two
    headers name one field, our own label wins over a synonym (in an exported ledger
    上级规定期限 fills the authority's deadline, not the computed 办理期限), else the first."""
    best: dict[str, tuple[int, int]] = {}
    for index, header in enumerate(headers):
        found = _match(header)
        if found and (found[1] not in best or found[0] < best[found[1]][0]):
            best[found[1]] = (found[0], index)
    return {key: index for key, (_rank, index) in sorted(best.items(), key=lambda kv: kv[1][1])}


def check_mapping(headers: list[str], mapping: dict[str, int]) -> dict[str, str]:
    """Problems with a mapping (missing required columns, one header used twice)."""
    errors: dict[str, str] = {}
    used: dict[int, str] = {}
    for key, index in mapping.items():
        if key not in COLUMN_BY_KEY:
            errors[key] = N_("未知的字段")
            continue
        if not 0 <= index < len(headers):
            errors[key] = N_("所选的列不存在")
            continue
        if index in used:
            errors[key] = Msg(N_("“%(column)s”列已对应到“%(field)s”，一列只能对应一个字段"),
                              column=headers[index], field=COLUMN_BY_KEY[used[index]].header)
        used[index] = key
    for col in COLUMNS:
        if col.required and col.key not in mapping:
            errors[col.key] = Msg(N_("必须指定“%(field)s”对应的列"), field=col.header)
    return errors


# --------------------------------------------------------------------------- preview


@dataclass
class RowError:
    """One problem in the file: spreadsheet row, column header, message in Chinese."""

    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f"第{self.row}行" + (f"「{self.column}」列" if self.column else "")
        return f"{where}：{self.message}"


@dataclass
class PlannedRow:
    """A valid new row: what ``register_case`` gets, and the unit to assign it to."""

    row: int
    data: services.CaseInput
    unit_id: int | None


@dataclass
class Preview:
    """What an import would do; nothing has been written."""

    filename: str
    total_rows: int
    new_rows: list[PlannedRow] = field(default_factory=list)
    #: rows whose 交办文号 is already a case of the town: (row, 交办文号, case number)
    existing: list[tuple[int, str, str]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    #: said before importing, but no obstacle: columns not imported, example rows skipped
    warnings: list[str] = field(default_factory=list)

    @property
    def is_valid(self) -> bool:
        return not self.errors


def can_import(user: User) -> bool:
    """Importing registers, accepts and assigns: supervisors and admins."""
    return all(has_right(user, r) for r in ("register", "accept", "assign"))


def preview_import(session: Session, actor: User, now: dt.datetime, sheet: Sheet,
                   mapping: dict[str, int]) -> Preview:
    """Check every row of ``sheet`` under ``mapping``; write nothing."""
    if not can_import(actor):
        raise PermissionDenied(N_("只有督办员和系统管理员可以批量导入"))
    town = session.get(Town, actor.town_id) if actor.town_id else None
    if town is None:
        raise PermissionDenied(N_("您不属于任何乡镇，不能导入"))
    problems = check_mapping(sheet.headers, mapping)
    if problems:
        raise ValidationError.of(problems)
    today = local_date(now)
    town_villages, town_units = _places(session, town.id)
    villages = {_norm(v.name): v.id for v in town_villages if v.is_active}
    units = {_norm(u.name): u.id for u in town_units if u.is_active}
    header_of = {key: sheet.headers[i] or COLUMN_BY_KEY[key].header for key, i in mapping.items()}

    keys = {canonical_ref(_text(values[mapping["external_ref"]])) for _n, values in sheet.rows}
    existing = existing_refs(session, town.id, [k for k in keys if k])
    preview = Preview(filename=sheet.filename, total_rows=len(sheet.rows),
                      warnings=sheet_warnings(sheet, mapping))
    first_row_of: dict[str, int] = {}
    for number, values in sheet.rows:
        cell = {key: values[i] for key, i in mapping.items()}
        errors: list[RowError] = []

        def fail(key: str, message: str, _n: int = number, _e: list = errors) -> None:
            _e.append(RowError(_n, header_of.get(key, COLUMN_BY_KEY[key].header), message))

        ref = _text(cell.get("external_ref"))
        # 湛信交〔2026〕214号 and 湛信交[2026]214号 are one reference: compared canonically
        key = canonical_ref(ref)
        if key and key in existing:
            preview.existing.append((number, ref, existing[key]))
            continue
        if key and key in first_row_of:
            # still check the rest of the row, so that one upload shows every problem
            fail("external_ref", Msg(N_("与第%(row)s行的交办文号重复"), row=first_row_of[key]))
        elif key:
            first_row_of[key] = number
        planned = _plan_row(session, town, today, sheet.filename, number, cell, villages, units,
                            fail)
        if errors or planned is None:
            preview.errors.extend(errors)
        else:
            preview.new_rows.append(planned)
    return preview


def sheet_warnings(sheet: Sheet, mapping: dict[str, int]) -> list[str]:
    """What the user should know before importing: the file's columns that fill no field
    (their data is not imported), the sheet read, the example rows left out."""
    warnings: list[str] = [Msg(N_("“%(column)s”列未对应任何字段，该列内容不会导入"), column=h)
                           for h in unmapped_headers(sheet.headers, mapping)]
    derived = derived_headers(sheet.headers, mapping)
    if derived:
        warnings.append(Msg(N_("本系统台账中由办理过程得出的列（%(columns)s）不会导入"),
                            columns=Joined(derived, LIST_SEPARATOR)))
    if len(sheet.sheets) > 1:
        warnings.append(Msg(N_("读取的工作表：“%(sheet)s”（工作簿中可见的工作表：%(sheets)s）"),
                            sheet=sheet.sheet_name,
                            sheets=Joined(sheet.sheets, LIST_SEPARATOR)))
    warnings.extend(Msg(N_("第%(row)s行是模板中的示例行（以“%(mark)s”开头），不会导入"),
                        row=n, mark=EXAMPLE_MARK)
                    for n in sheet.example_rows)
    return warnings


def _places(session: Session, town_id: int) -> tuple[list[Village], list[Unit]]:
    """The town's villages and units. While the caller holds these lists (and the town), the
    services' ``session.get`` of them is answered from the session's identity map (which
    holds objects only while something references them) instead of by a SELECT per row."""
    return (list(session.scalars(select(Village).where(Village.town_id == town_id))),
            list(session.scalars(select(Unit).where(Unit.town_id == town_id))))


def existing_refs(session: Session, town_id: int, keys: list[str]) -> dict[str, str]:
    """Canonical 交办文号 (``canonical_ref``) already used by a case of the town → that
    case's number."""
    found: dict[str, str] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start:start + 500]
        for key, number in session.execute(
            select(Case.external_ref_key, Case.number).where(Case.town_id == town_id,
                                                             Case.external_ref_key.in_(chunk))
        ):
            found.setdefault(key, number)
    return found


def _plan_row(session: Session, town: Town, today: dt.date, filename: str, number: int,
              cell: dict[str, Any], villages: dict[str, int], units: dict[str, int],
              fail) -> PlannedRow | None:
    """Turn one row into a ``CaseInput`` and check it; problems go to ``fail``."""
    text = {key: _text(value) for key, value in cell.items()}
    for key in NUMBER_SENSITIVE_KEYS:
        if _is_stored_as_number(cell.get(key)):
            fail(key, Msg(N_("“%(value)s”是数值单元格：Excel 会把长号码存成数值并改动末几位，"
                             "请将该列设置为文本格式（或在号码前加英文单引号 '）后重新填写"),
                          value=text[key]))
            text[key] = ""
    for col in COLUMNS:
        if col.required and not text.get(col.key):
            fail(col.key, N_("必填，不能为空"))
    dates: dict[str, dt.date | None] = {}
    for key in DATE_KEYS:
        dates[key] = _date_cell(cell.get(key), key, today, fail)
    source = _choice(text.get("source", ""), prules.SOURCES, "assigned")
    if source is None:
        fail("source", Msg(N_("来源无效，可填：%(choices)s"),
                           choices=Joined(prules.SOURCES.values(), LIST_SEPARATOR)))
    village_id = None
    if text.get("village"):
        village_id = villages.get(_norm(text["village"]))
        if village_id is None:
            fail("village", Msg(N_("本镇没有名为“%(name)s”的村（居）"), name=text["village"]))
    unit_id = None
    if text.get("unit"):
        unit_id = units.get(_norm(text["unit"]))
        if unit_id is None:
            fail("unit", Msg(N_("本镇没有名为“%(name)s”的承办单位"), name=text["unit"]))
    group_size = 1
    if text.get("group_size"):
        raw = text["group_size"].removesuffix("人")
        if raw.isascii() and raw.isdigit() and len(raw) <= 6:
            group_size = int(raw)
        else:
            fail("group_size", N_("人数应为整数"))
    length_limits = {"title": 200, "external_ref": 100, "external_authority": 100,
                     "party_name": 64, "phone": 20, "address": 200, "summary": 20000}
    for key, limit in length_limits.items():
        if len(text.get(key, "")) > limit:
            fail(key, Msg(N_("不能超过%(n)s个字"), n=limit))
    # without a usable 收到日期 the row cannot be planned, but the service's checks still run
    # (with the earliest date accepted standing in), so every problem of the row is listed
    received_on = dates["received_on"]
    data = services.CaseInput(
        kind=CaseKind.PETITION.value,
        title=text.get("title", ""),
        source=source or "assigned",
        received_on=received_on or MIN_DATE,
        summary=text.get("summary", ""),
        category=text.get("category") or "其他",
        petition_class=text.get("petition_class") or None,
        village_id=village_id,
        external_ref=text.get("external_ref") or None,
        external_due_on=dates["external_due_on"],
        external_authority=text.get("external_authority", ""),
        group_size=group_size,
        parties=[services.PartyInput(
            name=text.get("party_name", ""), role="petitioner",
            id_number=text.get("id_number", "").upper(),
            phone=text.get("phone", "").replace(" ", ""), address=text.get("address", ""),
        )],
        note=f"批量导入：{filename} 第{number}行",
    )
    for key, message in services.validate_case_input(session, town, data).items():
        column = SERVICE_FIELD_COLUMNS.get(key, "title")
        if column == "village" and text.get("village") and village_id is None:
            continue  # already said which name is unknown
        if column in ("title", "petition_class", "party_name", "external_ref") \
                and not text.get(column):
            continue  # already said it is required
        fail(column, message)
    if received_on is None:
        return None
    return PlannedRow(row=number, data=data, unit_id=unit_id)


#: columns whose cells must be text: a number stored by Excel is rounded (4.40882198503011E+17)
NUMBER_SENSITIVE_KEYS = ("id_number", "phone")
_SCIENTIFIC = re.compile(r"^[0-9]+(\.[0-9]+)?[eE]\+?[0-9]+$")


def _is_stored_as_number(value: Any) -> bool:
    """A numeric cell of an .xlsx, or the scientific notation Excel writes into a CSV."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and bool(_SCIENTIFIC.match(value.strip()))


def _choice(value: str, labels: dict[str, str], default: str) -> str | None:
    """A code from its label or the code itself; ``default`` when empty; None when unknown."""
    if not value:
        return default
    for code, label in labels.items():
        if value in (code, label):
            return code
    return None


_DATE_RE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_date(value: Any) -> dt.date | None:
    """A date from a date cell or from text (2026-11-20, 2026/11/20, 2026年11月20日, 20261120)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value).split(" ")[0]
    m = _DATE_RE.match(text)
    if m is None and len(text) == 8 and text.isascii() and text.isdigit():
        m = re.match(r"^(\d{4})(\d{2})(\d{2})$", text)
    if m is None:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _date_cell(value: Any, key: str, today: dt.date, fail) -> dt.date | None:
    if not _present(value):
        return None
    day = parse_date(value)
    if day is None:
        fail(key, Msg(N_("无法识别的日期“%(value)s”，请写成 2026-11-20 的格式"),
                      value=_text(value)))
        return None
    if day < MIN_DATE or day.year > 2099:
        fail(key, Msg(N_("日期 %(day)s 超出合理范围"), day=day.isoformat()))
        return None
    if key == "received_on" and day > today:
        fail(key, N_("收到日期不能晚于今天"))
        return None
    return day


# --------------------------------------------------------------------------- import


@dataclass
class ImportResult:
    """What an import did."""

    filename: str
    imported: list[str]
    already_present: int

    @property
    def message(self) -> str:
        return f"{self.filename}：导入 {len(self.imported)} 件，{self.already_present} 件已存在（未重复导入）"


def run_import(session: Session, actor: User, now: dt.datetime, preview: Preview) -> ImportResult:
    """Register every new row (accepting and assigning those with a unit). Flushes only: the
    caller commits once, or rolls back everything when any row is refused."""
    if not can_import(actor):
        raise PermissionDenied(N_("只有督办员和系统管理员可以批量导入"))
    if not preview.is_valid:
        raise ValidationError(N_("文件中有 %(n)s 处错误，请改正后再导入"),
                              params={"n": len(preview.errors)})
    if actor.town_id is None:
        raise PermissionDenied(N_("您不属于任何乡镇，不能导入"))
    # once for the whole file, not once per row: the numbers of each year (one UPDATE adding
    # N; the counter's row lock holds until the caller commits, as row by row) and the earlier
    # cases of every petitioner in the file (重信重访)
    _held = (session.get(Town, actor.town_id), _places(session, actor.town_id))
    per_year = Counter((planned.data.kind, planned.data.received_on.year)
                       for planned in preview.new_rows)
    for (kind, year), count in sorted(per_year.items()):
        reserve_numbers(session, actor.town_id, kind, year, count)
    earlier = EarlierCases(session, actor, (
        ([p.name for p in planned.data.parties], [p.id_number for p in planned.data.parties])
        for planned in preview.new_rows))
    numbers: list[str] = []
    # each handler hears of the whole file once (one digest per person and channel), not
    # once per assigned row
    with digest_notifications(session, now, key=f"import:{uuid.uuid4().hex}",
                              title=f"批量导入交办（{preview.filename}）", link="/cases"):
        for done, planned in enumerate(preview.new_rows):
            if done and done % ANALYZE_EVERY == 0:
                _refresh_planner_statistics(session)
            try:
                case = services.register_case(session, actor, now, planned.data,
                                              earlier_cases=earlier)
                if planned.unit_id is not None:
                    services.accept_case(session, actor, now, case)
                    services.assign_case(session, actor, now, case, planned.unit_id, None,
                                         note=f"批量导入：{preview.filename}")
            except DomainError as exc:
                raise ValidationError(Msg(N_("第%(row)s行：%(problem)s"), row=planned.row,
                                          problem=exc.message),
                                      fields={str(planned.row): exc.message}) from exc
            numbers.append(case.number)
    return ImportResult(filename=preview.filename, imported=numbers,
                        already_present=len(preview.existing))


def _refresh_planner_statistics(session: Session) -> None:
    """PostgreSQL plans the per-row lookups (earlier cases of the same petitioner) from table
    statistics taken when the tables were small; thousands of rows inserted in this one
    transaction make those plans scan whole tables, so a big import slows down row after row.
    ANALYZE inside the transaction sees its own rows and restores index plans."""
    if session.get_bind().dialect.name == "postgresql":
        session.flush()
        session.execute(text("ANALYZE cases, parties, case_events"))


# --------------------------------------------------------------------------- template


#: rows of the template prepared with formats and drop-downs (below the example row)
TEMPLATE_ROWS = 1000
#: the hidden sheet holding the drop-down lists; hidden sheets are never imported
LIST_SHEET = "选项"


def _example_row(town: Town | None) -> dict[str, str]:
    """The template's example row: its first cell carries ``EXAMPLE_MARK``, so it is never
    imported even when left in the file."""
    village = next((v.name for v in town.villages if v.is_active), "") if town else ""
    return {
        "external_ref": f"{EXAMPLE_MARK}雷信交〔2026〕1号", "title": "反映村道破损（示例，不会导入）",
        "source": prules.SOURCES["assigned"], "petition_class": prules.CLASSES[2],
        "category": prules.CATEGORIES[0], "village": village,
        "received_on": "2026-11-20", "external_due_on": "2027-01-05",
        "external_authority": "雷州市信访局", "group_size": "1", "party_name": "张三",
        "id_number": "", "phone": "13800138000", "address": "", "unit": "", "summary": "",
    }


def template_workbook(town: Town | None) -> bytes:
    """The import template: the header row (frozen, with widths), one example row marked
    【示例】 and never imported, drop-down lists (data validation) for village, unit,
    category, channel and class fed from a hidden list sheet, text format for references,
    IDs and phones, date format for dates; and a sheet explaining each column."""
    wb = Workbook()
    ws = wb.active
    ws.title = TEMPLATE_SHEET
    ws.append([c.header for c in COLUMNS])
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="FDECEA")
    example = _example_row(town)
    ws.append([example[c.key] for c in COLUMNS])
    grey = Font(italic=True, color="808080")
    lists = wb.create_sheet(LIST_SHEET)
    lists.sheet_state = "hidden"
    choices = {
        "village": [v.name for v in town.villages if v.is_active] if town else [],
        "unit": [u.name for u in town.units if u.is_active] if town else [],
        "category": list(prules.CATEGORIES),
        "source": list(prules.SOURCES.values()),
        "petition_class": list(prules.CLASSES),
    }
    last = TEMPLATE_ROWS + 2
    list_index = 0
    for index, col in enumerate(COLUMNS, start=1):
        letter = get_column_letter(index)
        cell = ws.cell(row=1, column=index)
        cell.font = bold
        if col.required:
            cell.fill = fill
        ws.cell(row=2, column=index).font = grey
        width = {"title": 30, "summary": 40, "address": 24, "external_ref": 24,
                 "id_number": 22, "external_authority": 18}.get(col.key, 14)
        ws.column_dimensions[letter].width = max(width, len(col.header) * 2 + 4)
        if col.key in DATE_KEYS:
            for row in range(2, last + 1):
                ws.cell(row=row, column=index).number_format = "yyyy-mm-dd"
        if col.key in ("external_ref", "id_number", "phone"):
            for row in range(2, last + 1):
                ws.cell(row=row, column=index).number_format = "@"
        names = choices.get(col.key)
        if names:
            list_index += 1
            list_col = get_column_letter(list_index)
            lists[f"{list_col}1"] = col.header
            for offset, name in enumerate(names, start=2):
                lists[f"{list_col}{offset}"] = name
            validation = DataValidation(
                type="list", allow_blank=True, showErrorMessage=True,
                formula1=f"'{LIST_SHEET}'!${list_col}$2:${list_col}${len(names) + 1}",
                errorTitle="无效的选项", error=f"请从下拉列表中选择“{col.header}”")
            validation.add(f"{letter}2:{letter}{last}")
            ws.add_data_validation(validation)
    ws.freeze_panes = "A2"
    info = wb.create_sheet("填写说明", 1)
    info.append(["列名", "是否必填", "说明"])
    for col in COLUMNS:
        info.append([col.header, "必填" if col.required else "", col.hint])
    info.append([])
    info.append(["信访类别", "", "、".join(prules.CLASSES)])
    info.append(["内容分类", "", "、".join(prules.CATEGORIES)])
    if town is not None:
        info.append(["本镇村（居）", "", "、".join(v.name for v in town.villages if v.is_active)])
        info.append(["本镇承办单位", "", "、".join(u.name for u in town.units if u.is_active)])
    info.append(["示例行", "", f"第2行以“{EXAMPLE_MARK}”开头，是填写示例，导入时自动跳过，可保留或删除"])
    info.append(["注意", "", "只导入“交办清单”工作表；请勿使用公式；身份证号、电话请保持文本格式；"
                 "同一交办文号（括号写法不同也算同一个）重复导入时会自动跳过"])
    info.column_dimensions["A"].width = 16
    info.column_dimensions["C"].width = 100
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
