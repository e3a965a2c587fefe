"""Case numbers per town, kind and year: gap-free in normal use, never duplicated."""

from __future__ import annotations

from collections import deque

from sqlalchemy import event, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction

from casetrack.cases.models import CaseNumberCounter
from casetrack.org.prefixes import town_prefix

#: where a session keeps the numbers reserved by ``reserve_numbers`` and not yet used
RESERVED_KEY = "casetrack.reserved_case_numbers"
#: where a session keeps the prefixes it has read (an import numbers thousands of cases)
PREFIX_KEY = "casetrack.case_number_prefixes"

def default_prefix(kind: str) -> str:
    """The prefix of a kind's numbers in a town that has set none (``org.CaseNumberPrefix``):
    the kind's own default (``Kind.default_prefix``, in its folder of ``cases/kinds``)."""
    from casetrack.cases import kinds  # the kinds build on the services, which number cases

    return kinds.kind_of(kind).default_prefix


def __getattr__(name: str) -> dict[str, str]:
    """``DEFAULT_PREFIXES``: kind → its default prefix, for every registered kind."""
    if name == "DEFAULT_PREFIXES":
        from casetrack.cases import kinds

        return {k.code: k.default_prefix for k in kinds.all_kinds()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def number_prefix(session: Session, town_id: int, kind: str) -> str:
    """The issuer code before the town's numbers of ``kind``: the town's own, else the
    kind's default. Read once per transaction."""
    cache = session.info.setdefault(PREFIX_KEY, {})
    if (town_id, kind) not in cache:
        cache[town_id, kind] = town_prefix(session, town_id, kind) or default_prefix(kind)
    return cache[town_id, kind]


def next_number(session: Session, town_id: int, kind: str, year: int) -> int:
    """Reserve the next sequence number inside the caller's transaction.

    The counter row is created if missing (``ON CONFLICT DO NOTHING``, so two first
    registrations of a year cannot both create it) and then incremented with
    ``UPDATE ... RETURNING``, which locks the row until the caller commits: a concurrent
    registration waits and then reads the incremented value. A rolled-back registration
    releases its number with the rest of the transaction, so normal use leaves no gaps.
    Numbers reserved in advance in this transaction (``reserve_numbers``) are used first.
    """
    reserved = session.info.get(RESERVED_KEY, {}).get((town_id, kind, year))
    if reserved:
        return reserved.popleft()
    return _advance(session, town_id, kind, year, 1)


def reserve_numbers(session: Session, town_id: int, kind: str, year: int, count: int) -> None:
    """Reserve ``count`` numbers at once (an import): one ``UPDATE`` adding ``count``, which
    holds the counter's row lock until the caller commits, exactly as ``count`` calls of
    ``next_number`` would; the following ``next_number`` calls of this transaction hand them
    out in order. The caller must use them all before it commits (else they are gaps); they
    are forgotten when the transaction ends, and a rollback returns them with the rest."""
    if count <= 0:
        return
    last = _advance(session, town_id, kind, year, count)
    numbers = session.info.setdefault(RESERVED_KEY, {}).setdefault((town_id, kind, year),
                                                                    deque())
    numbers.extend(range(last - count + 1, last + 1))


def _advance(session: Session, town_id: int, kind: str, year: int, count: int) -> int:
    """Add ``count`` to the counter (created if missing) and return its new last value."""
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
        .values(last_value=CaseNumberCounter.last_value + count)
        .returning(CaseNumberCounter.last_value)
    ).scalar_one()


@event.listens_for(Session, "after_transaction_end")
def _forget_reserved(session: Session, transaction: SessionTransaction) -> None:
    """Reserved numbers live no longer than the transaction that reserved them (a savepoint
    ending drops them too: at worst a gap, never a number handed out twice), and prefixes
    read no longer than theirs. The inner transaction of each flush does not count."""
    if transaction.parent is None or transaction.nested:
        session.info.pop(RESERVED_KEY, None)
        session.info.pop(PREFIX_KEY, None)
