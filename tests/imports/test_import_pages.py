"""The import pages through the client: template, upload, mapping, preview, import."""

from __future__ import annotations

import io
from urllib.parse import quote

from import_support import HEADERS, csv_bytes, row, xlsx_bytes
from openpyxl import load_workbook
from sqlalchemy import func, select

from casetrack.cases.models import Case
from casetrack.extensions import db


def case_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Case))


def upload(client, data: bytes, filename: str):
    return client.post("/imports/", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


def test_template_download_has_the_chinese_headers(world, client, auth):
    auth.login("super")
    resp = client.get("/imports/template.xlsx")
    assert resp.status_code == 200
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="casetrack-import-template.xlsx"; ')
    assert disposition.endswith("filename*=UTF-8''" + quote("交办清单导入模板.xlsx"))
    wb = load_workbook(io.BytesIO(resp.data), read_only=True)
    try:
        header = [c.value for c in next(wb.worksheets[0].iter_rows(max_row=1))]
        assert header == HEADERS
        notes = " ".join(str(c.value or "") for r in wb.worksheets[1].iter_rows() for c in r)
        assert "北和社区" in notes and "信访办" in notes  # the town's own names
    finally:
        wb.close()


def test_upload_preview_import_and_reimport(world, client, auth):
    auth.login("super")
    data = xlsx_bytes([row(1), row(2, 承办单位="综治办")])
    resp = upload(client, data, "交办清单.xlsx")
    # every header is the template's: the mapping step is skipped (and still reachable)
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/imports/preview")
    page = client.get("/imports/mapping")
    assert page.status_code == 200 and "交办文号" in page.get_data(as_text=True)
    resp = client.post("/imports/mapping", data={c: str(i) for i, c in enumerate(
        ["external_ref", "title", "source", "petition_class", "category", "village",
         "received_on", "external_due_on", "external_authority", "group_size", "party_name",
         "id_number", "phone", "address", "unit", "summary"])})
    assert resp.status_code == 303
    page = client.get("/imports/preview").get_data(as_text=True)
    assert "确认导入 2 件" in page
    assert case_count() == 0
    resp = client.post("/imports/run")
    text = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "交办清单.xlsx：导入 2 件，0 件已存在" in text
    assert case_count() == 2

    upload(client, data, "交办清单.xlsx")
    page = client.get("/imports/preview").get_data(as_text=True)
    assert "文件中的事项均已存在" in page
    resp = client.post("/imports/run")
    assert "导入 0 件，2 件已存在（未重复导入）" in resp.get_data(as_text=True)
    assert case_count() == 2


def test_errors_are_shown_by_row_and_column_and_import_is_refused(world, client, auth):
    auth.login("super")
    upload(client, csv_bytes([row(1), row(2, 身份证号="440882198001010014")], encoding="gb18030"),
           "清单.csv")
    page = client.get("/imports/preview").get_data(as_text=True)
    assert "第3行" in page and "身份证号" in page and "身份证号码校验位不正确" in page
    assert "确认导入" not in page
    resp = client.post("/imports/run")
    assert resp.status_code == 303
    assert case_count() == 0


def test_mapping_step_for_other_headers(world, client, auth):
    auth.login("super")
    headers = ["交办文号", "事项名称", "信访类别", "收到日期", "上级办理期限", "信访人姓名"]
    upload(client, csv_bytes([{"交办文号": "Z-1", "事项名称": "路灯不亮", "信访类别": "建议意见",
                               "收到日期": "2026-11-20", "上级办理期限": "2026-12-20",
                               "信访人姓名": "王五"}], headers=headers), "other.csv")
    resp = client.get("/imports/preview")  # title unmapped: back to the mapping step
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/imports/mapping")
    form = {"external_ref": "0", "petition_class": "2", "received_on": "3",
            "external_due_on": "4", "party_name": "5"}
    resp = client.post("/imports/mapping", data=form)
    assert resp.status_code == 422 and "必须指定“标题”对应的列" in resp.get_data(as_text=True)
    resp = client.post("/imports/mapping", data={**form, "title": "1"})
    assert resp.status_code == 303
    assert "确认导入 1 件" in client.get("/imports/preview").get_data(as_text=True)
    client.post("/imports/run")
    assert case_count() == 1


def test_bad_files_get_a_clear_error_not_a_500(world, client, auth):
    auth.login("super")
    for data, name, fragment in [
        (b"%PDF-1.4 x", "a.xlsx", "不是电子表格"),
        (xlsx_bytes([row(1)], raw_cells={"B2": "=1+1"}), "a.xlsx", "含有公式"),
        (b"", "a.csv", "文件为空"),
    ]:
        resp = upload(client, data, name)
        assert resp.status_code == 422, name
        assert fragment in resp.get_data(as_text=True)
    resp = client.post("/imports/", data={}, content_type="multipart/form-data")
    assert resp.status_code == 400
    assert case_count() == 0


def test_huge_upload_is_refused_by_size(world, client, auth, app):
    auth.login("super")
    app.config["MAX_CONTENT_LENGTH"] = 1000
    try:
        resp = upload(client, b"a" * 5000, "big.csv")
        assert resp.status_code == 413
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 25 * 1024 * 1024


def test_only_supervisors_and_admins_see_the_pages(world, client, auth):
    auth.login("grid1")
    assert client.get("/imports/").status_code == 403
    assert upload(client, xlsx_bytes([row(1)]), "a.xlsx").status_code == 403
    assert "导入交办清单" not in client.get("/account/api-tokens/").get_data(as_text=True)
    auth.logout()
    auth.login("admin")
    assert client.get("/imports/").status_code == 200
    assert "导入交办清单" in client.get("/account/api-tokens/").get_data(as_text=True)


def test_row_problems_are_shown_in_the_readers_language(world, client, auth):
    """The preview's problems are Msgids: English for an English reader, with the names
    typed into the file kept as they are."""
    auth.login("super")
    client.post("/lang/en", data={"next": "/"})
    upload(client, csv_bytes([row(1, **{"村（居）": "不存在村（虚构）"}),
                              row(2, 身份证号="440882198001010014")]), "清单.csv")
    page = client.get("/imports/preview").get_data(as_text=True)
    assert "This town has no village named “不存在村（虚构）”" in page
    assert "The check digit of the ID number is wrong" in page
    assert "本镇没有名为" not in page and "身份证号码校验位不正确" not in page
    client.post("/lang/zh", data={"next": "/"})
    page = client.get("/imports/preview").get_data(as_text=True)
    assert "本镇没有名为“不存在村（虚构）”的村（居）" in page and "身份证号码校验位不正确" in page
