"""The bench county builder (``scripts/bench/county.py``) loads with the row triggers of
``case_events`` off, yet leaves every case's ``last_event_at`` right and the triggers on."""

from __future__ import annotations

import importlib.util
import os
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from casetrack import create_app
from casetrack.extensions import db

PG_URL = os.environ.get("CASETRACK_TEST_DATABASE_URL")


def _load_county():
    """``scripts/bench/county.py`` under a name of its own (its folder on ``sys.path`` would
    hide the tests' ``stats`` package behind ``scripts/bench/stats.py``)."""
    path = Path(__file__).resolve().parents[1] / "scripts" / "bench" / "county.py"
    spec = importlib.util.spec_from_file_location("bench_county", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


county = _load_county()


@pytest.fixture
def empty_url(tmp_path):
    """A database of its own (the builder drops and rebuilds indexes)."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / 'county.sqlite3'}"
        return
    name = f"casetrack_county_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _migrated(url: str):
    """The app on ``url``, upgraded by the migrations (as ``pages.py`` does)."""
    from flask_migrate import upgrade

    app = create_app({"TESTING": True, "SECRET_KEY": "t", "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade(directory=str(Path(app.root_path).parent / "migrations"))
        db.session.remove()
        db.engine.dispose()
    return app


def test_the_county_carries_last_event_at_and_keeps_its_triggers(empty_url, tmp_path):
    app = _migrated(empty_url)
    with app.app_context():
        with db.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                county.build_county(conn, 300, 3, 100, log=lambda *_: None)
            else:  # PostgreSQL copies a county built in SQLite
                src_url = f"sqlite:///{tmp_path / 'src.sqlite3'}"
                _migrated(src_url)
                source = create_engine(src_url)
                with source.begin() as src:
                    county.build_county(src, 300, 3, 100, log=lambda *_: None)
                source.dispose()
                county.copy_from_sqlite(conn, str(tmp_path / "src.sqlite3"),
                                        log=lambda *_: None)
        wrong = "SELECT count(*) FROM cases c WHERE c.last_event_at IS DISTINCT FROM " \
                "(SELECT max(e.at) FROM case_events e WHERE e.case_id = c.id)"
        if db.engine.dialect.name == "sqlite":
            wrong = wrong.replace("IS DISTINCT FROM", "IS NOT")
        assert db.session.scalar(text("SELECT count(*) FROM cases")) == 300
        assert db.session.scalar(text(wrong)) == 0
        # the triggers are on again: a later event moves the column
        db.session.execute(text(
            "INSERT INTO case_events (case_id, at, action, changes, note) "
            "VALUES (1, '2030-01-01 00:00:00+00', 'progress', '{}', '')"))
        assert db.session.scalar(text(wrong)) == 0
        assert db.session.scalar(text(
            "SELECT count(*) FROM cases WHERE last_event_at >= '2030-01-01'")) == 1
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
