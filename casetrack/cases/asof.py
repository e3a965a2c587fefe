"""A case as it stood at an instant, rebuilt from its timeline.

Every step records the fields it changed with their values before and after, so a field's
value at an instant is the value *before* the first change after that instant, or the current
value when nothing changed it since; the status likewise is the ``from_status`` of the first
status-changing step after the instant. This is the rule the figures apply in SQL
(``stats.queries``); exports "as of D" (the ledger) apply it here to each listed case, so a
ledger exported from a figure lists every case as the figure counted it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, select
from sqlalchemy.orm import Session

from casetrack.auth.models import User
from casetrack.cases.models import Case
from casetrack.cases.rules import is_open_status
from casetrack.org.models import Unit

_DATE_FIELDS = frozenset(c.key for c in Case.__table__.columns if isinstance(c.type, Date))
_FIELDS = frozenset(c.key for c in Case.__table__.columns)


def values_at(case: Case, end: dt.datetime) -> dict[str, Any] | None:
    """The fields of ``case`` that differ at ``end`` from now, with ``status``; None when the
    case was not registered yet at ``end``."""
    events = sorted(case.events, key=lambda e: (e.at, e.id))
    if events and events[0].at > end:
        return None
    values: dict[str, Any] = {}
    status_known = False
    for ev in events:
        if ev.at <= end:
            continue
        if not status_known and ev.from_status is not None and ev.from_status != ev.to_status:
            values["status"] = ev.from_status
            status_known = True
        for name, pair in (ev.changes or {}).items():
            if name in values or name not in _FIELDS or name == "status":
                continue
            before = (list(pair) + [None])[0]
            if before is not None and name in _DATE_FIELDS:
                before = dt.date.fromisoformat(str(before)[:10])
            values[name] = before
    return values


class CaseAsOf:
    """``case`` with the values it had at an instant; anything not rebuilt is the case's own
    (title, parties, village...). Reads like a ``Case`` for the exports."""

    def __init__(self, case: Case, values: dict[str, Any], units: dict[int, Unit],
                 users: dict[int, User]):
        self._case = case
        self._units = units
        self._users = users
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._case, name)

    @property
    def unit(self) -> Unit | None:
        return self._units.get(self.unit_id) if self.unit_id is not None else None

    @property
    def handler(self) -> User | None:
        return self._users.get(self.handler_id) if self.handler_id is not None else None

    @property
    def is_open(self) -> bool:
        return is_open_status(self.status)


def cases_as_of(session: Session, cases: list[Case], end: dt.datetime) -> list[CaseAsOf]:
    """Each of ``cases`` as it stood at ``end`` (cases registered later are left out)."""
    rebuilt = []
    for case in cases:
        values = values_at(case, end)
        if values is not None:
            rebuilt.append((case, values))
    unit_ids = {v.get("unit_id", c.unit_id) for c, v in rebuilt} - {None}
    user_ids = {v.get("handler_id", c.handler_id) for c, v in rebuilt} - {None}
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    return [CaseAsOf(c, v, units, users) for c, v in rebuilt]
