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
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return compare_metadata(context, db.metadata)


def _tables(app) -> set[str]:
    with app.app_context():
        return set(inspect(db.engine).get_table_names())


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
