"""The steps only petitions take (受理, 答复, 复查, 复核, ...), their guards and hints, and the
petition's moves: which step takes a petition from which status to which, in the order of the
case page's buttons."""

from __future__ import annotations

import datetime as dt

from flask import current_app
from sqlalchemy.orm import Session

from casetrack.cases import rules
from casetrack.cases.kinds import move
from casetrack.cases.kinds.petition import rules as prules
from casetrack.cases.models import Case, CaseStatus
from casetrack.cases.steps import (
    PERIOD_WORDS,
    Hint,
    Input,
    Notice,
    case_handlers,
    clock_end,
    date_input,
    declare,
    note_input,
    period,
    reason_input,
    same,
    town_users,
)
from casetrack.core.i18n import N_, Msg
from casetrack.deadlines.rules import DayUnit
from casetrack.deadlines.town_rules import town_rule

S = CaseStatus

# --------------------------------------------------------------------------- guards


def _extendable(session: Session, case: Case, today: dt.date) -> str | None:
    """Only the handling clock of an accepted petition (Art. 34) can be extended."""
    if case.status == S.ACCEPTED and case.due_rule != "petition.handle":
        return N_("尚未受理的事项不能申请延期")
    if case.due_rule != "petition.handle":
        return N_("该期限不能延长")
    return None


def return_deadline(session: Session, case: Case) -> dt.date | None:
    """Last day on which an assigned case may be returned (the town's rule petition.object:
    5 working days after receipt by default, Art. 23)."""
    if case.source not in rules.EXTERNAL_SOURCES:
        return None
    return clock_end(session, "petition.object", case.received_on, town_id=case.town_id)


def _returnable(session: Session, case: Case, today: dt.date) -> str | None:
    if case.source not in rules.EXTERNAL_SOURCES:
        return N_("只有上级交办或转送的事项可以退回")
    limit = return_deadline(session, case)
    if limit is not None and today > limit:
        rule = town_rule(session, case.town_id, "petition.object")
        return Msg(N_("已超过收到后%(period)s的退回期限（%(limit)s），不能退回"),
                   period=Msg(PERIOD_WORDS[DayUnit(rule.unit)], n=rule.amount),
                   limit=limit.isoformat())
    return None


def _authority_bound(session: Session, case: Case, today: dt.date) -> str | None:
    if case.source not in rules.EXTERNAL_SOURCES or case.external_due_on is None:
        return N_("只有有上级规定期限的交办、转送事项才能登记上级同意延期")
    return None


#: the town setting that switches reply approval on or off (default: REPLY_APPROVAL)
REPLY_APPROVAL_KEY = "cases.reply_approval"


def reply_approval_on(session: Session, town_id: int) -> bool:
    """Whether a reply in this town is a draft until a leader approves it."""
    from casetrack.org.settings import get_setting

    default = bool(current_app.config.get("REPLY_APPROVAL", True))
    return bool(get_setting(session, town_id, REPLY_APPROVAL_KEY, default))


def _approval(required: bool, message: str):
    """The guard of a reply step that applies only when the town's approval setting is
    ``required`` (答复 without approval, 提交答复审批 with it)."""

    def guard(session: Session, case: Case, today: dt.date) -> str | None:
        return None if reply_approval_on(session, case.town_id) is required else message

    return guard


_approval_off = _approval(False, N_("本镇的答复须经领导审批：请“提交答复审批”"))
_approval_on = _approval(True, N_("本镇的答复无须审批：请直接“答复”"))


def _written_reply(session: Session, case: Case, today: dt.date) -> str | None:
    if case.reply_delivered_on is None:
        return N_("没有书面答复送达日期的事项不能申请复查")
    return None


# --------------------------------------------------------------------------- hints


def _return_hint(session: Session, case: Case, today: dt.date) -> Hint:
    limit = return_deadline(session, case)
    if limit is None:
        return None
    return N_("退回期限：收到后%(n)s内，即 %(d)s 前"), {
        "n": period(session, case, "petition.object", translated=True),
        "d": limit.isoformat()}


def _authority_hint(session: Session, case: Case, today: dt.date) -> Hint:
    if case.external_due_on is None:
        return None
    return N_("现上级规定期限：%(d)s。登记交办机关同意延期后的新期限及文号。"), {
        "d": case.external_due_on.isoformat()}


