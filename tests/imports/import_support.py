"""Builders of import files (xlsx and csv) for the import tests."""

from __future__ import annotations

import csv
import io

from openpyxl import Workbook

from casetrack.cases.importing import COLUMNS

HEADERS = [c.header for c in COLUMNS]
#: valid fictional resident ID numbers (check digits correct)
ID_OK = "440882198001010013"
ID_BAD = "440882198001010014"


def row(n: int = 1, **over) -> dict[str, object]:
    """One valid row of the template, numbered ``n`` (its 交办文号 is unique per n)."""
    data: dict[str, object] = {
        "交办文号": f"雷信交〔2026〕{n}号", "标题": f"反映村道破损（虚构）{n}", "来源": "上级交办",
        "信访类别": "申诉求决", "内容分类": "城乡建设", "村（居）": "北和社区",
        "收到日期": "2026-11-20", "上级办理期限": "2027-01-05", "交办机关": "雷州市信访局",
        "人数": "1", "信访人姓名": f"张三{n}（虚构）", "身份证号": ID_OK,
        "联系电话": "13800138000", "地址": "北和社区一巷", "承办单位": "",
        "摘要": "村道破损，出行不便",
    }
    data.update(over)
    return data


def xlsx_bytes(rows: list[dict], headers: list[str] | None = None, title_row: str | None = None,
               raw_cells: dict[str, object] | None = None) -> bytes:
    """An .xlsx with a header row (optionally under a title row) and the rows."""
    headers = headers or HEADERS
    wb = Workbook()
    ws = wb.active
    if title_row:
        ws.append([title_row])
    ws.append(headers)
    for r in rows:
        ws.append([r.get(h, "") for h in headers])
    for addr, value in (raw_cells or {}).items():
        ws[addr] = value
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def csv_bytes(rows: list[dict], encoding: str = "utf-8", headers: list[str] | None = None,
              bom: bool = False) -> bytes:
    """A CSV file in ``encoding`` (optionally with a UTF-8 BOM)."""
    headers = headers or HEADERS
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(headers)
    for r in rows:
        writer.writerow([r.get(h, "") for h in headers])
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data
