"""The dashboard: figures for a period and a cut-off, each a link to its cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import lru_cache
from urllib.parse import quote_plus

from babel.dates import format_skeleton
from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from casetrack.auth.models import Role, User
from casetrack.auth.permissions import require_filters_in_scope
from casetrack.cases import display, kinds, queues, rules
from casetrack.cases.models import Case
from casetrack.cases.queries import count_capped
from casetrack.core.errorpages import render_error
from casetrack.core.errors import NotFound
from casetrack.core.i18n import N_, Msg, tr
from casetrack.core.i18n import gettext as _
from casetrack.core.params import (
    MAX_INT,
    REPORT_MIN_DAY,
    page_arg,
    parse_day,
    report_day_in_range,
    report_max_day,
)
from casetrack.core.templating import add_nav_provider
from casetrack.core.time import app_now, local_date
from casetrack.extensions import db
from casetrack.reminders.policy import load_policy
from casetrack.stats import batch
from casetrack.stats import queries as sq
from casetrack.stats.charts import HBar, Series, bar_chart, hbar_chart
from casetrack.stats.metrics import HEADLINE, METRIC_LIST, METRICS, RATE_LIST

bp = Blueprint("stats", __name__, url_prefix="/dashboard")

#: roles that see the dashboard (each within its scope: a grid worker sees their villages)
DASHBOARD_ROLES = frozenset({Role.GRID_WORKER, Role.SUPERVISOR, Role.LEADER, Role.ADMIN,
                             Role.COUNTY})
DRILL_PAGE_SIZE = 100
#: overdue cases listed on the dashboard (the rest through the 已超期 figure's list)
OVERDUE_SHOWN = 200


def init_app(app: Flask) -> None:
    """Register the blueprint and the 统计 link of the top navigation."""
    app.register_blueprint(bp)

    def nav() -> list[dict]:
        if Role(current_user.role) not in DASHBOARD_ROLES:
            return []
        return [{"url": url_for("stats.dashboard"), "label": _("统计"), "badge": None}]

    add_nav_provider(app, nav)


def _user() -> User:
    user = current_user._get_current_object()
    if Role(user.role) not in DASHBOARD_ROLES:
        abort(403)
    return user


#: the period's arguments, with the label the dashboard's form gives each
PERIOD_ARGS = {"from": N_("统计期间起"), "to": N_("统计期间止"), "as_of": N_("截至日期")}


def period_days(args: Mapping[str, str],
                today: dt.date) -> tuple[dict[str, dt.date | None], list[Msg]]:
    """The period's days as given (None: not given, or refused), and why each refused or
    changed one is: no date, a day outside ``REPORT_MIN_DAY`` .. a year from today, a start
    after today or after the end (then the default period), an end after today (counted to
    today), a cut-off after today (today's status: figures of a day still to come would be
    a projection shown as fact) or before the period's start (the default cut-off). The
    pages say so (400) and count what they say."""
    days: dict[str, dt.date | None] = {}
    problems: list[Msg] = []
    for name, label in PERIOD_ARGS.items():
        raw = (args.get(name) or "").strip()
        day = parse_day(raw) if raw else None
        if raw and day is None and not _iso_day(raw):
            problems.append(Msg(N_("%(field)s“%(value)s”不是有效日期（应为 YYYY-MM-DD），"
                                   "本次未采用"), field=label, value=raw[:20]))
        elif raw and (day is None or not report_day_in_range(day, today)):
            problems.append(Msg(N_("%(field)s“%(value)s”超出可统计的范围（%(first)s 至 "
                                   "%(last)s），本次未采用"), field=label, value=raw,
                                first=REPORT_MIN_DAY.isoformat(),
                                last=report_max_day(today).isoformat()))
            day = None
        days[name] = day
    start, end, as_of = days["from"], days["to"], days["as_of"]
    if start is not None and start > today:
        # a period still to come counts nothing (and with no end, the end would default to
        # today, before the start): not a period to turn round silently
        problems.append(Msg(N_("统计期间起（%(start)s）晚于今天（%(today)s），"
                               "本次按默认期间统计"), start=start.isoformat(),
                            today=today.isoformat()))
        days["from"] = start = None
    if end is not None and end > today:
        problems.append(Msg(N_("统计期间止（%(end)s）晚于今天（%(today)s），本次统计至今天"),
                            end=end.isoformat(), today=today.isoformat()))
        days["to"] = end = today
    if start is not None and end is not None and start > end:
        problems.append(Msg(N_("统计期间起（%(start)s）晚于统计期间止（%(end)s），"
                               "本次按默认期间统计"), start=start.isoformat(),
                            end=end.isoformat()))
        days["from"] = days["to"] = start = end = None
    if as_of is not None and as_of > today:
        problems.append(Msg(N_("截至日期（%(as_of)s）晚于今天（%(today)s），本次按今天的状态"
                               "统计"), as_of=as_of.isoformat(), today=today.isoformat()))
        days["as_of"] = as_of = today
    first = start or dt.date((end or today).year, 1, 1)
    if as_of is not None and as_of < first:
        problems.append(Msg(N_("截至日期（%(as_of)s）早于统计期间起（%(start)s），"
                               "本次按默认截至日期统计"), as_of=as_of.isoformat(),
                            start=first.isoformat()))
        days["as_of"] = None
    return days, problems


def month_of(value: str) -> str | None:
    """``value`` as a month ``YYYY-MM`` between ``REPORT_MIN_DAY``'s year and 2999, or None
    (not a month, or not one any figure can count)."""
    if len(value) != 7 or value[4] != "-" or not (value[:4] + value[5:]).isdigit():
        return None
    try:
        first = dt.date.fromisoformat(value + "-01")
    except ValueError:
        return None
    return value if first.year >= REPORT_MIN_DAY.year else None


def _iso_day(value: str) -> bool:
    """``value`` is a calendar day in ISO form (even one outside every range)."""
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return len(value) == 10


#: the narrowing arguments (besides ``month``) and the dimension each names
NARROWING_ARGS = {"kind": "kind", "source": "source", "category": "category",
                  "village_id": "village", "unit_id": "unit", "town_id": "town"}


def _narrowing_value(name: str, raw: str) -> str | int | None:
    """The narrowing ``name`` typed as ``raw``, or None (none of its values: an unknown
    kind, a village id that is no number)."""
    if name.endswith("_id"):
        return int(raw) if raw.isascii() and raw.isdigit() and int(raw) <= MAX_INT else None
    if name == "kind":
        return raw if raw in kinds.codes() else None
    if name == "source":
        return raw if raw in rules.SOURCE_LABELS else None
    return rules.known_category(raw)


def read_query(args: Mapping[str, str], today: dt.date) -> tuple[sq.StatsQuery, list[Msg]]:
    """The period, cut-off and narrowing filters from query-string arguments, and why any
    argument was not taken as given (``period_days``; a narrowing that is none of its
    values, a month that is no month or lies outside the period).

    Defaults: this year so far; the cut-off is the period's end, or today while it runs.
    Values outside the user's scope are refused by ``scoped_query``.
    """
    days, problems = period_days(args, today)
    date_to = days["to"] or today
    # only the end given: the year of that end so far (to=2025-06-30 is 2025's first half,
    # not the span from then to this January)
    date_from = days["from"] or dt.date(date_to.year, 1, 1)
    narrowing: dict[str, str | int | None] = {}
    for name, dim in NARROWING_ARGS.items():
        raw = (args.get(name) or "").strip()
        narrowing[name] = _narrowing_value(name, raw) if raw else None
        if raw and narrowing[name] is None:
            problems.append(Msg(N_("%(field)s“%(value)s”无效，本次未按该条件统计"),
                                field=sq.DIMENSION_LABELS[dim], value=raw[:20]))
    raw_month = (args.get("month") or "").strip()
    month = month_of(raw_month) if raw_month else None
    if raw_month and month is None:
        problems.append(Msg(N_("月份“%(value)s”不是有效月份（应为 YYYY-MM），本次未采用"),
                            value=raw_month[:20]))
    elif month and not date_from.strftime("%Y-%m") <= month <= date_to.strftime("%Y-%m"):
        problems.append(Msg(N_("月份“%(value)s”不在统计期间（%(start)s至%(end)s）内，"
                               "本次未采用"), value=month, start=date_from.isoformat(),
                            end=date_to.isoformat()))
        month = None
    # the cut-off defaults to the period's end, or today while the period runs
    q = sq.StatsQuery(date_from, date_to, days["as_of"] or min(date_to, today), month=month,
                      **narrowing)
    return q, problems


def parse_query(args: Mapping[str, str], today: dt.date) -> sq.StatsQuery:
    """``read_query``'s query alone."""
    return read_query(args, today)[0]


