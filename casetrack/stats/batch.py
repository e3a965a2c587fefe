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
from sqlalchemy import Integer, bindparam, case, cast, func, literal, null, select, union_all
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


#: dimensions grouped together in one GROUP BY, the groupings within each rolled up from it
#: in Python: (kind, source, month, category) have a few thousand combinations in a county
#: year; village determines town; units are on their own. Three passes over the as-of rows
#: serve the whole dashboard.
FAMILIES: tuple[tuple[str, ...], ...] = (
    ("kind", "source", "month", "category"), ("town", "village"), ("unit",))


def _branches(groupings: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
    """The GROUP BYs that serve ``groupings``: the family holding each, or the grouping
    itself when no family does (e.g. month and village together)."""
    out: list[tuple[str, ...]] = []
    for grouping in groupings:
        branch = next((fam for fam in FAMILIES if set(grouping) <= set(fam)), grouping)
        if branch not in out:
            out.append(branch)
    return tuple(out)


def _batch_stmt(scope: User | None, q: sq.StatsQuery, branches: tuple[tuple[str, ...], ...],
                metrics: tuple[str, ...], overdue: bool = False, later: bool = True):
    """One statement: the as-of rows once (materialised) with each metric's 0/1 flag
    evaluated once per case, then one GROUP BY per branch summing the flags, tagged with
    the branch's index in column ``g``. With ``overdue`` the same rows also give the overdue
    list (``g`` = -1, one row per case in ``case_id``/``due_on``, most overdue first, at most
    the ``limit`` parameter): the dashboard reads the timeline once."""
    bind = sq._named_binds()
    rows = sq._asof(scope, q, False, bind, later)
    cols = {name: rows.c[name] for name in rows.c.keys()}
    cutoff = bind("cutoff")
    asof = select(rows, *(case((sq.METRICS[k].predicate(cols, cutoff), 1), else_=0)
                          .label(f"m_{k}") for k in metrics)
                  ).cte("asof_rows").prefix_with("MATERIALIZED")
    dims_all = list(sq.DIMENSIONS)

    def typed_null(column: Any, label: str) -> Any:
        # PostgreSQL types each column of a UNION from its first branches
        return cast(null(), column.type).label(label)

    no_case = (typed_null(asof.c.id, "case_id"), typed_null(asof.c.due_on, "due_on"))
    parts = []
    for i, branch in enumerate(branches):
        dims = [asof.c[sq.DIMENSIONS[d]].label(d) if d in branch
                else typed_null(asof.c[sq.DIMENSIONS[d]], d) for d in dims_all]
        part = select(literal(i).label("g"), *dims, *no_case,
                      *(func.coalesce(func.sum(asof.c[f"m_{k}"]), 0).label(k) for k in metrics))
        if branch:
            part = part.group_by(*(asof.c[sq.DIMENSIONS[d]] for d in branch))
        parts.append(part)
    if overdue:
        late = (select(asof.c.id, asof.c.due_on)
                .where(sq.METRICS["overdue"].predicate({n: asof.c[n] for n in cols}, cutoff))
                .order_by(asof.c.due_on, asof.c.id)
                .limit(bindparam("limit", type_=Integer()))
                .subquery("late"))
        parts.append(select(literal(-1).label("g"),
                            *(typed_null(asof.c[sq.DIMENSIONS[d]], d) for d in dims_all),
                            late.c.id.label("case_id"), late.c.due_on.label("due_on"),
                            *(literal(0).label(k) for k in metrics)))
    return union_all(*parts)


Overdue = list[tuple[int, str]]


def _fetch(session: Session, scope: User | None, q: sq.StatsQuery,
           groupings: tuple[tuple[str, ...], ...], metrics: tuple[str, ...],
           overdue_limit: int | None = None) -> tuple[list[Rows], Overdue | None]:
    """Every grouping's rows, as ``queries.figures`` gives them, and with ``overdue_limit``
    the overdue list's ``(case id, due date)`` pairs, from one statement."""
    branches = _branches(groupings)
    overdue = bool(overdue_limit)
    later = sq.later_events(session, q)
    stmt = sq._plan(("batch", sq._dialect(), sq._shape(q), sq._scope_key(scope), branches,
                     metrics, overdue, later),
                    lambda: _batch_stmt(scope, q, branches, metrics, overdue, later))
    fetched: list[list[tuple[dict, list[int]]]] = [[] for _ in branches]
    late: list[tuple[int, str]] = []
    dims_all = list(sq.DIMENSIONS)
    n = len(dims_all)
    params = sq._values(q) | ({"limit": overdue_limit} if overdue else {})
    sq.figures_settings(session)
    for row in session.execute(stmt, params):
        i = int(row[0])
        if i < 0:
            late.append((int(row[1 + n]), str(row[2 + n])[:10]))
            continue
        fetched[i].append(({d: row[1 + dims_all.index(d)] for d in branches[i]},
                           [int(v or 0) for v in row[3 + n:]]))
    out: list[Rows] = []
    for grouping in groupings:
        branch = next(i for i, b in enumerate(branches) if set(grouping) <= set(b))
        sums: dict[tuple, list[int]] = {}
        for key, counts in fetched[branch]:
            acc = sums.setdefault(tuple(key[d] for d in grouping), [0] * len(metrics))
            for j, v in enumerate(counts):
                acc[j] += v
        if not grouping and not sums:
            sums[()] = [0] * len(metrics)
        out.append([(dict(zip(grouping, values, strict=True)),
                     dict(zip(metrics, counts, strict=True)))
                    for values, counts in sums.items()])
    # a UNION keeps no order: most overdue first, as ``queries.overdue_cases`` lists them
    return out, sorted(late, key=lambda r: (r[1], r[0])) if overdue else None


def _compute(session: Session, scope: User | None, q: sq.StatsQuery,
             groupings: tuple[tuple[str, ...], ...], metrics: tuple[str, ...]) -> list[Rows]:
    """Every grouping's rows, as ``queries.figures`` gives them, from one statement."""
    return _fetch(session, scope, q, groupings, metrics)[0]


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
    version = cache.data_version(session, scope_towns(session, scope, q),
                                 (q.date_from, q.date_to))
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
             metrics: Sequence[str] | None = None, overdue_limit: int | None = None) -> None:
    """Compute every grouping of ``q`` (and with ``overdue_limit`` the overdue list) in one
    statement, or take them from the cache, and keep the results for this request, where
    ``queries.figures`` and ``queries.overdue_cases`` find them."""
    metric_keys = tuple(metrics or sq.METRICS)
    groupings = tuple(tuple(gr) for gr in groupings)
    memo = _request_memo()
    todo = tuple(gr for gr in groupings if _memo_key(scope, q, gr, metric_keys) not in memo)
    if overdue_limit and _overdue_key(scope, q, overdue_limit) in memo:
        overdue_limit = None
    if not todo and not overdue_limit:
        return
    results, late = _cached(session, scope, q, "batch", (todo, metric_keys, overdue_limit),
                            lambda: _fetch(session, scope, q, todo, metric_keys, overdue_limit))
    for grouping, rows in zip(todo, results, strict=True):
        memo[_memo_key(scope, q, grouping, metric_keys)] = _decode(rows)
    if overdue_limit:
        memo[_overdue_key(scope, q, overdue_limit)] = [(cid, due) for cid, due in late]


def _overdue_key(scope: User | None, q: sq.StatsQuery, limit: int | None) -> Hashable:
    return ("overdue", sq._scope_key(scope), q, limit)


def prefetched_overdue(scope: User | None, q: sq.StatsQuery,
                       limit: int | None) -> Overdue | None:
    """The overdue list's ``(case id, due date)`` pairs fetched by ``prefetch`` in this
    request, or None."""
    return _request_memo().get(_overdue_key(scope, q, limit)) if limit else None


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
