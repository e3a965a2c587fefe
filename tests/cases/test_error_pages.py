"""Refusals outside a step form are pages in Chinese too: an expired form (CSRF), an unknown
or forbidden page, a wrong method, an upload above the request limit. The JSON API keeps its
own envelope."""

from __future__ import annotations

import io

from sqlalchemy import func, select
from views_support import login_as, make_dispute, text

from casetrack import create_app
from casetrack.cases.models import Attachment
from casetrack.extensions import db

ENGLISH_DEFAULTS = ("Bad Request", "Not Found", "Forbidden", "Method Not Allowed",
                    "Request Entity Too Large")


def _is_chinese_page(html: str, sentence: str) -> None:
    assert sentence in html, html
    assert '<header class="topbar">' in html  # the app's layout, not Werkzeug's page
    for english in ENGLISH_DEFAULTS:
        assert english not in html


def test_expired_or_missing_csrf_token_is_a_chinese_page(database_url, world, tmp_path, now):
    db.session.commit()
    db.session.remove()  # SQLite: a second app uses the same file
    app = create_app({
        "TESTING": True, "SECRET_KEY": "csrf-page", "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": True, "UPLOAD_FOLDER": str(tmp_path), "FIXED_NOW": now,
    })
    try:
        with app.app_context():
            client = app.test_client()
            resp = client.post("/login", data={"username": "grid1", "password": "pass-1234"})
            assert resp.status_code == 400
            _is_chinese_page(text(resp), "页面已过期或来源无效，请刷新页面后重新提交")
            assert resp.headers["Cache-Control"] == "no-store"
            db.session.remove()
    finally:
        with app.app_context():
            db.engine.dispose()


def test_unknown_page_forbidden_page_and_wrong_method(client, world, now):
    case = make_dispute(world, now)
    login_as(client, "grid1")
    resp = client.get("/no-such-page")
    assert resp.status_code == 404
    _is_chinese_page(text(resp), "页面不存在或您无权查看")
    resp = client.get("/admin/")  # a grid worker is not an administrator
    assert resp.status_code == 403
    _is_chinese_page(text(resp), "您没有执行此操作的权限")
    resp = client.get(f"/cases/{case.id}/start-mediation")  # steps are POST only
    assert resp.status_code == 405 and "POST" in resp.headers["Allow"]
    _is_chinese_page(text(resp), "不支持此操作方式，请从页面上的按钮进入")


def test_api_errors_stay_json(client, world):
    resp = client.get("/api/v1/no-such-endpoint")
    assert resp.status_code in (401, 404)
    assert resp.is_json and "error" in resp.get_json()


def test_attachment_limits_are_refused_in_chinese(client, world, now, app, monkeypatch):
    """Above the attachment limit: the detail page says so; above the request limit: the
    error page says so. Neither stores anything."""
    # small limits keep the test client's request body in memory
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", 100 * 1024)
    monkeypatch.setitem(app.config, "MAX_CONTENT_LENGTH", 300 * 1024)
    case = make_dispute(world, now)
    login_as(client, "grid1")
    resp = client.post(f"/cases/{case.id}/attachments", data={
        "file": (io.BytesIO(b"x" * (100 * 1024 + 1)), "录音.mp3")},
        content_type="multipart/form-data")
    assert resp.status_code == 422 and "文件不能超过 100 KB" in text(resp)
    resp = client.post(f"/cases/{case.id}/attachments", data={
        "file": (io.BytesIO(b"x" * (400 * 1024)), "录像.mp3")},
        content_type="multipart/form-data")
    assert resp.status_code == 413
    _is_chinese_page(text(resp), "提交的内容过大（不能超过 300 KB）")
    resp = client.post(f"/cases/{case.id}/attachments", data={
        "file": (io.BytesIO(b"MZ\x90\x00"), "setup.exe")}, content_type="multipart/form-data")
    assert resp.status_code == 422 and "不支持的文件类型" in text(resp)
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0


def test_registration_without_category_names_the_field(client, world):
    login_as(client, "grid1")
    resp = client.post("/cases/new?kind=dispute", data={
        "kind": "dispute", "title": "纠纷（虚构）", "source": "screening", "category": "",
        "village_id": str(world.v1.id), "received_on": "2026-11-23",
        "parties-0-role": "applicant", "parties-0-name": "某人（虚构）", "submit": "1"})
    assert resp.status_code == 422
    assert "请选择内容分类" in text(resp) and "类别无效" not in text(resp)
