"""Pooled connections are checked only after sitting idle (core/db.py ``ping_when_idle``):
no ``SELECT 1`` before every request, yet a connection the database closed while it was
idle costs no failed page."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from casetrack import create_app
from casetrack.core import db as core_db
from casetrack.extensions import db
from tests.conftest import FIXED_NOW, PG_URL

IDLE = 10


@pytest.fixture
def clock(monkeypatch):
    """The idle check's clock, moved forward by hand (no sleeping)."""
    now = [1000.0]
    monkeypatch.setattr(core_db, "_clock", lambda: now[0])
    return now


@pytest.fixture
def second_app(world, database_url, tmp_path):
    """The app on the suite's database with its own engine (its own pool), idle after
    ``IDLE`` seconds; ``world``'s users are committed there."""
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False, "UPLOAD_FOLDER": str(tmp_path), "FIXED_NOW": FIXED_NOW,
        "DATABASE_PING_IDLE_SECONDS": IDLE,
    })
    yield app
    with app.app_context():
        db.engine.dispose()


def _logged_in(app):
    client = app.test_client()
    assert client.post("/login", data={"username": "super", "password": "pass-1234"}) \
        .status_code == 302
    return client


def test_only_an_idle_connection_is_pinged(second_app, clock, monkeypatch):
    with second_app.app_context():
        dialect = db.engine.dialect
    pings = []
    real = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda conn: pings.append(1) or real(conn))
    client = _logged_in(second_app)
    for _ in range(3):  # one after the other: the connection was in use a moment ago
        assert client.get("/cases").status_code == 200
        clock[0] += IDLE - 1
    assert pings == []
    clock[0] += IDLE
    assert client.get("/cases").status_code == 200
    assert pings == [1]
    assert client.get("/cases").status_code == 200
    assert pings == [1]


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL: a server that closes a connection")
def test_a_connection_closed_while_idle_costs_no_failed_page(second_app, clock, database_url):
    client = _logged_in(second_app)
    assert client.get("/cases").status_code == 200
    with second_app.app_context():
        pid = db.session.scalar(text("SELECT pg_backend_pid()"))
        db.session.remove()
    admin = create_engine(database_url)
    with admin.begin() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
    admin.dispose()
    clock[0] += IDLE
    resp = client.get("/cases")
    assert resp.status_code == 200
    assert "案件列表" in resp.get_data(as_text=True)
    with second_app.app_context():
        assert db.session.scalar(text("SELECT pg_backend_pid()")) != pid
        db.session.remove()
