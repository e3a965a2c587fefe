"""Petitions (信访事项): sources, classes, categories, the deadline policy (2022 信访工作条例)
and the checks of a registration."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_
from sqlalchemy.orm import Session

from casetrack.core.i18n import N_, Msg
from casetrack.deadlines.rules import DayUnit, DeadlineRule

if TYPE_CHECKING:
    from casetrack.cases.models import Case

SOURCES = {
    "assigned": N_("上级交办"),
    "forwarded": N_("上级转送"),
    "letter": N_("来信"),
    "visit": N_("来访"),
    "call": N_("来电"),
    "online": N_("网上信访"),
    "leader_visit": N_("领导接访"),
}
CLASSES = (N_("建议意见"), N_("检举控告"), N_("申诉求决"))
CATEGORIES = (
    N_("城乡建设"), N_("农村农业"), N_("劳动和社会保障"), N_("自然资源"), N_("生态环境"), N_("交通运输"), N_("卫生健康"),
    N_("市场监督"), N_("经济管理"), N_("文体旅游"), N_("民政与应急"), N_("教育"), N_("政法"), N_("纪检监察"), N_("组织人事"),
    N_("党务政务"), N_("其他"),
)
#: what a reply decides (处理意见)
OUTCOMES = (N_("支持"), N_("解释说明"), N_("不予支持"))
#: what a review (复查) or re-examination (复核) decides about the earlier answer
REVIEW_OUTCOMES = (N_("维持"), N_("撤销"), N_("变更"))
#: at most this many representatives for a group visit (信访工作条例 Art. 20)
MAX_REPRESENTATIVES = 5

#: Defaults from the 2022 信访工作条例 (DOMAIN.md). A town may override amounts.
DEADLINE_RULES = (
    DeadlineRule("petition.notify", "petition", "received", 15, DayUnit.DAYS,
                 clock=N_("告知期限"), label=N_("书面告知受理情况（第23条）")),
    DeadlineRule("petition.object", "petition", "received", 5, DayUnit.WORKDAYS,
                 clock=N_("退回异议期限"), label=N_("交办事项退回异议（第23条）")),
    DeadlineRule("petition.handle", "petition", "accepted", 60, DayUnit.DAYS,
                 extendable=True, max_extension_days=30, clock=N_("办理期限"),
                 label=N_("办理办结（第34条）")),
    DeadlineRule("petition.review_request", "petition", "replied", 30, DayUnit.DAYS,
                 clock=N_("复查申请期限"), label=N_("申请复查（第35条）")),
    DeadlineRule("petition.review_answer", "petition", "review_requested", 30, DayUnit.DAYS,
                 clock=N_("复查期限"), label=N_("复查答复（第35条）")),
    DeadlineRule("petition.recheck_request", "petition", "review_replied", 30, DayUnit.DAYS,
                 clock=N_("复核申请期限"), label=N_("申请复核（第36条）")),
    DeadlineRule("petition.recheck_answer", "petition", "recheck_requested", 30,
                 DayUnit.DAYS, clock=N_("复核期限"), label=N_("复核答复（第36条，听证时间不计入）")),
)


#: the clocks a request starts: rule → (the request's field, whether hearing days count,
#: the field keeping the date 按期复查 / 按期复核 are judged by)
REQUEST_CLOCKS = {
    "petition.review_answer": ("review_requested_on", False, "review_due_on"),
    "petition.recheck_answer": ("reexam_requested_on", True, "reexam_due_on"),
}
#: telling the petitioner (Art. 23) is not capped by the assigning authority's deadline
UNCAPPED_RULES = frozenset({"petition.notify"})


def first_clock(case: Case) -> str:
    """A petition's first clock: telling the petitioner in writing (Art. 23)."""
    return "petition.notify"


def on_register(case: Case) -> None:
    """The notify date is kept for the figures (及时受理) after the clock moves on."""
    case.notify_due_on = case.due_on


def recompute(session: Session, case: Case) -> None:
    """The notify date follows the town's rule and calendar, for open and closed cases."""
    from casetrack.cases.services import rule_due

    if case.received_on is not None:
        case.notify_due_on, _exact = rule_due(session, case, "petition.notify", case.received_on)


def _notify_pending() -> ColumnElement[bool]:
    from casetrack.cases.models import Case

    return and_(Case.kind == "petition", Case.accepted_on.is_(None))


#: the notify date of a petition not yet accepted follows the rule petition.notify
KEPT_DATES = {"petition.notify": _notify_pending}


def validate(data: Any) -> dict[str, str]:
    """A petition's own checks of a registration (``services.CaseInput``)."""
    errors: dict[str, str] = {}
    if data.petition_class not in CLASSES:
        errors["petition_class"] = N_("请选择信访类别（建议意见、检举控告、申诉求决）")
    return errors


def validate_parties(data: Any) -> dict[str, str]:
    """Group visits elect at most 5 representatives (Art. 20)."""
    petitioners = sum(1 for p in data.parties if p.role == "petitioner")
    if petitioners > MAX_REPRESENTATIVES:
        return {"parties": Msg(N_("多人信访应推选代表，代表不超过%(n)s人"
                                  "（信访工作条例第二十条）；其余人数请填在“人数”中"),
                               n=MAX_REPRESENTATIVES)}
    return {}
