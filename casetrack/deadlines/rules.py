"""Pure deadline rules: civil-code day counting, working days, warning colours.

Nothing here touches the database or the clock: every function takes plain values, so the
rules are tested without the application.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from collections.abc import Callable
from dataclasses import dataclass

#: ``is_workday(day) -> bool``; raises ``CalendarUnknown`` for a year nobody has entered.
WorkdayFn = Callable[[dt.date], bool]


class DayUnit(enum.StrEnum):
    DAYS = "days"  # 日: calendar days, end moved off rest days
    WORKDAYS = "workdays"  # 工作日
    MONTHS = "months"  # 月: to the corresponding day (Civil Code Art. 202), moved off rest days


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
    #: the clock's short name (a msgid) where a due date is shown or sent: the warning
    #: badges, the case page, the work queues and the reminder digests (办理期限, 复查期限)
    clock: str = ""


#: The default rules, in table order. Each kind of case brings its own (its folder in
#: ``cases.kinds`` declares them and registers them here: this package sits below ``cases``
#: and knows no kind). A town may override amounts through the ``DEADLINE_RULES`` setting.
DEFAULT_RULES: dict[str, DeadlineRule] = {}


def register_rule(rule: DeadlineRule) -> None:
    """Add a default rule to the table (a kind of case registering its deadline policy)."""
    if rule.code in DEFAULT_RULES and DEFAULT_RULES[rule.code] != rule:
        raise ValueError(f"deadline rule {rule.code} is registered already")
    DEFAULT_RULES[rule.code] = rule


def unregister_rule(code: str) -> None:
    DEFAULT_RULES.pop(code, None)


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


def month_end(start: dt.date, months: int) -> dt.date:
    """Civil Code Art. 202: a period of ``months`` anchored on ``start`` ends on the day of the
    last month that corresponds to ``start``, or on that month's last day when it has none
    ("one month" from 31 January ends 28 or 29 February). Rest days are not moved here."""
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    return dt.date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def add_months(start: dt.date, months: int, is_workday: WorkdayFn, extra_days: int = 0) -> dt.date:
    """A period in months (plus ``extra_days`` of extension), its last day moved off rest
    days and public holidays (Arts. 202 and 203)."""
    due = month_end(start, months) + dt.timedelta(days=extra_days)
    while not is_workday(due):
        due += dt.timedelta(days=1)
    return due


def compute_due(start: dt.date, amount: int, unit: DayUnit | str, is_workday: WorkdayFn,
                extra_days: int = 0) -> dt.date:
    """The due date of a clock of ``amount`` ``unit`` anchored on ``start``, with
    ``extra_days`` of approved extension (calendar days, counted on from the period)."""
    unit = DayUnit(unit)
    if unit is DayUnit.WORKDAYS:
        return add_workdays(start, amount + extra_days, is_workday)
    if unit is DayUnit.MONTHS:
        return add_months(start, amount, is_workday, extra_days)
    return add_days(start, amount + extra_days, is_workday)


def amount_text(amount: int, unit: DayUnit | str) -> str:
    """``30天``, ``5个工作日``, ``1个月``: how a period reads in a sentence (Chinese)."""
    unit = DayUnit(unit)
    if unit is DayUnit.WORKDAYS:
        return f"{amount}个工作日"
    if unit is DayUnit.MONTHS:
        return f"{amount}个月"
    return f"{amount}天"


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
        values = {k: v for k, v in overrides[code].items() if k in OVERRIDABLE}
        if "unit" in values:
            values["unit"] = DayUnit(values["unit"])
        rule = replace(rule, **values)
    return rule


#: the fields of a rule a town (or the ``DEADLINE_RULES`` setting) may override
OVERRIDABLE = ("amount", "unit", "extendable", "max_extension_days")
