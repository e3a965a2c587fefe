"""Reading the rows of an uploaded spreadsheet: .xlsx through openpyxl (read-only, formulas
kept as formulas so that they can be refused) and .csv in UTF-8 (with or without BOM) or
GB18030. Anything else is refused as a whole, with a message saying what the file seems to be.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from defusedxml.ElementTree import iterparse
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from casetrack.core.errors import ValidationError
from casetrack.core.i18n import N_
from casetrack.core.normalize import search_key

#: widest sheet read (columns beyond are ignored)
MAX_COLUMNS = 60
#: the name of the template's sheet: a workbook's visible sheet so named is the one read
TEMPLATE_SHEET = "交办清单"
#: built-in number formats that Chinese, Japanese and Korean Excel show as dates (27–36,
#: 50–58; 31 is yyyy"年"m"月"d"日"). openpyxl knows only the Western built-ins, so without
#: this list such cells arrive as bare serial numbers (46328).
EAST_ASIAN_DATE_FORMAT_IDS = frozenset((*range(27, 37), *range(50, 59)))


class ImportFileError(ValidationError):
    """The file as a whole cannot be read (not a spreadsheet, formulas, too big)."""

    code = "import_file_invalid"


class SheetChoiceNeeded(ImportFileError):
    """The workbook has several visible sheets and none is named like the template's."""

    code = "import_sheet_choice"

    def __init__(self, sheets: list[str]):
        self.sheets = sheets
        super().__init__(N_("工作簿中有多个工作表（%(sheets)s），请选择要导入的工作表"),
                         params={"sheets": "、".join(sheets)}, fields={"sheet": N_("请选择工作表")})


@dataclass(frozen=True)
class ReadLimits:
    """What one file may hold before it is refused as a whole (see the IMPORT_* settings)."""

    #: data rows returned (one more is read, so the caller can say the file is too long)
    rows: int = 20000
    #: rows a sheet may span, empty ones included (3 million empty rows take minutes)
    sheet_rows: int = 100_000
    #: non-empty cells read
    cells: int = 1_200_000
    #: bytes the .xlsx may unpack to (a 300 KB zip can unpack to gigabytes)
    unpacked_bytes: int = 100 * 1024 * 1024
    #: shared strings declared by the workbook (openpyxl holds them all in memory)
    shared_strings: int = 400_000

    @classmethod
    def from_config(cls, config: Mapping[str, Any], rows: int) -> ReadLimits:
        return cls(rows=rows,
                   sheet_rows=int(config.get("IMPORT_MAX_SHEET_ROWS", cls.sheet_rows)),
                   cells=int(config.get("IMPORT_MAX_CELLS", cls.cells)),
                   unpacked_bytes=int(config.get("IMPORT_MAX_UNPACKED_BYTES",
                                                 cls.unpacked_bytes)),
                   shared_strings=int(config.get("IMPORT_MAX_SHARED_STRINGS",
                                                 cls.shared_strings)))


@dataclass
class Grid:
    """The non-empty rows of one sheet: (row number as the spreadsheet shows it, values)."""

    rows: list[tuple[int, list[Any]]]
    #: the sheet read (None for CSV) and every visible sheet of the workbook
    sheet: str | None = None
    sheets: list[str] = field(default_factory=list)
    #: rows marked as an example and left out
    example_rows: list[int] = field(default_factory=list)


def read_grid(filename: str, data: bytes, limits: ReadLimits | int,
              sheet: str | None = None) -> Grid:
    """The non-empty rows of an .xlsx or .csv file, at most ``limits.rows`` and one more;
    raises ``ImportFileError`` for anything that is not a spreadsheet or exceeds a limit, and
    ``SheetChoiceNeeded`` when the workbook's sheet must be chosen (``sheet``)."""
    if isinstance(limits, int):
        limits = ReadLimits(rows=limits)
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if not data:
        raise ImportFileError(N_("文件为空"))
    kind = _sniff(data)
    if kind == "zip" and ext in ("xlsx", "xlsm", ""):
        grid = _read_xlsx(data, limits, sheet)
    elif kind == "ole":
        raise ImportFileError(N_("这是旧版 Excel（.xls）或 Word 文件，请在 Excel 中“另存为” .xlsx 后再导入"))
    elif kind in ("pdf", "image", "zip"):
        raise ImportFileError(N_("文件不是电子表格，请上传 .xlsx 或 .csv 文件"))
    elif ext in ("csv", "txt", ""):
        grid = _read_csv(data, limits)
    elif ext in ("xlsx", "xlsm"):
        raise ImportFileError(N_("文件扩展名为 .xlsx，但内容不是有效的 Excel 工作簿"))
    else:
        raise ImportFileError(N_("只支持 .xlsx 和 .csv 文件"))
    return grid


