"""Time helpers: every instant is aware UTC; calendar dates are in the town's zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

TOWN_ZONE = ZoneInfo("Asia/Shanghai")


def utcnow() -> dt.datetime:
    """The current instant, aware UTC. Only callers at the edge (views, CLI, jobs) use it."""
    return dt.datetime.now(dt.UTC)


def to_local(instant: dt.datetime, zone: ZoneInfo = TOWN_ZONE) -> dt.datetime:
    """Convert an aware instant to the town's local time."""
    return instant.astimezone(zone)


def local_date(instant: dt.datetime, zone: ZoneInfo = TOWN_ZONE) -> dt.date:
    """The calendar date of an instant in the town's zone."""
    return instant.astimezone(zone).date()


def local_midnight(day: dt.date, zone: ZoneInfo = TOWN_ZONE) -> dt.datetime:
    """The UTC instant at which ``day`` begins in the town's zone."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def end_of_local_day(day: dt.date, zone: ZoneInfo = TOWN_ZONE) -> dt.datetime:
    """The last UTC instant that still belongs to ``day`` in the town's zone (exclusive bound)."""
    return local_midnight(day + dt.timedelta(days=1), zone)


def app_now() -> dt.datetime:
    """"Now" for views, CLI commands and jobs: the wall clock, or the instant fixed in the
    ``FIXED_NOW`` setting (tests and demos pin it so that dates never depend on the day the
    suite runs). Services never call this: they are given ``now``."""
    from flask import current_app, has_app_context

    if has_app_context():
        fixed = current_app.config.get("FIXED_NOW")
        if fixed is not None:
            if isinstance(fixed, str):
                fixed = dt.datetime.fromisoformat(fixed)
            if fixed.tzinfo is None:
                fixed = fixed.replace(tzinfo=TOWN_ZONE)
            return fixed.astimezone(dt.UTC)
    return utcnow()
