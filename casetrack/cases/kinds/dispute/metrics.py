"""The figures only disputes count: resolution (化解率, 村级化解率), follow-up visits and
requests for judicial confirmation (司法确认, 人民调解法 Art. 33); and
when a dispute counts as finished on time (its mediation outcome by the mediation due date)."""

from __future__ import annotations

from sqlalchemy import and_, func, or_
from sqlalchemy.sql import ColumnElement

from casetrack.cases.kinds import Columns, Cutoff, Metric, RateDef, Sentence
from casetrack.cases.models import CaseStatus
from casetrack.core.i18n import N_

S = CaseStatus


def _resolved(r: Columns, cutoff: Cutoff) -> ColumnElement[bool]:
    return and_(r["kind"] == "dispute", r["resolution_level"].is_not(None),
                r["status"].in_([S.RESOLVED, S.CLOSED]))


def _followed_up(r: Columns, cutoff: Cutoff) -> ColumnElement[bool]:
    return and_(r["kind"] == "dispute", r["follow_up_on"].is_not(None))


def on_time(r: Columns, cutoff: Cutoff) -> ColumnElement[bool]:
    """A dispute is on time when its mediation outcome (agreement or termination) fell on or
    before its mediation due date (kept at the outcome: after an agreement the case's due
    date is the follow-up visit's)."""
    due = func.coalesce(r["mediation_due_on"], r["due_on"])
    return and_(r["mediated_on"].is_not(None), or_(due.is_(None), r["mediated_on"] <= due))


METRICS = (
    Metric("disputes", N_("矛盾纠纷"), N_("期间内登记的矛盾纠纷"),
           lambda r, c: r["kind"] == "dispute"),
    Metric("resolved", N_("调解成功"), N_("截至日已调解成功（含调解成功后结案）的矛盾纠纷"), _resolved),
    Metric("resolved_village", N_("村级化解"), N_("在村调委会调解成功的矛盾纠纷"),
           lambda r, c: and_(_resolved(r, c), r["resolution_level"] == "village")),
    Metric("followed_up", N_("已回访"), N_("截至日已回访（确认协议履行情况）的矛盾纠纷"), _followed_up),
    Metric("followed_up_on_time", N_("按期回访"), N_("回访日期不晚于回访期限的矛盾纠纷"),
           lambda r, c: and_(_followed_up(r, c),
                             or_(r["follow_up_due_on"].is_(None),
                                 r["follow_up_on"] <= r["follow_up_due_on"]))),
    Metric("judicial_confirmations", N_("申请司法确认"),
           N_("截至日当事人已在司法确认申请期限（调解协议生效后30日）内申请司法确认的矛盾纠纷"
              "（人民调解法第33条）"),
           lambda r, c: and_(r["kind"] == "dispute", r["judicial_applied_on"] <= c)),
)

RATES = (
    RateDef("resolve_rate", N_("化解率"), "resolved", "disputes", N_("调解成功 ÷ 矛盾纠纷")),
    RateDef("village_resolve_rate", N_("村级化解率"), "resolved_village", "resolved",
            N_("村级化解 ÷ 调解成功")),
    RateDef("follow_up_on_time_rate", N_("按期回访率"), "followed_up_on_time", "followed_up",
            N_("按期回访 ÷ 已回访")),
    RateDef("judicial_rate", N_("司法确认申请率"), "judicial_confirmations", "resolved",
            N_("申请司法确认 ÷ 调解成功")),
)

SENTENCES = (
    Sentence("dispute", N_("矛盾纠纷"), None,
             "今年以来，我镇共排查调处矛盾纠纷{total}件，调解成功{resolved}件，"
             "化解率{resolve_rate}，其中在村级化解{resolved_village}件。"),
)
