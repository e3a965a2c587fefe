"""The working-day calendar: ``chinesecalendar`` plus the admin's overrides.

A year that neither knows raises ``CalendarUnknown``: a deadline is never guessed.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.orm import Session

from casetrack.core.errors import CalendarUnknown
from casetrack.deadlines.models import CalendarYear, HolidayOverride


def package_knows(year: int) -> bool:
    """Whether the installed ``chinesecalendar`` has the State Council's schedule for ``year``."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


class WorkCalendar:
    """Answers "is this a working day?" from overrides, entered years and the package."""

    def __init__(self, overrides: dict[dt.date, bool], entered_years: set[int]):
        self.overrides = overrides
        self.entered_years = entered_years
        self._package_years: dict[int, bool] = {}

    def knows(self, year: int) -> bool:
        if year in self.entered_years:
            return True
        if year not in self._package_years:
            self._package_years[year] = package_knows(year)
        return self._package_years[year]

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        if day.year in self.entered_years:
            return day.weekday() < 5
        if not self.knows(day.year):
            raise CalendarUnknown(day.year)
        return chinese_calendar.is_workday(day)

    __call__ = is_workday


def load_calendar(session: Session) -> WorkCalendar:
    """Build the calendar from the database (overrides are few: tens of rows a year)."""
    overrides = {
        row.day: row.is_workday for row in session.scalars(select(HolidayOverride))
    }
    years = set(session.scalars(select(CalendarYear.year)))
    return WorkCalendar(overrides, years)