def _review_window_hint(session: Session, case: Case, today: dt.date) -> Hint:
    if case.status in (S.REPLIED, S.CLOSED) and case.reply_delivered_on:
        end = clock_end(session, "petition.review_request", case.reply_delivered_on,
                        town_id=case.town_id)
        return N_("申请复查期限：答复送达后%(n)s内，即 %(d)s 前（信访工作条例第35条）"), {
            "n": period(session, case, "petition.review_request", translated=True),
            "d": end.isoformat()}
    return None


def _reexam_window_hint(session: Session, case: Case, today: dt.date) -> Hint:
    if case.review_decided_on:
        end = clock_end(session, "petition.recheck_request", case.review_decided_on,
                        town_id=case.town_id)
        return N_("申请复核期限：复查意见送达后%(n)s内，即 %(d)s 前（信访工作条例第36条）"), {
            "n": period(session, case, "petition.recheck_request", translated=True),
            "d": end.isoformat()}
    return None


# --------------------------------------------------------------------------- inputs


def _request_inputs(what: str) -> tuple[Input, ...]:
    """The inputs of a request for review or re-examination (申请复查 / 申请复核)."""
    return (date_input("requested_on", N_("申请日期"), N_("请填写申请日期")), reason_input(what))


def _decision_inputs(conclusion: str, opinion: str) -> tuple[Input, ...]:
    """The inputs of a review or re-examination decision (复查意见 / 复核意见)."""
    return (Input("outcome", "choice", conclusion, required=True,
                  choices=same(prules.REVIEW_OUTCOMES)),
            Input("decision_text", "longtext", opinion, required=True, max_length=20_000),
            date_input("decided_on", N_("出具日期"), N_("请填写出具日期")))


# --------------------------------------------------------------------------- the steps

declare("accept", N_("受理"),
        inputs=(Input("accepted_on", "date", N_("受理日期"), description="默认今天"),),
        rule=N_("信访工作条例第23条；受理后60日办理期限开始（第34条）"))
declare("reject", N_("不予受理"), inputs=(reason_input(),), rule=N_("须写明理由"))
declare("return", N_("退回交办机关"),
        inputs=(reason_input(),), guard=_returnable, hint=_return_hint,
        summary=N_("退回交办机关（第23条规定的期限内）"),
        rule=N_("仅上级交办、转送的事项，在本镇期限规则 petition.object 规定的期限内（第23条）"))
declare("authority_extend", N_("上级同意延期"),
        inputs=(Input("due_on", "date", N_("上级同意延期至"), required=True,
                      required_message=N_("请填写上级同意延期后的期限"),
                      description="交办机关同意延期后的期限"),
                Input("reference", "text", N_("上级同意延期文号"), required=True, max_length=100),
                note_input(N_("备注"))),
        guard=_authority_bound, hint=_authority_hint,
        notice=Notice("authority_extended", case_handlers, N_("承办人")),
        summary=N_("上级同意延期（交办机关的新期限及文号）"),
        rule=N_("只有交办机关能推迟其规定的期限：记录新期限及文号；办理期限取法定期限与上级期限中较早者"))
declare("reply", N_("答复"), guard=_approval_off,
        inputs=(Input("outcome", "choice", N_("处理意见"), required=True,
                      choices=same(prules.OUTCOMES)),
                Input("reply_text", "longtext", N_("答复意见"), required=True, max_length=20_000),
                date_input("delivered_on", N_("送达日期"), N_("请填写送达日期"))),
        rule=N_("书面答复，送达日期不早于受理日期（第32条）"))
declare("submit_reply", N_("提交答复审批"), right="reply",
        inputs=(Input("outcome", "choice", N_("处理意见"), required=True,
                      choices=same(prules.OUTCOMES)),
                Input("reply_text", "longtext", N_("答复意见"), required=True,
                      max_length=20_000)),
        guard=_approval_on,
        notice=Notice("reply_submitted", town_users("leader"), N_("本镇领导")),
        rule=N_("本镇设置答复须经领导审批时，答复先为草稿"))
declare("approve_reply", N_("审批通过答复"),
        inputs=(date_input("delivered_on", N_("送达日期"), N_("请填写送达日期")),
                note_input(N_("审批意见"))),
        notice=Notice("reply_approved", case_handlers, N_("承办人")),
        summary=N_("审批通过答复（领导）"),
        rule=N_("领导审批答复草稿；送达日期不早于受理日期"))
declare("return_reply", N_("退回修改答复"), right="approve_reply",
        inputs=(reason_input(N_("退回修改意见")),),
        notice=Notice("reply_returned", case_handlers, N_("承办人")),
        rule=N_("领导退回答复草稿，承办人修改后重新提交"))
