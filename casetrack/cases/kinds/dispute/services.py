"""The services of the steps only disputes take: 调解, 上交镇级, 调解成功, 调解终止, 回访, 激化风险,
司法确认 (人民调解法). Like every service they check the step (``services._check``), record the
event and flush; they never commit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from casetrack.auth.models import User
from casetrack.cases.kinds.dispute import rules as drules
from casetrack.cases.kinds.dispute import steps as _declared  # noqa: F401  (the steps first)
from casetrack.cases.kinds.dispute.steps import agreement_day
from casetrack.cases.models import Case
from casetrack.cases.services import (
    _check,
    _move,
    _not_future,
    _require_text,
    _set_due,
    _step_date,
    _today,
    _within,
    announce,
    record_event,
)
from casetrack.cases.steps import implements
from casetrack.core.errors import ValidationError
from casetrack.core.i18n import N_, Msg


@implements("start_mediation")
def start_mediation(session: Session, actor: User, now: dt.datetime, case: Case,
                    level: str = "village", note: str = "") -> Case:
    """调解开始, at village (村调委会) or town level. Mediation is voluntary (Art. 17)."""
    t = _check(session, actor, case, "start_mediation", now)
    if level not in drules.MEDIATION_LEVELS:
        raise ValidationError(N_("调解层级无效"), fields={"level": N_("调解层级无效")})

    def change(c: Case) -> None:
        c.mediation_level = level

    _move(case, actor, now, "start_mediation", t, ["mediation_level"], change, note=note)
    session.flush()
    return case


@implements("mediation_session")
def record_mediation_session(session: Session, actor: User, now: dt.datetime, case: Case,
                             held_on: dt.date, note: str) -> Case:
    """One mediation session (调解记录) at the current level."""
    _check(session, actor, case, "mediation_session", now)
    note = _require_text(note, "note", N_("请填写调解情况"))
    _step_date(case, held_on, now, "held_on", N_("调解日期"), [(N_("收到日期"), case.received_on)])
    level = drules.MEDIATION_LEVELS.get(case.mediation_level or "", "")
    record_event(case, actor, now, "mediation_session", from_status=case.status,
                 to_status=case.status,
                 after={"held_on": held_on, "mediation_level": case.mediation_level},
                 note=f"{held_on.isoformat()} {level}调解：{note}")
    session.flush()
    return case


@implements("escalate")
def escalate_dispute(session: Session, actor: User, now: dt.datetime, case: Case,
                     reason: str) -> Case:
    """Village mediation failed: the town (综治中心/司法所) takes it over."""
    t = _check(session, actor, case, "escalate", now)
    reason = _require_text(reason, "reason", N_("请填写上交理由"))

    def change(c: Case) -> None:
        c.mediation_level = "town"
        c.exit_reason = ""
        c.mediated_on = None  # mediation goes on at the town: its outcome is still to come
        c.mediation_due_on = None

    ev = _move(case, actor, now, "escalate", t,
               ["mediation_level", "mediated_on", "mediation_due_on"], change, note=reason)
    session.flush()
    announce(session, case, actor, now, ev, f"【纠纷上交镇级】{case.number} {case.title}",
             f"{actor.name}将纠纷 {case.number}“{case.title}”上交镇级调解，理由：{reason}。"
             "请安排镇综治中心/司法所调解。")
    return case


@implements("resolve")
def resolve_dispute(session: Session, actor: User, now: dt.datetime, case: Case,
                    agreement_type: str, agreement_text: str) -> Case:
    """调解成功: record the agreement and the level it was reached at."""
    t = _check(session, actor, case, "resolve", now)
    if agreement_type not in drules.AGREEMENT_TYPES:
        raise ValidationError(N_("请选择协议形式"), fields={"agreement_type": N_("请选择协议形式")})
    agreement_text = _require_text(agreement_text, "agreement_text", N_("请填写协议内容"))

    def change(c: Case) -> None:
        c.agreement_type = agreement_type
        c.agreement_text = agreement_text
        c.resolution_level = c.mediation_level or "village"
        c.mediated_on = _today(now)
        c.mediation_due_on = c.due_on
        # mediation is done: the clock that runs now is the follow-up visit's (回访期限)
        _set_due(session, c, "dispute.follow_up", c.mediated_on)
        c.follow_up_due_on = c.due_on

    _move(case, actor, now, "resolve", t,
          ["agreement_type", "resolution_level", "mediated_on", "mediation_due_on",
           "follow_up_due_on", "due_on", "due_rule"], change, note=agreement_text)
    session.flush()
    return case


@implements("terminate")
def terminate_dispute(session: Session, actor: User, now: dt.datetime, case: Case,
                      reason: str) -> Case:
    """调解终止: the parties are told their other routes; the case may move up a level."""
    t = _check(session, actor, case, "terminate", now)
    reason = _require_text(reason, "reason", N_("请填写终止理由及告知当事人的其他途径"))

    def change(c: Case) -> None:
        c.exit_reason = reason
        c.mediated_on = _today(now)
        c.mediation_due_on = c.due_on

    _move(case, actor, now, "terminate", t, ["exit_reason", "mediated_on", "mediation_due_on"],
          change, note=reason)
    session.flush()
    return case


@implements("follow_up")
def record_follow_up(session: Session, actor: User, now: dt.datetime, case: Case,
                     visited_on: dt.date, honoured: bool, note: str = "") -> Case:
    """回访: is the agreement honoured?"""
    t = _check(session, actor, case, "follow_up", now)
    # the visit follows the agreement it checks on, which follows the receipt
    _step_date(case, visited_on, now, "visited_on", N_("回访日期"),
               [(N_("收到日期"), case.received_on),
                (N_("调解协议达成日期"), agreement_day(case))])

    def change(c: Case) -> None:
        c.follow_up_on = visited_on
        c.follow_up_honoured = honoured

    _move(case, actor, now, "follow_up", t, ["follow_up_on", "follow_up_honoured"], change,
          note=note)
    session.flush()
    return case


@implements("flag_risk")
def flag_risk(session: Session, actor: User, now: dt.datetime, case: Case, note: str) -> Case:
    """A dispute at risk of turning violent: reported to the police at once (Art. 25)."""
    t = _check(session, actor, case, "flag_risk", now)
    note = _require_text(note, "note", N_("请说明风险情况及报警情况"))

    def change(c: Case) -> None:
        c.is_risk = True

    ev = _move(case, actor, now, "flag_risk", t, ["is_risk"], change, note=note)
    session.flush()
    announce(session, case, actor, now, ev, f"【风险预警】{case.number} {case.title}",
            f"{actor.name}报告纠纷 {case.number}“{case.title}”有激化风险（已报警）：{note}")
    return case


@implements("judicial_confirmation")
def record_judicial_confirmation(session: Session, actor: User, now: dt.datetime, case: Case,
                                 applied_on: dt.date, court: str, note: str = "") -> Case:
    """司法确认: the parties applied to a court within 30 days of the agreement (Art. 33)."""
    t = _check(session, actor, case, "judicial_confirmation", now)
    court = _require_text(court, "court", N_("请填写受理法院"))
    if len(court) > 100:
        raise ValidationError(N_("法院名称不能超过100字"), fields={"court": N_("法院名称不能超过100字")})
    _not_future(applied_on, now, "applied_on", N_("申请日期"))
    agreed = agreement_day(case)
    if agreed is not None:
        if applied_on < agreed:
            raise ValidationError(N_("申请日期不能早于调解协议达成日期"),
                                  fields={"applied_on": N_("申请日期不能早于调解协议达成日期")})
        _within(session, "dispute.judicial_confirmation", agreed, applied_on, "applied_on",
                Msg(N_("申请%(what)s"), what=N_("司法确认")), town_id=case.town_id)

    def change(c: Case) -> None:
        c.judicial_applied_on, c.judicial_court = applied_on, court

    _move(case, actor, now, "judicial_confirmation", t, ["judicial_applied_on", "judicial_court"],
          change, note=note)
    session.flush()
    return case