def query_problems(args: Mapping[str, str], today: dt.date) -> list[Msg]:
    """``read_query``'s reasons alone (a figure's ledger refuses to print past any)."""
    return read_query(args, today)[1]


def scoped_query(user: User, args: Mapping[str, str]) -> sq.StatsQuery:
    """``parse_query`` of the request, refused with 404 when a filter names a town, village
    or unit outside the user's scope (no other town's names on any page); the page says
    which kind of filter it was."""
    q = parse_query(args, _today())
    try:
        require_filters_in_scope(db.session, user, town_id=q.town_id, village_id=q.village_id,
                                 unit_id=q.unit_id)
    except NotFound:
        abort(make_response(render_error(404, _(
            "筛选的乡镇、村（居）或承办单位不存在或不在您的查看范围内"))))
    return q


def _today() -> dt.date:
    return local_date(app_now())


def _linker(q: sq.StatsQuery):
    """``link(metric, **dims)``: URL of the cases a figure counts, the very URL of
    ``url_for("stats.cases", metric=metric, **q.narrowed(**dims).params())``.

    A dashboard holds some 600 of these links: built with ``url_for`` (a narrowed copy of the
    query, its parameters and their escaping each time) they cost half the page. Here the
    route, the fixed part and each distinct value are encoded once."""
    base = url_for("stats.cases")
    params = q.params()
    fixed = "&".join(f"{k}={_quote(v)}" for k, v in list(params.items())[:3])
    current = {f.name: getattr(q, f.name) for f in fields(q)
               if f.name not in ("date_from", "date_to", "as_of")}

    def link(metric: str, **dims) -> str:
        values = current
        if dims:
            values = dict(current)
            for k, v in dims.items():
                k = _DIM_FIELDS.get(k, k)
                if k not in values:
                    raise TypeError(f"unknown dimension {k!r}")
                values[k] = v
        parts = [f"metric={_quote(metric)}", fixed]
        parts += [f"{k}={_quote(str(v))}" for k, v in values.items() if v is not None]
        return f"{base}?{'&'.join(parts)}"

    return link


