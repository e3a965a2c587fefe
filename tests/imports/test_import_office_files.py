"""Real office files (issue 10, import items 1–7), through the CLI runner and the pages:
hidden and several sheets, headers broken with Alt+Enter, one reference in many spellings,
ID and phone columns stored as numbers, East-Asian date formats, the template."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile

from import_support import HEADERS, ID_OK, row, xlsx_bytes
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from casetrack.cases.models import Case, Party
from casetrack.extensions import db


def case_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Case))


def import_cli(runner, tmp_path, name: str, data: bytes, *extra: str):
    path = tmp_path / name
    path.write_bytes(data)
    return runner.invoke(args=["cases", "import", str(path), "--user", "super", *extra])


def upload(client, data: bytes, filename: str):
    return client.post("/imports/", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def workbook(sheets: list[tuple[str, list[dict], str]]) -> bytes:
    """A workbook of (name, rows, state) sheets, each with the template's header row."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows, state in sheets:
        ws = wb.create_sheet(name)
        ws.append(HEADERS)
        for r in rows:
            ws.append([r.get(h, "") for h in HEADERS])
        ws.sheet_state = state
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- 1. which sheet


def test_hidden_sheet_is_never_read_and_the_template_sheet_is(world, runner, tmp_path):
    data = workbook([("上月清单", [row(1, 标题="上月的事项（隐藏）")], "hidden"),
                     ("交办清单", [row(2, 标题="本月的事项")], "visible"),
                     ("说明", [], "visible")])
    result = import_cli(runner, tmp_path, "清单.xlsx", data)
    assert result.exit_code == 0, result.output
    assert "导入 1 件" in result.output and "读取的工作表：“交办清单”" in result.output
    titles = db.session.scalars(select(Case.title)).all()
    assert titles == ["本月的事项"]


def test_only_visible_sheet_is_read_whatever_its_name(world, runner, tmp_path):
    data = workbook([("Sheet1", [row(1, 标题="隐藏的旧行")], "veryHidden"),
                     ("11月", [row(2, 标题="可见的行")], "visible")])
    result = import_cli(runner, tmp_path, "清单.xlsx", data)
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(Case.title)).all() == ["可见的行"]


def test_ambiguous_sheets_are_chosen_with_sheet_option(world, runner, tmp_path):
    data = workbook([("11月", [row(1, 标题="十一月")], "visible"),
                     ("12月", [row(2, 标题="十二月")], "visible"),
                     ("旧", [row(3, 标题="隐藏")], "hidden")])
    result = import_cli(runner, tmp_path, "清单.xlsx", data)
    assert result.exit_code == 1
    assert "多个工作表（11月、12月）" in result.output and "--sheet" in result.output
    assert "旧" not in result.output
    result = import_cli(runner, tmp_path, "清单.xlsx", data, "--sheet", "旧")
    assert result.exit_code == 1 and "没有名为“旧”的可见工作表" in result.output
    result = import_cli(runner, tmp_path, "清单.xlsx", data, "--sheet", "12月")
    assert result.exit_code == 0, result.output
    assert db.session.scalars(select(Case.title)).all() == ["十二月"]


