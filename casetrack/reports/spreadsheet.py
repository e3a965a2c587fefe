"""The ledger (台账): a list of cases as .xlsx (real date cells, frozen header, widths) or as
CSV in UTF-8 with a BOM so that Excel opens it with the Chinese intact.

The .xlsx is ready to print and file: a title row (town), a line with the filter, the period
and the 截至 date, landscape A4 fitted to the page width, the header row repeated on every
printed page, and the columns offices ask for (预警, 上级规定期限, 交办机关).

The caller passes a ``select(Case)`` that went through ``scope_cases`` (the case list's
filter, or a dashboard figure's drill-down), so an export never holds more than its list.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from sqlalchemy import Select
from sqlalchemy.orm import Session, selectinload

from casetrack.cases import rules
from casetrack.cases.asof import cases_as_of
from casetrack.cases.kinds.dispute import rules as drules
from casetrack.cases.labels import LEDGER_HEADERS
from casetrack.cases.models import Case, CaseStatus
from casetrack.core.time import end_of_local_day
from casetrack.deadlines.rules import DEFAULT_RULES, warning_level
from casetrack.reports.text import export_text


@dataclass(frozen=True)
class Column:
    header: str
    width: int
    value: Callable[[Case], object]


def _party_names(case: Case) -> str:
    return "、".join(p.name for p in case.parties)


def _column(key: str, width: int, value: Callable[[Case], object]) -> Column:
    """A ledger column headed by its label in ``cases/labels.py`` (which the import reads)."""
    return Column(LEDGER_HEADERS[key], width, value)


COLUMNS: tuple[Column, ...] = (
    _column("number", 20, lambda c: c.number),
    _column("kind", 10, lambda c: rules.KIND_LABELS.get(c.kind, c.kind)),
    _column("source", 10, lambda c: rules.SOURCE_LABELS.get(c.source, c.source)),
    _column("external_ref", 20, lambda c: c.external_ref or ""),
    _column("petition_class", 10, lambda c: c.petition_class or ""),
    _column("category", 12, lambda c: c.category),
    _column("title", 36, lambda c: c.title),
    _column("party_name", 16, _party_names),
    _column("village", 12, lambda c: c.village.name if c.village else ""),
    _column("received_on", 12, lambda c: c.received_on),
    _column("accepted_on", 12, lambda c: c.accepted_on),
    _column("due_on", 12, lambda c: c.due_on),
    _column("external_due_on", 14, lambda c: c.external_due_on),
    _column("external_authority", 16, lambda c: c.external_authority or ""),
    #: a due date in a year whose holidays nobody has entered yet is provisional
    _column("due_is_provisional", 10, lambda c: "暂定" if c.due_on and not c.due_is_exact else ""),
    #: an assigned case: the statutory date beside the authority's, and which one governs
    _column("statutory_due_on", 12, lambda c: c.statutory_due_on if c.external_due_on else None),
    _column("due_basis", 10, lambda c: ("上级期限" if c.due_basis == "external" else "法定期限")
            if c.external_due_on else ""),
    _column("unit", 14, lambda c: c.unit.name if c.unit else ""),
    _column("handler", 10, lambda c: c.handler.name if c.handler else ""),
    _column("status", 10, lambda c: rules.STATUS_LABELS.get(CaseStatus(c.status), c.status)),
    _column("outcome", 10, lambda c: c.outcome or ""),
    _column("reply_delivered_on", 14, lambda c: c.reply_delivered_on),
    _column("closed_on", 12, lambda c: c.closed_on),
    _column("rating", 10, lambda c: c.rating or ""),
    _column("resolution_level", 14,
            lambda c: drules.MEDIATION_LEVELS.get(c.resolution_level or "", "")),
)


def _cases(session: Session, stmt: Select, as_of: dt.date | None = None) -> Iterator[Case]:
    """The cases of ``stmt``; with ``as_of``, each as it stood at the end of that day."""
    stmt = stmt.options(selectinload(Case.village), selectinload(Case.unit),
                        selectinload(Case.handler), selectinload(Case.parties))
    if as_of is None:
        yield from session.scalars(stmt)
        return
    end = end_of_local_day(as_of)
    rows = list(session.scalars(stmt.options(selectinload(Case.events))))
    for i in range(0, len(rows), 500):
        yield from cases_as_of(session, rows[i:i + 500], end)


@dataclass(frozen=True)
class LedgerHeading:
    """What the title rows of a ledger say: whose list, narrowed how, which period, and the
    day its statuses and warnings are counted at (截至)."""

    town: str
    filter_text: str
    period: str
    as_of: dt.date
    #: the warning colour (预警) is computed at ``as_of`` with this "due soon" threshold
    yellow_days: int = 3
    #: the cut-off is the end of ``as_of`` (a dashboard figure), not just the day printed
    end_of_day: bool = False

    @property
    def title(self) -> str:
        return f"{self.town}信访与矛盾纠纷台账"

    @property
    def line(self) -> str:
        cut = f"截至{self.as_of.isoformat()}" + ("日终的状态" if self.end_of_day else "")
        return f"筛选：{self.filter_text or '全部'}；期间：{self.period or '全部'}；{cut}"


WARNING_TEXT = {"red": "红（逾期）", "yellow": "黄（即将到期）", "green": "绿（正常）", "none": ""}


def _warning_column(heading: LedgerHeading | None) -> Column:
    """预警 at the heading's 截至 date (the same rule as the pages' badges)."""

    def value(c: Case) -> str:
        if heading is None:
            return ""
        level = warning_level(c.due_on, heading.as_of, c.is_open, heading.yellow_days).value
        return WARNING_TEXT.get(level, "")

    return _column("warning", 14, value)


def _clock(c: Case) -> str:
    """Which clock the due date belongs to (办理期限, 复查期限, 回访期限...); empty once the
    case is finished."""
    rule = DEFAULT_RULES.get(c.due_rule or "")
    if not c.is_open or c.due_on is None or rule is None:
        return ""
    return str(rule.clock or rule.label)


def columns_for(heading: LedgerHeading | None) -> tuple[Column, ...]:
    """The ledger's columns, with 预警 and the running clock's name (期限类型) after 办理期限."""
    at = next(i for i, c in enumerate(COLUMNS) if c.header == LEDGER_HEADERS["due_on"]) + 1
    return (*COLUMNS[:at], _warning_column(heading), _column("clock", 14, _clock),
            *COLUMNS[at:])


def ledger_heading(period: tuple[dt.date, dt.date] | None, as_of: dt.date) -> str:
    """The line above the ledger: what it lists and the cut-off its values are from."""
    if period is None:
        return f"台账（截至{as_of.isoformat()}）"
    return (f"台账：{period[0].isoformat()}至{period[1].isoformat()}收到的案件"
            f"（截至{as_of.isoformat()}日终的状态）")


#: the header row of the .xlsx (below the title and the filter line)
HEADER_ROW = 3


def ledger_xlsx(session: Session, stmt: Select, heading: LedgerHeading | None = None,
                title: str = "台账", *, as_of: dt.date | None = None) -> bytes:
    """The cases of ``stmt`` as an .xlsx workbook laid out for printing; with ``as_of`` each
    case as it stood at the end of that day."""
    columns = columns_for(heading)
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    last = get_column_letter(len(columns) + 1)
    ws.append([export_text(heading.title) if heading else title])
    ws.append([export_text(heading.line) if heading else ""])
    ws.merge_cells(f"A1:{last}1")
    ws.merge_cells(f"A2:{last}2")
    ws["A1"].font = Font(bold=True, size=14)
    ws["A1"].alignment = Alignment(horizontal="center", vertical="center")
    ws["A2"].alignment = Alignment(horizontal="left", vertical="center", wrap_text=True)
    ws.row_dimensions[1].height = 24
    ws.append([LEDGER_HEADERS["row"], *[c.header for c in columns]])
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="EEEEEE")
    for cell in ws[HEADER_ROW]:
        cell.font, cell.fill = bold, fill
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for n, case in enumerate(_cases(session, stmt, as_of), start=1):
        ws.append([n, *[export_text(col.value(case)) for col in columns]])
        for idx in range(2, len(columns) + 2):
            cell = ws.cell(row=n + HEADER_ROW, column=idx)
            if isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text typed by a person, never a live formula
    ws.freeze_panes = f"A{HEADER_ROW + 1}"
    ws.column_dimensions["A"].width = 6
    for idx, col in enumerate(columns, start=2):
        ws.column_dimensions[get_column_letter(idx)].width = col.width
    ws.auto_filter.ref = f"A{HEADER_ROW}:{last}{max(ws.max_row, HEADER_ROW)}"
    # printing: landscape A4, every column on one page width, header row on every page
    ws.page_setup.orientation = ws.ORIENTATION_LANDSCAPE
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    out = io.BytesIO()
    wb.save(out)
    wb.close()
    return out.getvalue()


#: a cell starting with one of these is a formula to Excel (CSV injection)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: object) -> object:
    """Text that Excel would run as a formula gets a leading apostrophe (OWASP advice)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def ledger_csv(session: Session, stmt: Select, heading: LedgerHeading | None = None, *,
               as_of: dt.date | None = None) -> bytes:
    """The cases of ``stmt`` as CSV, UTF-8 with a BOM, dates as YYYY-MM-DD; with ``as_of``
    each case as it stood on that day, under the heading's line (period and 截至). A list's
    CSV is a plain table (no line above the header)."""
    columns = columns_for(heading)
    buf = io.StringIO()
    writer = csv.writer(buf)
    if as_of is not None and heading is not None:
        writer.writerow([export_text(heading.line)])
    writer.writerow([LEDGER_HEADERS["row"], *[c.header for c in columns]])
    for n, case in enumerate(_cases(session, stmt, as_of), start=1):
        row = []
        for col in columns:
            value = export_text(col.value(case))
            row.append(value.isoformat() if isinstance(value, dt.date) else
                       ("" if value is None else _csv_text(value)))
        writer.writerow([n, *row])
    return buf.getvalue().encode("utf-8-sig")
