"""PostgreSQL plans every statement for its own parameters (core/db.py
``_postgresql_on_connect``): psycopg prepares a statement after its fifth run, and a generic
plan chosen after that turned the county's one-character search from 11 ms into 2.7 s for
good (measured at a million cases, scripts/bench/pages.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from casetrack.extensions import db


def _postgresql_only() -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("plan caching is PostgreSQL's")


def test_every_connection_plans_with_its_parameters(app, world):
    _postgresql_only()
    with db.engine.connect() as conn:
        assert conn.execute(text("SHOW plan_cache_mode")).scalar() == "force_custom_plan"


def test_a_statement_run_often_never_gets_a_generic_plan(app, world):
    """Twelve runs of one statement on one connection: psycopg prepares it on the server
    after the fifth, and PostgreSQL plans every later run with its values (without the
    setting it takes the generic plan from the sixth prepared run on)."""
    _postgresql_only()
    statement = text("SELECT id FROM cases WHERE town_id = :town AND search_text LIKE :term")
    with db.engine.connect() as conn:
        for _ in range(12):
            conn.execute(statement, {"town": world.town.id, "term": "%王%"}).all()
        custom, generic = conn.execute(text(
            "SELECT custom_plans, generic_plans FROM pg_prepared_statements"
            " WHERE statement LIKE '%search_text LIKE%' AND from_sql = false")).one()
    assert custom > 0, "psycopg prepared the statement, so PostgreSQL counted its plans"
    assert generic == 0