#: dimension names of ``StatsQuery.narrowed`` that are stored under another field
_DIM_FIELDS = {"village": "village_id", "unit": "unit_id", "town": "town_id"}


@lru_cache(maxsize=4096)
def _quote(value: str) -> str:
    """A query-string value escaped as ``url_for`` does (Werkzeug's ``_urlencode``)."""
    return quote_plus(value, safe="!$'()*,/:;?@")


def _hbar(rows: list[sq.FigureRow], dim: str, link, title: str) -> Markup:
    """A horizontal chart of ``rows`` (one per village or category): total and closed."""
    bars = []
    for r in rows:
        value = r.key[dim] if r.key[dim] is not None else 0
        bars.append(HBar(str(tr(r.label)), r.counts["total"], r.counts["closed"],
                         link("total", **{dim: value}), link("closed", **{dim: value})))
    return hbar_chart(bars, _(METRICS["total"].label), _(METRICS["closed"].label), title)


@bp.route("")
@login_required
def dashboard():
    """Figure tiles, rates with numerator and denominator, by month (chart), by kind and
    source, by village (all, zeros included), by category, by unit, and the overdue list."""
    user = _user()
    q = scoped_query(user, request.args)
    # a period refused is said on the page (400); the default period is counted instead
    problems = period_problems(request.args)
    session = db.session
    # the whole county is broken down by town; by village and unit once narrowed to a town
    # (a hundred towns' villages and units in one page would be thousands of rows)
    county = Role(user.role) is Role.COUNTY
    whole_county = county and q.town_id is None
    groupings = tuple(gr for gr in batch.DASHBOARD_GROUPINGS
                      if not (whole_county and gr in (("village",), ("unit",))))
    # every grouping of the page in one statement (the as-of rows built once), or cached
    batch.prefetch(session, user, q, groupings + ((("town",),) if county else ()),
                   overdue_limit=OVERDUE_SHOWN)
    link = _linker(q)
    months = sq.breakdown(session, user, q, "month")
    month_names = [format_skeleton("yMMM", dt.date.fromisoformat(r.key["month"] + "-01"),
                                   locale=get_locale()) for r in months]
    chart = bar_chart(
        [format_skeleton("MMM" if q.date_from.year == q.date_to.year else "yMMM",
                         dt.date.fromisoformat(r.key["month"] + "-01"), locale=get_locale())
         for r in months],
        [Series("total", _(METRICS["total"].label), "#b42318"),
         Series("closed", _(METRICS["closed"].label), "#1a7f37"),
         Series("overdue", _(METRICS["overdue"].label), "#9a6700")],
        lambda i, key: months[i].counts[key],
        lambda i, key: link(key, month=months[i].key["month"]),
        _("逐月收案、办结与超期"),
    )
    actions = action_panel(user, _today())
    overdue = sq.overdue_cases(session, user, q, limit=OVERDUE_SHOWN)
    by_village = [] if whole_county else sq.breakdown(session, user, q, "village")
    by_category = sq.breakdown(session, user, q, "category")
    return render_template(
        "stats/dashboard.html", q=q, link=link,
        name=sq.scope_name(session, user, q),
        totals=sq.totals(session, user, q),
        by_kind=sq.breakdown(session, user, q, "kind"),
        by_source=sq.breakdown(session, user, q, "source"),
        by_village=by_village, by_category=by_category,
        village_chart=_hbar(by_village, "village", link, _("按村（居）")) if by_village else "",
        category_chart=_hbar(by_category, "category", link, _("按类别")),
        by_unit=[] if whole_county else sq.breakdown(session, user, q, "unit"),
        by_town=sq.breakdown(session, user, q, "town") if county else [],
        months=[replace(r, label=name) for r, name in zip(months, month_names, strict=True)],
        chart=chart, overdue=overdue,
        headline=HEADLINE, metrics=METRICS, metric_list=METRIC_LIST, rate_list=RATE_LIST,
        month_param=q.as_of.strftime("%Y-%m"), is_admin=Role(user.role) is Role.ADMIN,
        actions=actions, span=received_span(q),
        # every narrowing in force, named in the caption (the month by the span's dates) and
        # kept by the form as hidden fields
        narrowing=[(sq.DIMENSION_LABELS[key], value) for key, value in
                   _narrowing_labels(q).items() if key != "month"],
        kept={k: v for k, v in q.params().items() if k not in ("from", "to", "as_of")},
        # the overdue list links each case to /cases/<id>: the prefix built once
        case_url=url_for("cases.list_cases"),
    ), 400 if problems else 200


