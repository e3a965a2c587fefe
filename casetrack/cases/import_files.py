"""Reading the rows of an uploaded spreadsheet: .xlsx through openpyxl (read-only, formulas
kept as formulas so that they can be refused) and .csv in UTF-8 (with or without BOM) or
GB18030. Anything else is refused as a whole, with a message saying what the file seems to be.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from casetrack.core.errors import ValidationError

#: widest sheet read (columns beyond are ignored)
MAX_COLUMNS = 60


class ImportFileError(ValidationError):
    """The file as a whole cannot be read (not a spreadsheet, formulas, too big)."""

    code = "import_file_invalid"


def read_grid(filename: str, data: bytes, limit: int) -> list[tuple[int, list[Any]]]:
    """The non-empty rows (number, values) of an .xlsx or .csv file, at most ``limit`` and one
    more; raises ``ImportFileError`` for anything that is not a spreadsheet."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if not data:
        raise ImportFileError("文件为空")
    kind = _sniff(data)
    if kind == "zip" and ext in ("xlsx", "xlsm", ""):
        grid = _read_xlsx(data, limit)
    elif kind == "ole":
        raise ImportFileError("这是旧版 Excel（.xls）或 Word 文件，请在 Excel 中“另存为” .xlsx 后再导入")
    elif kind in ("pdf", "image", "zip"):
        raise ImportFileError("文件不是电子表格，请上传 .xlsx 或 .csv 文件")
    elif ext in ("csv", "txt", ""):
        grid = _read_csv(data, limit)
    elif ext in ("xlsx", "xlsm"):
        raise ImportFileError("文件扩展名为 .xlsx，但内容不是有效的 Excel 工作簿")
    else:
        raise ImportFileError("只支持 .xlsx 和 .csv 文件")
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


def _read_xlsx(data: bytes, limit: int) -> list[tuple[int, list[Any]]]:
    """Rows of the first worksheet; formula cells are refused, with their addresses."""
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise ImportFileError("文件扩展名为 .xlsx，但内容不是有效的 Excel 工作簿") from None
    try:
        if not wb.worksheets:
            raise ImportFileError("工作簿中没有工作表")
        ws = wb.worksheets[0]
        ws.reset_dimensions()  # some writers record a wrong used range
        grid: list[tuple[int, list[Any]]] = []
        formulas: list[str] = []
        try:
            for number, cells in enumerate(ws.iter_rows(max_col=MAX_COLUMNS), start=1):
                values = []
                for index, cell in enumerate(cells, start=1):
                    if cell.data_type == "f":
                        formulas.append(f"{get_column_letter(index)}{number}")
                    values.append(cell.value)
                if any(present(v) for v in values):
                    grid.append((number, values))
                    if len(grid) > limit:
                        break
        except ImportFileError:
            raise
        except Exception:
            raise ImportFileError("Excel 工作簿内容已损坏，无法读取") from None
        if formulas:
            shown = "、".join(formulas[:20]) + (f" 等{len(formulas)}处" if len(formulas) > 20 else "")
            raise ImportFileError(
                f"表格中含有公式（{shown}），请先将这些单元格复制并“选择性粘贴为数值”后再导入",
                fields={"file": "含有公式"})
        return grid
    finally:
        wb.close()


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        try:
            return data[3:].decode("utf-8")
        except UnicodeDecodeError:
            raise ImportFileError("文件以 UTF-8 标记开头，但内容不是有效的 UTF-8 文本") from None
    if b"\x00" in data[:4096]:
        raise ImportFileError("文件不是文本表格（CSV），请上传 .xlsx，或保存为 UTF-8 / GB18030 编码的 CSV")
    for encoding in ("utf-8", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportFileError("无法识别 CSV 文件的编码，请保存为 UTF-8 或 GB18030（GBK）编码")


def _read_csv(data: bytes, limit: int) -> list[tuple[int, list[Any]]]:
    """Rows of a CSV file; cells starting with "=" are formulas and refused."""
    text = _decode(data)
    if "\x00" in text:
        raise ImportFileError("文件不是文本表格（CSV）")
    first_line = text.split("\n", 1)[0]
    delimiter = max((",", "\t", ";", "，"), key=first_line.count)
    if delimiter == "，":
        delimiter = ","  # a full-width comma is text, not a separator
    grid: list[tuple[int, list[Any]]] = []
    formulas: list[str] = []
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for number, values in enumerate(reader, start=1):
            values = values[:MAX_COLUMNS]
            for index, value in enumerate(values, start=1):
                if value.lstrip().startswith("="):
                    formulas.append(f"{get_column_letter(index)}{number}")
            if any(v.strip() for v in values):
                grid.append((number, values))
                if len(grid) > limit:
                    break
    except csv.Error:
        raise ImportFileError("CSV 文件格式错误（引号不配对或含有非法字符）") from None
    if formulas:
        shown = "、".join(formulas[:20]) + (f" 等{len(formulas)}处" if len(formulas) > 20 else "")
        raise ImportFileError(f"表格中含有公式（{shown}，以“=”开头），请改为数值后再导入",
                              fields={"file": "含有公式"})
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
