"""Pure deadline rules: no application, no database, only the calendar package and plain data."""

import datetime as dt

import pytest

from casetrack.core.errors import CalendarUnknown
from casetrack.deadlines.calendar import WorkCalendar, package_knows
from casetrack.deadlines.rules import (
    DEFAULT_RULES,
    DayUnit,
    WarningLevel,
    add_days,
    add_workdays,
    compute_due,
    days_left,
    earlier_due,
    resolve_rule,
    warning_level,
    workdays_between,
)

D = dt.date


@pytest.fixture
def cal() -> WorkCalendar:
    """The package's calendar with no admin overrides."""
    return WorkCalendar({}, set())


def test_civil_code_day_of_anchor_not_counted(cal):
    # 2025-03-03 (Mon) + 15 days = 2025-03-18 (Tue), a working day: no move
    assert add_days(D(2025, 3, 3), 15, cal) == D(2025, 3, 18)
    assert add_days(D(2025, 3, 3), 1, cal) == D(2025, 3, 4)


def test_last_day_on_weekend_moves_to_monday(cal):
    # 2025-03-03 + 12 days = Saturday 2025-03-15 → Monday 2025-03-17
    assert add_days(D(2025, 3, 3), 12, cal) == D(2025, 3, 17)


def test_petition_handle_example_moves_past_national_day(cal):
    rule = DEFAULT_RULES["petition.handle"]
    # 60 days from 2025-08-02 is 2025-10-01, inside the 10-01..10-08 holiday → 2025-10-09
    assert compute_due(D(2025, 8, 2), rule.amount, rule.unit, cal) == D(2025, 10, 9)


def test_petition_object_counts_adjusted_workday(cal):
    rule = DEFAULT_RULES["petition.object"]
    assert rule.unit is DayUnit.WORKDAYS and rule.amount == 5
    # from Fri 2025-09-26: Sun 09-28 is an adjusted workday (1), 09-29 (2), 09-30 (3),
    # holiday 10-01..10-08, 10-09 (4), 10-10 (5)
    assert compute_due(D(2025, 9, 26), 5, DayUnit.WORKDAYS, cal) == D(2025, 10, 10)
    # without the adjusted Sunday the fifth working day is the next adjusted one, Sat 10-11
    no_tiaoxiu = WorkCalendar({D(2025, 9, 28): False}, set())
    assert compute_due(D(2025, 9, 26), 5, "workdays", no_tiaoxiu) == D(2025, 10, 11)


def test_adjusted_workday_ends_a_calendar_day_deadline(cal):
    # Sunday 2025-09-28 is a working day (调休): a deadline landing on it does not move
    assert add_days(D(2025, 9, 18), 10, cal) == D(2025, 9, 28)


def test_spring_festival_2026_moves_deadline(cal):
    # 2026-02-15..02-23 is the Spring Festival holiday; Sat 02-28 is an adjusted workday
    assert add_days(D(2026, 1, 16), 30, cal) == D(2026, 2, 24)
    assert cal.is_workday(D(2026, 2, 28)) is True


def test_add_workdays_and_workdays_between_agree(cal):
    start = D(2025, 9, 26)
    for n in range(1, 12):
        end = add_workdays(start, n, cal)
        assert workdays_between(start, end, cal) == n
    assert workdays_between(D(2025, 10, 1), D(2025, 10, 8), cal) == 0
    assert workdays_between(D(2025, 10, 1), D(2025, 10, 1), cal) == 0


def test_overrides_win_over_package():
    cal = WorkCalendar({D(2025, 3, 18): False, D(2025, 3, 15): True}, set())
    assert add_days(D(2025, 3, 3), 15, cal) == D(2025, 3, 19)
    assert add_days(D(2025, 3, 3), 12, cal) == D(2025, 3, 15)


def test_unknown_year_refuses_loudly(cal):
    assert package_knows(2026) is True
    assert package_knows(2027) is False
    with pytest.raises(CalendarUnknown) as exc:
        cal.is_workday(D(2027, 3, 1))
    assert exc.value.year == 2027
    assert "2027 年的节假日安排尚未录入" in exc.value.message
    # 60 days from 2026-11-23 ends in 2027: refused, not guessed
    with pytest.raises(CalendarUnknown):
        compute_due(D(2026, 11, 23), 60, DayUnit.DAYS, cal)
    # a lone override does not make a year known
    with pytest.raises(CalendarUnknown):
        WorkCalendar({D(2027, 1, 1): False}, set()).is_workday(D(2027, 1, 4))


def test_entered_year_uses_overrides_then_plain_week():
    cal = WorkCalendar({D(2027, 1, 1): False, D(2027, 2, 20): True}, {2027})
    assert cal.knows(2027)
    assert cal.is_workday(D(2027, 1, 1)) is False
    assert cal.is_workday(D(2027, 1, 4)) is True  # Monday
    assert cal.is_workday(D(2027, 1, 2)) is False  # Saturday
    assert cal.is_workday(D(2027, 2, 20)) is True  # adjusted Saturday
    # 2026-12-02 + 30 days = 2027-01-01 holiday → Sat, Sun → Monday 2027-01-04
    assert compute_due(D(2026, 12, 2), 30, DayUnit.DAYS, cal) == D(2027, 1, 4)


def test_earlier_due():
    assert earlier_due(D(2026, 3, 1), None) == (D(2026, 3, 1), "statutory")
    assert earlier_due(D(2026, 3, 1), D(2026, 2, 20)) == (D(2026, 2, 20), "external")
    assert earlier_due(D(2026, 3, 1), D(2026, 3, 5)) == (D(2026, 3, 1), "statutory")
    # a tie keeps the statutory basis
    assert earlier_due(D(2026, 3, 1), D(2026, 3, 1)) == (D(2026, 3, 1), "statutory")


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (D(2026, 11, 22), WarningLevel.RED),  # one day overdue
        (D(2026, 11, 23), WarningLevel.YELLOW),  # due today
        (D(2026, 11, 26), WarningLevel.YELLOW),  # exactly 3 days left
        (D(2026, 11, 27), WarningLevel.GREEN),  # 4 days left
    ],
)
def test_warning_level_boundaries(due, expected):
    assert warning_level(due, D(2026, 11, 23), True, yellow_days=3) is expected


def test_warning_level_closed_or_without_deadline():
    today = D(2026, 11, 23)
    assert warning_level(D(2026, 1, 1), today, False) is WarningLevel.NONE
    assert warning_level(None, today, True) is WarningLevel.NONE
    assert warning_level(D(2026, 11, 28), today, True, yellow_days=5) is WarningLevel.YELLOW
    assert warning_level(D(2026, 11, 23), today, True, yellow_days=0) is WarningLevel.YELLOW
    assert warning_level(D(2026, 11, 24), today, True, yellow_days=0) is WarningLevel.GREEN


def test_days_left():
    assert days_left(D(2026, 11, 26), D(2026, 11, 23)) == 3
    assert days_left(D(2026, 11, 20), D(2026, 11, 23)) == -3
    assert days_left(None, D(2026, 11, 23)) is None


def test_resolve_rule_applies_town_override():
    rule = resolve_rule("dispute.mediate", {"dispute.mediate": {"amount": 20, "unit": "days"}})
    assert rule.amount == 20 and rule.unit is DayUnit.DAYS
    assert (resolve_rule("dispute.mediate").amount, resolve_rule("dispute.mediate").unit) == (
        1, DayUnit.MONTHS)
