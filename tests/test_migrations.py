"""The Alembic migrations build exactly the schema the models describe, and undo it.

Each test starts from a brand-new database (a temporary SQLite file, or a throwaway
PostgreSQL database when ``CASETRACK_TEST_DATABASE_URL`` is set), runs ``flask db upgrade``
through the CLI, and compares the result with the models using Alembic's autogenerate.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from casetrack import create_app
from casetrack.cases.search_index import is_schema_extra
from casetrack.extensions import db

PG_URL = os.environ.get("CASETRACK_TEST_DATABASE_URL")


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request, tmp_path) -> Iterator[str]:
    """URL of an empty database of each kind (PostgreSQL only when configured)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite3'}"
        return
    if not PG_URL:
        pytest.skip("CASETRACK_TEST_DATABASE_URL is not set")
    name = f"casetrack_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
            ), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    finally:
        admin.dispose()


@pytest.fixture
def migrated_app(blank_url, tmp_path):
    """An app on the blank database (no ``create_all``: only the migrations build it)."""
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test",
        "SQLALCHEMY_DATABASE_URI": blank_url,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
    })
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _flask(app, *args: str) -> None:
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, (result.output, result.exception)


def _schema_diff(app) -> list:
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={
            "compare_type": True,
            "include_name": lambda name, type_, parents: not is_schema_extra(name, type_)})
        return compare_metadata(context, db.metadata)


def _tables(app) -> set[str]:
    """The tables of the database, less the text-search index's own (not in the models)."""
    with app.app_context():
        return {t for t in inspect(db.engine).get_table_names()
                if not is_schema_extra(t, "table")}


def test_upgrade_builds_exactly_the_models(migrated_app):
    assert _tables(migrated_app) == set()
    _flask(migrated_app, "db", "upgrade")

    assert _tables(migrated_app) == set(db.metadata.tables) | {"alembic_version"}
    diff = _schema_diff(migrated_app)
    assert diff == [], (
        "the migrations and the models differ; regenerate the revision with "
        "`flask --app casetrack db migrate`:\n" + "\n".join(map(repr, diff))
    )


def test_upgrade_is_at_head_and_downgrade_to_base_removes_everything(migrated_app):
    _flask(migrated_app, "db", "upgrade")
    with migrated_app.app_context(), db.engine.connect() as conn:
        heads = MigrationContext.configure(conn).get_current_heads()
    script_heads = _script_heads(migrated_app)
    assert len(script_heads) == 1, f"the migrations have several heads: {script_heads}"
    assert set(heads) == script_heads

    _flask(migrated_app, "db", "downgrade", "base")
    assert _tables(migrated_app) <= {"alembic_version"}

    # and it comes back up cleanly
    _flask(migrated_app, "db", "upgrade")
    assert _schema_diff(migrated_app) == []


def _script_heads(app) -> set[str]:
    from alembic.script import ScriptDirectory

    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        return set(ScriptDirectory.from_config(config).get_heads())


def test_migrated_sqlite_search_index_follows_every_case_write(migrated_app):
    """The FTS5 index of a migrated SQLite database follows inserts, corrections and
    deletes (its triggers must survive every later revision that rebuilds ``cases``)."""
    _flask(migrated_app, "db", "upgrade")
    with migrated_app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the FTS5 index is SQLite's")
        from casetrack.cases import search_index

        triggers = set(db.session.scalars(text(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        assert {f"{search_index.FTS_TABLE}_{s}" for s in ("ai", "ad", "au")} <= triggers
        db.session.execute(text(
            "INSERT INTO towns (id, name, county_code, county_name, petition_issuer_code, "
            "dispute_issuer_code, created_at) VALUES (1, 't', '', '', 'a', 'b', "
            "'2026-01-01 00:00:00')"))
        db.session.execute(text(
            "INSERT INTO cases (id, town_id, kind, number, number_year, number_seq, title, "
            "summary, source, category, received_on, external_authority, group_size, "
            "is_repeat, status, due_is_exact, extension_days, extension_state, "
            "extension_reason, reply_text, exit_reason, agreement_text, is_risk, created_at, "
            "updated_at, version, search_text) VALUES (7, 1, 'petition', 'n', 2026, 1, 't', "
            "'', 'visit', '其他', '2026-01-01', '', 1, 0, 'registered', 1, 0, 'none', '', '', "
            "'', '', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00', 1, '村道破损')"))

        def found(term: str) -> list[int]:
            return list(db.session.scalars(text(
                "SELECT rowid FROM cases_search WHERE search_text MATCH :q"),
                {"q": f'"{term}"'}))

        assert found("道破损") == [7]
        db.session.execute(text("UPDATE cases SET search_text = '鱼塘承包' WHERE id = 7"))
        assert found("道破损") == [] and found("塘承包") == [7]
        db.session.execute(text("DELETE FROM cases WHERE id = 7"))
        assert found("塘承包") == []
        db.session.rollback()