def _sniff(data: bytes) -> str:
    head = data[:8]
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "ole"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"BM")):
        return "image"
    return "text"


_TOO_BIG = N_("文件内容过大（解压后超过 %(mb)s MB），请删除多余的工作表、行和格式，或分批导入")


def _check_package(data: bytes, limits: ReadLimits) -> None:
    """Refuse a zip bomb before openpyxl unpacks anything: the sizes the members declare
    (``zipfile`` never reads past them) and the number of shared strings, counted by a
    streaming parse (defusedxml) that keeps nothing."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        raise ImportFileError(N_("文件扩展名为 .xlsx，但内容不是有效的 Excel 工作簿")) from None
    if sum(m.file_size for m in members) > limits.unpacked_bytes:
        raise ImportFileError(_TOO_BIG, params={"mb": limits.unpacked_bytes // (1024 * 1024)},
                              fields={"file": N_("文件过大")})
    for member in members:
        if member.filename.lower().endswith("sharedstrings.xml"):
            count = 0
            try:
                with archive.open(member) as src:
                    for _event, elem in iterparse(src, events=("end",)):
                        if elem.tag.endswith("}si") or elem.tag == "si":
                            count += 1
                            if count > limits.shared_strings:
                                raise ImportFileError(
                                    N_("文件中的文字单元格过多（超过 %(n)s 个），请分批导入"),
                                    params={"n": limits.shared_strings},
                                    fields={"file": N_("文字单元格过多")})
                        elem.clear()
            except ImportFileError:
                raise
            except Exception:  # a damaged or hostile XML part (defusedxml refuses entities)
                raise ImportFileError(N_("Excel 工作簿内容已损坏，无法读取")) from None


def _choose_sheet(visible: list[str], wanted: str | None) -> str:
    """The sheet to read: the one asked for, else the visible one named like the template's,
    else the only visible one; several candidates need the user's choice."""
    if wanted is not None:
        if wanted not in visible:
            raise ImportFileError(N_("工作簿中没有名为“%(name)s”的可见工作表；可选：%(choices)s"),
                                  params={"name": wanted, "choices": "、".join(visible)},
                                  fields={"sheet": N_("工作表不存在")})
        return wanted
    named = [name for name in visible if search_key(TEMPLATE_SHEET) in search_key(name)]
    if len(named) == 1:
        return named[0]
    if len(visible) == 1:
        return visible[0]
    raise SheetChoiceNeeded(visible)


def _read_xlsx(data: bytes, limits: ReadLimits, wanted: str | None) -> Grid:
    """Rows of the chosen visible worksheet (hidden sheets are never read); formula cells
    are refused, with their addresses; East-Asian date formats give dates."""
    _check_package(data, limits)
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise ImportFileError(N_("文件扩展名为 .xlsx，但内容不是有效的 Excel 工作簿")) from None
    try:
        visible = [ws.title for ws in wb.worksheets if ws.sheet_state == "visible"]
        if not visible:
            raise ImportFileError(N_("工作簿中没有可见的工作表"))
        name = _choose_sheet(visible, wanted)
        ws = wb[name]
        # East-Asian built-in date formats: tell openpyxl's reader which styles are dates
        wb._date_formats |= {index for index, style in enumerate(wb._cell_styles)
                             if style.numFmtId in EAST_ASIAN_DATE_FORMAT_IDS}
        ws.reset_dimensions()  # some writers record a wrong used range
        grid = Grid(rows=[], sheet=name, sheets=visible)
        formulas: list[str] = []
        cells_seen = 0
        try:
            for number, cells in enumerate(ws.iter_rows(max_col=MAX_COLUMNS), start=1):
                if number > limits.sheet_rows:
                    raise ImportFileError(
                        N_("工作表“%(name)s”超过 %(n)s 行（含空行或只有格式的行），"
                           "请删除表格下方多余的行后再导入，或分批导入"),
                        params={"name": name, "n": limits.sheet_rows},
                        fields={"file": N_("行数过多")})
                values = []
                for index, cell in enumerate(cells, start=1):
                    if cell.data_type == "f":
                        formulas.append(f"{get_column_letter(index)}{number}")
                    values.append(cell.value)
                filled = sum(1 for v in values if present(v))
                if not filled:
                    continue
                cells_seen += filled
                if cells_seen > limits.cells:
                    raise ImportFileError(N_("文件中的单元格过多（超过 %(n)s 个），请分批导入"),
                                          params={"n": limits.cells},
                                          fields={"file": N_("单元格过多")})
                if is_example(values):
                    grid.example_rows.append(number)
                    continue
                grid.rows.append((number, values))
                if len(grid.rows) > limits.rows:
                    break
        except ImportFileError:
            raise
        except Exception:
            raise ImportFileError(N_("Excel 工作簿内容已损坏，无法读取")) from None
        if formulas:
            shown = "、".join(formulas[:20]) + (f" 等{len(formulas)}处" if len(formulas) > 20 else "")
            raise ImportFileError(
                N_("表格中含有公式（%(cells)s），请先将这些单元格复制并“选择性粘贴为数值”后再导入"),
                params={"cells": shown}, fields={"file": N_("含有公式")})
        return grid
    finally:
        wb.close()