def test_ambiguous_sheets_are_chosen_on_the_mapping_page(world, client, auth):
    auth.login("super")
    data = workbook([("11月", [row(1, 标题="十一月")], "visible"),
                     ("12月", [row(2, 标题="十二月")], "visible"),
                     ("旧", [row(3, 标题="隐藏")], "hidden")])
    resp = upload(client, data, "清单.xlsx")
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/imports/mapping")
    page = client.get("/imports/mapping").get_data(as_text=True)
    assert 'id="sheet-choice"' in page and ">11月<" in page and ">12月<" in page
    assert ">旧<" not in page
    # preview waits for the choice
    assert client.get("/imports/preview").headers["Location"].endswith("/imports/mapping")
    resp = client.post("/imports/sheet", data={"sheet": "12月"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/imports/preview")
    page = client.get("/imports/preview").get_data(as_text=True)
    assert "确认导入 1 件" in page and "读取的工作表：“12月”" in page
    assert client.post("/imports/run").status_code == 200
    assert db.session.scalars(select(Case.title)).all() == ["十二月"]


# ---------------------------------------------------------------- 2. headers as people write them


def test_headers_broken_by_alt_enter_full_width_and_spaces_are_recognised(world, runner,
                                                                          tmp_path):
    headers = [h for h in HEADERS]
    typed = {"身份证号": "身份证\n号码", "承办单位": "承办\n单位", "联系电话": "联系　电话",
             "交办文号": "交办文号＊", "收到日期": " 收到\r\n日期 "}
    file_headers = [typed.get(h, h) for h in headers] + ["备注"]
    wb = Workbook()
    ws = wb.active
    ws.title = "交办清单"
    ws.append(file_headers)
    r = row(1, 承办单位="司法所")
    ws.append([r.get(h, "") for h in headers] + ["请尽快办理"])
    out = io.BytesIO()
    wb.save(out)
    result = import_cli(runner, tmp_path, "清单.xlsx", out.getvalue())
    assert result.exit_code == 0, result.output
    # the column that fills nothing is named before the import
    assert "提示：“备注”列未对应任何字段，该列内容不会导入" in result.output
    case = db.session.scalars(select(Case)).one()
    assert case.unit is not None and case.unit.name == "司法所"
    assert case.parties[0].id_number == ID_OK and case.parties[0].phone == "13800138000"
    assert case.received_on == dt.date(2026, 11, 20)


def test_mapping_page_lists_unmapped_columns(world, client, auth):
    auth.login("super")
    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS + ["备注", "经办人"])
    ws.append([row(1).get(h, "") for h in HEADERS] + ["x", "y"])
    out = io.BytesIO()
    wb.save(out)
    resp = upload(client, out.getvalue(), "清单.xlsx")
    # not every header matches: the mapping step is shown, with the unmapped columns
    assert resp.headers["Location"].endswith("/imports/mapping")
    page = client.get("/imports/mapping").get_data(as_text=True)
    assert 'id="unmapped-columns"' in page and "备注、经办人" in page
    page = client.get("/imports/preview").get_data(as_text=True)
    assert "“备注”列未对应任何字段" in page and "“经办人”列未对应任何字段" in page


# ---------------------------------------------------------------- 3. one reference, many spellings


def test_one_reference_in_other_brackets_is_not_imported_twice(world, runner, tmp_path):
    first = xlsx_bytes([row(1, 交办文号="湛信交〔2026〕214号")])
    result = import_cli(runner, tmp_path, "a.xlsx", first)
    assert result.exit_code == 0 and "导入 1 件" in result.output
    for spelling in ("湛信交[2026]214号", "湛信交【2026】214号", "湛信交（２０２６）２１４号",
                     "湛信交 (2026) 214号"):
        result = import_cli(runner, tmp_path, "b.xlsx",
                            xlsx_bytes([row(2, 交办文号=spelling)]))
        assert result.exit_code == 0, result.output
        assert "导入 0 件，1 件已存在" in result.output, spelling
    assert case_count() == 1
    # stored as typed
    assert db.session.scalar(select(Case.external_ref)) == "湛信交〔2026〕214号"
    # two spellings inside one file are one reference too
    result = import_cli(runner, tmp_path, "c.xlsx", xlsx_bytes(
        [row(3, 交办文号="湛信交〔2026〕215号"), row(4, 交办文号="湛信交[2026]215号")]))
    assert result.exit_code == 1 and "与第2行的交办文号重复" in result.output


# ---------------------------------------------------------------- 5. numbers that are not numbers


def test_id_stored_as_excel_number_is_refused(world, runner, tmp_path):
    data = xlsx_bytes([row(1)], raw_cells={"L2": 4.40882198503011e17})
    result = import_cli(runner, tmp_path, "a.xlsx", data)
    assert result.exit_code == 1
    assert "第2行「身份证号」列" in result.output and "请将该列设置为文本格式" in result.output
    assert case_count() == 0
    # the same column saved as CSV by Excel: scientific notation text
    csv = ("\r\n".join([",".join(HEADERS), ",".join(
        str(row(1).get(h, "")) if h != "身份证号" else "4.40882E+17" for h in HEADERS)])
           ).encode("gb18030")
    result = import_cli(runner, tmp_path, "a.csv", csv)
    assert result.exit_code == 1 and "请将该列设置为文本格式" in result.output


# ---------------------------------------------------------------- 6. dates as Chinese Excel formats them


def _with_builtin_format(data: bytes, format_id: int) -> bytes:
    """Rewrite the custom number format openpyxl wrote (id 164) as the built-in ``format_id``
    that Chinese Excel writes for yyyy"年"m"月"d"日" (31) and its relatives."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            body = src.read(item)
            if item.filename == "xl/styles.xml":
                text = body.decode()
                text = re.sub(r"<numFmts.*?</numFmts>", "", text, flags=re.S)
                text = text.replace('numFmtId="164"', f'numFmtId="{format_id}"')
                body = text.encode()
            dst.writestr(item, body)
    return out.getvalue()


def _dated_workbook() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "交办清单"
    ws.append(HEADERS)
    r = row(1)
    ws.append([r.get(h, "") for h in HEADERS])
    received, due = HEADERS.index("收到日期") + 1, HEADERS.index("上级办理期限") + 1
    for column, serial in ((received, 46346), (due, 46393)):  # 2026-11-20, 2027-01-06
        cell = ws.cell(row=2, column=column)
        cell.value = serial
        cell.number_format = 'yyyy"年"m"月"d"日"'
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_east_asian_builtin_date_formats_are_dates(world, runner, tmp_path):
    for format_id in (31, 57, 27):
        data = _with_builtin_format(_dated_workbook(), format_id)
        assert b'numFmtId="%d"' % format_id in zipfile.ZipFile(io.BytesIO(data)).read(
            "xl/styles.xml")
        result = import_cli(runner, tmp_path, f"f{format_id}.xlsx", data, "--dry-run")
        assert result.exit_code == 0, (format_id, result.output)
        assert "无法识别的日期" not in result.output
    result = import_cli(runner, tmp_path, "f31.xlsx", _with_builtin_format(_dated_workbook(), 31))
    assert result.exit_code == 0, result.output
    case = db.session.scalars(select(Case)).one()
    assert case.received_on == dt.date(2026, 11, 20)
    assert case.external_due_on == dt.date(2027, 1, 6)


# ---------------------------------------------------------------- 7. the template helps


def test_template_has_drop_downs_example_row_widths_and_frozen_header(world, client, auth):
    auth.login("super")
    data = client.get("/imports/template.xlsx").data
    wb = load_workbook(io.BytesIO(data))
    ws = wb["交办清单"]
    assert ws.freeze_panes == "A2"
    assert ws.column_dimensions["B"].width >= 30  # 标题
    assert str(ws["A2"].value).startswith("【示例】")
    assert ws["L2"].number_format == "@" and ws["L3"].number_format == "@"
    lists = wb["选项"]
    assert lists.sheet_state == "hidden"
    by_column = {}
    for validation in ws.data_validations.dataValidation:
        assert validation.type == "list"
        for cell_range in str(validation.sqref).split():
            column = re.match(r"[A-Z]+", cell_range).group(0)
            by_column[HEADERS[ord(column) - ord("A")]] = validation.formula1
    assert set(by_column) == {"村（居）", "承办单位", "内容分类", "来源", "信访类别"}
    listed = {}
    for column in lists.iter_cols():
        listed[column[0].value] = [c.value for c in column[1:] if c.value]
    assert "北和社区" in listed["村（居）"] and "司法所" in listed["承办单位"]
    assert "上级交办" in listed["来源"] and "申诉求决" in listed["信访类别"]
    assert by_column["村（居）"].startswith("'选项'!$")

    # the template filled in: the example row is left out and said so; one case imported
    ws.append([row(9).get(h, "") for h in HEADERS])
    out = io.BytesIO()
    wb.save(out)
    resp = upload(client, out.getvalue(), "交办清单导入模板.xlsx")
    assert resp.headers["Location"].endswith("/imports/preview")  # all headers matched
    page = client.get("/imports/preview").get_data(as_text=True)
    assert "第2行是模板中的示例行" in page and "确认导入 1 件" in page
    client.post("/imports/run")
    assert db.session.scalars(select(Party.name)).all() == ["张三9（虚构）"]


def test_upload_page_says_what_is_accepted(world, client, auth):
    auth.login("super")
    page = client.get("/imports/").get_data(as_text=True)
    assert 'id="import-rules"' in page
    assert "只读取可见的工作表" in page and "须设置为文本格式" in page and "不会导入" in page
