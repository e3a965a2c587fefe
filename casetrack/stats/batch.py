"""Several groupings of one cohort in one statement, and the cache of figures.

The dashboard shows the same cohort totalled and broken down nine ways. Asked one grouping at
a time, the database rebuilt the as-of rows (the status of each case at the cut-off, found in
its timeline) nine times. ``prefetch`` builds them once, as a materialised CTE, and runs
every grouping over it in the same statement (``UNION ALL`` of one ``GROUP BY`` each: SQLite
has no ``GROUPING SETS``); ``queries.figures`` then answers from what was fetched for the
rest of the request.

Figures are also cached (``stats/cache.py``: Redis when configured, else memory), for any
cut-off, today's included: the keys hold the write generation of each town whose cases are
counted (``cases/generations.py``), so any write to those cases changes them. A scope made
of whole towns (a county, a town-wide user) is cached town by town (``_by_towns``): a
write in one town costs that town's recomputation, the others come from the cache.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections.abc import Callable, Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from flask import current_app, has_app_context, has_request_context, request
from sqlalchemy import Integer, bindparam, case, cast, func, literal, null, select, union_all
from sqlalchemy.orm import Session

from casetrack.auth.models import Role, User, user_villages
from casetrack.auth.permissions import TOWN_WIDE_ROLES
from casetrack.cases import generations
from casetrack.extensions import db
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
                metrics: tuple[str, ...], overdue: bool = False, later: bool = True,
                towns: bool = False, per_town: bool = False):
    """One statement: the as-of rows once (materialised) with each metric's 0/1 flag
    evaluated once per case, then one GROUP BY per branch summing the flags, tagged with
    the branch's index in column ``g``. With ``overdue`` the same rows also give the overdue
    list (``g`` = -1, one row per case in ``case_id``/``due_on``, most overdue first, at most
    the ``limit`` parameter): the dashboard reads the timeline once. ``towns``: the cohort
    is restricted to the town ids of the expanding parameter ``towns``; ``per_town``: the
    overdue list is each town's own (at most ``limit`` per town, its id in ``town``)."""
    bind = sq._named_binds()
    rows = sq._asof(scope, q, False, bind, later,
                    towns=bindparam("towns", expanding=True) if towns else None)
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
    if overdue and per_town:
        is_late = sq.METRICS["overdue"].predicate({n: asof.c[n] for n in cols}, cutoff)
        ranked = (select(asof.c.id, asof.c.due_on, asof.c.town_id,
                         func.row_number().over(partition_by=asof.c.town_id,
                                                order_by=(asof.c.due_on, asof.c.id))
                         .label("rank"))
                  .where(is_late).subquery("late"))
        parts.append(select(literal(-1).label("g"),
                            *(ranked.c.town_id.label(d) if d == "town"
                              else typed_null(asof.c[sq.DIMENSIONS[d]], d) for d in dims_all),
                            ranked.c.id.label("case_id"), ranked.c.due_on.label("due_on"),
                            *(literal(0).label(k) for k in metrics))
                     .where(ranked.c.rank <= bindparam("limit", type_=Integer())))
    elif overdue:
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


def whole_towns(session: Session, scope: User | None, q: sq.StatsQuery) -> list[int] | None:
    """The towns of which the scope sees every case, narrowed to ``q``'s town: the cases
    the figures count are exactly those towns' cases matching ``q`` (so they are the sum of
    each town's figures). None when the scope sees part of a town (a grid worker's
    villages, a handler's cases): its figures are not split by town."""
    if scope is None:
        ids = list(session.scalars(select(Town.id)))
    elif Role(scope.role) is Role.COUNTY:  # as ``scope_cases`` selects them
        ids = list(session.scalars(select(Town.id).where(
            Town.county_code == scope.county_code)))
    elif scope.town_id is None:
        ids = []
    elif Role(scope.role) in TOWN_WIDE_ROLES:
        ids = [scope.town_id]
    else:
        return None
    return sorted(t for t in ids if q.town_id is None or t == q.town_id)


def _url(session: Session) -> str:
    return session.get_bind().url.render_as_string(hide_password=True)


def _scope_extra(session: Session, scope: User | None) -> Any:
    """What ``scope_cases`` reads about the user beyond ``queries._scope_key``: a grid
    worker's villages."""
    if scope is not None and Role(scope.role) is Role.GRID_WORKER:
        return sorted(session.scalars(select(user_villages.c.village_id)
                                      .where(user_villages.c.user_id == scope.id)))
    return None


