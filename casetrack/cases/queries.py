"""Case list queries: the filters of the case list, shared by the ledger export and the API.

``CaseFilters.from_args(request.args)`` parses what a user typed (bad values are dropped,
never an error); ``filter_cases`` turns it into WHERE clauses on a ``select(Case)``. The
warning colour is a derived fact, so it is filtered in SQL as a range of due dates relative
to ``today`` — the same boundaries as ``deadlines.rules.warning_level``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields

from sqlalchemy import Select, and_, select

from casetrack.auth.models import User
from casetrack.auth.permissions import require_filters_in_scope
from casetrack.cases import rules
from casetrack.cases.models import Case, CaseKind
from casetrack.cases.scoping import scope_cases
from casetrack.cases.search_index import term_condition
from casetrack.core.errors import NotFound
from casetrack.core.normalize import search_terms
from casetrack.core.params import parse_day

#: the pseudo-status "open" selects every status that is not final
OPEN = "open"
WARNING_COLOURS = ("green", "yellow", "red")


@dataclass
class CaseFilters:
    """What the case list is narrowed to. Every field is optional; ``None``/"" means "any"."""

    kind: str | None = None
    #: a ``CaseStatus`` value, or "open" for every non-final status
    status: str | None = None
    village_id: int | None = None
    unit_id: int | None = None
    category: str | None = None
    source: str | None = None
    #: "green", "yellow" or "red" (open cases with a due date only)
    warning: str | None = None
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    #: words searched (all must match) in number, title, summary, external reference, party
    #: names and phones; see ``search_conditions``
    q: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CaseFilters:
        """Parse query-string arguments; unknown or malformed values are ignored."""
        kind = args.get("kind") or None
        if kind not in (None, *CaseKind):
            kind = None
        status = args.get("status") or None
        if status not in (None, OPEN, *rules.STATUS_LABELS):
            status = None
        category = rules.known_category(args.get("category"))
        source = args.get("source") or None
        if source not in (None, *rules.SOURCE_LABELS):
            source = None
        warning = args.get("warning") or None
        if warning not in (None, *WARNING_COLOURS):
            warning = None
        return cls(
            kind=kind,
            status=status,
            village_id=_int(args.get("village_id")),
            unit_id=_int(args.get("unit_id")),
            category=category,
            source=source,
            warning=warning,
            received_from=_date(args.get("received_from")),
            received_to=_date(args.get("received_to")),
            q=(args.get("q") or "").strip()[:100],
        )

    def to_args(self) -> dict[str, str]:
        """The non-empty filters as query-string arguments (for pagination and export links)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or value == "":
                continue
            out[f.name] = value.isoformat() if isinstance(value, dt.date) else str(value)
        return out

    @property
    def is_empty(self) -> bool:
        """True when no filter is set."""
        return not self.to_args()


def filters_in_scope(user: User, filters: CaseFilters) -> None:
    """Abort with 404 when the list's village or unit filter names one outside the user's
    scope (the list of another town's village must not even show its name)."""
    from flask import abort

    from casetrack.extensions import db

    try:
        require_filters_in_scope(db.session, user, village_id=filters.village_id,
                                 unit_id=filters.unit_id)
    except NotFound:
        abort(404)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _date(value: str | None) -> dt.date | None:
    return parse_day(value)


def search_conditions(query: str) -> list:
    """One condition per term of ``query`` (all must hold): the term, folded like the stored
    text (``core.normalize.search_terms``: brackets, widths, spaces, case), is a substring of
    ``Case.search_text`` — number, reference, title, summary, party names and phones.
    北和信[2026]18号, 北和信（２０２６）18号 and 北和信〔2026〕18号 find the same case;
    "调逻村 养殖" finds cases that mention both.

    Terms of three characters or more are looked up in the trigram index
    (``cases/search_index.py``: pg_trgm on PostgreSQL, FTS5 on SQLite); shorter ones are
    matched with LIKE within what the other conditions leave."""
    return [term_condition(term) for term in search_terms(query)]


def warning_condition(colour: str, today: dt.date, yellow_days: int):
    """SQL condition for one warning colour, matching ``deadlines.rules.warning_level``:
    red overdue (due before today), yellow due within ``yellow_days`` (today included),
    green later. Closed cases and cases without a due date have no colour."""
    base = and_(Case.status.in_(list(rules.OPEN_STATUSES)), Case.due_on.is_not(None))
    edge = today + dt.timedelta(days=yellow_days)
    if colour == "red":
        return and_(base, Case.due_on < today)
    if colour == "yellow":
        return and_(base, Case.due_on >= today, Case.due_on <= edge)
    if colour == "green":
        return and_(base, Case.due_on > edge)
    raise ValueError(f"unknown warning colour {colour!r}")


def filter_cases(stmt: Select, filters: CaseFilters, today: dt.date, yellow_days: int) -> Select:
    """Add the WHERE clauses of ``filters`` to a select over ``Case``.

    ``today`` is the town's local date ("now"), ``yellow_days`` the WARNING_YELLOW_DAYS
    setting. Scoping is not done here: pass a statement that went through ``scope_cases``
    (or use ``select_cases``).
    """
    f = filters
    if f.kind:
        stmt = stmt.where(Case.kind == f.kind)
    if f.status == OPEN:
        stmt = stmt.where(Case.status.in_(list(rules.OPEN_STATUSES)))
    elif f.status:
        stmt = stmt.where(Case.status == f.status)
    if f.village_id is not None:
        stmt = stmt.where(Case.village_id == f.village_id)
    if f.unit_id is not None:
        stmt = stmt.where(Case.unit_id == f.unit_id)
    if f.category:
        stmt = stmt.where(Case.category == f.category)
    if f.source:
        stmt = stmt.where(Case.source == f.source)
    if f.warning:
        stmt = stmt.where(warning_condition(f.warning, today, yellow_days))
    if f.received_from:
        stmt = stmt.where(Case.received_on >= f.received_from)
    if f.received_to:
        stmt = stmt.where(Case.received_on <= f.received_to)
    if f.q:
        stmt = stmt.where(*search_conditions(f.q))
    return stmt


def select_cases(user: User, filters: CaseFilters, today: dt.date, yellow_days: int) -> Select:
    """The cases ``user`` may see that match ``filters``, newest received first."""
    stmt = scope_cases(select(Case), user)
    stmt = filter_cases(stmt, filters, today, yellow_days)
    return stmt.order_by(Case.received_on.desc(), Case.id.desc())
