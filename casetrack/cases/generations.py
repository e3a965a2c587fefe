"""A write generation per town, kept by the database itself: the keys of cached figures.

``town_data_generations`` holds one row per town: ``generation`` (a counter) and ``token``
(random). Triggers raise the counter and draw a new token whenever a row of ``cases`` or of
``case_events`` of the town is inserted, updated or deleted (both towns when a case moves),
in the writing transaction. So every writer is caught, whatever it goes through: ORM steps,
Core bulk updates (``cases.due_updates``), imports, the CLI, raw SQL in a shell. A town's
row is made by a trigger on ``towns`` (and for existing towns by the migration).

* SQLite: row triggers (one small UPDATE per case row written).
* PostgreSQL: statement triggers with transition tables: one UPDATE per statement, of each
  town the statement touched (an UPDATE of 10,000 cases bumps each of their towns once).
  The bump locks the town's row until the writing transaction ends, so two transactions
  writing the same town's cases take turns at that row; that is what makes the counter
  follow the commit order.

Why this is a safe cache key (``stats/batch.py`` relies on it):

* The reader takes the generations BEFORE it computes the figures, in the same request. A
  write that commits in between makes the figures newer than the generation they are stored
  under: harmless, the next reader sees the newer generation and misses. The reverse (old
  figures under a new generation) cannot happen: a generation is raised in the same
  transaction as the write, so whoever sees the new generation sees the write.
* Never ``max(updated_at)`` or a sequence: commits land out of order (a transaction that
  took a lower value may commit after one that took a higher one), and a deleted or
  back-dated case moves neither. A deleted case's town is bumped by the trigger like any
  other write.
* The token is drawn anew at every bump (and when the row is made), so a database rebuilt
  or restored from a backup never repeats a (generation, token) pair that a cache outliving
  it (Redis) still holds.
* A town without a row (a database whose rows were removed by hand) has no key: its figures
  are computed, never cached.

The DDL lives here once: ``create_all`` runs it (tests), and the Alembic revision that adds
the table runs the same statements. Bulk loaders drop the ``cases``/``case_events`` triggers
around a load (``TRIGGER_NAMES``) and call ``bump_all`` after it.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import DDL, BigInteger, Connection, ForeignKey, String, event, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from casetrack.core.db import Base

TABLE = "town_data_generations"


class TownDataGeneration(Base):
    """The write generation of one town's case data (see the module's docstring)."""

    __tablename__ = TABLE

    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id", ondelete="CASCADE"),
                                         primary_key=True)
    #: raised by every write to the town's cases or their timelines
    generation: Mapped[int] = mapped_column(BigInteger, default=1)
    #: 32 random hex digits, drawn anew at every bump
    token: Mapped[str] = mapped_column(String(32))


_SQLITE_TOKEN = "lower(hex(randomblob(16)))"
_SQLITE_BUMP = (f"UPDATE {TABLE} SET generation = generation + 1, token = {_SQLITE_TOKEN} "
                "WHERE town_id")
_PG_TOKEN = "replace(gen_random_uuid()::text, '-', '')"

#: the triggers on ``cases`` and ``case_events`` (dropped around a bulk load), per dialect
TRIGGER_NAMES = {
    "sqlite": [("cases", f"{TABLE}_cases_{s}") for s in ("ai", "au", "ad")]
    + [("case_events", f"{TABLE}_events_{s}") for s in ("ai", "au", "ad")],
    "postgresql": [("cases", f"{TABLE}_cases_{s}") for s in ("ai", "au", "ad")]
    + [("case_events", f"{TABLE}_events_{s}") for s in ("ai", "au", "ad")],
}
#: the trigger that gives a new town its row (kept during bulk loads)
TOWN_TRIGGER = f"{TABLE}_towns_ai"


def _fill(token: str) -> str:
    """Give every town without a row one."""
    return (f"INSERT INTO {TABLE} (town_id, generation, token) SELECT id, 1, {token} "
            f"FROM towns WHERE id NOT IN (SELECT town_id FROM {TABLE})")


SQLITE_DDL = (
    f"CREATE TRIGGER IF NOT EXISTS {TOWN_TRIGGER} AFTER INSERT ON towns BEGIN "
    f"INSERT OR IGNORE INTO {TABLE} (town_id, generation, token) "
    f"VALUES (new.id, 1, {_SQLITE_TOKEN}); END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_cases_ai AFTER INSERT ON cases BEGIN "
    f"{_SQLITE_BUMP} = new.town_id; END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_cases_au AFTER UPDATE ON cases BEGIN "
    f"{_SQLITE_BUMP} IN (old.town_id, new.town_id); END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_cases_ad AFTER DELETE ON cases BEGIN "
    f"{_SQLITE_BUMP} = old.town_id; END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_events_ai AFTER INSERT ON case_events BEGIN "
    f"{_SQLITE_BUMP} = (SELECT town_id FROM cases WHERE id = new.case_id); END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_events_au AFTER UPDATE ON case_events BEGIN "
    f"{_SQLITE_BUMP} IN (SELECT town_id FROM cases WHERE id IN (old.case_id, new.case_id)); "
    "END",
    f"CREATE TRIGGER IF NOT EXISTS {TABLE}_events_ad AFTER DELETE ON case_events BEGIN "
    f"{_SQLITE_BUMP} = (SELECT town_id FROM cases WHERE id = old.case_id); END",
    _fill(_SQLITE_TOKEN),
)
SQLITE_DROP = tuple(f"DROP TRIGGER IF EXISTS {name}"
                    for _t, name in (*TRIGGER_NAMES["sqlite"], ("towns", TOWN_TRIGGER)))


def _pg_bump(towns: str) -> str:
    return (f"UPDATE {TABLE} SET generation = generation + 1, token = {_PG_TOKEN} "
            f"WHERE town_id IN ({towns});")


#: the towns a statement touched, per table and operation, from its transition tables
_PG_TOWNS = {
    ("cases", "INSERT"): "SELECT town_id FROM new_rows",
    ("cases", "UPDATE"): "SELECT town_id FROM old_rows UNION SELECT town_id FROM new_rows",
    ("cases", "DELETE"): "SELECT town_id FROM old_rows",
    ("case_events", "INSERT"): "SELECT c.town_id FROM cases c JOIN new_rows e ON c.id = e.case_id",
    ("case_events", "UPDATE"): "SELECT c.town_id FROM cases c WHERE c.id IN "
                               "(SELECT case_id FROM old_rows UNION SELECT case_id FROM new_rows)",
    ("case_events", "DELETE"): "SELECT c.town_id FROM cases c JOIN old_rows e ON c.id = e.case_id",
}


def _pg_function(table: str) -> str:
    branches = " ".join(
        f"{'IF' if i == 0 else 'ELSIF'} TG_OP = '{op}' THEN {_pg_bump(_PG_TOWNS[table, op])}"
        for i, op in enumerate(("INSERT", "UPDATE", "DELETE")))
    return (f"CREATE OR REPLACE FUNCTION {TABLE}_bump_{table}() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {branches} END IF; RETURN NULL; END $$")


def _pg_trigger(table: str, op: str, suffix: str) -> tuple[str, str]:
    name = f"{TABLE}_{'cases' if table == 'cases' else 'events'}_{suffix}"
    refs = {"INSERT": "NEW TABLE AS new_rows", "DELETE": "OLD TABLE AS old_rows",
            "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows"}[op]
    return (f"DROP TRIGGER IF EXISTS {name} ON {table}",
            f"CREATE TRIGGER {name} AFTER {op} ON {table} REFERENCING {refs} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {TABLE}_bump_{table}()")


PG_DDL = (
    f"CREATE OR REPLACE FUNCTION {TABLE}_new_town() RETURNS trigger LANGUAGE plpgsql AS $$ "
    f"BEGIN INSERT INTO {TABLE} (town_id, generation, token) VALUES (NEW.id, 1, {_PG_TOKEN}) "
    "ON CONFLICT (town_id) DO NOTHING; RETURN NULL; END $$",
    f"DROP TRIGGER IF EXISTS {TOWN_TRIGGER} ON towns",
    f"CREATE TRIGGER {TOWN_TRIGGER} AFTER INSERT ON towns FOR EACH ROW "
    f"EXECUTE FUNCTION {TABLE}_new_town()",
    _pg_function("cases"),
    _pg_function("case_events"),
    *(sql for table in ("cases", "case_events")
      for op, suffix in (("INSERT", "ai"), ("UPDATE", "au"), ("DELETE", "ad"))
      for sql in _pg_trigger(table, op, suffix)),
    _fill(_PG_TOKEN),
)
PG_DROP = (
    *(f"DROP TRIGGER IF EXISTS {name} ON {table}"
      for table, name in (*TRIGGER_NAMES["postgresql"], ("towns", TOWN_TRIGGER))),
    f"DROP FUNCTION IF EXISTS {TABLE}_bump_cases()",
    f"DROP FUNCTION IF EXISTS {TABLE}_bump_case_events()",
    f"DROP FUNCTION IF EXISTS {TABLE}_new_town()",
)


def ddl(dialect: str) -> tuple[str, ...]:
    """The statements that make the triggers (and fill missing rows) on ``dialect``."""
    return PG_DDL if dialect == "postgresql" else SQLITE_DDL


# every table exists by then (the triggers name cases, case_events and towns)
for _sql in SQLITE_DDL:
    event.listen(Base.metadata, "after_create", DDL(_sql).execute_if(dialect="sqlite"))
for _sql in PG_DDL:
    event.listen(Base.metadata, "after_create", DDL(_sql).execute_if(dialect="postgresql"))


# --------------------------------------------------------------------------- bulk loads


def drop_triggers(conn: Connection) -> list[str]:
    """Drop the ``cases``/``case_events`` triggers (a bulk load bumps nothing: call
    ``restore_triggers`` after it); returns what ``restore_triggers`` needs."""
    dialect = conn.dialect.name
    for table, name in TRIGGER_NAMES.get(dialect, []):
        conn.execute(text(f"DROP TRIGGER IF EXISTS {name}"
                          + (f" ON {table}" if dialect == "postgresql" else "")))
    return list(ddl(dialect))


def restore_triggers(conn: Connection, statements: list[str]) -> None:
    """Put the triggers back and bump every town (its data changed under them)."""
    for sql in statements:
        conn.execute(text(sql))
    bump_all(conn)


def bump_all(conn: Connection) -> None:
    """Raise every town's generation with a new token."""
    token = _PG_TOKEN if conn.dialect.name == "postgresql" else _SQLITE_TOKEN
    conn.execute(text(f"UPDATE {TABLE} SET generation = generation + 1, token = {token}"))


# --------------------------------------------------------------------------- reading

Generation = tuple[int, str]


def read(session: Session, town_ids: Iterable[int] | None) -> dict[int, Generation]:
    """``{town id: (generation, token)}`` of these towns (None: every town), in one query.
    A town without a row is absent: its figures are not to be cached."""
    stmt = select(TownDataGeneration.town_id, TownDataGeneration.generation,
                  TownDataGeneration.token)
    if town_ids is not None:
        ids = sorted(set(town_ids))
        if not ids:
            return {}
        stmt = stmt.where(TownDataGeneration.town_id.in_(ids))
    return {town: (int(gen), token) for town, gen, token in session.execute(stmt)}