def _version(session: Session, scope: User | None, q: sq.StatsQuery) -> tuple | None:
    """What the figures of ``scope`` and ``q`` depend on in the database (the module
    docstring of ``stats/cache.py``), or None when they are not to be cached (a town in the
    scope has no generation row). Generations are read first (``cases/generations.py``)."""
    towns = scope_towns(session, scope, q)
    if towns is None:
        towns = list(session.scalars(select(Town.id)))
    gens = generations.read(session, towns)
    if any(t not in gens for t in towns):
        return None
    return (sorted(gens.items()), cache.static_version(session, towns),
            _scope_extra(session, scope))


def _cached(session: Session, scope: User | None, q: sq.StatsQuery, kind: str,
            parts: tuple, compute: Callable[[], Any]) -> Any:
    """``compute()``, through the cache under the scope's whole key (any cut-off: the key
    follows every write to the scope's towns)."""
    if not has_app_context():
        return compute()
    version = _version(session, scope, q)
    if version is None:
        return compute()
    key = (kind, _url(session), sorted(q.params().items()), sq._scope_key(scope), parts,
           version)
    return cache.cached(key, compute)


def cached(session: Session, scope: User | None, q: sq.StatsQuery, parts: tuple,
           compute: Callable[[], Any]) -> Any:
    """``compute()`` (JSON-able), cached under ``parts`` and the scope's data version."""
    return _cached(session, scope, q, "rows", parts, compute)


#: the former name (today's cut-off is cached too now)
cached_past = cached


# --------------------------------------------------------------------------- town by town
#
# A county's figures are the sum of its towns' (every figure counts cases with a 0/1 flag,
# grouped by dimensions), and its overdue list (the first N by due date) is the merge of its
# towns' first N. Each town's part is cached under its own generation: a write in one town
# costs that town's part, not the county's.

#: the GROUP BYs of a scope computed town by town (each with the town added), the groupings
#: within each rolled up from it in Python: few rows a town (kind × source × month is ~110
#: in a town's year, categories ~30), so a county's hundred towns return ~15,000 rows; the
#: county-wide ``FAMILIES`` (kind × source × month × category) would be ~1,000 a town, and
#: one GROUP BY per grouping reads the as-of rows six times
TOWN_FAMILIES: tuple[tuple[str, ...], ...] = (
    ("kind", "source", "month"), ("category",), ("village",), ("unit",))
_DIM_ORDER = {d: i for i, d in enumerate(sq.DIMENSIONS)}


def _town_branches(groupings: tuple[tuple[str, ...], ...]) -> tuple[tuple[str, ...], ...]:
    """The GROUP BYs (each with ``town``) that serve ``groupings`` town by town."""
    out: list[tuple[str, ...]] = []
    for grouping in groupings:
        dims = set(grouping) - {"town"}
        family = next((fam for fam in TOWN_FAMILIES if dims <= set(fam)), tuple(dims))
        branch = tuple(sorted({*family, "town"}, key=_DIM_ORDER.__getitem__))
        if branch not in out:
            out.append(branch)
    return tuple(out)


def _plain(value: Any) -> Any:
    """A dimension's value as JSON gives it back (kind codes are ``str`` enums)."""
    return value if value is None or isinstance(value, int) else str(value)


#: one town's part: ``{"rows": [[[*values, *counts], ...] per grouping], "late": [[case id,
#: due date], ...] or None}`` (JSON as stored)
Part = dict[str, Any]


