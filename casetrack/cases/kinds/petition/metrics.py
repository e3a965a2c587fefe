"""The figures only petitions count (信访工作条例): timely acceptance, rating and satisfaction,
review and re-examination; and when a petition counts as closed on time."""

from __future__ import annotations

from sqlalchemy import and_, or_
from sqlalchemy.sql import ColumnElement

from casetrack.cases.kinds import Columns, Cutoff, Metric, RateDef, Sentence
from casetrack.cases.models import CaseStatus
from casetrack.cases.rules import CONCLUDED_STATUSES
from casetrack.core.i18n import N_

S = CaseStatus
RATED = ("满意", "基本满意", "不满意")
SATISFIED = ("满意", "基本满意")


def _accepted(r: Columns, cutoff: Cutoff) -> ColumnElement[bool]:
    return and_(r["kind"] == "petition", r["accepted_on"].is_not(None),
                r["status"] != S.REGISTERED)


def _closed_petition(r: Columns, cutoff: Cutoff) -> ColumnElement[bool]:
    return and_(r["status"].in_(sorted(CONCLUDED_STATUSES)), r["kind"] == "petition")


def on_time(r: Columns, cutoff: Cutoff) -> ColumnElement[bool]:
    """A petition is closed on time when closed by its due date."""
    return and_(r["closed_on"].is_not(None),
                or_(r["due_on"].is_(None), r["closed_on"] <= r["due_on"]))


METRICS = (
    Metric("accepted", N_("已受理"), N_("截至日已受理的信访事项"), _accepted),
    Metric("accepted_timely", N_("及时受理"),
           N_("在本案书面告知期限（按本镇期限规则计算，遇节假日顺延）内受理的信访事项"),
           lambda r, c: and_(_accepted(r, c), r["accepted_on"] <= r["notify_due_on"])),
    Metric("closed_petitions", N_("已办结信访事项"), N_("截至日已办结的信访事项"), _closed_petition),
    Metric("rated", N_("参评"), N_("已办结且信访人作出评价（满意、基本满意、不满意）的信访事项"),
           lambda r, c: and_(_closed_petition(r, c), r["rating"].in_(RATED))),
    Metric("satisfied", N_("满意（含基本满意）"), N_("评价为满意或基本满意的信访事项"),
           lambda r, c: and_(_closed_petition(r, c), r["rating"].in_(SATISFIED))),
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
)

RATES = (
    RateDef("timely_accept_rate", N_("及时受理率"), "accepted_timely", "accepted",
            N_("及时受理 ÷ 已受理")),
    RateDef("rated_rate", N_("参评率"), "rated", "closed_petitions", N_("参评 ÷ 已办结信访事项")),
    RateDef("satisfaction_rate", N_("满意率"), "satisfied", "rated", N_("（满意＋基本满意）÷ 参评")),
    RateDef("review_on_time_rate", N_("按期复查率"), "reviews_on_time", "reviews",
            N_("按期复查 ÷ 申请复查")),
    RateDef("reexam_on_time_rate", N_("按期复核率"), "reexaminations_on_time", "reexaminations",
            N_("按期复核 ÷ 申请复核")),
)

SENTENCES = (
    Sentence("petition", N_("信访（上级交办）"), "assigned",
             "今年以来，上级交办信访案件{total}件，我镇已办结{closed}件，"
             "剩余{open}件正在积极办理中。"),
)
