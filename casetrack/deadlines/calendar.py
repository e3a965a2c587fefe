"""The working-day calendar: ``chinesecalendar`` plus the admin's overrides.

A year that neither knows raises ``CalendarUnknown``: a deadline is never guessed.

``load_calendar`` builds the calendar once per transaction of a session (an import of 10,000
rows asks for it 15,000 times) and keeps it in ``session.info``. The copy is dropped when the
transaction ends and whenever the session adds, changes, deletes or bulk-writes an override or
an entered year, so a calendar service that writes and then recomputes due dates in the same
transaction always counts with what it wrote.
"""

from __future__ import annotations

import datetime as dt
from itertools import chain

import chinese_calendar
from sqlalchemy import event, inspect, or_, select
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction, object_session

from casetrack.core.errors import CalendarUnknown
from casetrack.deadlines.models import CalendarYear, HolidayOverride, TownCalendarYear

#: the years whose State Council schedule the installed ``chinesecalendar`` carries (it raises
#: for any other year, rather than guess)
_PACKAGE_YEARS = frozenset(day.year for day in chinese_calendar.holidays)


def package_knows(year: int) -> bool:
    """Whether the installed ``chinesecalendar`` has the State Council's schedule for ``year``."""
    return year in _PACKAGE_YEARS


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


#: where a session keeps the calendar of its current transaction
CACHE_KEY = "casetrack.work_calendar"
_CALENDAR_MODELS = (HolidayOverride, CalendarYear, TownCalendarYear)


def load_calendar(session: Session, town_id: int | None = None) -> WorkCalendar:
    """The calendar of the town ``town_id`` (None: the county-wide layer only) from the
    database: the county-wide overrides and entered years, then the town's own, which win
    for that town only. Built once per transaction of ``session`` and town unless the
    calendar's rows change meanwhile (overrides are few: tens of rows a year)."""
    cached = session.info.get(CACHE_KEY)
    if cached is not None and any(
        isinstance(obj, _CALENDAR_MODELS) for obj in chain(session.new, session.deleted)
    ):
        cached = None
    if cached is not None and town_id in cached:
        return cached[town_id]
    rows = session.execute(
        select(HolidayOverride.town_id, HolidayOverride.day, HolidayOverride.is_workday)
        .where(or_(HolidayOverride.town_id.is_(None), HolidayOverride.town_id == town_id))
    ).all()
    overrides = {day: is_workday for town, day, is_workday in rows if town is None}
    overrides.update({day: is_workday for town, day, is_workday in rows if town is not None})
    years = set(session.scalars(select(CalendarYear.year)))
    if town_id is not None:
        years |= set(session.scalars(
            select(TownCalendarYear.year).where(TownCalendarYear.town_id == town_id)))
    calendar = WorkCalendar(overrides, years)
    if cached is None:
        cached = {}
        session.info[CACHE_KEY] = cached
    cached[town_id] = calendar
    return calendar


def forget_calendar(session: Session | None) -> None:
    """Drop the session's copy of the calendar: the next ``load_calendar`` reads it again."""
    if session is not None:
        session.info.pop(CACHE_KEY, None)


@event.listens_for(Session, "after_transaction_end")
def _forget_at_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None or transaction.nested:  # not the inner one of a flush
        forget_calendar(session)


@event.listens_for(Session, "before_attach")
def _forget_on_add(session: Session, instance: object) -> None:
    if isinstance(instance, _CALENDAR_MODELS):
        forget_calendar(session)


@event.listens_for(Session, "after_flush")
def _forget_after_write(session: Session, _flush_context) -> None:
    if any(isinstance(obj, _CALENDAR_MODELS)
           for obj in chain(session.new, session.dirty, session.deleted)):
        forget_calendar(session)


@event.listens_for(Session, "do_orm_execute")
def _forget_on_bulk_write(state: ORMExecuteState) -> None:
    if (state.is_insert or state.is_update or state.is_delete) and any(
        mapper.class_ in _CALENDAR_MODELS for mapper in state.all_mappers
    ):
        forget_calendar(state.session)


def _forget_on_change(target: object, value, oldvalue, _initiator) -> None:
    """An override or entered year changed in place (before any flush)."""
    forget_calendar(object_session(target))


for _model in _CALENDAR_MODELS:
    for _column in inspect(_model).column_attrs:
        event.listen(getattr(_model, _column.key), "set", _forget_on_change)
