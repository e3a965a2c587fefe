"""Figures of past cut-offs, cached: in Redis when ``REDIS_URL`` is set (shared by every app
process on every host), else in this process's memory.

A figure "as of" a day before today describes cases as they stood then, rebuilt from the
timeline, so most later work (a case accepted, closed or assigned today) cannot change it.
What can change it, and so is part of every cache key:

* the case data of the scope's towns: any write to a case (a correction of its registered
  facts, a re-assignment, a new case received in the period) moves the latest
  ``cases.updated_at`` of its town, found through ``ix_cases_updated_at`` in one index probe;
* the cases of the period themselves: their number and the highest id among the towns' cases.
  A case deleted, or one imported with its own past instants (its ``updated_at`` is not the
  latest), moves neither ``updated_at`` nor anything above; it moves the count of the
  period's cases (read from ``ix_cases_town_received``) or the highest id (read backwards
  from the primary key), and a deletion with an import in between moves the highest id;
* the work calendar (holidays and adjusted workdays entered by an administrator move due dates,
  and the on-time figures with them): the latest change of ``holiday_overrides`` and
  ``calendar_years``;
* the towns' settings (deadline rules and thresholds are town settings): the latest
  ``town_settings.updated_at``;
* the code of the figures itself (``FIGURES_VERSION``, raised when a rule of counting changes)
  and the deadline-rule configuration of the app.

The cut-off of today (or later) is never cached: events recorded today still count.
Values are stored as JSON; a broken or unreachable Redis makes the figures be computed, not
fail.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casetrack.cases.models import Case

log = logging.getLogger(__name__)

#: raise when a rule of counting changes, so that figures cached by older code are not used
FIGURES_VERSION = 1
#: how long a cached figure lives (seconds): a safety net, keys already change with the data
TTL_SECONDS = 7 * 24 * 3600
#: entries kept in process memory when there is no Redis
MEMORY_ENTRIES = 2048
PREFIX = "casetrack:stats:"

_memory: OrderedDict[str, str] = OrderedDict()
_memory_lock = threading.Lock()
_clients: dict[str, Any] = {}


def _redis():
    """The Redis client of ``REDIS_URL`` (one per URL and process), or None."""
    url = current_app.config.get("REDIS_URL") if has_app_context() else None
    if not url:
        return None
    client = _clients.get(url)
    if client is None:
        import redis

        client = _clients[url] = redis.Redis.from_url(url, socket_timeout=2,
                                                      socket_connect_timeout=2)
    return client


def _get(key: str) -> str | None:
    client = _redis()
    if client is not None:
        try:
            value = client.get(key)
        except Exception:  # Redis down: compute instead
            log.warning("stats cache: Redis unavailable for get", exc_info=True)
            return None
        return value.decode() if value is not None else None
    with _memory_lock:
        value = _memory.get(key)
        if value is not None:
            _memory.move_to_end(key)
        return value


def _set(key: str, value: str) -> None:
    client = _redis()
    if client is not None:
        try:
            client.set(key, value, ex=TTL_SECONDS)
        except Exception:
            log.warning("stats cache: Redis unavailable for set", exc_info=True)
        return
    with _memory_lock:
        _memory[key] = value
        while len(_memory) > MEMORY_ENTRIES:
            _memory.popitem(last=False)


def clear_memory() -> None:
    """Forget the in-process entries (tests)."""
    with _memory_lock:
        _memory.clear()


def is_cacheable(as_of: dt.date, today: dt.date) -> bool:
    """Only cut-offs before today: today's figures still change with every step taken."""
    return as_of < today


def data_version(session: Session, town_ids: Iterable[int] | None,
                 period: tuple[dt.date, dt.date] | None = None) -> tuple:
    """What, in the database, a past cut-off's figures of these towns (None: every town) for
    cases received in ``period`` (None: any day) depend on besides the timeline: see the
    module's docstring. The calendar and settings tables are small: their content is hashed,
    so an edit in place counts too."""
    from casetrack.deadlines.models import CalendarYear, HolidayOverride
    from casetrack.org.models import TownSetting

    cases = select(func.max(Case.updated_at))
    newest = select(func.max(Case.id))
    counted = select(func.count()).select_from(Case)
    settings = select(TownSetting.town_id, TownSetting.key, TownSetting.value)
    if town_ids is not None:
        ids = sorted(set(town_ids))
        cases = cases.where(Case.town_id.in_(ids))
        if len(ids) == 1:
            # per town: "max(id) WHERE town_id = ..." made PostgreSQL walk the primary key
            # backwards past every other town's cases (town 1 of a million-case county:
            # 990,000 rows, 0.45 s on each dashboard, cached or not)
            newest = newest.where(Case.town_id.in_(ids)).group_by(Case.town_id)
        else:
            # a county's towns: the newest case of any of them is among the newest of all,
            # found walking the primary key backwards (grouped per town, PostgreSQL read
            # every town's index entries: 0.23 s for a county of a million cases)
            newest = (select(Case.id).where(Case.town_id.in_(ids))
                      .order_by(Case.id.desc()).limit(1))
        counted = counted.where(Case.town_id.in_(ids))
        settings = settings.where(TownSetting.town_id.in_(ids))
    if period is not None:
        counted = counted.where(Case.received_on >= period[0], Case.received_on <= period[1])
    content = hashlib.sha256()
    for stmt in (settings.order_by(TownSetting.town_id, TownSetting.key),
                 select(HolidayOverride.day, HolidayOverride.is_workday)
                 .order_by(HolidayOverride.day),
                 select(CalendarYear.year, CalendarYear.source, CalendarYear.entered_at)
                 .order_by(CalendarYear.year)):
        for row in session.execute(stmt):
            content.update(json.dumps(list(row), default=str, sort_keys=True).encode())
        content.update(b"|")
    rules = current_app.config.get("DEADLINE_RULES") if has_app_context() else None
    newest_ids = [i for i in session.scalars(newest) if i is not None]
    return (FIGURES_VERSION, str(session.scalar(cases)), session.scalar(counted),
            max(newest_ids, default=None), content.hexdigest(),
            json.dumps(rules, sort_keys=True, default=str))


def key_for(*parts: Hashable) -> str:
    digest = hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode())
    return PREFIX + digest.hexdigest()


def cached(parts: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()``'s JSON-able result, from the cache under ``parts`` when there."""
    key = key_for(*parts)
    raw = _get(key)
    if raw is not None:
        return json.loads(raw)
    value = compute()
    _set(key, json.dumps(value, default=str))
    return value
