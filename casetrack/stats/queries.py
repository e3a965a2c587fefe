"""Read-only figures over cases: a cohort by period, its status as of a cut-off date.

The cohort is every case received in the period (``received_on``: for 上级交办 cases that is
the day the higher authority assigned it) and visible in the scope. Its status is the one it
had at the END of the cut-off day in the town's zone, reconstructed from the timeline: the
``from_status`` of the first status-changing ``CaseEvent`` after that instant, or the current
status when there is none. A case registered after the cut-off is not in the cohort; a case
closed after it counts as open; a closure sent back for rework after it still counts as
closed. So a report for December 2022 printed today gives the figures of 31 December 2022.

Every other value that a step changes (category, village, unit, handler, due date, closing
day, rating, the notify, mediation and follow-up dates) is the value before its first change
after the cut-off, else the current one: the rule ``cases.asof`` applies to the exports. All
of them come from one pass over the events after the cut-off (``_later_changes``), so a past
cut-off costs one read of the cohort plus the later events of the few cases whose latest event
(``cases.last_event_at``, kept by the database) lies after the cut-off, and today's cut-off
costs the cohort alone.

Every function takes a scope: the user whose cases are counted (through
``cases.scoping.scope_cases``), or None for the whole database (CLI and benchmarks only).
All counting is done by the database with GROUP BY; nothing loops over cases in Python.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import (
    Integer,
    Select,
    String,
    bindparam,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql import Subquery
from sqlalchemy.sql.elements import BindParameter

from casetrack.auth.models import Role, User
from casetrack.cases import kinds as case_kinds
from casetrack.cases.models import Case, CaseEvent
from casetrack.cases.rules import OPEN_STATUSES
from casetrack.cases.scoping import scope_cases
from casetrack.core.i18n import N_
from casetrack.core.time import end_of_local_day
from casetrack.extensions import db
from casetrack.org.models import Town, Unit, Village
from casetrack.stats.metrics import METRIC_LIST, METRICS, Rate, rates_for
from casetrack.stats.sql import iso_date, json_first, year_month

#: group-by dimensions and the as-of row column each groups on
DIMENSIONS: dict[str, str] = {
    "kind": "kind", "source": "source", "village": "village_id", "category": "category",
    "unit": "unit_id", "month": "month", "town": "town_id",
}
DIMENSION_LABELS = {"kind": N_("类型"), "source": N_("来源"), "village": N_("村（居）"),
                    "category": N_("类别"), "unit": N_("承办单位"), "month": N_("月份"),
                    "town": N_("乡镇")}
#: the value of a village or unit filter that means "none" (case without village / unit)
NONE_ID = 0


@dataclass(frozen=True)
class StatsQuery:
    """Which cohort and which cut-off: period by ``received_on``, status as of ``as_of``.

    The optional fields narrow the cohort (the dashboard's drill-down links set them);
    ``village_id``/``unit_id`` equal to ``NONE_ID`` select cases without one.
    """

    date_from: dt.date
    date_to: dt.date
    as_of: dt.date
    town_id: int | None = None
    kind: str | None = None
    source: str | None = None
    village_id: int | None = None
    category: str | None = None
    unit_id: int | None = None
    #: "YYYY-MM": received in that month
    month: str | None = None

    def narrowed(self, **dims: Any) -> StatsQuery:
        """The same query restricted to one cell: ``narrowed(village=3, kind="petition")``."""
        names = {"village": "village_id", "unit": "unit_id", "town": "town_id"}
        return replace(self, **{names.get(k, k): v for k, v in dims.items()})

    def params(self) -> dict[str, str]:
        """URL parameters (``from``, ``to``, ``as_of`` and each set filter)."""
        out = {"from": self.date_from.isoformat(), "to": self.date_to.isoformat(),
               "as_of": self.as_of.isoformat()}
        for f in fields(self):
            if f.name in ("date_from", "date_to", "as_of"):
                continue
            value = getattr(self, f.name)
            if value is not None:
                out[f.name] = str(value)
        return out


@dataclass
class FigureRow:
    """One line of figures: the group's key and label, every metric's count, every rate."""

    key: dict[str, Any]
    label: str
    counts: dict[str, int]
    rates: dict[str, Rate] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.rates:
            self.rates = rates_for(self.counts)

    def to_dict(self, metrics: Sequence[str] | None = None) -> dict:
        keys = metrics or [m.key for m in METRIC_LIST]
        return {**{k: v for k, v in self.key.items()}, "label": self.label,
                "counts": {k: self.counts.get(k, 0) for k in keys},
                "rates": {k: r.to_dict() for k, r in self.rates.items()}}


@dataclass
class Summary:
    """Figures of a cohort: totals, by kind and by source. ``to_dict()`` is the JSON the CLI
    prints and ``GET /api/v1/stats/summary`` returns; keep its shape stable."""

    query: StatsQuery
    town_name: str
    totals: FigureRow
    by_kind: list[FigureRow]
    by_source: list[FigureRow]

    def to_dict(self) -> dict:
        return {
            "town": self.town_name,
            "period": {"from": self.query.date_from.isoformat(),
                       "to": self.query.date_to.isoformat()},
            "as_of": self.query.as_of.isoformat(),
            "filters": {k: v for k, v in self.query.params().items()
                        if k not in ("from", "to", "as_of")},
            "metrics": {m.key: {"label": m.label, "definition": m.definition}
                        for m in METRIC_LIST},
            "totals": self.totals.to_dict(),
            "by_kind": [r.to_dict() for r in self.by_kind],
            "by_source": [r.to_dict() for r in self.by_source],
        }


@dataclass(frozen=True)
class OverdueCase:
    """An open case past its due date at the cut-off."""

    case_id: int
    number: str
    title: str
    kind: str
    village: str
    unit: str
    handler: str
    due_on: dt.date
    days_overdue: int
    #: False: the date is provisional (its year's holidays are not entered)
    due_is_exact: bool = True


# --------------------------------------------------------------------------- parameters
#
# The statements are built with named bound parameters, never with the query's values, so that
# one built statement serves every query of the same shape (which filters are set, the group-by,
# the scope): the hot paths keep it in ``_PLANS`` and SQLAlchemy's compiled cache reuses its SQL.

#: the query values a statement binds, with the SQL type each is bound as
_PARAM_TYPES = {
    "date_from": Case.received_on.type, "date_to": Case.received_on.type,
    "end": CaseEvent.at.type, "cutoff": Case.due_on.type, "town_id": Case.town_id.type,
    "kind": Case.kind.type, "source": Case.source.type, "category": Case.category.type,
    "village_id": Case.village_id.type, "unit_id": Case.unit_id.type, "month": String(),
}
Bind = Callable[[str], BindParameter]


def _values(q: StatsQuery) -> dict[str, Any]:
    """The bound values of ``q``: exactly the parameters a statement of its shape uses."""
    out: dict[str, Any] = {"date_from": q.date_from, "date_to": q.date_to,
                           "end": end_of_local_day(q.as_of), "cutoff": q.as_of}
    for name in ("town_id", "kind", "source", "category", "month"):
        value = getattr(q, name)
        if value is not None if name == "town_id" else value:
            out[name] = value
    for name in ("village_id", "unit_id"):
        value = getattr(q, name)
        if value is not None and value != NONE_ID:
            out[name] = value
    return out


def _shape(q: StatsQuery) -> tuple:
    """What the statement of ``q`` looks like, without its values (``_values`` has them)."""
    return tuple(sorted(_values(q))) + (q.village_id == NONE_ID, q.unit_id == NONE_ID)


def _scope_key(scope: User | None) -> Hashable:
    """Everything ``scope_cases`` reads from the user (it puts those values in the SQL)."""
    if scope is None:
        return None
    return (scope.id, scope.role, scope.town_id, scope.county_code, scope.unit_id)


def _named_binds() -> Bind:
    """Parameters without values, supplied at execution time (cached statements)."""
    made: dict[str, BindParameter] = {}

    def bind(name: str) -> BindParameter:
        if name not in made:
            made[name] = bindparam(name, type_=_PARAM_TYPES[name])
        return made[name]
    return bind


def _valued_binds(q: StatsQuery) -> Bind:
    """Parameters carrying ``q``'s values (statements handed to callers, e.g. paginated)."""
    values = _values(q)
    return lambda name: bindparam(name, values[name], type_=_PARAM_TYPES[name], unique=True)


_PLANS: OrderedDict[Hashable, Any] = OrderedDict()
_PLANS_LOCK = threading.Lock()
#: built statements kept (one per shape, scope and grouping in use)
_PLANS_MAX = 512


def _plan(key: Hashable, build: Callable[[], Any]) -> Any:
    """The statement cached under ``key``, built by ``build()`` the first time."""
    with _PLANS_LOCK:
        stmt = _PLANS.get(key)
        if stmt is not None:
            _PLANS.move_to_end(key)
            return stmt
    stmt = build()
    with _PLANS_LOCK:
        _PLANS[key] = stmt
        while len(_PLANS) > _PLANS_MAX:
            _PLANS.popitem(last=False)
    return stmt


# --------------------------------------------------------------------------- the as-of rows


def asof_rows(scope: User | None, q: StatsQuery, open_only: bool = False,
              later: bool = True) -> Subquery:
    """One row per case of the cohort with its status and dates as of the cut-off.

    Columns: id, town_id, kind, source, category, village_id, unit_id, handler_id,
    received_on, accepted_on, resolution_level, month, status, closed_on, rating, due_on
    (and the notify, mediation, follow-up and review dates). With ``open_only`` only the
    cases open at the cut-off are returned. The query's values are bound in the statement.
    ``later`` false (``later_events`` found no event after the cut-off) reads no event.
    """
    return _asof(scope, q, open_only, _valued_binds(q), later)


#: the review stages' dates and the day of a request for judicial confirmation: facts with
#: their own day, compared with the cut-off directly
REVIEW_COLUMNS = (Case.review_requested_on, Case.review_due_on, Case.review_decided_on,
                  Case.reexam_requested_on, Case.reexam_due_on, Case.reexam_decided_on,
                  Case.judicial_applied_on)
#: the ``Case`` columns whose value on the cut-off is rebuilt from the events after it, with
#: how their values are read back from the events' JSON
ASOF_FIELDS: dict[str, str] = {
    "category": "text", "village_id": "int", "unit_id": "int", "handler_id": "int",
    "notify_due_on": "date", "mediated_on": "date", "mediation_due_on": "date",
    "follow_up_due_on": "date",
    "follow_up_on": "date", "due_on": "date", "closed_on": "date", "rating": "text",
}
#: the key under which a status change after the cut-off gives its ``from_status`` (not a
#: column name, so never a key of ``changes``)
_STATUS = "~status"


_WORK_MEM = re.compile(r"\d{1,6}(kB|MB|GB)")


def figures_settings(session: Session) -> None:
    """On PostgreSQL, set this transaction up for a figures statement (``SET LOCAL``: back
    to the server's settings at commit or rollback): ``STATS_WORK_MEM`` for its sorts and
    hashes, and no JIT. The statement's estimated cost (millions: a nested loop per case of
    the cohort) made the server compile it first, 3.6 s of a county year's 5.1 s at a
    million cases, for a run of about 1.4 s."""
    if _dialect() != "postgresql":
        return
    session.execute(text("SET LOCAL jit = off"))
    value = current_app.config.get("STATS_WORK_MEM")
    if value and _WORK_MEM.fullmatch(value):  # a literal in the SQL: only a plain size
        session.execute(text(f"SET LOCAL work_mem = '{value}'"))


def _dialect() -> str:
    """The database's dialect name ("postgresql", "sqlite"), or "" outside the app."""
    return db.engine.dialect.name if has_app_context() else ""


def _may_have_later(cohort: Any, end: Any) -> Any:
    """The cohort's cases that can have an event after ``end``: their latest event
    (``cases.last_event_at``) is at or after it, or unknown (NULL). The others have none."""
    return or_(cohort.c.last_event_at.is_(None), cohort.c.last_event_at >= end)


def _later_changes(cohort: Any, end: Any) -> Subquery:
    """Per case of ``cohort`` that has an event after ``end``: for each field of
    ``ASOF_FIELDS`` and for the status, whether an event after ``end`` changed it
    (``has_<field>``) and the value before the first such change (``was_<field>``).

    One pass over the events after the cut-off: each event's ``changes`` is unfolded into one
    row per field (``json_each``), status changes add a row of their own, the first row per
    case and field is kept (``row_number`` over ``at, id``) and folded back into one row per
    case. Cases without an event after the cut-off have no row: their values are the current
    ones, and for a past cut-off most cases are like that. Their events are not even looked
    for: ``cohort`` carries each case's ``last_event_at`` (the instant of its latest event,
    kept by the database), and only the cases where it is at or after ``end`` (or NULL) are
    probed.
    """
    ev = aliased(CaseEvent)
    columns = (ev.case_id, ev.at, ev.id, ev.from_status, ev.to_status, ev.changes)
    # only the cases whose latest event lies at or after the cut-off's end can have one
    # after it (``cases.last_event_at``, kept by the database: ``cases/last_event.py``;
    # NULL is probed too): a county year of a million cases probes ~18,000 cases, not 145,000
    may_have_later = _may_have_later(cohort, end)
    if _dialect() == "postgresql":
        # one probe of ix_case_events_case_at per such case: PostgreSQL would otherwise
        # hash-join a scan of every event after the cut-off (600,000 of 4.5 million rows for
        # a county year at a million cases) to find the few of the cohort (OFFSET 0 keeps the
        # planner from flattening the lateral subquery into that join)
        per_case = (select(*columns).where(ev.case_id == cohort.c.id, ev.at >= end)
                    .offset(0).lateral("case_later"))
        later = (select(per_case).select_from(cohort.join(per_case, true()))
                 .where(may_have_later).cte("later"))
    else:  # SQLite loops over the cohort and probes the same index by itself
        later = (select(*columns).join(cohort, cohort.c.id == ev.case_id)
                 .where(may_have_later, ev.at >= end).cte("later"))
    pairs = func.json_each(later.c.changes).table_valued("key", "value").alias("pairs")
    fields_changed = (
        select(later.c.case_id, later.c.at, later.c.id, pairs.c.key.label("field"),
               json_first(pairs.c.value).label("was"))
        .select_from(later.join(pairs, true()))
        .where(pairs.c.key.in_(list(ASOF_FIELDS)))
    )
    status_changed = (
        select(later.c.case_id, later.c.at, later.c.id, literal(_STATUS).label("field"),
               later.c.from_status.label("was"))
        .where(later.c.to_status.is_not(None),
               or_(later.c.from_status.is_(None), later.c.from_status != later.c.to_status))
    )
    changed = union_all(fields_changed, status_changed).subquery("changed")
    ranked = select(
        changed.c.case_id, changed.c.field, changed.c.was,
        func.row_number().over(partition_by=(changed.c.case_id, changed.c.field),
                               order_by=(changed.c.at, changed.c.id)).label("rank"),
    ).subquery("ranked")
    folded = [ranked.c.case_id]
    for name in (*ASOF_FIELDS, _STATUS):
        label = "status" if name == _STATUS else name
        is_it = ranked.c.field == name
        folded += [func.max(case((is_it, 1), else_=0)).label(f"has_{label}"),
                   func.max(case((is_it, ranked.c.was))).label(f"was_{label}")]
    return (select(*folded).where(ranked.c.rank == 1).group_by(ranked.c.case_id)
            .subquery("firsts"))


def later_events(session: Session, q: StatsQuery) -> bool:
    """Whether any event (of any town) lies after ``q``'s cut-off: one probe of
    ``ix_case_events_at``. Without one, every case's values on the cut-off are its current
    ones, and the as-of statement skips its pass over later events (a cut-off of today, the
    dashboard's default, at a million cases: ~0.7 s of probes that find nothing)."""
    probe = select(CaseEvent.id).where(CaseEvent.at >= end_of_local_day(q.as_of)).limit(1)
    return session.execute(probe).first() is not None


def _asof(scope: User | None, q: StatsQuery, open_only: bool, bind: Bind,
          later: bool = True, towns: Any = None) -> Subquery:
    """``asof_rows`` with the query's values taken from ``bind(name)``.

    The cohort (period, town, kind, source, month and scope: facts a later step never
    changes) is read once; the values on the cut-off come from ``_later_changes``, one pass
    over the events after the cut-off: a field's value then is the value before its first
    change after the cut-off, else the current one; the status is the ``from_status`` of the
    first status change after the cut-off, else the current status, and a case whose first
    status change after the cut-off is its registration was not registered yet. The
    narrowing filters on values that a step changes (category, village, unit) apply to the
    values on the cut-off. With ``later`` false (``later_events`` found none after the
    cut-off) the current values are the values on the cut-off and no event is read.
    ``towns`` (an expanding bound parameter of town ids) restricts the cohort to those
    towns (``stats.batch`` computes a county town by town).
    """
    inner = select(Case.id, Case.town_id, Case.kind, Case.source, Case.status,
                   Case.received_on, Case.accepted_on, Case.resolution_level, *REVIEW_COLUMNS,
                   *(getattr(Case, name) for name in ASOF_FIELDS),
                   *((Case.last_event_at,) if later else ())
                   ).where(Case.received_on >= bind("date_from"),
                           Case.received_on <= bind("date_to"),
                           # every case, read as the open run and the closed run of
                           # ix_cases_open_received: for the county (no town to lead with)
                           # the period is then two index ranges, not a scan of every case
                           Case.is_open.in_((True, False)))
    inner = _filtered(inner, q, bind)
    if towns is not None:
        inner = inner.where(Case.town_id.in_(towns))
    if scope is not None:
        inner = scope_cases(inner, scope)
    cohort = inner.cte("cohort")
    firsts = _later_changes(cohort, bind("end")) if later else None

    def on_cutoff(name: str, kind: str) -> Any:
        if firsts is None:
            return cohort.c[name]
        was = firsts.c[f"was_{name}"]
        value = (cast(was, Integer) if kind == "int" else iso_date(was) if kind == "date"
                 else cast(was, cohort.c[name].type))
        return case((firsts.c[f"has_{name}"] == 1, value), else_=cohort.c[name])

    def rows(values: dict[str, Any], status: Any) -> Select:
        stmt = select(
            cohort.c.id, cohort.c.town_id, cohort.c.kind, cohort.c.source,
            values["category"].label("category"), values["village_id"].label("village_id"),
            values["unit_id"].label("unit_id"), values["handler_id"].label("handler_id"),
            cohort.c.received_on, cohort.c.accepted_on,
            *(values[name].label(name) for name in ("notify_due_on", "mediated_on",
                                                   "mediation_due_on", "follow_up_due_on",
                                                   "follow_up_on")),
            cohort.c.resolution_level,
            *(cohort.c[col.key] for col in REVIEW_COLUMNS),
            year_month(cohort.c.received_on).label("month"),
            status.label("status"),
            values["closed_on"].label("closed_on"), values["rating"].label("rating"),
            values["due_on"].label("due_on"),
        ).select_from(cohort)
        if open_only:
            stmt = stmt.where(status.in_(sorted(OPEN_STATUSES)))
        if q.category:
            stmt = stmt.where(values["category"] == bind("category"))
        for name in ("village_id", "unit_id"):
            wanted = getattr(q, name)
            if wanted is not None:
                stmt = stmt.where(values[name].is_(None) if wanted == NONE_ID
                                  else values[name] == bind(name))
        return stmt

    current = {name: cohort.c[name] for name in ASOF_FIELDS}
    if firsts is None:
        return rows(current, cohort.c.status).subquery("asof")
    # two runs: the cases whose latest event lies before the cut-off's end take their
    # current values as they are (no join, no CASE per field: most of a past year's cohort);
    # the others are joined to their first changes after the cut-off
    end = bind("end")
    quiet = rows(current, cohort.c.status).where(cohort.c.last_event_at < end)
    status = case((firsts.c.has_status == 1, firsts.c.was_status), else_=cohort.c.status)
    changed = (rows({name: on_cutoff(name, kind) for name, kind in ASOF_FIELDS.items()}, status)
               .select_from(cohort.outerjoin(firsts, firsts.c.case_id == cohort.c.id))
               .where(_may_have_later(cohort, end),
                      # registered after the cut-off: its first status change since is the
                      # registration
                      or_(firsts.c.has_status.is_(None), firsts.c.has_status == 0,
                          firsts.c.was_status.is_not(None))))
    return union_all(quiet, changed).subquery("asof")


def _filtered(stmt: Select, q: StatsQuery, bind: Bind) -> Select:
    """Apply the query's narrowing filters on facts no step changes (town, kind, source,
    month) to a select over ``Case``, values from ``bind``; category, village and unit are
    filtered on their values on the cut-off (``_asof``)."""
    if q.town_id is not None:
        stmt = stmt.where(Case.town_id == bind("town_id"))
    if q.kind:
        stmt = stmt.where(Case.kind == bind("kind"))
    if q.source:
        stmt = stmt.where(Case.source == bind("source"))
    if q.month:
        stmt = stmt.where(year_month(Case.received_on) == bind("month"))
    return stmt


def _metric_columns(r: Subquery, cutoff: Any, metrics: Sequence[str]) -> list:
    """``SUM(CASE WHEN predicate THEN 1 ELSE 0 END)`` of each metric over the as-of rows;
    ``cutoff`` is the cut-off date or the parameter bound to it."""
    cols = {name: r.c[name] for name in r.c.keys()}
    return [func.coalesce(func.sum(case((METRICS[k].predicate(cols, cutoff), 1), else_=0)), 0)
            .label(k) for k in metrics]


# --------------------------------------------------------------------------- figures


def _figures_stmt(scope: User | None, q: StatsQuery, group_by: tuple[str, ...],
                  metrics: tuple[str, ...], later: bool = True) -> Select:
    """The GROUP BY of ``figures``, with its values left as named parameters."""
    bind = _named_binds()
    r = _asof(scope, q, False, bind, later)
    dims = [r.c[DIMENSIONS[d]].label(d) for d in group_by]
    stmt = select(*dims, *_metric_columns(r, bind("cutoff"), metrics))
    return stmt.group_by(*dims) if dims else stmt


def figures(session: Session, scope: User | None, q: StatsQuery,
            group_by: Sequence[str] = (), metrics: Sequence[str] | None = None
            ) -> list[tuple[dict[str, Any], dict[str, int]]]:
    """Counts of every metric (or of ``metrics``) per group, in one GROUP BY query.

    Returns ``[(key, counts)]`` where ``key`` maps each dimension to its raw value (kind code,
    village id, "YYYY-MM", ...); without ``group_by`` there is exactly one row, the totals.
    The statement is built once per shape of query and scope and reused with new values.
    """
    from casetrack.stats import batch  # prefetched in this request, or cached

    metric_keys = tuple(metrics or METRICS)
    dims = tuple(group_by)
    return batch.figures(session, scope, q, dims, metric_keys,
                         lambda: _figures_rows(session, scope, q, dims, metric_keys))


def _figures_rows(session: Session, scope: User | None, q: StatsQuery, dims: tuple[str, ...],
                  metric_keys: tuple[str, ...]) -> list[tuple[dict[str, Any], dict[str, int]]]:
    """``figures`` computed by the database."""
    later = later_events(session, q)
    stmt = _plan(("figures", _dialect(), _shape(q), _scope_key(scope), dims, metric_keys,
                  later),
                 lambda: _figures_stmt(scope, q, dims, metric_keys, later))
    out = []
    n = len(dims)
    figures_settings(session)
    for row in session.execute(stmt, _values(q)):
        out.append((dict(zip(dims, row[:n], strict=True)),
                    {k: int(v or 0) for k, v in zip(metric_keys, row[n:], strict=True)}))
    if not dims and not out:
        out.append(({}, {k: 0 for k in metric_keys}))
    return out


def totals(session: Session, scope: User | None, q: StatsQuery) -> FigureRow:
    """The cohort's figures and rates, ungrouped."""
    _, counts = figures(session, scope, q)[0]
    return FigureRow({}, N_("合计"), counts)


def sum_rows(rows, label: str = N_("合计")) -> FigureRow:
    """The totals of rows that partition a cohort (e.g. the per-kind rows), rates included."""
    counts = {m.key: 0 for m in METRIC_LIST}
    for row in rows:
        for k in counts:
            counts[k] += row.counts.get(k, 0)
    return FigureRow({}, label, counts)


def breakdown(session: Session, scope: User | None, q: StatsQuery, dim: str) -> list[FigureRow]:
    """Figures by one dimension, labelled, in a stable order, with zero rows for every
    village of the scope, every month of the period, both kinds, every source of the kinds
    in view and every unit of the town."""
    rows = {key[dim]: counts for key, counts in figures(session, scope, q, (dim,))}
    zero = {m.key: 0 for m in METRIC_LIST}
    labels = _labels(session, scope, q, dim, list(rows))
    ordered = list(labels)
    for value in rows:
        if value not in labels:
            ordered.append(value)
    return [FigureRow({dim: value}, labels.get(value, str(value) if value is not None
                                                 else N_("未指定")), rows.get(value, zero))
            for value in ordered]


def summary(session: Session, scope: User | None, q: StatsQuery) -> Summary:
    """Totals, per kind and per source, with every rate: the figures of the annual sentence,
    ``flask stats summary`` and ``GET /api/v1/stats/summary``.

    One GROUP BY over (kind, source) gives all three, so the summary costs one query.
    """
    grouped = figures(session, scope, q, ("kind", "source"))
    metric_keys = [m.key for m in METRIC_LIST]

    def add(acc: dict, counts: dict) -> None:
        for k in metric_keys:
            acc[k] = acc.get(k, 0) + counts[k]

    total: dict[str, int] = {k: 0 for k in metric_keys}
    by_kind: dict[str, dict[str, int]] = {}
    by_source: dict[str, dict[str, int]] = {}
    for key, counts in grouped:
        add(total, counts)
        add(by_kind.setdefault(key["kind"], {}), counts)
        add(by_source.setdefault(key["source"], {}), counts)
    zero = {k: 0 for k in metric_keys}
    kinds = [q.kind] if q.kind else list(case_kinds.codes())
    sources = ([q.source] if q.source
               else [s for k in kinds for s in case_kinds.kind_of(k).sources])
    sources += [s for s in by_source if s not in sources]
    return Summary(
        query=q,
        town_name=scope_name(session, scope, q),
        totals=FigureRow({}, N_("合计"), total),
        by_kind=[FigureRow({"kind": k}, case_kinds.labels().get(k, k), by_kind.get(k, zero))
                 for k in kinds],
        by_source=[FigureRow({"source": s}, case_kinds.sources().get(s, s), by_source.get(s, zero))
                   for s in sources],
    )


def _overdue_stmt(scope: User | None, q: StatsQuery, limited: bool,
                  later: bool = True) -> Select:
    """Ids and as-of due dates of the overdue cases, most overdue first, values as parameters
    (and the ``limit`` parameter when ``limited``)."""
    bind = _named_binds()
    r = _asof(scope, q, True, bind, later)
    cols = {name: r.c[name] for name in r.c.keys()}
    stmt = (select(r.c.id, r.c.due_on).where(METRICS["overdue"].predicate(cols, bind("cutoff")))
            .order_by(r.c.due_on, r.c.id))
    return stmt.limit(bindparam("limit", type_=Integer())) if limited else stmt


def overdue_cases(session: Session, scope: User | None, q: StatsQuery,
                  limit: int | None = None) -> list[OverdueCase]:
    """Open cases past their due date at the cut-off, most overdue first.

    Two steps: the as-of rows give the ids and due dates (only cases that can have been open
    are reconstructed), then the cases' names are loaded by primary key.
    """
    params = _values(q) | ({"limit": limit} if limit else {})
    from casetrack.stats import batch  # cached by the towns' write generations

    rows = batch.prefetched_overdue(scope, q, limit)
    if rows is None:
        def compute() -> list:
            later = later_events(session, q)
            stmt = _plan(("overdue", _dialect(), _shape(q), _scope_key(scope), bool(limit),
                          later),
                         lambda: _overdue_stmt(scope, q, bool(limit), later))
            figures_settings(session)
            return [(cid, str(due)) for cid, due in session.execute(stmt, params)]
        rows = batch.cached(session, scope, q, ("overdue", limit), compute)
    found = [(cid, dt.date.fromisoformat(str(due)[:10])) for cid, due in rows]
    handler = aliased(User)
    facts: dict[int, tuple] = {}
    for i in range(0, len(found), 500):
        ids = [cid for cid, _ in found[i:i + 500]]
        rows = session.execute(
            select(Case.id, Case.number, Case.title, Case.kind, Village.name, Unit.name,
                   handler.name, Case.due_is_exact)
            .outerjoin(Village, Village.id == Case.village_id)
            .outerjoin(Unit, Unit.id == Case.unit_id)
            .outerjoin(handler, handler.id == Case.handler_id)
            .where(Case.id.in_(ids)))
        facts.update({row[0]: row[1:] for row in rows})
    out = []
    for cid, due in found:
        number, title, kind, village, unit, hname, exact = facts[cid]
        out.append(OverdueCase(cid, number, title, kind, village or "", unit or "",
                               hname or "", due, (q.as_of - due).days, bool(exact)))
    return out


def metric_cases(scope: User | None, q: StatsQuery, metric: str,
                 later: bool = True) -> Select:
    """``select(Case)`` of exactly the cases a figure counts (the drill-down list);
    ``later`` as for ``asof_rows``."""
    r = asof_rows(scope, q, later=later)
    cols = {name: r.c[name] for name in r.c.keys()}
    ids = select(r.c.id).where(METRICS[metric].predicate(cols, q.as_of))
    return select(Case).where(Case.id.in_(ids)).order_by(Case.received_on, Case.id)


def metric_rows(scope: User | None, q: StatsQuery, metric: str,
                later: bool = True) -> Select:
    """Like ``metric_cases`` but each row is ``(Case, status_asof, due_asof)``: the list
    page shows the status and due date the figure was counted with."""
    r = asof_rows(scope, q, later=later)
    cols = {name: r.c[name] for name in r.c.keys()}
    return (select(Case, r.c.status.label("status_asof"), r.c.due_on.label("due_asof"))
            .join(r, r.c.id == Case.id)
            .where(METRICS[metric].predicate(cols, q.as_of))
            .order_by(Case.received_on, Case.id))


def metric_ids(scope: User | None, q: StatsQuery, metric: str,
               later: bool = True) -> Select:
    """The rows of ``metric_rows`` without the case: ``(id, status_asof, due_asof)``, in
    the same order (day received, id), read from the as-of rows alone. The drill-down
    counts and pages these (a county year: 100,000 and more narrow rows, not as many whole
    cases joined back and sorted) and loads the page's hundred cases by id."""
    r = asof_rows(scope, q, later=later)
    cols = {name: r.c[name] for name in r.c.keys()}
    return (select(r.c.id, r.c.status.label("status_asof"), r.c.due_on.label("due_asof"))
            .where(METRICS[metric].predicate(cols, q.as_of))
            .order_by(r.c.received_on, r.c.id))


# --------------------------------------------------------------------------- labels


def scope_name(session: Session, scope: User | None, q: StatsQuery) -> str:
    """The heading's name: a grid worker's own villages, the town of the query or the
    user, else the county."""
    if scope is not None and Role(scope.role) is Role.GRID_WORKER and scope.villages \
            and not q.town_id:
        return "、".join(v.name for v in sorted(scope.villages, key=lambda v: (v.sort_order, v.id)))
    town_id = q.town_id or (scope.town_id if scope is not None else None)
    if town_id is not None:
        town = session.get(Town, town_id)
        if town is not None:
            return town.name
    if scope is not None and scope.county_code:
        name = session.scalar(select(Town.county_name)
                              .where(Town.county_code == scope.county_code).limit(1))
        return name or N_("全县")
    return N_("全部乡镇")


def scope_town_id(scope: User | None, q: StatsQuery) -> int | None:
    """The single town the figures are about, if there is one."""
    return q.town_id or (scope.town_id if scope is not None else None)


def villages_in_scope(session: Session, scope: User | None, q: StatsQuery) -> list[Village]:
    """Villages shown in by-village tables (zeros included): a grid worker's own villages,
    else every village of the town in view."""
    if scope is not None and Role(scope.role) is Role.GRID_WORKER:
        return sorted(scope.villages, key=lambda v: (v.sort_order, v.id))
    town_id = scope_town_id(scope, q)
    if town_id is None:
        return []
    return list(session.scalars(select(Village).where(Village.town_id == town_id)
                                .order_by(Village.sort_order, Village.id)))


def _months(q: StatsQuery) -> list[str]:
    months, y, m = [], q.date_from.year, q.date_from.month
    while (y, m) <= (q.date_to.year, q.date_to.month):
        months.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months


def month_label(value: str) -> str:
    """``2022-03`` → ``2022年3月``."""
    y, m = value.split("-")
    return f"{int(y)}年{int(m)}月"


def _labels(session: Session, scope: User | None, q: StatsQuery, dim: str,
            present: list) -> dict[Any, str]:
    """Ordered {value: label} of a dimension, including the zero rows to show."""
    if dim == "kind":
        kinds = [q.kind] if q.kind else list(case_kinds.codes())
        return {k: case_kinds.labels().get(k, k) for k in kinds}
    if dim == "source":
        kinds = [q.kind] if q.kind else list(case_kinds.codes())
        return {s: label for k in kinds for s, label in case_kinds.kind_of(k).sources.items()
                if not q.source or s == q.source}
    if dim == "village":
        labels: dict[Any, str] = {v.id: v.name for v in villages_in_scope(session, scope, q)
                                  if q.village_id in (None, v.id)}
        missing = [v for v in present if v is not None and v not in labels]
        if missing:
            labels.update(dict(session.execute(select(Village.id, Village.name)
                                               .where(Village.id.in_(missing))).all()))
        if None in present:
            labels[None] = N_("未指定村（居）")
        return labels
    if dim == "unit":
        town_id = scope_town_id(scope, q)
        labels = {}
        if town_id is not None and q.unit_id is None:
            labels = dict(session.execute(select(Unit.id, Unit.name)
                                          .where(Unit.town_id == town_id).order_by(Unit.id)).all())
        missing = [v for v in present if v is not None and v not in labels]
        if missing:
            labels.update(dict(session.execute(select(Unit.id, Unit.name)
                                               .where(Unit.id.in_(missing))).all()))
        if None in present:
            labels[None] = N_("未交办")
        return labels
    if dim == "month":
        return {m: month_label(m) for m in _months(q) if q.month in (None, m)}
    if dim == "category":
        return {c: c for c in case_kinds.all_categories() if c in present}
    if dim == "town":
        ids = [v for v in present if v is not None]
        return dict(session.execute(select(Town.id, Town.name).where(Town.id.in_(ids))
                                    .order_by(Town.name)).all()) if ids else {}
    raise ValueError(f"unknown dimension {dim!r}")

