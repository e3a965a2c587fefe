"""The steps only disputes take (调解, 调解成功, 回访, 司法确认, ...), their guards and hints, and
the dispute's moves: which step takes a dispute from which status to which, in the order of
the case page's buttons."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from casetrack.cases.kinds import move
from casetrack.cases.kinds.dispute import rules as drules
from casetrack.cases.models import Case, CaseStatus
from casetrack.cases.steps import (
    Hint,
    Input,
    Notice,
    clock_end,
    date_input,
    declare,
    note_input,
    pairs,
    period,
    reason_input,
    town_users,
)
from casetrack.core.i18n import N_
from casetrack.core.time import local_date

S = CaseStatus

# --------------------------------------------------------------------------- guards


def _not_at_town_yet(session: Session, case: Case, today: dt.date) -> str | None:
    if case.mediation_level == "town" and case.status == S.MEDIATING:
        return N_("该纠纷已在镇级调解")
    return None


def _followed_up(session: Session, case: Case, today: dt.date) -> str | None:
    if case.status == S.RESOLVED and case.follow_up_on is None:
        return N_("调解成功的纠纷须先回访，确认协议履行情况后才能结案")
    return None


def _agreement_reached(session: Session, case: Case, today: dt.date) -> str | None:
    if case.agreement_type is None:
        return N_("只有达成调解协议的纠纷才能申请司法确认")
    if case.judicial_applied_on is not None:
        return N_("已记录司法确认申请")
    return None


def agreement_day(case: Case) -> dt.date | None:
    """The day the mediation agreement was reached (the day of the last 调解成功 step)."""
    ev = next((e for e in reversed(case.events) if e.action == "resolve"), None)
    return local_date(ev.at) if ev is not None else None


# --------------------------------------------------------------------------- hints


def _risk_hint(session: Session, case: Case, today: dt.date) -> Hint:
    return N_("提交后系统会立即通知本镇督办员。有激化风险须同时打电话报警（110），"
              "本系统不会替您报警。"), {}


def _judicial_hint(session: Session, case: Case, today: dt.date) -> Hint:
    day = agreement_day(case)
    if day is None:
        return None
    end = clock_end(session, "dispute.judicial_confirmation", day, town_id=case.town_id)
    return N_("申请司法确认期限：调解协议生效后%(n)s内，即 %(d)s 前（人民调解法第33条）"), {
        "n": period(session, case, "dispute.judicial_confirmation", translated=True),
        "d": end.isoformat()}


# --------------------------------------------------------------------------- the steps

declare("start_mediation", N_("开始调解"),
        inputs=(Input("level", "choice", N_("调解层级"), choices=pairs(drules.MEDIATION_LEVELS),
                      default="village"), note_input()),
        rule=N_("人民调解法第17条：调解自愿"))
declare("mediation_session", N_("记录调解"),
        inputs=(date_input("held_on", N_("调解日期"), N_("请填写调解日期")),
                note_input(N_("调解情况"), required=True, max_length=20_000)),
        rule=N_("调解日期不晚于今天"))
declare("resolve", N_("调解成功"),
        inputs=(Input("agreement_type", "choice", N_("协议形式"), required=True,
                      choices=pairs(drules.AGREEMENT_TYPES)),
                Input("agreement_text", "longtext", N_("协议内容"), required=True,
                      max_length=20_000)),
        rule=N_("人民调解法第28条：书面或口头协议"))
declare("terminate", N_("调解终止"),
        inputs=(reason_input(),), rule=N_("人民调解法第26条：告知当事人其他途径"))
declare("escalate", N_("上交镇级调解"),
        inputs=(reason_input(),), guard=_not_at_town_yet,
        notice=Notice("case_escalated", town_users("supervisor"), N_("本镇督办员")),
        rule=N_("村调委会调解不成的上交镇级"))
declare("judicial_confirmation", N_("申请司法确认"),
        inputs=(date_input("applied_on", N_("申请日期"), N_("请填写申请日期")),
                Input("court", "text", N_("受理法院"), required=True, max_length=100),
                note_input()),
        guard=_agreement_reached, hint=_judicial_hint,
        rule=N_("调解协议生效后30日内共同向人民法院申请（人民调解法第33条）"))
declare("follow_up", N_("回访"),
        inputs=(date_input("visited_on", N_("回访日期"), N_("请填写回访日期")),
                Input("honoured", "bool", N_("协议履行情况"), required=True,
                      choices=(("yes", N_("已履行")), ("no", N_("未履行"))),
                      required_message=N_("请选择协议是否履行")),
                note_input(N_("回访情况"))),
        rule=N_("人民调解法第31条：回访协议履行"))
declare("flag_risk", N_("标记激化风险（通知督办员）"),
        inputs=(note_input(N_("情况说明"), required=True),),
        notice=Notice("case_risk", town_users("supervisor"), N_("本镇督办员")),
        hint=_risk_hint,
        rule=N_("人民调解法第25条：有激化可能的及时报告"))

_MEDIATING = ("start_mediation", "mediation_session", "escalate", "resolve", "terminate",
              "follow_up", "flag_risk", "close_dispute", "judicial_confirmation")
#: role → the rights of the dispute's own steps (granted when the kind is registered)
RIGHTS = {"grid_worker": _MEDIATING, "handler": _MEDIATING, "supervisor": _MEDIATING,
          "admin": _MEDIATING}

#: step → the dispute's move, in the order of the case page's buttons
MOVES = {
    "assign": move({S.REGISTERED, S.MEDIATING}, label=N_("指定承办")),
    "start_mediation": move({S.REGISTERED}, S.MEDIATING),
    "mediation_session": move({S.MEDIATING}),
    "progress": move({S.REGISTERED, S.MEDIATING, S.RESOLVED, S.TERMINATED},
                     label=N_("记录进展")),
    "extend_request": move({S.REGISTERED, S.MEDIATING}),
    "extend_decide": move({S.REGISTERED, S.MEDIATING}),
    "resolve": move({S.MEDIATING}, S.RESOLVED),
    "terminate": move({S.MEDIATING}, S.TERMINATED),
    "escalate": move({S.MEDIATING, S.TERMINATED}, S.MEDIATING),
    "follow_up": move({S.RESOLVED}),
    "judicial_confirmation": move({S.RESOLVED, S.CLOSED}),
    "close": move({S.RESOLVED, S.TERMINATED}, S.CLOSED, label=N_("结案"),
                  right="close_dispute", guard=_followed_up,
                  rule=N_("调解成功的须先回访（人民调解法第31条）；调解终止的可直接结案")),
    "flag_risk": move({S.REGISTERED, S.MEDIATING, S.RESOLVED, S.TERMINATED}),
    "correct": move({S.REGISTERED, S.MEDIATING, S.RESOLVED, S.TERMINATED, S.CLOSED}),
}
