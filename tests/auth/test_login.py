"""Login, logout and the language switch (throttling: test_throttle.py)."""

from sqlalchemy import select

from casetrack.auth.models import User
from casetrack.extensions import db


def _user(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def test_login_page_and_success(client, auth, world):
    html = client.get("/login").get_data(as_text=True)
    assert "用户名" in html and "密码" in html
    resp = auth.login("grid1")
    assert resp.status_code == 302 and resp.headers["Location"] == "/"
    # a logged-in user visiting /login goes to the cases
    assert client.get("/login").status_code == 302


def test_wrong_password_and_unknown_user(client, auth, world):
    resp = auth.login("grid1", "not-the-password")
    assert resp.status_code == 401 and "用户名或密码错误" in resp.get_data(as_text=True)
    resp = auth.login("nobody", "whatever-123")
    assert resp.status_code == 401 and "用户名或密码错误" in resp.get_data(as_text=True)


def test_safe_next_only_local(client, auth, world):
    resp = client.post(
        "/login?next=/admin/users", data={"username": "admin", "password": "pass-1234"}
    )
    assert resp.headers["Location"] == "/admin/users"
    auth.logout()
    resp = client.post(
        "/login?next=https://evil.example/", data={"username": "admin", "password": "pass-1234"}
    )
    assert resp.headers["Location"] == "/"


def test_logout(client, auth, world):
    auth.login("admin")
    assert client.get("/admin/").status_code == 200
    resp = auth.logout()
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    assert client.get("/admin/").status_code == 302
    # logout is POST only (a link could be forged)
    assert client.get("/logout").status_code == 405


def test_language_switch_sets_cookie_and_locale(client, auth, world):
    resp = client.post("/lang/en", data={"next": "/login"})
    assert resp.status_code == 302 and resp.headers["Location"] == "/login"
    cookie = client.get_cookie("lang")
    assert cookie is not None and cookie.value == "en"
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="en">' in html
    # an unknown language falls back to Chinese
    client.post("/lang/xx")
    assert client.get_cookie("lang").value == "zh_CN"
    assert '<html lang="zh-CN">' in client.get("/login").get_data(as_text=True)


def test_language_is_remembered_on_the_user(client, auth, world):
    auth.login("grid1")
    client.post("/lang/en", data={"next": "/admin/"})
    assert _user("grid1").locale == "en"
    client.delete_cookie("lang")
    assert '<html lang="en">' in client.get("/cases").get_data(as_text=True)


def test_csrf_is_enforced_on_login_when_enabled(client, world, app):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        resp = client.post("/login", data={"username": "admin", "password": "pass-1234"})
        assert resp.status_code == 400
        assert client.get("/admin/").status_code == 302  # not logged in
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
