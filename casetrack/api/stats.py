"""The town's figures over the API: the same summary, with the same parameters, as
``flask stats summary`` (period by received date, status as of a cut-off day)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from casetrack.api.core import api_route, current_api_user
from casetrack.api.schema import BadInput, Date, Integer, ListOf, MapOf, Number, Schema, String
from casetrack.auth.models import Role
from casetrack.cases import kinds
from casetrack.core.errors import NotFound, PermissionDenied
from casetrack.core.i18n import N_, Msg
from casetrack.core.params import REPORT_MIN_DAY, report_day_in_range, report_max_day
from casetrack.core.time import app_now, local_date
from casetrack.extensions import db
from casetrack.org.models import Town
from casetrack.stats.queries import StatsQuery, summary
from casetrack.stats.views import DASHBOARD_ROLES

TAG = "stats"

SUMMARY_QUERY = Schema("StatsSummaryQuery", {
    "from": Date(required=True, description="统计期间起（按收到日期）"),
    "to": Date(required=True, description="统计期间止（按收到日期）"),
    "as_of": Date(description="截至日期（取该日结束时的状态），不晚于今天、不早于 from；"
                              "默认与 to 相同（to 晚于今天时为今天）"),
    "town": String(max_length=100, description="乡镇名称；默认为本人所属乡镇（县级用户为全县）"),
    "source": String(choices=lambda: tuple(kinds.sources()), description="只统计此来源"),
    "kind": String(choices=kinds.codes, description="只统计此类型"),
})
RATE_OUT = Schema("Rate", {
    "label": String(required=True),
    "numerator": Integer(required=True, minimum=0),
    "denominator": Integer(required=True, minimum=0),
    "value": Number(required=True, nullable=True),
    "percent": String(required=True, max_length=20),
})
FIGURE_ROW_OUT = Schema("FigureRow", {
    "kind": String(),
    "source": String(),
    "label": String(required=True),
    "counts": MapOf(Integer(minimum=0), required=True),
    "rates": MapOf(RATE_OUT, required=True),
}, required=True)
METRIC_INFO = Schema("MetricInfo", {
    "label": String(required=True),
    "definition": String(required=True, max_length=2000),
})
PERIOD = Schema("Period", {"from": Date(required=True), "to": Date(required=True)},
                required=True)
SUMMARY_OUT = Schema("StatsSummary", {
    "town": String(required=True, description="乡镇名称（县级用户为县名）"),
    "period": PERIOD,
    "as_of": Date(required=True),
    "filters": MapOf(String(), required=True),
    "metrics": MapOf(METRIC_INFO, required=True),
    "totals": FIGURE_ROW_OUT,
    "by_kind": ListOf(FIGURE_ROW_OUT, required=True, max_items=10),
    "by_source": ListOf(FIGURE_ROW_OUT, required=True, max_items=100),
})


@api_route("/stats/summary", "GET", summary="统计汇总（与 flask stats summary 参数相同）",
           tag=TAG, response=SUMMARY_OUT, query=SUMMARY_QUERY, errors=(400, 401, 403, 404, 422))
def stats_summary(query: dict[str, Any]):
    """Counts and rates of the cohort received in the period, as of the cut-off day, within
    the caller's scope (a grid worker's villages, a town, or a county)."""
    user = current_api_user()
    if Role(user.role) not in DASHBOARD_ROLES:
        raise PermissionDenied(N_("您的角色不能查看统计"))
    # a day out of any sensible range (1900-01-01) or a period that ends before it starts is
    # a malformed request, never a summary of nothing
    today = local_date(app_now())
    out = {name: Msg(N_("超出可统计的范围（%(first)s 至 %(last)s）"),
                     first=REPORT_MIN_DAY.isoformat(), last=report_max_day(today).isoformat())
           for name in ("from", "to", "as_of")
           if query[name] is not None and not report_day_in_range(query[name], today)}
    if out:
        raise BadInput(N_("统计日期超出可统计的范围"), code="invalid_date", fields=out)
    if query["from"] > query["to"]:
        raise BadInput(N_("统计期间起始日期晚于结束日期"), code="invalid_period",
                       fields={"from": N_("不能晚于 to")})
    # a cut-off still to come would be a projection returned as fact; one before the
    # period's start counts every case as not yet received
    if query["as_of"] is not None and query["as_of"] > today:
        raise BadInput(N_("截至日期晚于今天"), code="invalid_date",
                       fields={"as_of": Msg(N_("不能晚于今天（%(today)s）"),
                                            today=today.isoformat())})
    if query["as_of"] is not None and query["as_of"] < query["from"]:
        raise BadInput(N_("截至日期早于统计期间起始日期"), code="invalid_period",
                       fields={"as_of": N_("不能早于 from")})
    town_id = None
    if query["town"]:
        town = db.session.scalar(select(Town).where(Town.name == query["town"]))
        visible = town is not None and (
            town.id == user.town_id
            or (Role(user.role) is Role.COUNTY and town.county_code == user.county_code))
        if not visible:
            raise NotFound(N_("没有您可查看的名为“%(town)s”的乡镇"), params={"town": query["town"]})
        town_id = town.id
    # the cut-off defaults to the period's end, or today while the period runs
    as_of = query["as_of"] or min(query["to"], today)
    q = StatsQuery(query["from"], query["to"], as_of, town_id=town_id,
                   source=query["source"], kind=query["kind"])
    return summary(db.session, user, q).to_dict()