def received_span(q: sq.StatsQuery) -> tuple[dt.date, dt.date]:
    """The first and last day of receipt the figures count: the period, or the part of it
    in the month narrowed to."""
    if not q.month:
        return q.date_from, q.date_to
    first = dt.date.fromisoformat(q.month + "-01")
    last = (first + dt.timedelta(days=31)).replace(day=1) - dt.timedelta(days=1)
    return max(first, q.date_from), min(last, q.date_to)


def period_problems(args: Mapping[str, str]) -> list[Msg]:
    """``read_query``'s reasons of the request, each flashed (shown on the page)."""
    problems = query_problems(args, _today())
    for problem in problems:
        flash(tr(problem), "error")
    return problems


@dataclass
class ActionFigure:
    """One "needs action now" figure of the dashboard: a queue's count and its page."""

    key: str
    label: str
    count: int
    more: bool
    url: str

    @property
    def count_label(self) -> str:
        return f"{self.count:,}+" if self.more else f"{self.count:,}"


#: the queues a dashboard reader acts on first, today (not the period's figures); a kind's
#: queue (reviews: the petition's 复查/复核 waiting for a decision) when that kind is installed
ACTION_QUEUES = ("overdue", "due_soon", "approvals", "reviews")


def action_panel(user: User, today: dt.date) -> list[ActionFigure]:
    """Overdue, due soon and pending approvals in the user's scope, as of today."""
    town_id = user.town_id
    leader_days = (load_policy(db.session, town_id).leader_overdue_days if town_id is not None
                   else 3)
    ctx = queues.QueueContext(user=user, today=today, yellow_days=display.yellow_days(town_id),
                              leader_overdue_days=leader_days)
    out = []
    for key in (k for k in ACTION_QUEUES if k in queues.QUEUES):
        queue = queues.QUEUES[key]
        count, more = count_capped(db.session, queues.queue_select(queue, ctx))
        out.append(ActionFigure(key, queue.label, count, more, url_for("work.queue", key=key)))
    return out