def _fetch_towns(session: Session, q: sq.StatsQuery, towns: list[int],
                 groupings: tuple[tuple[str, ...], ...], metrics: tuple[str, ...],
                 overdue_limit: int | None) -> dict[int, Part]:
    """Each town's part, computed in one statement over the cases of ``towns``."""
    branches = _town_branches(groupings)
    overdue = bool(overdue_limit)
    one = len(towns) == 1
    if one:
        q = q.narrowed(town=towns[0])
    later = sq.later_events(session, q)
    stmt = sq._plan(("towns", sq._dialect(), sq._shape(q), one, branches, metrics, overdue,
                     later),
                    lambda: _batch_stmt(None, q, branches, metrics, overdue, later,
                                        towns=not one, per_town=True))
    params = sq._values(q) | ({"limit": overdue_limit} if overdue else {}) \
        | ({} if one else {"towns": towns})
    dims_all = list(sq.DIMENSIONS)
    n = len(dims_all)
    at = {d: 1 + i for i, d in enumerate(dims_all)}
    town_at = at["town"]
    fetched: dict[int, list[list[tuple[tuple, list[int]]]]] = {
        t: [[] for _ in branches] for t in towns}
    late: dict[int, list[list]] = {t: [] for t in towns}
    sq.figures_settings(session)
    for row in session.execute(stmt, params):
        i = int(row[0])
        town = int(row[town_at])
        if i < 0:
            late[town].append([int(row[1 + n]), str(row[2 + n])[:10]])
            continue
        fetched[town][i].append((tuple(_plain(row[at[d]]) for d in branches[i]),
                                 [int(v or 0) for v in row[3 + n:]]))
    # each grouping rolled up from the smallest set of rows that holds it: the branch rows
    # first, then ``()``, kind and source from (kind, source) rather than from the ~110
    # (kind, source, month) rows of a town (a county's cold dashboard: 0.5 s → 0.1 s)
    order = sorted(set(groupings), key=len, reverse=True)
    out: dict[int, Part] = {}
    for town in towns:
        made: dict[tuple[str, ...], dict[tuple, list[int]]] = {
            b: {k: c for k, c in fetched[town][i]} for i, b in enumerate(branches)}
        for grouping in order:
            if grouping in made:
                continue
            source = min((dims for dims in made if set(grouping) <= set(dims)),
                         key=lambda dims: len(made[dims]))
            pick = [source.index(d) for d in grouping]
            sums: dict[tuple, list[int]] = {}
            for key, counts in made[source].items():
                k = tuple(key[j] for j in pick)
                acc = sums.get(k)
                sums[k] = (counts if acc is None
                           else [a + b for a, b in zip(acc, counts, strict=True)])
            made[grouping] = sums
        out[town] = {"rows": [[[*k, *c] for k, c in made[grouping].items()]
                              for grouping in groupings],
                     "late": sorted(late[town], key=lambda r: (r[1], r[0]))
                     if overdue else None}
    return out


def _sum_parts(parts: list[Part], groupings: tuple[tuple[str, ...], ...],
               metrics: tuple[str, ...], overdue_limit: int | None
               ) -> tuple[list[Rows], Overdue | None]:
    """The scope's rows of every grouping and its overdue list, from its towns' parts."""
    out: list[Rows] = []
    m = len(metrics)
    for gi, grouping in enumerate(groupings):
        g = len(grouping)
        sums: dict[tuple, list[int]] = {}
        for part in parts:
            for row in part["rows"][gi]:
                key = tuple(row[:g])
                acc = sums.get(key)
                sums[key] = (row[g:] if acc is None
                             else [a + b for a, b in zip(acc, row[g:], strict=True)])
        if not grouping and not sums:
            sums[()] = [0] * m
        out.append([(dict(zip(grouping, key, strict=True)), dict(zip(metrics, counts,
                                                                    strict=True)))
                    for key, counts in sums.items()])
    late = None
    if overdue_limit:
        merged = heapq.merge(*(p["late"] for p in parts), key=lambda r: (r[1], r[0]))
        late = [(int(cid), str(due)) for cid, due in itertools.islice(merged, overdue_limit)]
    return out, late


#: the fewest towns a statement of its own is worth (``STATS_PARALLEL_STATEMENTS``)
PARALLEL_MIN_TOWNS = 8


def _in_parallel(session: Session, towns: list[int],
                 compute: Callable[[Session, list[int]], dict[int, Any]]) -> dict[int, Any]:
    """``compute(session, towns)``, on PostgreSQL the towns split over
    ``STATS_PARALLEL_STATEMENTS`` statements run at once: this request's session takes one
    share, worker threads the others, each with its own session and connection, and the
    server runs them on separate cores (a cold county year at a million cases, 2 cores:
    1.77 s → 1.16 s). SQLite computes them in one statement: side by side its statements
    ran no faster (2.68 s → 3.38 s; the library serialises its connections' allocations).
    Returns the parts by town."""
    n = int(current_app.config.get("STATS_PARALLEL_STATEMENTS", 1)) if has_app_context() else 1
    if n <= 1 or len(towns) < n * PARALLEL_MIN_TOWNS \
            or session.get_bind().dialect.name != "postgresql":
        return compute(session, towns)
    shares = [towns[i::n] for i in range(n)]  # interleaved: big and small towns in each
    app = current_app._get_current_object()

    def share(chunk: list[int]) -> dict[int, Any]:
        with app.app_context():
            try:
                return compute(db.session, chunk)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=n - 1) as pool:
        others = [pool.submit(share, chunk) for chunk in shares[1:]]
        out = compute(session, shares[0])
        for future in others:
            out.update(future.result())
    return out