#: the template's example row starts with this mark and is never imported
EXAMPLE_MARK = "【示例】"


def is_example(values: list[Any]) -> bool:
    """A row marked as the template's example (its first filled cell starts with the mark)."""
    for value in values:
        if present(value):
            return isinstance(value, str) and value.strip().startswith(EXAMPLE_MARK)
    return False


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError:
            raise ImportFileError(N_("文件以 UTF-8 标记开头，但内容不是有效的 UTF-8 文本")) from None
    if b"\x00" in data[:4096]:
        raise ImportFileError(N_("文件不是文本表格（CSV），请上传 .xlsx，或保存为 UTF-8 / GB18030 编码的 CSV"))
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError(N_("无法识别 CSV 文件的编码，请保存为 UTF-8 或 GB18030（GBK）编码"))


def _read_csv(data: bytes, limits: ReadLimits) -> Grid:
    """Rows of a CSV file; cells starting with "=" are formulas and refused."""
    text = _decode(data)
    if "\x00" in text:
        raise ImportFileError(N_("文件不是文本表格（CSV）"))
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";", "，"), key=first_line.count)
    if delimiter == "，":
        delimiter = ","  # a full-width comma is text, not a separator
    grid = Grid(rows=[])
    formulas: list[str] = []
    cells_seen = 0
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for number, values in enumerate(reader, start=1):
            if number > limits.sheet_rows:
                raise ImportFileError(N_("文件超过 %(n)s 行（含空行），请删除多余的行后再导入，或分批导入"),
                                      params={"n": limits.sheet_rows},
                                      fields={"file": N_("行数过多")})
            values = values[:MAX_COLUMNS]
            for index, value in enumerate(values, start=1):
                if value.lstrip().startswith("="):
                    formulas.append(f"{get_column_letter(index)}{number}")
            filled = sum(1 for v in values if v.strip())
            if not filled:
                continue
            cells_seen += filled
            if cells_seen > limits.cells:
                raise ImportFileError(N_("文件中的单元格过多（超过 %(n)s 个），请分批导入"),
                                      params={"n": limits.cells}, fields={"file": N_("单元格过多")})
            if is_example(values):
                grid.example_rows.append(number)
                continue
            grid.rows.append((number, values))
            if len(grid.rows) > limits.rows:
                break
    except csv.Error:
        raise ImportFileError(N_("CSV 文件格式错误（引号不配对或含有非法字符）")) from None
    if formulas:
        shown = "、".join(formulas[:20]) + (f" 等{len(formulas)}处" if len(formulas) > 20 else "")
        raise ImportFileError(N_("表格中含有公式（%(cells)s，以“=”开头），请改为数值后再导入"),
                              params={"cells": shown}, fields={"file": N_("含有公式")})
    return grid


def present(value: Any) -> bool:
    return value is not None and (not isinstance(value, str) or value.strip() != "")


def cell_text(value: Any) -> str:
    """A cell as text: numbers without a trailing .0, dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()
