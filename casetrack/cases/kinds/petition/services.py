"""The services of the steps only petitions take: 受理, 不予受理, 退回, 上级同意延期, 答复 (and its
approval), 退回重办, 复查 and 复核 (信访工作条例 Arts. 23, 32–36). Like every service they check the
step (``services._check``), record the event and flush; they never commit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from casetrack.auth.models import User
from casetrack.auth.permissions import require_right
from casetrack.cases import rules
from casetrack.cases.kinds.petition import rules as prules
from casetrack.cases.kinds.petition import steps as _declared  # noqa: F401  (the steps first)
from casetrack.cases.kinds.petition.steps import REPLY_APPROVAL_KEY
from casetrack.cases.models import Case, CaseEvent, CaseStatus
from casetrack.cases.repeats import EarlierCase
from casetrack.cases.services import (
    _check,
    _move,
    _not_future,
    _reopened_on,
    _require_text,
    _set_clock,
    _set_due,
    _step_date,
    _today,
    _within,
    announce,
    due_anchor,
    due_words,
)
from casetrack.cases.steps import implements
from casetrack.core.errors import ValidationError
from casetrack.core.i18n import LIST_SEPARATOR, N_, Joined, Msg

S = CaseStatus


def refuse_after_reexamination(earlier: list[Case] | list[EarlierCase], category: str) -> None:
    """不再受理 (Art. 36): the same petitioner's matter (same category) was re-examined."""
    final = [c for c in earlier if c.status == S.REEXAMINED and c.category == category]
    if final:
        numbers = Joined([c.number for c in final[:5]], LIST_SEPARATOR)
        raise ValidationError(
            Msg(N_("不予受理：同一信访人就同一事项（%(category)s）已经复核终结（%(numbers)s），"
                   "根据信访工作条例第三十六条，不再受理。请向信访人说明，或核对是否为新的事项。"),
                category=category, numbers=numbers),
            code="not_accepted_again",
            fields={"parties": Msg(N_("已复核终结：%(numbers)s"), numbers=numbers)})


@implements("accept")
def accept_case(session: Session, actor: User, now: dt.datetime, case: Case,
                accepted_on: dt.date | None = None) -> Case:
    """受理: the 60-day handling clock starts (Art. 34)."""
    t = _check(session, actor, case, "accept", now)
    day = accepted_on or _today(now)
    _step_date(case, day, now, "accepted_on", N_("受理日期"), [(N_("收到日期"), case.received_on)])

    def change(c: Case) -> None:
        c.accepted_on = day
        _set_due(session, c, "petition.handle", day)

    _move(case, actor, now, "accept", t, ["accepted_on", "due_on", "due_rule", "due_basis"], change)
    session.flush()
    return case


def _end_unhandled(session: Session, actor: User, now: dt.datetime, case: Case, step: str,
                   reason: str, missing: str) -> Case:
    """End ``case`` by ``step`` (不予受理 or 退回) without handling it: the reason is required
    (``missing`` is the refusal when it is empty) and the case is closed today."""
    t = _check(session, actor, case, step, now)
    reason = _require_text(reason, "reason", missing)

    def change(c: Case) -> None:
        c.exit_reason = reason
        c.closed_on = _today(now)

    _move(case, actor, now, step, t, ["exit_reason", "closed_on"], change, note=reason)
    session.flush()
    return case


@implements("reject")
def reject_case(session: Session, actor: User, now: dt.datetime, case: Case, reason: str) -> Case:
    """不予受理, with the reason required."""
    return _end_unhandled(session, actor, now, case, "reject", reason, N_("不予受理须填写理由"))


@implements("return")
def return_case(session: Session, actor: User, now: dt.datetime, case: Case, reason: str) -> Case:
    """退回: an assigned case outside our remit, only within 5 working days of receipt."""
    return _end_unhandled(session, actor, now, case, "return", reason, N_("退回须填写理由"))


