"""Disputes (矛盾纠纷): sources, categories, mediation levels, the deadline policy (mediation
within a month, labour disputes 15 days, follow-up visits, judicial confirmation) and the
checks of a registration."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_
from sqlalchemy.orm import Session

from casetrack.core.i18n import N_
from casetrack.deadlines.rules import DayUnit, DeadlineRule

if TYPE_CHECKING:
    from casetrack.cases.models import Case

SOURCES = {
    "screening": N_("网格排查"),
    "application": N_("申请调解"),
    "transfer": N_("部门移送"),
}
CATEGORIES = (
    N_("婚姻家庭"), N_("邻里"), N_("房屋宅基地"), N_("合同"), N_("生产经营"), N_("损害赔偿"), N_("山林土地"), N_("征地拆迁"),
    N_("环境污染"), N_("劳动争议"), N_("消费"), N_("医疗"), N_("道路交通事故"), N_("物业"), N_("其他"),
)
MEDIATION_LEVELS = {"village": N_("村调委会"), "town": N_("镇综治中心/司法所")}
AGREEMENT_TYPES = {"written": N_("书面调解协议书"), "oral": N_("口头协议")}

#: Defaults of the mediation practice (DOMAIN.md). A town may override amounts.
DEADLINE_RULES = (
    DeadlineRule("dispute.mediate", "dispute", "received", 1, DayUnit.MONTHS,
                 extendable=True, max_extension_days=30, clock=N_("调解期限"),
                 label=N_("调解期限（一个月）")),
    DeadlineRule("dispute.judicial_confirmation", "dispute", "agreement", 30, DayUnit.DAYS,
                 clock=N_("司法确认申请期限"), label=N_("申请司法确认（人民调解法第33条）")),
    DeadlineRule("dispute.mediate_labour", "dispute", "received", 15, DayUnit.DAYS,
                 extendable=False, clock=N_("调解期限"), label=N_("劳动争议调解期限（15日）")),
    DeadlineRule("dispute.follow_up", "dispute", "resolved", 30, DayUnit.DAYS,
                 clock=N_("回访期限"), label=N_("调解协议回访期限")),
)


def _follow_up_pending() -> ColumnElement[bool]:
    from casetrack.cases.models import Case

    return and_(Case.follow_up_due_on.is_not(None), Case.follow_up_on.is_(None))


#: the follow-up date of a resolved dispute not yet visited follows dispute.follow_up
KEPT_DATES = {"dispute.follow_up": _follow_up_pending}


def first_clock(case: Case) -> str:
    """Mediation runs a month, a labour dispute 15 days (before arbitration opens)."""
    return "dispute.mediate_labour" if case.category == "劳动争议" else "dispute.mediate"


def recompute(session: Session, case: Case) -> None:
    """The follow-up date follows the town's rule and calendar once mediation succeeded."""
    from casetrack.cases.services import rule_due

    if case.follow_up_due_on is not None and case.mediated_on is not None:
        case.follow_up_due_on, _exact = rule_due(session, case, "dispute.follow_up",
                                                 case.mediated_on)
