"""Fixtures: the app on a real database (SQLite file, or PostgreSQL when
``CASETRACK_TEST_DATABASE_URL`` is set), a fixed ``now``, factories and a login helper."""

from __future__ import annotations

import datetime as dt
import os
import uuid

import flask_babel
import pytest
from flask import g, request_started
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from toolcheck import REQUIRE_TOOLS, require_tool  # noqa: F401  (re-exported for tests)
from werkzeug.security import generate_password_hash

from casetrack import create_app
from casetrack.auth.models import Role, User
from casetrack.cases import kinds  # noqa: F401  (the kinds register their deadline rules)
from casetrack.extensions import db, limiter
from casetrack.org.models import Town, Unit, Village
from casetrack.org.prefixes import prefix_rows

PG_URL = os.environ.get("CASETRACK_TEST_DATABASE_URL")

#: the fixed "now" of the suite: Monday 2026-11-23 10:00 in Beihe (02:00 UTC)
FIXED_NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A fresh database for the whole run, dropped at the end."""
    if PG_URL:
        name = f"casetrack_test_{uuid.uuid4().hex[:8]}"
        admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
        url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        yield url
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("db") / "test.sqlite3"
        yield f"sqlite:///{path}"


@pytest.fixture(scope="session")
def _schema_app(database_url, tmp_path_factory):
    instance = tmp_path_factory.mktemp("instance")
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False,
        "UPLOAD_FOLDER": str(instance / "uploads"),
        "FIXED_NOW": FIXED_NOW,
        # replies go out without a leader's approval unless a test switches it on for its
        # town (kinds.petition.steps.REPLY_APPROVAL_KEY); tests/cases/test_stages.py tests approval
        "REPLY_APPROVAL": False,
    })
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def app(_schema_app):
    """The app with empty tables for each test."""
    with _schema_app.app_context():
        _empty_tables()
        db.session.remove()
        limiter.reset()  # throttling counters of earlier tests (same client address)
    ctx = _schema_app.app_context()
    ctx.push()
    # The test client reuses this app context (and ``g``) for every request, where Flask-Babel
    # caches the locale and views cache per-request values; a real request starts afresh.
    request_started.connect(_fresh_request_globals, _schema_app)
    yield _schema_app
    request_started.disconnect(_fresh_request_globals, _schema_app)
    db.session.rollback()
    db.session.remove()
    ctx.pop()


def _fresh_request_globals(sender, **extra) -> None:
    for name in list(vars(g)):
        delattr(g, name)
    flask_babel.refresh()


def _empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for t in tables:
                conn.execute(t.delete())


@pytest.fixture
def now() -> dt.datetime:
    """The suite's fixed instant (never the wall clock)."""
    return FIXED_NOW


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def create_town(app):
    def factory(name: str = "北和镇", villages=("北和社区", "鹅感村"), units=("综治办", "信访办", "司法所")):
        town = Town(name=name, county_code="440882", county_name="雷州市",
                    number_prefixes=prefix_rows(petition=name[:2] + "信", dispute=name[:2] + "调"))
        db.session.add(town)
        for i, v in enumerate(villages):
            db.session.add(Village(town=town, name=v, sort_order=i,
                                   kind="社区" if v.endswith("社区") else "行政村"))
        for u in units:
            db.session.add(Unit(town=town, name=u))
        db.session.flush()
        return town

    return factory


@pytest.fixture
def create_user(app):
    def factory(username: str, role: Role, town: Town | None, *, villages=(), unit=None,
                name: str | None = None, password: str = "pass-1234", county_code: str = ""):
        user = User(username=username, name=name or username, role=str(role),
                    town_id=town.id if town else None, unit_id=unit.id if unit else None,
                    county_code=county_code)
        # a cheap hash: scrypt for every fixture user made each test take a second
        user.password_hash = generate_password_hash(password, method="pbkdf2:sha256:1000")
        user.villages = list(villages)
        db.session.add(user)
        db.session.flush()
        return user

    return factory


class World:
    """One town with two villages and a user of every role; a second town for isolation."""

    def __init__(self, create_town, create_user):
        self.town = create_town()
        self.v1, self.v2 = self.town.villages
        self.unit_zz, self.unit_xf, self.unit_sf = self.town.units
        self.grid1 = create_user("grid1", Role.GRID_WORKER, self.town, villages=[self.v1], name="网格员甲")
        self.grid2 = create_user("grid2", Role.GRID_WORKER, self.town, villages=[self.v2], name="网格员乙")
        self.handler1 = create_user("handler1", Role.HANDLER, self.town, unit=self.unit_xf, name="承办人甲")
        self.handler2 = create_user("handler2", Role.HANDLER, self.town, unit=self.unit_sf, name="承办人乙")
        self.supervisor = create_user("super", Role.SUPERVISOR, self.town, name="督办员")
        self.leader = create_user("leader", Role.LEADER, self.town, name="镇领导")
        self.admin = create_user("admin", Role.ADMIN, self.town, name="管理员")
        self.other_town = create_town("南兴镇", villages=("南兴社区",), units=("综治办",))
        self.other_super = create_user("other_super", Role.SUPERVISOR, self.other_town)
        db.session.commit()


@pytest.fixture
def world(create_town, create_user) -> World:
    return World(create_town, create_user)


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, username: str, password: str = "pass-1234"):
        return self._client.post("/login", data={"username": username, "password": password})

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def smtp(app, monkeypatch):
    """A running aiosmtpd server on 127.0.0.1; the app sends mail to it."""
    from notify.support import SmtpServer

    server = SmtpServer()
    server.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 5)
    yield server
    server.stop()


@pytest.fixture
def emails(world):
    """Give the world's users e-mail addresses."""
    for name in ("handler1", "handler2", "supervisor", "leader", "admin"):
        user = getattr(world, name)
        user.email = f"{user.username}@beihe.example"
    db.session.commit()
    return world