def _town_keys(session: Session, q: sq.StatsQuery, towns: list[int], kind: str,
               *parts: Hashable) -> tuple[dict[int, str], tuple, list]:
    """The cache key of each town's part of ``q`` (``kind`` and ``parts`` say which part):
    ``(keys by town, the keys' common base, [(town, generation, settings), ...])``. A town
    with no generation row has no key: its part is computed every time, never cached."""
    gens = generations.read(session, towns)  # before anything is computed
    figures_version, rules, calendar, settings = cache.static_version(session, towns)
    params = sorted((k, v) for k, v in q.params().items() if k != "town_id")
    base = (kind, _url(session), params, *parts, figures_version, rules, calendar)
    keys = {t: cache.key_for(*base, t, gens[t], settings.get(t)) for t in towns if t in gens}
    return keys, base, [(t, gens.get(t), settings.get(t)) for t in towns]


def _town_parts(keys: dict[int, str], towns: list[int],
                compute: Callable[[list[int]], dict[int, Any]]) -> dict[int, Any]:
    """Each town's part: from the cache (one MGET), the missing ones computed together by
    ``compute(missing towns)`` and stored."""
    parts: dict[int, Any] = {}
    for town, value in zip(keys, cache.get_values(list(keys.values())), strict=True):
        if value is not None:
            parts[town] = value
    missing = [t for t in towns if t not in parts]
    if missing:
        computed = compute(missing)
        parts.update(computed)
        cache.set_values({keys[t]: computed[t] for t in missing if t in keys})
    return parts


def _by_towns(session: Session, q: sq.StatsQuery, towns: list[int],
              groupings: tuple[tuple[str, ...], ...], metrics: tuple[str, ...],
              overdue_limit: int | None) -> tuple[list[Rows], Overdue | None]:
    """The figures of the cases of ``towns`` matching ``q``: the whole from the cache, else
    each town's part from the cache (one MGET), the missing parts computed in one
    statement and stored, and summed."""
    if not has_app_context():
        return _sum_parts(list(_fetch_towns(session, q, towns, groupings, metrics,
                                            overdue_limit).values()),
                          groupings, metrics, overdue_limit)
    keys, base, tagged = _town_keys(session, q, towns, "town", groupings, metrics,
                                    overdue_limit)
    whole = None
    if len(towns) > 1 and len(keys) == len(towns):
        whole = cache.key_for("towns", *base, tagged)
        raw = cache.get_many([whole])[0]
        if raw is not None:
            rows, late = json.loads(raw)
            return [_decode(r) for r in rows], None if late is None else \
                [(int(c), str(d)) for c, d in late]
    parts = _town_parts(keys, towns, lambda missing: _in_parallel(
        session, missing, lambda s, chunk: _fetch_towns(s, q, chunk, groupings, metrics,
                                                        overdue_limit)))
    results, late = _sum_parts([parts[t] for t in towns], groupings, metrics, overdue_limit)
    if whole is not None:
        cache.set_many({whole: json.dumps([[[[k, c] for k, c in rows] for rows in results],
                                           late], default=str, separators=(",", ":"))})
    return results, late


#: a county's drill-down page is merged from its towns' first rows (each town's cached under
#: its own generation) while the page ends within this many rows; deeper pages are computed
#: over the county in one statement
DRILL_TOWN_ROWS_MAX = 500
#: each town's first rows are kept in steps of this many (a page of the drill-down: a county of
#: a hundred towns keeps 10,000 rows for its first page; 500 a town cost 0.5 s of Python cold)
DRILL_TOWN_ROWS_STEP = 100


