"""Every figure and rate the town reports, defined once.

A metric is a predicate over one case *as of the cut-off* (the row built by
``queries.asof_rows``): counting it is ``SUM(CASE WHEN predicate THEN 1 ELSE 0 END)`` and
listing its cases is ``WHERE predicate``, so a figure and the list behind it cannot disagree.
The dashboard, the PDF, the spreadsheet, the sentences and the API all read these tables.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import and_, literal, or_
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.expression import ColumnClause

from casetrack.cases.models import CaseKind, CaseStatus
from casetrack.cases.rules import CONCLUDED_STATUSES, ENDED_LABEL, OPEN_LABEL, OPEN_STATUSES
from casetrack.core.i18n import N_

S = CaseStatus
RATED = ("满意", "基本满意", "不满意")
SATISFIED = ("满意", "基本满意")

Columns = dict[str, ColumnClause]
#: the cut-off handed to a predicate: a date, or the bound parameter that will carry it (the
#: statements of ``queries`` are built once per shape and executed with new values)
Cutoff = dt.date | BindParameter
Predicate = Callable[[Columns, Cutoff], ColumnElement[bool]]


@dataclass(frozen=True)
class Metric:
    """A count of cases: ``label`` is the Chinese name shown everywhere, ``definition`` the
    sentence a reader of the report or the API sees when asking what it means."""

    key: str
    label: str
    definition: str
    predicate: Predicate


@dataclass(frozen=True)
class RateDef:
    """A rate = numerator metric / denominator metric, both shown beside it."""

    key: str
    label: str
    numerator: str
    denominator: str
    definition: str


def _closed(r: Columns, cutoff: Cutoff) -> ColumnElement[bool]:
    return r["status"].in_(sorted(CONCLUDED_STATUSES))


def _open(r: Columns, cutoff: Cutoff) -> ColumnElement[bool]:
    return r["status"].in_(sorted(OPEN_STATUSES))


def _accepted(r: Columns, cutoff: Cutoff) -> ColumnElement[bool]:
    return and_(r["kind"] == CaseKind.PETITION, r["accepted_on"].is_not(None),
                r["status"] != S.REGISTERED)


def _resolved(r: Columns, cutoff: Cutoff) -> ColumnElement[bool]:
    return and_(r["kind"] == CaseKind.DISPUTE, r["resolution_level"].is_not(None),
                r["status"].in_([S.RESOLVED, S.CLOSED]))


def _closed_petition(r: Columns, cutoff: Cutoff) -> ColumnElement[bool]:
    return and_(_closed(r, cutoff), r["kind"] == CaseKind.PETITION)


def _closed_on_time(r: Columns, cutoff: Cutoff) -> ColumnElement[bool]:
    """A petition closed by its due date; a dispute whose mediation outcome (agreement or
    termination) fell on or before its mediation due date."""
    petition = and_(r["kind"] == CaseKind.PETITION, r["closed_on"].is_not(None),
                    or_(r["due_on"].is_(None), r["closed_on"] <= r["due_on"]))
    dispute = and_(r["kind"] == CaseKind.DISPUTE, r["mediated_on"].is_not(None),
                   or_(r["due_on"].is_(None), r["mediated_on"] <= r["due_on"]))
    return and_(_closed(r, cutoff), or_(petition, dispute))


def _followed_up(r: Columns, cutoff: Cutoff) -> ColumnElement[bool]:
    return and_(r["kind"] == CaseKind.DISPUTE, r["follow_up_on"].is_not(None))


METRIC_LIST: tuple[Metric, ...] = (
    Metric("total", N_("案件总数"), N_("期间内收到（上级交办以交办日期计）且截至日已登记的案件"),
           lambda r, c: literal(True)),
    Metric("closed", N_("已办结"), N_("截至日状态为已办结的案件"), _closed),
    Metric("open", OPEN_LABEL, N_("截至日尚未办结（登记、受理、办理、答复、调解中等）的案件"), _open),
    Metric("ended", ENDED_LABEL, N_("截至日已不予受理或已退回交办机关的案件"),
           lambda r, c: r["status"].in_([S.NOT_ACCEPTED, S.RETURNED])),
    Metric("overdue", N_("已超期"),
           N_("截至日尚未办结、办理期限早于截至日的案件（已调解成功待回访的纠纷不计）"),
           lambda r, c: and_(_open(r, c), r["status"] != S.RESOLVED, r["due_on"] < c)),
    Metric("closed_on_time", N_("按期办结"),
           N_("已办结的信访事项办结日期不晚于办理期限；已结案的矛盾纠纷调解结果（达成协议或终止）"
              "不晚于调解期限"),
           _closed_on_time),
    Metric("accepted", N_("已受理"), N_("截至日已受理的信访事项"), _accepted),
    Metric("accepted_timely", N_("及时受理"),
           N_("在本案书面告知期限（按本镇期限规则计算，遇节假日顺延）内受理的信访事项"),
           lambda r, c: and_(_accepted(r, c), r["accepted_on"] <= r["notify_due_on"])),
    Metric("closed_petitions", N_("已办结信访事项"), N_("截至日已办结的信访事项"), _closed_petition),
    Metric("rated", N_("参评"), N_("已办结且信访人作出评价（满意、基本满意、不满意）的信访事项"),
           lambda r, c: and_(_closed_petition(r, c), r["rating"].in_(RATED))),
    Metric("satisfied", N_("满意（含基本满意）"), N_("评价为满意或基本满意的信访事项"),
           lambda r, c: and_(_closed_petition(r, c), r["rating"].in_(SATISFIED))),
    Metric("disputes", N_("矛盾纠纷"), N_("期间内登记的矛盾纠纷"),
           lambda r, c: r["kind"] == CaseKind.DISPUTE),
    Metric("resolved", N_("调解成功"), N_("截至日已调解成功（含调解成功后结案）的矛盾纠纷"), _resolved),
    Metric("resolved_village", N_("村级化解"), N_("在村调委会调解成功的矛盾纠纷"),
           lambda r, c: and_(_resolved(r, c), r["resolution_level"] == "village")),
    Metric("reviews", N_("申请复查"), N_("截至日信访人已申请复查的信访事项（第35条）"),
           lambda r, c: r["review_requested_on"] <= c),
    Metric("reviews_on_time", N_("按期复查"),
           N_("截至日已出具复查意见且不晚于复查期限（申请后30日）的信访事项"),
           lambda r, c: and_(r["review_decided_on"] <= c,
                             r["review_decided_on"] <= r["review_due_on"])),
    Metric("reexaminations", N_("申请复核"), N_("截至日信访人已申请复核的信访事项（第36条）"),
           lambda r, c: r["reexam_requested_on"] <= c),
    Metric("reexaminations_on_time", N_("按期复核"),
           N_("截至日已出具复核意见且不晚于复核期限（申请后30日，听证时间不计入）的信访事项"),
           lambda r, c: and_(r["reexam_decided_on"] <= c,
                             r["reexam_decided_on"] <= r["reexam_due_on"])),
    Metric("followed_up", N_("已回访"), N_("截至日已回访（确认协议履行情况）的矛盾纠纷"), _followed_up),
    Metric("followed_up_on_time", N_("按期回访"), N_("回访日期不晚于回访期限的矛盾纠纷"),
           lambda r, c: and_(_followed_up(r, c),
                             or_(r["follow_up_due_on"].is_(None),
                                 r["follow_up_on"] <= r["follow_up_due_on"]))),
)
METRICS: dict[str, Metric] = {m.key: m for m in METRIC_LIST}

RATE_LIST: tuple[RateDef, ...] = (
    RateDef("close_rate", N_("办结率"), "closed", "total", N_("已办结 ÷ 案件总数")),
    RateDef("on_time_rate", N_("按期办结率"), "closed_on_time", "closed", N_("按期办结 ÷ 已办结")),
    RateDef("timely_accept_rate", N_("及时受理率"), "accepted_timely", "accepted",
            N_("及时受理 ÷ 已受理")),
    RateDef("rated_rate", N_("参评率"), "rated", "closed_petitions", N_("参评 ÷ 已办结信访事项")),
    RateDef("satisfaction_rate", N_("满意率"), "satisfied", "rated", N_("（满意＋基本满意）÷ 参评")),
    RateDef("resolve_rate", N_("化解率"), "resolved", "disputes", N_("调解成功 ÷ 矛盾纠纷")),
    RateDef("village_resolve_rate", N_("村级化解率"), "resolved_village", "resolved",
            N_("村级化解 ÷ 调解成功")),
    RateDef("review_on_time_rate", N_("按期复查率"), "reviews_on_time", "reviews",
            N_("按期复查 ÷ 申请复查")),
    RateDef("reexam_on_time_rate", N_("按期复核率"), "reexaminations_on_time", "reexaminations",
            N_("按期复核 ÷ 申请复核")),
    RateDef("follow_up_on_time_rate", N_("按期回访率"), "followed_up_on_time", "followed_up",
            N_("按期回访 ÷ 已回访")),
)
RATES: dict[str, RateDef] = {r.key: r for r in RATE_LIST}

#: the figures that partition a cohort: every case is in exactly one of them on the cut-off
#: (已办结 + 在办 + 不予受理/已退回 = 案件总数)
PARTITION = ("closed", "open", "ended")
#: the figures shown first everywhere (tiles, per-kind and per-source tables): the total,
#: its partition, and the overdue cases among those in handling
HEADLINE = ("total", *PARTITION, "overdue")


@dataclass(frozen=True)
class Rate:
    """A computed rate with the numerator and denominator it came from."""

    key: str
    label: str
    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """The rate as a fraction, or None when the denominator is zero."""
        return self.numerator / self.denominator if self.denominator else None

    @property
    def percent(self) -> str:
        """``87.5%``, or ``—`` when there is nothing to divide by."""
        v = self.value
        return "—" if v is None else f"{v * 100:.1f}%"

    def to_dict(self) -> dict:
        return {"label": self.label, "numerator": self.numerator,
                "denominator": self.denominator,
                "value": None if self.value is None else round(self.value, 4),
                "percent": self.percent}


def rates_for(counts: dict[str, int]) -> dict[str, Rate]:
    """Every rate of RATE_LIST from a row of counts."""
    return {d.key: Rate(d.key, d.label, counts.get(d.numerator, 0), counts.get(d.denominator, 0))
            for d in RATE_LIST}