@implements("authority_extend")
def extend_authority_deadline(session: Session, actor: User, now: dt.datetime, case: Case,
                              due_on: dt.date, reference: str, note: str = "") -> Case:
    """上级同意延期: the assigning authority grants more time; its new date (with its
    reference) becomes the authority's deadline and the effective date is decided again."""
    t = _check(session, actor, case, "authority_extend", now)
    reference = _require_text(reference, "reference", N_("请填写上级同意延期的文号"))
    if len(reference) > 100:
        raise ValidationError(N_("文号不能超过100字"), fields={"reference": N_("文号不能超过100字")})
    if due_on <= case.external_due_on:
        msg = Msg(N_("上级同意延期后的期限应晚于原上级期限（%(due)s）"),
                  due=case.external_due_on.isoformat())
        raise ValidationError(msg, fields={"due_on": msg})

    def change(c: Case) -> None:
        c.external_due_on = due_on
        c.external_extension_ref = reference
        _set_due(session, c, c.due_rule or "petition.handle", due_anchor(c) or c.received_on,
                 c.extension_days)

    ev = _move(case, actor, now, "authority_extend", t,
               ["external_due_on", "external_extension_ref", "due_on", "due_basis"], change,
               note=f"{reference}" + (f"：{note.strip()}" if note.strip() else ""))
    session.flush()
    announce(session, case, actor, now, ev, f"【上级同意延期】{case.number} {case.title}",
             f"交办机关同意 {case.number}“{case.title}”延期至 {due_on.isoformat()}（{reference}），"
             f"现办理期限 {due_words(case)}。")
    return case


def _delivery_bounds(case: Case) -> list[tuple[str, dt.date | None]]:
    """The steps a reply's delivery follows, whether the handler replies directly or a
    leader approves the draft: receipt, acceptance and the latest 退回重办."""
    return [(N_("收到日期"), case.received_on), (N_("受理日期"), case.accepted_on),
            (N_("退回重办日期"), _reopened_on(case))]


@implements("reply")
def reply_case(session: Session, actor: User, now: dt.datetime, case: Case, outcome: str,
               reply_text: str, delivered_on: dt.date) -> Case:
    """答复: the written reply with its outcome and the day it was delivered."""
    t = _check(session, actor, case, "reply", now)
    if outcome not in prules.OUTCOMES:
        raise ValidationError(N_("请选择处理意见（支持、解释说明、不予支持）"), fields={"outcome": N_("处理意见无效")})
    reply_text = _require_text(reply_text, "reply_text", N_("请填写答复意见"))
    _step_date(case, delivered_on, now, "delivered_on", N_("送达日期"), _delivery_bounds(case))

    def change(c: Case) -> None:
        c.outcome, c.reply_text, c.reply_delivered_on = outcome, reply_text, delivered_on

    _move(case, actor, now, "reply", t, ["outcome", "reply_delivered_on"], change, note=reply_text)
    session.flush()
    return case


@implements("rework")
def rework_case(session: Session, actor: User, now: dt.datetime, case: Case, reason: str,
                due_on: dt.date | None = None) -> Case:
    """退回重办: the assigning authority sent the closure back; the case reopens.

    With the new deadline the authority set (``due_on``) that date governs; without one the
    statutory handling clock restarts on the day of the rework (the old date no longer
    binds, so the case is not overdue at once because of it)."""
    t = _check(session, actor, case, "rework", now)
    reason = _require_text(reason, "reason", N_("请填写退回重办的理由"))
    today = _today(now)
    if due_on is not None and due_on < today:
        raise ValidationError(N_("新的办理期限不能早于今天"), fields={"due_on": N_("新的办理期限不能早于今天")})

    def change(c: Case) -> None:
        c.closed_on = None
        c.rating = None
        c.extension_days, c.extension_state, c.extension_requested_days = 0, "none", None
        if due_on is not None:
            c.external_due_on = due_on
        elif c.source in rules.EXTERNAL_SOURCES:
            c.external_due_on = None
        _set_due(session, c, "petition.handle", today)

    ev = _move(case, actor, now, "rework", t,
               ["closed_on", "rating", "due_on", "statutory_due_on", "due_basis",
                "external_due_on", "extension_state", "extension_days"], change, note=reason)
    session.flush()
    announce(session, case, actor, now, ev, f"【退回重办】{case.number} {case.title}",
            f"{case.number}“{case.title}”被退回重办，理由：{reason}"
            + f"；新的办理期限 {due_words(case)}。")
    return case


@implements("submit_reply")
def submit_reply(session: Session, actor: User, now: dt.datetime, case: Case, outcome: str,
                 reply_text: str) -> Case:
    """The handler's reply as a draft, for a town leader to approve (``approve_reply``)."""
    t = _check(session, actor, case, "submit_reply", now)
    if outcome not in prules.OUTCOMES:
        raise ValidationError(N_("请选择处理意见（支持、解释说明、不予支持）"), fields={"outcome": N_("处理意见无效")})
    reply_text = _require_text(reply_text, "reply_text", N_("请填写答复意见"))

    def change(c: Case) -> None:
        c.outcome, c.reply_text = outcome, reply_text

    ev = _move(case, actor, now, "submit_reply", t, ["outcome"], change, note=reply_text)
    session.flush()
    announce(session, case, actor, now, ev, f"【答复待审批】{case.number} {case.title}",
             f"{actor.name}提交了 {case.number}“{case.title}”的答复（{outcome}），请审批。")
    return case


