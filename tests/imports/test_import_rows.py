"""Importing assigned petitions: reading, mapping, checking every row, all-or-nothing import."""

from __future__ import annotations

import io
import zipfile

import pytest
from import_support import HEADERS, ID_BAD, csv_bytes, row, xlsx_bytes
from sqlalchemy import func, select

from casetrack.cases import importing
from casetrack.cases.models import Case, CaseEvent, Party
from casetrack.core.errors import PermissionDenied, ValidationError
from casetrack.extensions import db


def counts() -> tuple[int, int, int]:
    return (db.session.scalar(select(func.count()).select_from(Case)),
            db.session.scalar(select(func.count()).select_from(Party)),
            db.session.scalar(select(func.count()).select_from(CaseEvent)))


def preview_of(world, now, filename, data, actor=None, mapping=None):
    sheet = importing.read_sheet(filename, data)
    mapping = mapping if mapping is not None else importing.auto_mapping(sheet.headers)
    return importing.preview_import(db.session, actor or world.supervisor, now, sheet, mapping)


def do_import(world, now, filename, data, actor=None):
    preview = preview_of(world, now, filename, data, actor)
    result = importing.run_import(db.session, actor or world.supervisor, now, preview)
    db.session.commit()
    return result


def test_template_has_chinese_headers_and_reads_back(world):
    data = importing.template_workbook(world.town)
    sheet = importing.read_sheet("模板.xlsx", data)
    assert sheet.headers == HEADERS
    assert sheet.headers[:3] == ["交办文号", "标题", "来源"]
    assert sheet.rows == []
    assert set(importing.auto_mapping(sheet.headers)) == {c.key for c in importing.COLUMNS}


def test_xlsx_import_registers_every_row_with_number_and_timeline(world, now):
    data = xlsx_bytes([row(1), row(2), row(3, 承办单位="信访办", **{"村（居）": ""})])
    result = do_import(world, now, "交办清单11月.xlsx", data)
    assert len(result.imported) == 3 and result.already_present == 0
    assert result.imported == ["北和信〔2026〕1号", "北和信〔2026〕2号", "北和信〔2026〕3号"]
    cases = db.session.scalars(select(Case).order_by(Case.id)).all()
    assert [c.external_ref for c in cases] == [f"雷信交〔2026〕{n}号" for n in (1, 2, 3)]
    first = cases[0]
    assert first.source == "assigned" and first.petition_class == "申诉求决"
    assert first.village_id == world.v1.id and first.external_due_on.isoformat() == "2027-01-05"
    assert first.parties[0].id_number == "440882198001010013"
    register = first.events[0]
    assert register.action == "register" and "交办清单11月.xlsx" in register.note
    # a row naming a unit is accepted and assigned to it, the file named on the assignment
    third = cases[2]
    assert third.status == "handling" and third.unit_id == world.unit_xf.id
    assert [e.action for e in third.events] == ["register", "accept", "assign"]
    assert "交办清单11月.xlsx" in third.events[2].note


def test_reimporting_the_same_file_changes_nothing_and_says_so(world, now):
    data = xlsx_bytes([row(1), row(2)])
    do_import(world, now, "a.xlsx", data)
    before = counts()
    result = do_import(world, now, "a.xlsx", data)
    assert result.imported == [] and result.already_present == 2
    assert result.message == "a.xlsx：导入 0 件，2 件已存在（未重复导入）"
    assert counts() == before


@pytest.mark.parametrize("encoding,bom", [("utf-8", False), ("utf-8", True), ("gb18030", False)])
def test_csv_in_utf8_with_or_without_bom_and_gb18030(world, now, encoding, bom):
    rows = [row(1, 信访人姓名="龚堃（虚构）"), row(2, 信访人姓名="李喆（虚构）")]
    data = csv_bytes(rows, encoding=encoding, bom=bom)
    if encoding == "gb18030":
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
    result = do_import(world, now, "清单.csv", data)
    assert len(result.imported) == 2
    names = db.session.scalars(select(Party.name).order_by(Party.id)).all()
    assert names == ["龚堃（虚构）", "李喆（虚构）"]