@bp.route("/cases")
@login_required
def cases():
    """The list of exactly the cases a dashboard figure counts, with the status and due
    date they had at the cut-off."""
    user = _user()
    metric = request.args.get("metric", "total")
    if metric not in METRICS:
        abort(404)
    q = scoped_query(user, request.args)
    problems = period_problems(request.args)
    page = page_arg()
    found = batch.drill_down(db.session, user, q, metric, page, DRILL_PAGE_SIZE,
                             lambda: _drill_down_page(user, q, metric, page))
    last = max(1, -(-found["total"] // DRILL_PAGE_SIZE))
    if page > last:
        # a page past the end (an old link, a typo): the last page, said, not an empty page
        # under "共 N 件"
        past_end = Msg(N_("第 %(page)s 页超出列表范围（共 %(pages)s 页），本次显示最后一页"),
                       page=page, pages=last)
        flash(tr(past_end), "error")
        problems = [*problems, past_end]
        page = last
        found = batch.drill_down(db.session, user, q, metric, page, DRILL_PAGE_SIZE,
                                 lambda: _drill_down_page(user, q, metric, page))
    # the cases of the page by id, their villages in one more query (not one per village)
    by_id = {c.id: c for c in db.session.scalars(
        select(Case).where(Case.id.in_([r[0] for r in found["rows"]]))
        .options(selectinload(Case.village)))}
    rows = [(by_id[cid], status_asof, due_asof and dt.date.fromisoformat(due_asof))
            for cid, status_asof, due_asof in found["rows"] if cid in by_id]
    total = found["total"]
    pages = max(1, -(-total // DRILL_PAGE_SIZE))
    narrowing = [(sq.DIMENSION_LABELS[label_key], value) for label_key, value in
                 _narrowing_labels(q).items()]
    return render_template(
        "stats/cases.html", q=q, metric=METRICS[metric], metric_key=metric, rows=rows,
        total=total, page=page, pages=pages, narrowing=narrowing,
        name=sq.scope_name(db.session, user, q), page_size=DRILL_PAGE_SIZE,
        status_labels=rules.STATUS_LABELS, kind_labels=rules.KIND_LABELS,
        source_labels=rules.SOURCE_LABELS, yellow_days=display.yellow_days(),
        # each row links to /cases/<id>: the prefix built once, not a url_for per row
        case_url=url_for("cases.list_cases"),
    ), 400 if problems else 200


def _drill_down_page(user: User, q: sq.StatsQuery, metric: str, page: int) -> dict:
    """One page of a figure's cases as ``{"rows": [[case id, status on the cut-off, due date
    on the cut-off (ISO) or None]], "total": cases counted}``: JSON, so that a cut-off's
    page is cached like its figures (``batch.cached``)."""
    stmt = sq.metric_ids(user, q, metric, sq.later_events(db.session, q))
    sq.figures_settings(db.session)  # the as-of rows of a county year, counted and paged
    # the page and the total in one statement (the as-of rows are built once, not once
    # more for a count)
    found = db.session.execute(stmt.add_columns(func.count().over().label("total"))
                               .limit(DRILL_PAGE_SIZE)
                               .offset((page - 1) * DRILL_PAGE_SIZE)).all()
    if found:
        total = found[0].total
    elif page == 1:
        total = 0
    else:  # a page past the end: the count on its own
        total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    return {"rows": [[cid, str(status), None if due is None else str(due)[:10]]
                     for cid, status, due, _ in found], "total": total}


def _narrowing_labels(q: sq.StatsQuery) -> dict[str, str]:
    """Human labels of the filters a drill-down link set."""
    from casetrack.org.models import Town, Unit, Village

    out: dict[str, str] = {}
    if q.kind:
        out["kind"] = rules.KIND_LABELS.get(q.kind, q.kind)
    if q.source:
        out["source"] = rules.SOURCE_LABELS.get(q.source, q.source)
    if q.village_id is not None:
        v = db.session.get(Village, q.village_id) if q.village_id else None
        out["village"] = v.name if v else N_("未指定村（居）")
    if q.category:
        out["category"] = q.category
    if q.unit_id is not None:
        u = db.session.get(Unit, q.unit_id) if q.unit_id else None
        out["unit"] = u.name if u else N_("未交办")
    if q.month:
        out["month"] = sq.month_label(q.month)
    if q.town_id:
        t = db.session.get(Town, q.town_id)
        out["town"] = t.name if t else str(q.town_id)
    return out