@implements("approve_reply")
def approve_reply(session: Session, actor: User, now: dt.datetime, case: Case,
                  delivered_on: dt.date, note: str = "") -> Case:
    """The leader approves the draft reply; it is then delivered (on ``delivered_on``)."""
    t = _check(session, actor, case, "approve_reply", now)
    _step_date(case, delivered_on, now, "delivered_on", N_("送达日期"), _delivery_bounds(case))

    def change(c: Case) -> None:
        c.reply_delivered_on = delivered_on

    ev = _move(case, actor, now, "approve_reply", t, ["reply_delivered_on"], change,
               note=note or "同意答复")
    session.flush()
    announce(session, case, actor, now, ev, f"【答复已批准】{case.number} {case.title}",
             f"{actor.name}批准了 {case.number}“{case.title}”的答复，送达日期 "
             f"{delivered_on.isoformat()}。" + (f"意见：{note}" if note else ""))
    return case


@implements("return_reply")
def return_reply(session: Session, actor: User, now: dt.datetime, case: Case,
                 reason: str) -> Case:
    """The leader sends the draft reply back to the handler for revision."""
    t = _check(session, actor, case, "return_reply", now)
    reason = _require_text(reason, "reason", N_("请填写退回修改意见"))
    ev = _move(case, actor, now, "return_reply", t, [], lambda c: None, note=reason)
    session.flush()
    announce(session, case, actor, now, ev, f"【答复退回修改】{case.number} {case.title}",
             f"{actor.name}退回了 {case.number}“{case.title}”的答复，意见：{reason}")
    return case


def set_reply_approval(session: Session, actor: User, now: dt.datetime, on: bool) -> None:
    """Switch reply approval on or off for the actor's town (administrators only)."""
    from casetrack.org.settings import set_setting

    require_right(actor, "admin", N_("只有管理员可以修改办理设置"))
    set_setting(session, actor.town_id, REPLY_APPROVAL_KEY, bool(on))


def _request_stage(session: Session, actor: User, now: dt.datetime, case: Case, action: str,
                   requested_on: dt.date, reason: str, *, what: str, opened_on: dt.date,
                   opened_label: str, window_rule: str, answer_rule: str,
                   field_prefix: str) -> CaseEvent:
    """A request for review (复查) or re-examination (复核): within the window ``window_rule``
    opened on ``opened_on``; its answer's clock ``answer_rule`` starts on the request."""
    t = _check(session, actor, case, action, now)
    reason = _require_text(reason, "reason", Msg(N_("请填写%(what)s请求及理由"), what=what))
    _not_future(requested_on, now, "requested_on", N_("申请日期"))
    if requested_on < opened_on:
        msg = Msg(N_("申请日期不能早于%(opened)s"), opened=opened_label)
        raise ValidationError(msg, fields={"requested_on": msg})
    _within(session, window_rule, opened_on, requested_on, "requested_on",
            Msg(N_("申请%(what)s"), what=what),
            town_id=case.town_id)

    def change(c: Case) -> None:
        setattr(c, f"{field_prefix}_requested_on", requested_on)
        _set_clock(session, c, answer_rule)
        setattr(c, f"{field_prefix}_due_on", c.due_on)

    ev = _move(case, actor, now, action, t,
               [f"{field_prefix}_requested_on", "due_on", "due_rule", "due_basis"], change,
               note=reason)
    session.flush()
    return ev


@implements("request_review")
def request_review(session: Session, actor: User, now: dt.datetime, case: Case,
                   requested_on: dt.date, reason: str) -> Case:
    """复查 requested within 30 days of the written reply (Art. 35); its 30-day clock starts."""
    ev = _request_stage(session, actor, now, case, "request_review", requested_on, reason,
                        what=N_("复查"), opened_on=case.reply_delivered_on,
                        opened_label=N_("答复送达日期"),
                        window_rule="petition.review_request",
                        answer_rule="petition.review_answer", field_prefix="review")
    reason = reason.strip()
    announce(session, case, actor, now, ev, f"【申请复查】{case.number} {case.title}",
             f"{case.number}“{case.title}”的信访人申请复查，复查意见应于 "
             f"{case.due_on.isoformat()} 前出具。理由：{reason}")
    return case