def test_preview_lists_each_error_with_row_and_column_and_imports_nothing(world, now):
    rows = [
        row(1),
        row(2, 标题=""),
        row(3, 收到日期="2026-13-40"),
        row(4, **{"村（居）": "不存在村"}),
        row(5, 承办单位="不存在办"),
        row(6, 身份证号=ID_BAD),
        row(7, 联系电话="12345"),
        row(1),  # the same 交办文号 as the first row
        row(9, 收到日期="2026-12-01"),  # after "today" (2026-11-23)
        row(10, 信访类别="投诉"),
        row(11, 上级办理期限=""),
        row(12, 人数="三"),
        row(13, 收到日期="1899-01-01"),
    ]
    before = counts()
    preview = preview_of(world, now, "错误.xlsx", xlsx_bytes(rows))
    found = {(e.row, e.column) for e in preview.errors}
    expected = {
        (3, "标题"), (4, "收到日期"), (5, "村（居）"), (6, "承办单位"), (7, "身份证号"),
        (8, "联系电话"), (9, "交办文号"), (10, "收到日期"), (11, "信访类别"),
        (12, "上级办理期限"), (13, "人数"), (14, "收到日期"),
    }
    assert found == expected, [str(e) for e in preview.errors]
    messages = {(e.row, e.column): e.message for e in preview.errors}
    assert messages[(7, "身份证号")] == "身份证号码校验位不正确"
    assert "与第2行的交办文号重复" in messages[(9, "交办文号")]
    assert "不存在村" in messages[(5, "村（居）")]
    assert str(preview.errors[0]).startswith("第3行「标题」列：")
    assert len(preview.new_rows) == 1  # only the first row is fine
    with pytest.raises(ValidationError):
        importing.run_import(db.session, world.supervisor, now, preview)
    db.session.rollback()
    assert counts() == before


def test_a_row_lists_all_its_problems_at_once(world, now):
    """A bad date or a repeated 交办文号 does not hide the row's other problems: one upload
    shows everything to fix."""
    rows = [
        row(1),
        row(1, 信访类别="投诉", 身份证号=ID_BAD, 联系电话="12345"),
        row(3, 收到日期="2026-13-40", 信访类别="", **{"村（居）": "不存在村"}, 联系电话="999"),
    ]
    preview = preview_of(world, now, "多处错误.xlsx", xlsx_bytes(rows))
    found = {(e.row, e.column) for e in preview.errors}
    assert found == {
        (3, "交办文号"), (3, "信访类别"), (3, "身份证号"), (3, "联系电话"),
        (4, "收到日期"), (4, "信访类别"), (4, "村（居）"), (4, "联系电话"),
    }, [str(e) for e in preview.errors]
    assert [r.row for r in preview.new_rows] == [2]


def test_a_refusal_during_the_import_rolls_back_every_row(world, now, monkeypatch):
    preview = preview_of(world, now, "a.xlsx", xlsx_bytes([row(n) for n in range(1, 6)]))
    real = importing.services.register_case
    calls = []

    def failing(session, actor, now_, data, **kwargs):
        calls.append(data.external_ref)
        if len(calls) == 4:
            raise ValidationError("模拟失败")
        return real(session, actor, now_, data, **kwargs)

    monkeypatch.setattr(importing.services, "register_case", failing)
    with pytest.raises(ValidationError, match="第5行：模拟失败"):
        importing.run_import(db.session, world.supervisor, now, preview)
    db.session.rollback()
    assert counts() == (0, 0, 0)
    # the numbers reserved for the file went back with the rest: no gap
    monkeypatch.undo()
    result = do_import(world, now, "a.xlsx", xlsx_bytes([row(n) for n in range(1, 3)]))
    assert result.imported == ["北和信〔2026〕1号", "北和信〔2026〕2号"]


def test_headers_that_differ_are_mapped_by_synonyms_or_by_hand(world, now):
    headers = ["文号", "事项名称", "信访类型", "交办日期", "办理期限", "信访人", "手机", "所属村"]
    rows = [{"文号": "X-1", "事项名称": "道路积水", "信访类型": "建议意见", "交办日期": "2026/11/2",
             "办理期限": "2026年12月30日", "信访人": "王五", "手机": "13800138000",
             "所属村": "鹅感村"}]
    sheet = importing.read_sheet("外来.xlsx", xlsx_bytes(rows, headers=headers,
                                                         title_row="雷州市信访局交办清单"))
    assert sheet.headers == headers  # the title row above the headers is skipped
    mapping = importing.auto_mapping(sheet.headers)
    assert "title" not in mapping  # 事项名称 is not a known synonym
    assert importing.check_mapping(sheet.headers, mapping) == {"title": "必须指定“标题”对应的列"}
    with pytest.raises(ValidationError):
        importing.preview_import(db.session, world.supervisor, now, sheet, mapping)
    mapping["title"] = headers.index("事项名称")
    preview = importing.preview_import(db.session, world.supervisor, now, sheet, mapping)
    assert preview.errors == []
    data = preview.new_rows[0].data
    assert data.title == "道路积水" and data.received_on.isoformat() == "2026-11-02"
    assert data.external_due_on.isoformat() == "2026-12-30" and data.village_id == world.v2.id
    # one column may not fill two fields
    mapping["summary"] = mapping["title"]
    assert "summary" in importing.check_mapping(sheet.headers, mapping)


