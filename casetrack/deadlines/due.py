"""A due date from a clock and the work calendar, also when the calendar runs out."""

from __future__ import annotations

import datetime as dt

from casetrack.core.errors import CalendarUnknown
from casetrack.deadlines.calendar import WorkCalendar
from casetrack.deadlines.rules import compute_due


def due_for(calendar: WorkCalendar, start: dt.date, amount: int, unit: str,
            extra_days: int = 0) -> tuple[dt.date, bool]:
    """The due date (with ``extra_days`` of extension) and whether it is exact.

    When the date runs into a year nobody has entered, the earliest date it can possibly be
    is returned (unknown days counted as working days) with ``exact=False``: never a later
    guess, so warnings err on the early side, and the case shows the date as provisional.
    """
    try:
        return compute_due(start, amount, unit, calendar, extra_days), True
    except CalendarUnknown:

        def optimistic(day: dt.date) -> bool:
            try:
                return calendar.is_workday(day)
            except CalendarUnknown:
                return True

        return compute_due(start, amount, unit, optimistic, extra_days), False