def _decide_stage(session: Session, actor: User, now: dt.datetime, case: Case, action: str,
                  outcome: str, decision_text: str, decided_on: dt.date, *, what: str,
                  field_prefix: str) -> Case:
    """The written decision of a review (复查意见) or re-examination (复核意见)."""
    t = _check(session, actor, case, action, now)
    if outcome not in prules.REVIEW_OUTCOMES:
        raise ValidationError(Msg(N_("请选择%(what)s结论（维持、撤销、变更）"), what=what),
                              fields={"outcome": Msg(N_("%(what)s结论无效"), what=what)})
    decision_text = _require_text(decision_text, "decision_text",
                                  Msg(N_("请填写%(what)s意见"), what=what))
    _not_future(decided_on, now, "decided_on", N_("出具日期"))
    if decided_on < getattr(case, f"{field_prefix}_requested_on"):
        raise ValidationError(N_("出具日期不能早于申请日期"), fields={"decided_on": N_("出具日期不能早于申请日期")})

    def change(c: Case) -> None:
        setattr(c, f"{field_prefix}_outcome", outcome)
        setattr(c, f"{field_prefix}_text", decision_text)
        setattr(c, f"{field_prefix}_decided_on", decided_on)

    _move(case, actor, now, action, t, [f"{field_prefix}_outcome", f"{field_prefix}_decided_on"],
          change, note=decision_text)
    session.flush()
    return case


@implements("decide_review")
def decide_review(session: Session, actor: User, now: dt.datetime, case: Case, outcome: str,
                  decision_text: str, decided_on: dt.date) -> Case:
    """The review's written decision (复查意见)."""
    return _decide_stage(session, actor, now, case, "decide_review", outcome, decision_text,
                         decided_on, what=N_("复查"), field_prefix="review")


@implements("request_reexamination")
def request_reexamination(session: Session, actor: User, now: dt.datetime, case: Case,
                          requested_on: dt.date, reason: str) -> Case:
    """复核 requested within 30 days of the review decision (Art. 36); its clock starts."""
    ev = _request_stage(session, actor, now, case, "request_reexamination", requested_on,
                        reason, what=N_("复核"), opened_on=case.review_decided_on,
                        opened_label=N_("复查意见出具日期"), window_rule="petition.recheck_request",
                        answer_rule="petition.recheck_answer", field_prefix="reexam")
    reason = reason.strip()
    announce(session, case, actor, now, ev, f"【申请复核】{case.number} {case.title}",
             f"{case.number}“{case.title}”的信访人申请复核，复核意见应于 "
             f"{case.due_on.isoformat()} 前出具（听证时间不计入）。理由：{reason}")
    return case


@implements("hearing")
def record_hearing(session: Session, actor: User, now: dt.datetime, case: Case,
                   held_on: dt.date, days: int, note: str = "") -> Case:
    """A hearing (听证) during re-examination: its days do not count towards the clock."""
    t = _check(session, actor, case, "hearing", now)
    # a hearing of this re-examination: held after it was requested
    _step_date(case, held_on, now, "held_on", N_("听证日期"),
               [(N_("申请复核日期"), case.reexam_requested_on)])
    if days is None or not 1 <= days <= 60:
        raise ValidationError(N_("听证所用天数应在1至60天之间"), fields={"days": N_("听证所用天数应在1至60天之间")})

    def change(c: Case) -> None:
        c.hearing_days = (c.hearing_days or 0) + days
        _set_clock(session, c, "petition.recheck_answer")
        c.reexam_due_on = c.due_on

    _move(case, actor, now, "hearing", t, ["hearing_days", "due_on"], change,
          note=f"{held_on.isoformat()} 听证，用时{days}天" + (f"：{note}" if note else ""))
    session.flush()
    return case


@implements("decide_reexamination")
def decide_reexamination(session: Session, actor: User, now: dt.datetime, case: Case,
                         outcome: str, decision_text: str, decided_on: dt.date) -> Case:
    """The re-examination's final decision: the same matter is not accepted again."""
    return _decide_stage(session, actor, now, case, "decide_reexamination", outcome,
                         decision_text, decided_on, what=N_("复核"), field_prefix="reexam")
