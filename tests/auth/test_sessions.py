"""Sessions end when they should (issue 9.3): logout, a password change or reset, disabling
and a role change end every session of the user, on every process (the version is in the
database); own password change with the old one; admin-set passwords changed at first login;
the password policy."""

from __future__ import annotations

from sqlalchemy import select

from casetrack.auth.models import User
from casetrack.auth.tokens import create_token
from casetrack.extensions import db

NEW = "Quiet-harbour-lantern-58"


def _copy_session(app, src, username: str):
    """A second browser holding a copy of ``src``'s session cookie."""
    other = app.test_client()
    cookie = src.get_cookie("session")
    other.set_cookie("session", cookie.value)
    return other


def _user(username: str) -> User:
    db.session.expire_all()
    return db.session.scalar(select(User).where(User.username == username))


def test_a_cookie_copied_before_logout_stops_working(app, client, auth, world):
    auth.login("leader")
    thief = _copy_session(app, client, "leader")
    assert thief.get("/cases").status_code == 200
    auth.logout()
    resp = thief.get("/cases")
    assert resp.status_code == 302 and resp.headers["Location"].startswith("/login")


def test_admin_reset_ends_sessions_and_forces_a_change(app, client, auth, world):
    auth.login("handler1")
    handler_browser = _copy_session(app, client, "handler1")
    admin = app.test_client()
    admin.post("/login", data={"username": "admin", "password": "pass-1234"})
    resp = admin.post(f"/admin/users/{world.handler1.id}/password",
                      data={"password": "Temporary-river-stone-41"})
    assert resp.status_code == 302
    assert handler_browser.get("/cases").status_code == 302  # the old session ended
    # first login with the admin's password: every page leads to the password page
    fresh = app.test_client()
    resp = fresh.post("/login", data={"username": "handler1",
                                      "password": "Temporary-river-stone-41"})
    assert resp.headers["Location"] == "/account/password"
    for url in ("/cases", "/notifications/", "/account/api-tokens/"):
        assert fresh.get(url).headers.get("Location") == "/account/password", url
    page = fresh.get("/account/password").get_data(as_text=True)
    assert "您的密码由管理员设置" in page
    resp = fresh.post("/account/password", data={
        "old_password": "Temporary-river-stone-41", "new_password": NEW,
        "confirm_password": NEW})
    assert resp.status_code == 302
    assert fresh.get("/cases").status_code == 200  # this session continues
    assert not _user("handler1").must_change_password


def test_own_password_change_needs_the_old_one_and_ends_other_sessions(app, client, auth,
                                                                       world):
    auth.login("grid1")
    laptop = _copy_session(app, client, "grid1")
    resp = client.post("/account/password", data={
        "old_password": "wrong", "new_password": NEW, "confirm_password": NEW})
    assert resp.status_code == 400 and "当前密码不正确" in resp.get_data(as_text=True)
    resp = client.post("/account/password", data={
        "old_password": "pass-1234", "new_password": NEW, "confirm_password": NEW + "x"})
    assert resp.status_code == 400 and "两次输入的新密码不一致" in resp.get_data(as_text=True)
    assert laptop.get("/cases").status_code == 200  # refused changes end nothing
    resp = client.post("/account/password", data={
        "old_password": "pass-1234", "new_password": NEW, "confirm_password": NEW})
    assert resp.status_code == 302
    assert client.get("/cases").status_code == 200
    assert laptop.get("/cases").status_code == 302
    auth.logout()
    assert auth.login("grid1", "pass-1234").status_code == 401
    assert auth.login("grid1", NEW).status_code == 302


def test_the_policy_refuses_short_common_and_username_like(client, auth, world):
    auth.login("leader")
    for new, message in [
        ("short-1", "密码至少需要 10 个字符"),
        ("password123", "密码太容易被猜到"),
        ("1234567890", "密码太容易被猜到"),
        ("qwertyuiop", "密码太容易被猜到"),
        ("leader-2026-ok", "密码不能包含用户名或姓名"),
    ]:
        resp = client.post("/account/password", data={
            "old_password": "pass-1234", "new_password": new, "confirm_password": new})
        assert resp.status_code == 400, new
        assert message in resp.get_data(as_text=True), new
    # in English too
    client.post("/lang/en", data={"next": "/account/password"})
    resp = client.post("/account/password", data={
        "old_password": "pass-1234", "new_password": "short-1", "confirm_password": "short-1"})
    assert "at least 10 characters" in resp.get_data(as_text=True)


def test_disabling_and_role_change_end_sessions_and_refuse_tokens(app, client, auth, world,
                                                                  now):
    auth.login("handler1")
    _row, secret = create_token(db.session, world.handler1, now, "脚本")
    db.session.commit()
    api = {"Authorization": f"Bearer {secret}"}
    assert client.get("/api/v1/me", headers=api).status_code == 200
    admin = app.test_client()
    admin.post("/login", data={"username": "admin", "password": "pass-1234"})
    admin.post(f"/admin/users/{world.handler1.id}/enabled", data={"enabled": "0"})
    assert client.get("/cases").status_code == 302
    assert client.get("/api/v1/me", headers=api).status_code == 401
    admin.post(f"/admin/users/{world.handler1.id}/enabled", data={"enabled": "1"})
    # role change
    auth.login("grid2")
    assert client.get("/cases").status_code == 200
    resp = admin.post(f"/admin/users/{world.grid2.id}", data={
        "name": "网格员乙", "role": "supervisor", "phone": "", "email": ""})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert client.get("/cases").status_code == 302


def test_the_version_lives_in_the_database(app, client, auth, world):
    """Another process (here: a write straight to the database) ending the sessions is
    seen at the next request."""
    auth.login("super")
    assert client.get("/cases").status_code == 200
    user = _user("super")
    user.end_sessions()
    db.session.commit()
    assert client.get("/cases").status_code == 302