def drill_down(session: Session, scope: User | None, q: sq.StatsQuery, metric: str,
               page: int, page_size: int, compute: Callable[[], dict]) -> dict:
    """One page of a figure's cases, ``{"rows": [[case id, status on the cut-off, due date
    on the cut-off (ISO) or None], ...], "total": cases counted}``, ordered by (day received,
    case id) as ``queries.metric_ids``.

    A scope of several whole towns (a county) is merged from its towns' parts: each town's
    first rows in that order and its count, cached under the town's write generation, so a
    write in one town recomputes that town's part only (a county's cold drill-down at a
    million cases: 0.6-1 s; after a write in one town: that town's ~20 ms). Any other scope,
    and pages ending past ``DRILL_TOWN_ROWS_MAX`` rows, take ``compute()`` through the
    scope's cache (``cached``)."""
    towns = whole_towns(session, scope, q) if has_app_context() else None
    end = page * page_size
    if towns is None or len(towns) < 2 or end > DRILL_TOWN_ROWS_MAX:
        return cached(session, scope, q, ("drill-down", metric, page, page_size), compute)
    need = -(-end // DRILL_TOWN_ROWS_STEP) * DRILL_TOWN_ROWS_STEP
    keys, _, _ = _town_keys(session, q, towns, "drill-town", metric, need)
    parts = _town_parts(keys, towns, lambda missing: _in_parallel(
        session, missing, lambda s, chunk: _drill_towns(s, q, metric, chunk, need)))
    merged = heapq.merge(*(parts[t]["rows"] for t in towns), key=lambda r: (r[3], r[0]))
    rows = itertools.islice(merged, end - page_size, end)
    return {"rows": [[cid, status, due] for cid, status, due, _ in rows],
            "total": sum(parts[t]["total"] for t in towns)}


def _drill_towns(session: Session, q: sq.StatsQuery, metric: str, towns: list[int],
                 need: int) -> dict[int, dict]:
    """Each town's drill-down part in one statement: ``{"rows": its first ``need`` rows
    ``[case id, status, due date or None, day received]`` by (day received, id), "total":
    its count}``."""
    later = sq.later_events(session, q)
    bind = sq._named_binds()
    rows = sq._asof(None, q, False, bind, later, towns=bindparam("towns", expanding=True))
    cols = {name: rows.c[name] for name in rows.c.keys()}
    ranked = (select(rows.c.id, rows.c.town_id, rows.c.status, rows.c.due_on,
                     rows.c.received_on,
                     func.row_number().over(partition_by=rows.c.town_id,
                                            order_by=(rows.c.received_on, rows.c.id))
                     .label("rn"),
                     func.count().over(partition_by=rows.c.town_id).label("n"))
              .where(sq.METRICS[metric].predicate(cols, bind("cutoff")))
              .subquery("ranked"))
    stmt = (select(ranked).where(ranked.c.rn <= bindparam("need"))
            .order_by(ranked.c.town_id, ranked.c.rn))
    sq.figures_settings(session)
    out: dict[int, dict] = {t: {"rows": [], "total": 0} for t in towns}
    for r in session.execute(stmt, sq._values(q) | {"towns": towns, "need": need}):
        part = out[int(r.town_id)]
        part["total"] = int(r.n)
        part["rows"].append([int(r.id), str(r.status),
                             None if r.due_on is None else str(r.due_on)[:10],
                             str(r.received_on)[:10]])
    return out


def _decode(rows: list) -> Rows:
    """Rows as they come back from the JSON cache (keys and counts as dicts)."""
    return [(dict(key), dict(counts)) for key, counts in rows]


def prefetch(session: Session, scope: User | None, q: sq.StatsQuery,
             groupings: Sequence[tuple[str, ...]] = DASHBOARD_GROUPINGS,
             metrics: Sequence[str] | None = None, overdue_limit: int | None = None) -> None:
    """Compute every grouping of ``q`` (and with ``overdue_limit`` the overdue list) in one
    statement, or take them from the cache, and keep the results for this request, where
    ``queries.figures`` and ``queries.overdue_cases`` find them. A scope of whole towns (a
    county, a town) is summed from its towns' parts (``_by_towns``)."""
    metric_keys = tuple(metrics or sq.METRICS)
    groupings = tuple(tuple(gr) for gr in groupings)
    memo = _request_memo()
    todo = tuple(gr for gr in groupings if _memo_key(scope, q, gr, metric_keys) not in memo)
    if overdue_limit and _overdue_key(scope, q, overdue_limit) in memo:
        overdue_limit = None
    if not todo and not overdue_limit:
        return
    towns = whole_towns(session, scope, q)
    if towns is not None:
        results, late = _by_towns(session, q, towns, todo, metric_keys, overdue_limit)
    else:
        results, late = _cached(
            session, scope, q, "batch", (todo, metric_keys, overdue_limit),
            lambda: _fetch(session, scope, q, todo, metric_keys, overdue_limit))
        results = [_decode(rows) for rows in results]
    for grouping, rows in zip(todo, results, strict=True):
        memo[_memo_key(scope, q, grouping, metric_keys)] = rows
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
    """What ``queries.figures`` returns: prefetched in this request, else summed from the
    towns' cached parts (a scope of whole towns), else cached under the scope's key, else
    ``compute()``."""
    memo = _request_memo()
    hit = memo.get(_memo_key(scope, q, dims, metrics))
    if hit is not None:
        return hit
    towns = whole_towns(session, scope, q) if has_app_context() else None
    if towns is not None:
        rows = _by_towns(session, q, towns, (dims,), metrics, None)[0][0]
    else:
        rows = _decode(_cached(session, scope, q, "figures", (dims, metrics), compute))
    memo[_memo_key(scope, q, dims, metrics)] = rows
    return rows
