"""Cached figures: in Redis when ``REDIS_URL`` is set (shared by every app process on every
host), else in this process's memory.

Figures depend on the case data of the scope's towns and on a few small tables; every
cache key holds what they depend on (``stats/batch.py`` builds the keys):

* the case data of each town: its write generation (``cases/generations.py``), raised by
  database triggers on every insert, update or delete of its cases and their timelines,
  whoever writes (pages, API, bulk updates, imports, CLI, raw SQL). Generations are read
  before the figures are computed; see that module for why that is safe and why neither
  ``max(updated_at)`` nor a sequence would be. A town without a generation row is never
  cached. Because the key follows every write, today's cut-off is cached like past ones;
* the work calendar (holidays and adjusted workdays entered by an administrator move due
  dates, and the on-time figures with them): the content of ``holiday_overrides``,
  ``calendar_years`` and ``town_calendar_years``, hashed (``static_version``);
* the towns' settings (deadline rules and thresholds are town settings), hashed per town;
* the code of the figures itself (``FIGURES_VERSION``, raised when a rule of counting changes)
  and the deadline-rule configuration of the app.

Values are stored as JSON; a broken or unreachable Redis makes the figures be computed, not
fail.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import select
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

#: raise when a rule of counting changes, so that figures cached by older code are not used
FIGURES_VERSION = 1
#: how long a cached figure lives (seconds): a safety net, keys already change with the data
TTL_SECONDS = 7 * 24 * 3600
#: entries kept in process memory when there is no Redis
MEMORY_ENTRIES = 8192
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


def get_many(keys: list[str]) -> list[str | None]:
    """The values of ``keys`` (None where absent), in one round trip to Redis (MGET)."""
    if not keys:
        return []
    client = _redis()
    if client is not None:
        try:
            values = client.mget(keys)
        except Exception:
            log.warning("stats cache: Redis unavailable for mget", exc_info=True)
            return [None] * len(keys)
        return [v.decode() if v is not None else None for v in values]
    with _memory_lock:
        out = []
        for key in keys:
            value = _memory.get(key)
            if value is not None:
                _memory.move_to_end(key)
            out.append(value)
        return out


def set_many(items: dict[str, str]) -> None:
    """Store every ``key: value`` (one pipelined round trip to Redis)."""
    if not items:
        return
    client = _redis()
    if client is not None:
        try:
            pipe = client.pipeline(transaction=False)
            for key, value in items.items():
                pipe.set(key, value, ex=TTL_SECONDS)
            pipe.execute()
        except Exception:
            log.warning("stats cache: Redis unavailable for set", exc_info=True)
        return
    with _memory_lock:
        for key, value in items.items():
            _memory[key] = value
            _memory.move_to_end(key)
        while len(_memory) > MEMORY_ENTRIES:
            _memory.popitem(last=False)


#: values already decoded in this process, by key. A key names one value for ever (it holds
#: everything the value depends on), so a value read again need not be fetched and decoded
#: again (a county's hundred town parts: ~10 ms of JSON per request). Callers must not
#: change what they get.
_decoded: OrderedDict[str, Any] = OrderedDict()


def _remember(items: dict[str, Any]) -> None:
    with _memory_lock:
        for key, value in items.items():
            _decoded[key] = value
            _decoded.move_to_end(key)
        while len(_decoded) > MEMORY_ENTRIES:
            _decoded.popitem(last=False)


def get_values(keys: list[str]) -> list[Any]:
    """The decoded values of ``keys`` (None where absent): from this process's decoded
    entries, the others from the store in one round trip (``get_many``)."""
    out: list[Any] = [None] * len(keys)
    todo: list[int] = []
    with _memory_lock:
        for i, key in enumerate(keys):
            value = _decoded.get(key)
            if value is None:
                todo.append(i)
            else:
                _decoded.move_to_end(key)
                out[i] = value
    if todo:
        fresh = {}
        for i, raw in zip(todo, get_many([keys[i] for i in todo]), strict=True):
            if raw is not None:
                out[i] = fresh[keys[i]] = json.loads(raw)
        _remember(fresh)
    return out


def set_values(items: dict[str, Any]) -> None:
    """Store each JSON-able value under its key (``set_many``), and keep it decoded here."""
    set_many({key: json.dumps(value, default=str, separators=(",", ":"))
              for key, value in items.items()})
    _remember(items)


def clear_memory() -> None:
    """Forget the in-process entries (tests)."""
    with _memory_lock:
        _memory.clear()
        _decoded.clear()


def static_version(session: Session, town_ids: Iterable[int] | None) -> tuple:
    """What figures of these towns (None: every town) depend on besides their case data:
    ``(FIGURES_VERSION, rules, calendar digest, {town id: settings digest})``. The calendar
    and settings tables are small: their content is hashed, so an edit in place counts
    too."""
    from casetrack.deadlines.models import CalendarYear, HolidayOverride, TownCalendarYear
    from casetrack.org.models import TownSetting

    settings = select(TownSetting.town_id, TownSetting.key, TownSetting.value)
    if town_ids is not None:
        settings = settings.where(TownSetting.town_id.in_(sorted(set(town_ids))))
    per_town: dict[int, Any] = {}
    for town_id, key, value in session.execute(
            settings.order_by(TownSetting.town_id, TownSetting.key)):
        per_town.setdefault(town_id, hashlib.sha256()).update(
            json.dumps([key, value], default=str, sort_keys=True).encode())
    calendar = hashlib.sha256()
    for stmt in (select(HolidayOverride.town_id, HolidayOverride.day,
                        HolidayOverride.is_workday)
                 .order_by(HolidayOverride.town_id, HolidayOverride.day),
                 select(CalendarYear.year, CalendarYear.source, CalendarYear.entered_at)
                 .order_by(CalendarYear.year),
                 select(TownCalendarYear.town_id, TownCalendarYear.year,
                        TownCalendarYear.source, TownCalendarYear.entered_at)
                 .order_by(TownCalendarYear.town_id, TownCalendarYear.year)):
        for row in session.execute(stmt):
            calendar.update(json.dumps(list(row), default=str, sort_keys=True).encode())
        calendar.update(b"|")
    rules = current_app.config.get("DEADLINE_RULES") if has_app_context() else None
    return (FIGURES_VERSION, json.dumps(rules, sort_keys=True, default=str),
            calendar.hexdigest(), {t: h.hexdigest()[:16] for t, h in per_town.items()})


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
