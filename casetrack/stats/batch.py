"""Several groupings of one cohort in one statement, and the cache of past cut-offs.

The dashboard shows the same cohort totalled and broken down nine ways. Asked one grouping at
a time, the database rebuilt the as-of rows (the status of each case at the cut-off, found in
its timeline) nine times. ``prefetch`` builds them once, as a materialised CTE, and runs
every grouping over it in the same statement (``UNION ALL`` of one ``GROUP BY`` each: SQLite
has no ``GROUPING SETS``); ``queries.figures`` then answers from what was fetched for the
rest of the request.

Figures of a cut-off before today are also cached (``stats/cache.py``: Redis when
configured, else memory), keyed by the query, the scope, the groupings and the version of
the data they depend on.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Sequence
from typing import Any

from flask import has_app_context, has_request_context, request
from sqlalchemy import cast, literal, null, select, union_all
from sqlalchemy.orm import Session

from casetrack.auth.models import Role, User
from casetrack.core.time import app_now, local_date
from casetrack.org.models import Town
from casetrack.stats import cache
from casetrack.stats import queries as sq

Rows = list[tuple[dict[str, Any], dict[str, int]]]
#: the groupings of the dashboard (``()`` is the totals)
DASHBOARD_GROUPINGS: tuple[tuple[str, ...], ...] = (
    (), ("month",), ("kind",), ("source",), ("village",), ("category",), ("unit",),
    ("kind", "source"),
)


def _request_memo() -> dict:
    """Figures fetched during this request (outside a request nothing is kept: a script or
    test may change the data between two calls)."""
    if not has_request_context():
        return {}
    # on the request itself, not in ``g``: an app context held open (a script, a test) would
    # carry ``g`` over to the next request
    return request.environ.setdefault("casetrack.figures", {})


def _memo_key(scope: User | None, q: sq.StatsQuery, dims: tuple[str, ...],
              metrics: tuple[str, ...]) -> Hashable:
    return (sq._scope_key(scope), q, dims, metrics)


def _batch_stmt(scope: User | None, q: sq.StatsQuery, groupings: tuple[tuple[str, ...], ...],
                metrics: tuple[str, ...]):
    """One statement: the as-of rows once (materialised), then each grouping's GROUP BY,
    tagged with the grouping's index in column ``g``."""
    bind = sq._named_binds()
    rows = sq._asof(scope, q, False, bind)
    asof = select(rows).cte("asof_rows").prefix_with("MATERIALIZED")
    dims_all = list(sq.DIMENSIONS)
    parts = []
    for i, grouping in enumerate(groupings):
        # a typed NULL where a grouping leaves a dimension out (PostgreSQL types each column
        # of a UNION from its first branches)
        cols = [asof.c[sq.DIMENSIONS[d]].label(d) if d in grouping
                else cast(null(), asof.c[sq.DIMENSIONS[d]].type).label(d) for d in dims_all]
        part = select(literal(i).label("g"), *cols,
                      *sq._metric_columns(asof, bind("cutoff"), metrics))
        if grouping:
            part = part.group_by(*(asof.c[sq.DIMENSIONS[d]] for d in grouping))
        parts.append(part)
    return union_all(*parts)


def _compute(session: Session, scope: User | None, q: sq.StatsQuery,
             groupings: tuple[tuple[str, ...], ...], metrics: tuple[str, ...]) -> list[Rows]:
    stmt = sq._plan(("batch", sq._shape(q), sq._scope_key(scope), groupings, metrics),
                    lambda: _batch_stmt(scope, q, groupings, metrics))
    out: list[Rows] = [[] for _ in groupings]
    dims_all = list(sq.DIMENSIONS)
    n = len(dims_all)
    for row in session.execute(stmt, sq._values(q)):
        i = int(row[0])
        key = {d: row[1 + dims_all.index(d)] for d in groupings[i]}
        out[i].append((key, {k: int(v or 0) for k, v in
                             zip(metrics, row[1 + n:], strict=True)}))
    for i, grouping in enumerate(groupings):
        if not grouping and not out[i]:
            out[i].append(({}, {k: 0 for k in metrics}))
    return out


def scope_towns(session: Session, scope: User | None, q: sq.StatsQuery) -> list[int] | None:
    """The towns whose cases the figures can count (None: every town)."""
    if q.town_id is not None:
        return [q.town_id]
    if scope is None:
        return None
    if Role(scope.role) is Role.COUNTY:
        return list(session.scalars(select(Town.id).where(
            Town.county_code == scope.county_code)))
    return [scope.town_id] if scope.town_id is not None else []


def _today() -> dt.date | None:
    return local_date(app_now()) if has_app_context() else None


def _cached(session: Session, scope: User | None, q: sq.StatsQuery, kind: str,
            parts: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()``, through the cache when ``q``'s cut-off is before today."""
    today = _today()
    if today is None or not cache.is_cacheable(q.as_of, today):
        return compute()
    version = cache.data_version(session, scope_towns(session, scope, q))
    key = (kind, session.get_bind().url.render_as_string(hide_password=True),
           sorted(q.params().items()), sq._scope_key(scope), parts, version)
    return cache.cached(key, compute)


def cached_past(session: Session, scope: User | None, q: sq.StatsQuery, parts: tuple,
                compute: Callable[[], Any]) -> Any:
    """``compute()`` (JSON-able), cached under ``parts`` when ``q``'s cut-off is past."""
    return _cached(session, scope, q, "rows", parts, compute)


def _decode(rows: list) -> Rows:
    """Rows as they come back from the JSON cache (keys and counts as dicts)."""
    return [(dict(key), dict(counts)) for key, counts in rows]


def prefetch(session: Session, scope: User | None, q: sq.StatsQuery,
             groupings: Sequence[tuple[str, ...]] = DASHBOARD_GROUPINGS,
             metrics: Sequence[str] | None = None) -> None:
    """Compute every grouping of ``q`` in one statement (or take it from the cache) and keep
    the results for this request, where ``queries.figures`` finds them."""
    metric_keys = tuple(metrics or sq.METRICS)
    groupings = tuple(tuple(gr) for gr in groupings)
    memo = _request_memo()
    todo = tuple(gr for gr in groupings if _memo_key(scope, q, gr, metric_keys) not in memo)
    if not todo:
        return
    results = _cached(session, scope, q, "batch", (todo, metric_keys),
                      lambda: _compute(session, scope, q, todo, metric_keys))
    for grouping, rows in zip(todo, results, strict=True):
        memo[_memo_key(scope, q, grouping, metric_keys)] = _decode(rows)


def figures(session: Session, scope: User | None, q: sq.StatsQuery, dims: tuple[str, ...],
            metrics: tuple[str, ...], compute: Callable[[], Rows]) -> Rows:
    """What ``queries.figures`` returns: prefetched in this request, else cached for a past
    cut-off, else ``compute()``."""
    memo = _request_memo()
    hit = memo.get(_memo_key(scope, q, dims, metrics))
    if hit is not None:
        return hit
    rows = _decode(_cached(session, scope, q, "figures", (dims, metrics), compute))
    memo[_memo_key(scope, q, dims, metrics)] = rows
    return rows
