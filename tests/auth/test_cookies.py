"""The login cookie travels over HTTPS only once the site is served over HTTPS: automatically
for HTTPS requests, behind a trusted proxy (PROXY_FIX_HOPS), or always (SESSION_COOKIE_SECURE)."""

from __future__ import annotations

import pytest

from casetrack import create_app
from casetrack.extensions import db


def _set_cookies(resp) -> dict[str, str]:
    """``Set-Cookie`` headers by cookie name."""
    return {h.split("=", 1)[0]: h for h in resp.headers.getlist("Set-Cookie")}


def _login(client, **kwargs):
    resp = client.post("/login", data={"username": "grid1", "password": "pass-1234"}, **kwargs)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    return _set_cookies(resp)


def test_plain_http_cookie_is_httponly_and_lax_but_not_secure(client, world):
    session = _login(client)["session"]
    assert "HttpOnly" in session and "SameSite=Lax" in session
    assert "Secure" not in session


def test_https_request_gets_a_secure_session_and_language_cookie(client, world):
    session = _login(client, base_url="https://localhost")["session"]
    assert "Secure" in session and "HttpOnly" in session
    resp = client.post("/lang/en", base_url="https://localhost")
    assert "Secure" in _set_cookies(resp)["lang"]


@pytest.fixture
def make_app(database_url, tmp_path, now):
    """A second app over the test database with extra settings (closed at the end)."""
    apps = []

    def factory(**settings):
        db.session.commit()
        db.session.remove()  # SQLite: the second app uses the same file
        app = create_app({
            "TESTING": True, "SECRET_KEY": "cookie-test", "SQLALCHEMY_DATABASE_URI": database_url,
            "WTF_CSRF_ENABLED": False, "UPLOAD_FOLDER": str(tmp_path), "FIXED_NOW": now,
            **settings,
        })
        apps.append(app)
        return app

    yield factory
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_behind_a_trusted_proxy_the_forwarded_scheme_counts(make_app, world):
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    trusted = make_app(PROXY_FIX_HOPS=1)
    with trusted.app_context():
        assert "Secure" in _login(trusted.test_client(), headers=headers)["session"]
    direct = make_app()  # no proxy trusted: a client cannot fake the scheme
    with direct.app_context():
        assert "Secure" not in _login(direct.test_client(), headers=headers)["session"]


def test_setting_forces_secure_cookies_even_over_http(make_app, world):
    app = make_app(SESSION_COOKIE_SECURE=True)
    with app.app_context():
        assert "Secure" in _login(app.test_client())["session"]
