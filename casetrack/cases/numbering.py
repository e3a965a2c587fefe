"""Case numbers per town, kind and year: gap-free in normal use, never duplicated."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from casetrack.cases.models import CaseNumberCounter


def next_number(session: Session, town_id: int, kind: str, year: int) -> int:
    """Reserve the next sequence number inside the caller's transaction.

    The counter row is created if missing (``ON CONFLICT DO NOTHING``, so two first
    registrations of a year cannot both create it) and then incremented with
    ``UPDATE ... RETURNING``, which locks the row until the caller commits: a concurrent
    registration waits and then reads the incremented value. A rolled-back registration
    releases its number with the rest of the transaction, so normal use leaves no gaps.
    """
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(CaseNumberCounter)
        .values(town_id=town_id, kind=kind, year=year, last_value=0)
        .on_conflict_do_nothing()
    )
    return session.execute(
        update(CaseNumberCounter)
        .where(
            CaseNumberCounter.town_id == town_id,
            CaseNumberCounter.kind == kind,
            CaseNumberCounter.year == year,
        )
        .values(last_value=CaseNumberCounter.last_value + 1)
        .returning(CaseNumberCounter.last_value)
    ).scalar_one()
