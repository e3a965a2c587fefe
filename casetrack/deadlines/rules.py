"""Pure deadline rules: civil-code day counting, working days, warning colours.

Nothing here touches the database or the clock: every function takes plain values, so the
rules are tested without the application.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass

from casetrack.core.i18n import N_

#: ``is_workday(day) -> bool``; raises ``CalendarUnknown`` for a year nobody has entered.
WorkdayFn = Callable[[dt.date], bool]


class DayUnit(enum.StrEnum):
    DAYS = "days"  # 日: calendar days, end moved off rest days
    WORKDAYS = "workdays"  # 工作日


class WarningLevel(enum.StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    NONE = "none"  # closed or no deadline


@dataclass(frozen=True)
class DeadlineRule:
    """One statutory clock: which anchor event starts it and how long it runs."""

    code: str
    case_kind: str
    anchor: str
    amount: int
    unit: DayUnit
    extendable: bool = False
    max_extension_days: int = 0
    label: str = ""


#: Defaults from the 2022 信访工作条例 and the mediation practice (DOMAIN.md). A town may
#: override amounts through the ``DEADLINE_RULES`` setting.
DEFAULT_RULES: dict[str, DeadlineRule] = {
    r.code: r
    for r in [
        DeadlineRule("petition.notify", "petition", "received", 15, DayUnit.DAYS,
                     label=N_("书面告知受理情况（第23条）")),
        DeadlineRule("petition.object", "petition", "received", 5, DayUnit.WORKDAYS,
                     label=N_("交办事项退回异议（第23条）")),
        DeadlineRule("petition.handle", "petition", "accepted", 60, DayUnit.DAYS,
                     extendable=True, max_extension_days=30, label=N_("办理办结（第34条）")),
        DeadlineRule("petition.review_request", "petition", "replied", 30, DayUnit.DAYS,
                     label=N_("申请复查（第35条）")),
        DeadlineRule("petition.review_answer", "petition", "review_requested", 30, DayUnit.DAYS,
                     label=N_("复查答复（第35条）")),
        DeadlineRule("petition.recheck_request", "petition", "review_replied", 30, DayUnit.DAYS,
                     label=N_("申请复核（第36条）")),
        DeadlineRule("petition.recheck_answer", "petition", "recheck_requested", 30,
                     DayUnit.DAYS, label=N_("复核答复（第36条，听证时间不计入）")),
        DeadlineRule("dispute.mediate", "dispute", "received", 30, DayUnit.DAYS,
                     extendable=True, max_extension_days=30, label=N_("调解期限（一个月）")),
        DeadlineRule("dispute.judicial_confirmation", "dispute", "agreement", 30, DayUnit.DAYS,
                     label=N_("申请司法确认（人民调解法第33条）")),
        DeadlineRule("dispute.mediate_labour", "dispute", "received", 15, DayUnit.DAYS,
                     extendable=False, label=N_("劳动争议调解期限（15日）")),
    ]
}


def add_days(start: dt.date, amount: int, is_workday: WorkdayFn) -> dt.date:
    """Civil Code Arts. 201 and 203: count from the day after ``start``; a last day that is a
    rest day or public holiday moves to the next working day."""
    due = start + dt.timedelta(days=amount)
    while not is_workday(due):
        due += dt.timedelta(days=1)
    return due


def add_workdays(start: dt.date, amount: int, is_workday: WorkdayFn) -> dt.date:
    """The ``amount``-th working day after ``start`` (the start day itself is not counted)."""
    day = start
    left = amount
    while left > 0:
        day += dt.timedelta(days=1)
        if is_workday(day):
            left -= 1
    return day


def compute_due(start: dt.date, amount: int, unit: DayUnit | str, is_workday: WorkdayFn) -> dt.date:
    """The due date of a clock of ``amount`` ``unit`` anchored on ``start``."""
    if DayUnit(unit) is DayUnit.WORKDAYS:
        return add_workdays(start, amount, is_workday)
    return add_days(start, amount, is_workday)


def workdays_between(start: dt.date, end: dt.date, is_workday: WorkdayFn) -> int:
    """How many working days lie after ``start`` up to and including ``end``."""
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_workday(day):
            count += 1
    return count


def earlier_due(statutory: dt.date, external: dt.date | None) -> tuple[dt.date, str]:
    """An assigned case is due at the earlier of the statutory and the assigning authority's
    date. Returns the date and which one won ("statutory" or "external")."""
    if external is not None and external < statutory:
        return external, "external"
    return statutory, "statutory"


def warning_level(due_on: dt.date | None, today: dt.date, is_open: bool,
                  yellow_days: int = 3) -> WarningLevel:
    """Green on time, yellow due within ``yellow_days`` (today included), red overdue."""
    if not is_open or due_on is None:
        return WarningLevel.NONE
    left = (due_on - today).days
    if left < 0:
        return WarningLevel.RED
    if left <= yellow_days:
        return WarningLevel.YELLOW
    return WarningLevel.GREEN


def days_left(due_on: dt.date | None, today: dt.date) -> int | None:
    """Days until the due date (negative: days overdue)."""
    if due_on is None:
        return None
    return (due_on - today).days


def resolve_rule(code: str, overrides: dict[str, dict] | None = None) -> DeadlineRule:
    """The rule ``code`` with a town's configured overrides (e.g. ``{"amount": 20}``) applied."""
    from dataclasses import replace

    rule = DEFAULT_RULES[code]
    if overrides and code in overrides:
        rule = replace(rule, **overrides[code])
    return rule
