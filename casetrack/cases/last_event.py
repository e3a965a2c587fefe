"""``cases.last_event_at``: the instant of a case's latest event, kept by the database.

The figures rebuild each case's values on a cut-off from its events after the cut-off
(``stats.queries._later_changes``). A case whose latest event lies before the cut-off's end
has none: its values then are its current ones, and the figures need not look for its
events at all. For a past year most cases of the cohort are like that (a county year at a
million cases: about one case in eight has an event after the year's end), so the figures
probe the events of only the cases with ``last_event_at`` at or after the cut-off's end (or
NULL: see below).

**Which events.** Every event, not only those that change the status or a field the figures
rebuild (``stats.queries.ASOF_FIELDS``): the value stays right whatever field a later
revision adds to the figures, needs no knowledge of the events' JSON in the triggers, and
an event that changes nothing the figures read (an attachment, a progress note) only costs
the probe that finds nothing to change. In the bench county every event after a past year
changes the status anyway.

**Kept by the database, not the app.** Triggers on ``case_events`` (insert, update of
``at`` or ``case_id``, delete) keep the column right for every writer: the services through
the ORM, imports with their own past instants, Core statements and raw SQL alike. An insert
raises the value to the event's instant when later; a delete or an update of the latest
event recomputes the maximum through ``ix_case_events_case_at`` (one index probe).

* SQLite: three triggers ``cases_last_event_ai`` / ``_au`` / ``_ad``.
* PostgreSQL: the row trigger ``cases_last_event`` calling ``cases_last_event_keep()``.

**The direction of safety.** A value later than the true latest event only costs a probe
that finds nothing; a value earlier than an event after the cut-off would drop that event
from the figures. NULL (a case without events, or one written while the triggers were off)
is treated as "probe it". So events may be deleted with the triggers off (``TRUNCATE``), but
never inserted: a bulk loader that turns the triggers off for speed sets the column itself
(``scripts/bench/county.py``), or runs ``BACKFILL`` after the load.

The DDL lives here once: ``create_all`` runs it (tests), and the Alembic revision that adds
the column runs the same statements and ``BACKFILL``. Triggers and functions are not
compared by Alembic; the column is in the model (``Case.last_event_at``).
"""

from __future__ import annotations

from sqlalchemy import DDL, event

from casetrack.cases.models import CaseEvent

#: names of the database objects (prefixed ``cases_last_event``: one family, easy to find)
SQLITE_TRIGGERS = ("cases_last_event_ai", "cases_last_event_au", "cases_last_event_ad")
PG_TRIGGER = "cases_last_event"
PG_FUNCTION = "cases_last_event_keep"

#: a removed or moved event that was the latest: the next latest (NULL when none is left)
_SQLITE_RECOMPUTE = (
    "UPDATE cases SET last_event_at = (SELECT max(e.at) FROM case_events e "
    "WHERE e.case_id = old.case_id) WHERE id = old.case_id AND last_event_at <= old.at;")
_SQLITE_RAISE = (
    "UPDATE cases SET last_event_at = new.at WHERE id = new.case_id "
    "AND (last_event_at IS NULL OR last_event_at < new.at);")

SQLITE_DDL = (
    f"CREATE TRIGGER IF NOT EXISTS {SQLITE_TRIGGERS[0]} AFTER INSERT ON case_events "
    f"BEGIN {_SQLITE_RAISE} END",
    f"CREATE TRIGGER IF NOT EXISTS {SQLITE_TRIGGERS[1]} AFTER UPDATE OF at, case_id "
    f"ON case_events BEGIN {_SQLITE_RECOMPUTE} {_SQLITE_RAISE} END",
    f"CREATE TRIGGER IF NOT EXISTS {SQLITE_TRIGGERS[2]} AFTER DELETE ON case_events "
    f"BEGIN {_SQLITE_RECOMPUTE} END",
)
SQLITE_DROP = tuple(f"DROP TRIGGER IF EXISTS {name}" for name in SQLITE_TRIGGERS)

PG_DDL = (
    f"""CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'INSERT' THEN
        -- the removed or moved event was the latest: the next latest, or NULL
        UPDATE cases SET last_event_at = (SELECT max(e.at) FROM case_events e
                                          WHERE e.case_id = OLD.case_id)
         WHERE id = OLD.case_id AND last_event_at <= OLD.at;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        UPDATE cases SET last_event_at = NEW.at
         WHERE id = NEW.case_id AND (last_event_at IS NULL OR last_event_at < NEW.at);
    END IF;
    RETURN NULL;
END
$$""",
    f"DROP TRIGGER IF EXISTS {PG_TRIGGER} ON case_events",
    f"CREATE TRIGGER {PG_TRIGGER} AFTER INSERT OR UPDATE OF at, case_id OR DELETE "
    f"ON case_events FOR EACH ROW EXECUTE FUNCTION {PG_FUNCTION}()",
)
PG_DROP = (f"DROP TRIGGER IF EXISTS {PG_TRIGGER} ON case_events",
           f"DROP FUNCTION IF EXISTS {PG_FUNCTION}()")
#: PostgreSQL: turn the trigger off and on around a bulk load that sets the column itself
PG_DISABLE = f"ALTER TABLE case_events DISABLE TRIGGER {PG_TRIGGER}"
PG_ENABLE = f"ALTER TABLE case_events ENABLE TRIGGER {PG_TRIGGER}"

#: the column of every case from the events already there, set-based.
#: SQLite: one UPDATE, a probe of ``ix_case_events_case_at`` per case (rows updated in place).
#: PostgreSQL: the column's values written by a rewrite of ``cases`` (``ALTER COLUMN ... TYPE
#: ... USING``, the instant read per case through a temporary function): an UPDATE of every
#: row would leave a dead copy of each (the table and its indexes twice their size until a
#: VACUUM FULL) and insert every row into every index again, the trigram index included;
#: the rewrite builds the indexes afresh. It holds an exclusive lock on ``cases`` meanwhile.
BACKFILL = {
    "sqlite": (
        "UPDATE cases SET last_event_at = (SELECT max(e.at) FROM case_events e "
        "WHERE e.case_id = cases.id)",),
    "postgresql": (
        "CREATE FUNCTION pg_temp.cases_last_event_of(integer) RETURNS timestamptz "
        "LANGUAGE sql STABLE AS 'SELECT max(at) FROM case_events WHERE case_id = $1'",
        "ALTER TABLE cases ALTER COLUMN last_event_at TYPE timestamptz "
        "USING pg_temp.cases_last_event_of(id)",
        "DROP FUNCTION pg_temp.cases_last_event_of(integer)",
    ),
}


def create_statements(dialect: str) -> tuple[str, ...]:
    """The statements that create the triggers on ``dialect`` ("sqlite", "postgresql")."""
    return {"sqlite": SQLITE_DDL, "postgresql": PG_DDL}.get(dialect, ())


def drop_statements(dialect: str) -> tuple[str, ...]:
    """The statements that drop the triggers (and the PostgreSQL function)."""
    return {"sqlite": SQLITE_DROP, "postgresql": PG_DROP}.get(dialect, ())


for _sql in SQLITE_DDL:
    event.listen(CaseEvent.__table__, "after_create", DDL(_sql).execute_if(dialect="sqlite"))
for _sql in PG_DDL:
    event.listen(CaseEvent.__table__, "after_create",
                 DDL(_sql).execute_if(dialect="postgresql"))