declare("request_review", N_("申请复查"), inputs=_request_inputs(N_("复查请求及理由")),
        guard=_written_reply, hint=_review_window_hint,
        notice=Notice("review_requested", town_users("supervisor"), N_("本镇督办员")),
        rule=N_("书面答复送达后30日内申请；复查30日内答复（信访工作条例第35条）"))
declare("decide_review", N_("复查意见"), inputs=_decision_inputs(N_("复查结论"), N_("复查意见")),
        rule=N_("收到复查请求之日起30日内出具复查意见（第35条）"))
declare("request_reexamination", N_("申请复核"), inputs=_request_inputs(N_("复核请求及理由")),
        hint=_reexam_window_hint,
        notice=Notice("reexamination_requested", town_users("supervisor"), N_("本镇督办员")),
        rule=N_("复查意见送达后30日内申请；复核30日内答复，听证时间不计入（第36条）"))
declare("hearing", N_("记录听证"), right="decide_reexamination",
        inputs=(date_input("held_on", N_("听证日期"), N_("请填写听证日期")),
                Input("days", "int", N_("听证所用天数"), required=True, minimum=1, maximum=60,
                      required_message=N_("请填写听证所用天数")),
                note_input()),
        rule=N_("听证所需时间不计入复核期限（第36条）"))
declare("decide_reexamination", N_("复核意见"),
        inputs=_decision_inputs(N_("复核结论"), N_("复核意见")),
        rule=N_("复核意见为最终意见，同一事项不再受理（第36条）"))
declare("rework", N_("退回重办"),
        inputs=(reason_input(N_("退回重办理由")),
                Input("due_on", "date", N_("新的办理期限（上级规定，可不填）"),
                      description="交办机关重新规定的办理期限")),
        notice=Notice("case_reworked", case_handlers, N_("承办人")),
        rule=N_("交办机关退回重办；期限按上级规定"))

_REVIEWING = ("accept", "reject", "return", "reply", "rework", "authority_extend", "request_review",
              "decide_review", "request_reexamination", "decide_reexamination")
#: role → the rights of the petition's own steps (granted when the kind is registered)
RIGHTS = {
    "handler": ("reply",),
    "supervisor": _REVIEWING,
    "admin": _REVIEWING,
    "leader": ("approve_reply",),
}

#: every status a petition can be in (更正 applies in all of them)
_ALL = {S.REGISTERED, S.ACCEPTED, S.HANDLING, S.REPLY_PENDING, S.REPLIED, S.REVIEWING,
        S.REVIEWED, S.REEXAMINING, S.REEXAMINED, S.CLOSED, S.NOT_ACCEPTED, S.RETURNED}

#: step → the petition's move, in the order of the case page's buttons
MOVES = {
    "accept": move({S.REGISTERED}, S.ACCEPTED),
    "assign": move({S.ACCEPTED, S.HANDLING}, S.HANDLING),
    "progress": move({S.ACCEPTED, S.HANDLING, S.REPLIED}),
    "extend_request": move({S.ACCEPTED, S.HANDLING}, guard=_extendable,
                           rule=N_("只能延期一次，不超过本镇期限规则规定的最长延期天数，"
                                   "须说明理由（信访工作条例第34条）")),
    "extend_decide": move({S.ACCEPTED, S.HANDLING}),
    "authority_extend": move({S.REGISTERED, S.ACCEPTED, S.HANDLING, S.REPLY_PENDING,
                              S.REPLIED}),
    "reply": move({S.HANDLING}, S.REPLIED),
    "submit_reply": move({S.HANDLING}, S.REPLY_PENDING),
    "approve_reply": move({S.REPLY_PENDING}, S.REPLIED),
    "return_reply": move({S.REPLY_PENDING}, S.HANDLING),
    "close": move({S.REPLIED}, S.CLOSED, rule=N_("答复后记录信访人评价")),
    "request_review": move({S.REPLIED, S.CLOSED}, S.REVIEWING),
    "decide_review": move({S.REVIEWING}, S.REVIEWED),
    "request_reexamination": move({S.REVIEWED}, S.REEXAMINING),
    "hearing": move({S.REEXAMINING}),
    "decide_reexamination": move({S.REEXAMINING}, S.REEXAMINED),
    "rework": move({S.CLOSED}, S.HANDLING),
    "reject": move({S.REGISTERED}, S.NOT_ACCEPTED),
    "return": move({S.REGISTERED, S.ACCEPTED}, S.RETURNED),
    "correct": move(_ALL),
}
