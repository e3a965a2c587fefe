"""Spreadsheet bombs (issue 9, item 9): limits on unpacked size, shared strings, rows and
cells, checked before openpyxl holds anything; one parse per upload; defusedxml."""

from __future__ import annotations

import io
import zipfile

import openpyxl
import pytest
from import_support import HEADERS, row, xlsx_bytes
from sqlalchemy import func, select

from casetrack.cases import importing
from casetrack.cases.import_files import ImportFileError, ReadLimits, read_grid
from casetrack.cases.models import Case
from casetrack.extensions import db


def _replace(data: bytes, name: str, writer) -> bytes:
    """``data`` (an .xlsx) with member ``name`` written by ``writer(file)`` (streamed)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != name:
                dst.writestr(item, src.read(item))
        with dst.open(name, "w") as member:
            writer(member)
    return out.getvalue()


def _shared_strings(count: int, text: str = "重") -> callable:
    def write(member) -> None:
        member.write(b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.'
                     b'openxmlformats.org/spreadsheetml/2006/main">')
        chunk = f"<si><t>{text}</t></si>".encode() * 1000
        for _ in range(count // 1000):
            member.write(chunk)
        member.write(b"</sst>")
    return write


def test_a_small_file_that_unpacks_huge_is_refused_before_parsing(world, runner, tmp_path):
    # 120 MB of shared strings in a zip of a few hundred KB
    big = "很长的重复文字" * 2000
    data = _replace(xlsx_bytes([row(1)]), "xl/sharedStrings.xml", _shared_strings(3000, big))
    assert len(data) < 1_000_000
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(data)
    result = runner.invoke(args=["cases", "import", str(path), "--user", "super"])
    assert result.exit_code == 1
    assert "文件内容过大（解压后超过 100 MB）" in result.output


def test_too_many_shared_strings_are_refused(app):
    data = _replace(xlsx_bytes([row(1)]), "xl/sharedStrings.xml", _shared_strings(60_000))
    with pytest.raises(ImportFileError, match="文字单元格过多（超过 50000 个）"):
        read_grid("a.xlsx", data, ReadLimits(shared_strings=50_000))
    # under the default limit the same file is only a file with unused strings
    assert read_grid("a.xlsx", data, ReadLimits()).rows


def _far_row(data: bytes, last_row: int) -> bytes:
    """The first sheet with one more cell, far below: openpyxl yields every row between."""
    src = zipfile.ZipFile(io.BytesIO(data))
    sheet = src.read("xl/worksheets/sheet1.xml").decode()
    far = f'<row r="{last_row}"><c r="A{last_row}" t="inlineStr"><is><t>x</t></is></c></row>'
    sheet = sheet.replace("</sheetData>", far + "</sheetData>")
    sheet = sheet.replace('<dimension ref="A1:P2"/>', f'<dimension ref="A1:P{last_row}"/>')
    return _replace(data, "xl/worksheets/sheet1.xml", lambda m: m.write(sheet.encode()))


def test_three_million_rows_sheet_is_refused_after_the_row_limit(world, runner, tmp_path):
    data = _far_row(xlsx_bytes([row(1)]), 3_000_000)
    path = tmp_path / "wps.xlsx"
    path.write_bytes(data)
    result = runner.invoke(args=["cases", "import", str(path), "--user", "super"])
    assert result.exit_code == 1
    assert "超过 100000 行（含空行或只有格式的行）" in result.output
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_a_wrong_dimension_alone_is_harmless(world, runner, tmp_path):
    data = xlsx_bytes([row(1)])
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()
    sheet = sheet.replace('<dimension ref="A1:P2"/>', '<dimension ref="A1:XFD1048576"/>')
    data = _replace(data, "xl/worksheets/sheet1.xml", lambda m: m.write(sheet.encode()))
    path = tmp_path / "wps.xlsx"
    path.write_bytes(data)
    result = runner.invoke(args=["cases", "import", str(path), "--user", "super", "--dry-run"])
    assert result.exit_code == 0, result.output


def test_too_many_cells_are_refused(app):
    data = xlsx_bytes([row(n) for n in range(1, 30)])
    with pytest.raises(ImportFileError, match="单元格过多（超过 100 个）"):
        read_grid("a.xlsx", data, ReadLimits(cells=100))
    csv = ("\n".join([",".join(HEADERS)] + [",".join(["x"] * len(HEADERS))] * 30)).encode()
    with pytest.raises(ImportFileError, match="单元格过多"):
        read_grid("a.csv", csv, ReadLimits(cells=100))
    with pytest.raises(ImportFileError, match="超过 10 行"):
        read_grid("a.csv", b"a,b\n" + b",\n" * 20, ReadLimits(sheet_rows=10))


def test_xml_entities_are_refused_by_defusedxml(app):
    assert openpyxl.DEFUSEDXML is True  # openpyxl parses through defusedxml too
    laughs = (b'<?xml version="1.0"?><!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">'
              b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
              b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
              b"<si><t>&b;</t></si></sst>")
    data = _replace(xlsx_bytes([row(1)]), "xl/sharedStrings.xml", lambda m: m.write(laughs))
    with pytest.raises(ImportFileError, match="已损坏"):
        read_grid("a.xlsx", data, ReadLimits())


def test_an_upload_is_parsed_once(world, client, auth, monkeypatch):
    auth.login("super")
    data = xlsx_bytes([row(1)])
    resp = client.post("/imports/", data={"file": (io.BytesIO(data), "清单.xlsx")},
                       content_type="multipart/form-data")
    assert resp.status_code == 303

    def no_second_parse(*args, **kwargs):
        raise AssertionError("the spreadsheet was parsed again")

    monkeypatch.setattr(importing, "read_grid", no_second_parse)
    assert client.get("/imports/mapping").status_code == 200
    assert "确认导入 1 件" in client.get("/imports/preview").get_data(as_text=True)
    assert client.post("/imports/run").status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Case)) == 1