def test_xlsx_date_and_number_cells_are_understood(world, now):
    import datetime as dt

    data = xlsx_bytes([row(1)], raw_cells={"G2": dt.datetime(2026, 11, 19), "H2": dt.date(2027, 1, 5),
                                           "J2": 3, "L2": "440882198001010013",
                                           "M2": "13800138000"})
    preview = preview_of(world, now, "a.xlsx", data)
    assert preview.errors == []
    planned = preview.new_rows[0].data
    assert planned.received_on == dt.date(2026, 11, 19) and planned.group_size == 3
    assert planned.parties[0].phone == "13800138000"
    # a phone stored as a number is refused like a numeric ID (a landline loses its 0)
    data = xlsx_bytes([row(1)], raw_cells={"M2": 13800138000})
    [error] = preview_of(world, now, "a.xlsx", data).errors
    assert error.column == "联系电话" and "请将该列设置为文本格式" in error.message


@pytest.mark.parametrize("filename,data,fragment", [
    ("a.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "不是电子表格"),
    ("a.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "不是电子表格"),
    ("a.xlsx", b"hello, this is text", "不是有效的 Excel 工作簿"),
    ("a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "另存为"),
    ("a.csv", b"", "文件为空"),
    ("a.csv", b"\x00\x01\x02\x03binary\x00", "不是文本表格"),
    ("a.docx", b"anything", "只支持 .xlsx 和 .csv"),
    ("a.csv", b"just one line of prose without columns\n", "未找到表头行"),
])
def test_files_that_are_not_spreadsheets_are_refused(filename, data, fragment, app):
    with pytest.raises(importing.ImportFileError, match=fragment):
        importing.read_sheet(filename, data)


def test_a_zip_that_is_not_a_workbook_is_refused(app):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("word/document.xml", "<w:document/>")
    with pytest.raises(importing.ImportFileError, match="不是有效的 Excel 工作簿"):
        importing.read_sheet("伪装.xlsx", buf.getvalue())


def test_formula_cells_are_refused_in_xlsx_and_csv(app):
    data = xlsx_bytes([row(1), row(2)], raw_cells={"J3": "=1+2", "B2": "=HYPERLINK(\"x\")"})
    with pytest.raises(importing.ImportFileError, match=r"公式（B2、J3）"):
        importing.read_sheet("a.xlsx", data)
    with pytest.raises(importing.ImportFileError, match=r"公式（B2"):
        importing.read_sheet("a.csv", csv_bytes([row(1, 标题="=cmd|' /C calc'!A0")]))


def test_too_many_rows_are_refused(app, world, now):
    saved = app.config["IMPORT_MAX_ROWS"]
    app.config["IMPORT_MAX_ROWS"] = 5
    try:
        with pytest.raises(importing.ImportFileError, match="一次最多导入 5 行"):
            importing.read_sheet("a.csv", csv_bytes([row(n) for n in range(1, 8)]))
        assert len(importing.read_sheet("a.csv", csv_bytes([row(n) for n in range(1, 6)])).rows) == 5
    finally:
        app.config["IMPORT_MAX_ROWS"] = saved


def test_only_supervisors_and_admins_import(world, now):
    sheet = importing.read_sheet("a.xlsx", xlsx_bytes([row(1)]))
    mapping = importing.auto_mapping(sheet.headers)
    for user in (world.grid1, world.handler1, world.leader):
        with pytest.raises(PermissionDenied):
            importing.preview_import(db.session, user, now, sheet, mapping)
    assert importing.preview_import(db.session, world.admin, now, sheet, mapping).is_valid


def test_existing_refs_of_another_town_do_not_count(world, now):
    do_import(world, now, "a.xlsx", xlsx_bytes([row(1)]), actor=world.supervisor)
    sheet = importing.read_sheet("a.csv", csv_bytes([row(1, **{"村（居）": "南兴社区"})]))
    preview = importing.preview_import(db.session, world.other_super, now, sheet,
                                       importing.auto_mapping(sheet.headers))
    assert preview.existing == [] and len(preview.new_rows) == 1
