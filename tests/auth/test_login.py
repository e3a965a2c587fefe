"""Login, logout, the lock after repeated failures (and the admin's unlock), the language switch."""

import datetime as dt

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
    assert _user("grid1").failed_logins == 1
    auth.login("grid1")
    assert _user("grid1").failed_logins == 0


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


def test_five_failures_lock_even_the_right_password(client, auth, world, now, app):
    for i in range(4):
        assert auth.login("handler1", f"wrong-{i}").status_code == 401
    assert _user("handler1").locked_until is None
    assert auth.login("handler1", "wrong-4").status_code == 401
    user = _user("handler1")
    assert user.locked_until == now + dt.timedelta(minutes=app.config["LOGIN_LOCK_MINUTES"])
    resp = auth.login("handler1", "pass-1234")
    assert resp.status_code == 429
    assert "账号已暂时锁定" in resp.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302  # still anonymous


def test_admin_sees_and_lifts_the_lock(client, auth, world):
    for i in range(5):
        auth.login("handler1", f"wrong-{i}")
    uid = world.handler1.id
    auth.login("admin")
    assert "已锁定" in client.get("/admin/users?role=handler").get_data(as_text=True)
    page = client.get(f"/admin/users/{uid}").get_data(as_text=True)
    assert "解除锁定" in page and "锁定至 2026-11-23 10:15" in page
    assert "1 个账号被锁定" in client.get("/admin/").get_data(as_text=True)
    resp = client.post(f"/admin/users/{uid}/unlock")
    assert resp.status_code == 302
    assert _user("handler1").locked_until is None
    resp = client.post(f"/admin/users/{uid}/unlock")
    assert resp.status_code == 422 and "该账号没有被锁定" in resp.get_data(as_text=True)
    auth.logout()
    assert auth.login("handler1").status_code == 302


def test_lock_expires(client, auth, world, app, now):
    for i in range(5):
        auth.login("grid2", f"wrong-{i}")
    assert auth.login("grid2").status_code == 429
    app.config["FIXED_NOW"] = now + dt.timedelta(
        minutes=app.config["LOGIN_LOCK_MINUTES"], seconds=1
    )
    try:
        assert auth.login("grid2").status_code == 302
    finally:
        app.config["FIXED_NOW"] = now


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
        assert _user("admin").failed_logins == 0
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
