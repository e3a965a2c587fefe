"""Holiday calendar data the admin maintains beside the ``chinesecalendar`` package."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casetrack.core.db import Base, UTCDateTime
from casetrack.core.time import utcnow


class CalendarYear(Base):
    """A year whose holiday schedule has been entered in full for every town (State Council
    notice), at the command line or by a county-level user: the county-wide layer.

    Only a year listed here (or in ``TownCalendarYear`` for one town), or known to
    ``chinesecalendar``, can be counted in.
    """

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    #: where the schedule came from, e.g. the notice's document number
    source: Mapped[str] = mapped_column(String(200), default="")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class TownCalendarYear(Base):
    """A year whose holiday schedule one town's admin has entered in full for that town."""

    __tablename__ = "town_calendar_years"

    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    source: Mapped[str] = mapped_column(String(200), default="")
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class HolidayOverride(Base):
    """One day whose status differs from the plain week: a holiday or an adjusted workday
    (调休). Overrides win over the package's data; a town's override wins over the
    county-wide one for that town only."""

    __tablename__ = "holiday_overrides"
    __table_args__ = (UniqueConstraint("town_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the town whose calendar it changes; None: every town (the county-wide layer, edited at
    #: the command line or by a county-level user)
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"), index=True)
    day: Mapped[dt.date] = mapped_column(Date)
    #: True: a working day (e.g. an adjusted weekend); False: a holiday or rest day
    is_workday: Mapped[bool]
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
