"""Due dates recomputed when the calendar or a town's deadline rule changes.

The calendar and the rules live below this layer (``deadlines``) and know no case; these
functions wrap their services, so that a change and the due dates it moves are one unit of
work: the holiday calendar (a whole year, one override added or removed) and a town's rule
value. Each recomputed case whose dates changed gets a ``recompute_due`` timeline event with
before and after values. Like the reminder job this is system upkeep, not a list shown to a
user, so it does not go through ``scope_cases``; a town's change never writes into another
town's timelines (the county-wide calendar layer reaches every town's cases).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from casetrack.auth.models import User
from casetrack.cases import kinds
from casetrack.cases.models import Case
from casetrack.cases.rules import OPEN_STATUSES
from casetrack.cases.scoping import scope_cases
from casetrack.cases.services import recompute_due, record_event
from casetrack.deadlines import services as calendar
from casetrack.deadlines.models import HolidayOverride
from casetrack.deadlines.rules import DeadlineRule

#: the dates a recomputation may change, recorded before and after on the timeline
_RECOMPUTED = ("due_on", "due_is_exact", "due_basis", "statutory_due_on", "notify_due_on",
               "follow_up_due_on", "review_due_on", "reexam_due_on")


@dataclass(frozen=True)
class DueChange:
    """A due date (or its exactness) that a calendar or rule change altered."""

    case_id: int
    town_id: int
    number: str
    before: dt.date | None
    after: dt.date | None
    exact_before: bool
    exact_after: bool


@dataclass
class YearEntry:
    """What entering a year did: the calendar's account and the due dates it moved."""

    year: int
    holidays: int
    workdays: int
    replaced: int
    changes: list[DueChange] = field(default_factory=list)


# --------------------------------------------------------------------------- the changes


def enter_year(session: Session, actor: User | None, now: dt.datetime, year: int,
               entries: list[calendar.Entry], source: str = "",
               town_id: int | None = None) -> YearEntry:
    """Enter a whole year's schedule (``deadlines.services.enter_year``) and recompute the
    due dates it affects: that town's cases only, or every town's for the county-wide
    layer."""
    result = calendar.enter_year(session, actor, now, year, entries, source, town_id)
    changes = recompute_due_dates(session, actor, now, year, result.town_id)
    return YearEntry(result.year, result.holidays, result.workdays, result.replaced, changes)


def add_override(session: Session, actor: User | None, now: dt.datetime, day: dt.date,
                 is_workday: bool, name: str = "",
                 town_id: int | None = None) -> tuple[HolidayOverride, list[DueChange]]:
    """Add one holiday or adjusted workday (``deadlines.services.add_override``) and
    recompute the due dates of its year, of the towns its layer applies to."""
    override = calendar.add_override(session, actor, now, day, is_workday, name, town_id)
    return override, recompute_due_dates(session, actor, now, day.year, override.town_id)


def remove_override(session: Session, actor: User | None, now: dt.datetime,
                    override_id: int) -> tuple[HolidayOverride, list[DueChange]]:
    """Remove one override (``deadlines.services.remove_override``) and recompute the due
    dates of its year, of the towns its layer applied to."""
    override = calendar.remove_override(session, actor, now, override_id)
    return override, recompute_due_dates(session, actor, now, override.day.year,
                                         override.town_id)


def change_town_rule(
    session: Session,
    actor: User | None,
    now: dt.datetime,
    town_id: int,
    code: str,
    *,
    amount: int,
    unit: str | None = None,
    max_extension_days: int | None = None,
) -> tuple[DeadlineRule, list[DueChange]]:
    """A town's admin sets the town's own value of a deadline rule
    (``deadlines.services.set_town_rule``); the town's cases whose clock runs on that rule
    get their dates again."""
    rule = calendar.set_town_rule(session, actor, now, town_id, code, amount=amount, unit=unit,
                                  max_extension_days=max_extension_days)
    stmt = select(Case).where(Case.town_id == town_id).order_by(Case.id)
    kept = [k.kept_dates[code] for k in kinds.all_kinds() if code in k.kept_dates]
    if kept:
        stmt = stmt.where(or_(*(condition() for condition in kept)))
    else:
        stmt = stmt.where(Case.due_rule == code,
                          Case.status.in_([str(s) for s in OPEN_STATUSES]))
    changes = _recompute(session, actor, now, list(session.scalars(stmt)),
                         f"期限规则“{code}”调整为 {amount}，重新计算期限")
    return rule, changes


# --------------------------------------------------------------------------- recomputation


def recompute_due_dates(
    session: Session, actor: User | None, now: dt.datetime, year: int,
    town_id: int | None = None,
) -> list[DueChange]:
    """Recompute the dates of every case that a change of ``year``'s calendar can move:
    open cases whose due date falls in ``year`` (or early in the next, which counting across
    New Year can reach), every case whose date is provisional (closed ones included: their
    on-time figures use the final date), and the notify and follow-up dates of that time.
    ``town_id`` None (the county-wide layer) reaches every town's cases."""
    first, last = dt.date(year, 1, 1), dt.date(year + 1, 1, 31)
    stmt = (
        select(Case)
        .where(or_(
            Case.due_is_exact.is_(False),
            (Case.status.in_([str(s) for s in OPEN_STATUSES]) & Case.due_on.between(first, last)),
            Case.notify_due_on.between(first, last),
            Case.follow_up_due_on.between(first, last),
        ))
        .order_by(Case.id)
    )
    if town_id is not None:  # a town's own calendar: its cases only
        stmt = stmt.where(Case.town_id == town_id)
    return _recompute(session, actor, now, list(session.scalars(stmt)),
                      f"{year}年节假日安排变更，重新计算期限")


def _recompute(session: Session, actor: User | None, now: dt.datetime, cases: list[Case],
               note: str) -> list[DueChange]:
    """Recompute the dates of ``cases`` and record each change on its timeline."""
    changes: list[DueChange] = []
    for case in cases:
        before = {k: getattr(case, k) for k in _RECOMPUTED}
        recompute_due(session, case)
        after = {k: getattr(case, k) for k in _RECOMPUTED}
        if before == after:
            continue
        record_event(case, actor, now, "recompute_due", before=before, after=after,
                     from_status=case.status, to_status=case.status, note=note)
        changes.append(DueChange(case.id, case.town_id, case.number, before["due_on"],
                                 case.due_on, before["due_is_exact"], case.due_is_exact))
    session.flush()
    return changes


def count_provisional(session: Session, user: User) -> int:
    """Open cases the user can see whose due date could not be computed exactly (banner)."""
    stmt = select(func.count(Case.id)).where(
        Case.due_is_exact.is_(False), Case.status.in_([str(s) for s in OPEN_STATUSES])
    )
    return session.scalar(scope_cases(stmt, user)) or 0
