"""Services: the only way a case changes.

Each takes the acting user and ``now`` (an aware UTC instant), checks the user's right and
the state machine, applies the change, writes a ``CaseEvent`` with before and after values,
flushes, and raises a ``DomainError`` on refusal. None of them commits: the caller does,
exactly once.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
from dataclasses import dataclass, field, replace
from typing import IO, Any

from flask import current_app
from sqlalchemy.orm import Session

from casetrack.auth.models import Role, User
from casetrack.auth.permissions import require_right
from casetrack.cases import rules, steps, storage
from casetrack.cases.models import (
    Attachment,
    Case,
    CaseEvent,
    CaseStatus,
    ExtensionState,
    IdNumberView,
    Party,
)
from casetrack.cases.numbering import next_number, number_prefix
from casetrack.cases.repeats import (
    EarlierCase,
    EarlierCases,
    find_earlier_cases,
    find_reexamined_cases,
)
from casetrack.cases.scoping import can_register_in_village, require_visible
from casetrack.cases.steps import implements
from casetrack.core.errorpages import size_label
from casetrack.core.errors import (
    PermissionDenied,
    ValidationError,
)
from casetrack.core.i18n import LIST_SEPARATOR, N_, Joined, Msg
from casetrack.core.normalize import (
    multi_line,
    normalize_id_number,
    normalize_phone,
    single_line,
)
from casetrack.core.params import REPORT_MIN_DAY
from casetrack.core.time import local_date
from casetrack.deadlines.calendar import load_calendar
from casetrack.deadlines.due import due_for
from casetrack.deadlines.rules import (
    DEFAULT_RULES,
    DeadlineRule,
    earlier_due,
)
from casetrack.deadlines.town_rules import town_rule
from casetrack.org.models import Town, Unit, Village

S = CaseStatus


# --------------------------------------------------------------------------- inputs


@dataclass
class PartyInput:
    name: str
    role: str = "petitioner"
    id_number: str = ""
    phone: str = ""
    address: str = ""


@dataclass
class CaseInput:
    """What registering a case needs; validated by ``register_case``."""

    kind: str
    title: str
    source: str
    received_on: dt.date
    summary: str = ""
    category: str = "其他"
    petition_class: str | None = None
    village_id: int | None = None
    external_ref: str | None = None
    external_due_on: dt.date | None = None
    external_authority: str = ""
    group_size: int = 1
    parties: list[PartyInput] = field(default_factory=list)
    #: extra text for the registration event (e.g. the import file's name)
    note: str = ""


# --------------------------------------------------------------------------- helpers


def record_event(
    case: Case,
    actor: User | None,
    now: dt.datetime,
    action: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    note: str = "",
) -> CaseEvent:
    """Append a timeline entry; ``before``/``after`` become ``{field: [before, after]}``."""
    before = before or {}
    after = after or {}
    changes = {
        k: [_plain(before.get(k)), _plain(after.get(k))]
        for k in sorted(set(before) | set(after))
        if _plain(before.get(k)) != _plain(after.get(k))
    }
    ev = CaseEvent(
        actor_id=actor.id if actor else None,
        at=now,
        action=action,
        from_status=from_status,
        to_status=to_status,
        changes=changes,
        note=note,
    )
    case.events.append(ev)
    # every step changes the case (its version too): a page loaded before it is stale
    case.updated_at = now
    return ev


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _snapshot(case: Case, fields: list[str]) -> dict[str, Any]:
    return {f: getattr(case, f) for f in fields}


def _rule(session: Session, case: Case, code: str) -> DeadlineRule:
    """Rule ``code`` as it applies in the case's town (its overrides included)."""
    with session.no_autoflush:
        return town_rule(session, case.town_id, code)


__all__ = ["due_for"]  # re-exported: ``services.due_for`` is older than ``deadlines.due``


def rule_due(session: Session, case: Case, rule_code: str, start: dt.date,
             extra_days: int = 0) -> tuple[dt.date, bool]:
    """The date rule ``rule_code`` of the case's town gives from ``start`` (plus
    ``extra_days`` of extension), and whether it is exact (see ``due_for``)."""
    rule = _rule(session, case, rule_code)
    with session.no_autoflush:  # one version bump per step, not one per query
        calendar = load_calendar(session, case.town_id)
    return due_for(calendar, start, rule.amount, rule.unit, extra_days)


def is_bound_by_authority(case: Case) -> bool:
    """Whether the assigning authority's own deadline governs the case's handling clock."""
    return case.source in rules.EXTERNAL_SOURCES and case.external_due_on is not None


def _set_due(session: Session, case: Case, rule_code: str, start: dt.date, extra_days: int = 0) -> None:
    """Decide ``case.due_on`` from a rule (plus the town's extension) and, for an assigned
    case, the assigning authority's deadline, whichever is earlier. The town's extension
    moves only the statutory date: it never carries the case past the authority's date."""
    due, exact = rule_due(session, case, rule_code, start, extra_days)
    case.statutory_due_on = due
    basis = "statutory"
    if is_bound_by_authority(case) and rule_code not in kinds.kind_of(case.kind).uncapped_rules:
        due, basis = earlier_due(due, case.external_due_on)
        if basis == "external":
            exact = True
    case.due_on, case.due_rule, case.due_basis, case.due_is_exact = due, rule_code, basis, exact
    case.due_start_on = start


def due_words(case: Case) -> str:
    """The due date as a message states it: ``2027-01-05``, ``2027-01-05（暂定）`` while the
    year's holidays are not entered, ``未定`` without one."""
    if case.due_on is None:
        return "未定"
    words = case.due_on.isoformat() + ("" if case.due_is_exact else "（暂定）")
    if case.external_due_on is not None and case.statutory_due_on is not None:
        governs = "上级规定期限" if case.due_basis == "external" else "法定期限"
        words += (f"（法定期限 {case.statutory_due_on.isoformat()}，上级规定期限 "
                  f"{case.external_due_on.isoformat()}，以{governs}为准）")
    return words


def due_anchor(case: Case) -> dt.date | None:
    """The day the case's current clock runs from."""
    if case.due_start_on is not None:
        return case.due_start_on
    rule = DEFAULT_RULES.get(case.due_rule or "")
    if rule is not None and rule.anchor == "accepted":
        return case.accepted_on
    return case.received_on


def recompute_due(session: Session, case: Case) -> None:
    """Recompute the due dates of a case from its rules (after the calendar or a rule
    changed): the current clock of an open case, and the dates kept for the figures
    (notify date, follow-up date) of every case, closed ones included."""
    kind = kinds.get(case.kind)
    if kind is not None and kind.recompute is not None:
        kind.recompute(session, case)
    if not case.due_rule:
        return
    if kind is not None and case.due_rule in kind.request_clocks:
        if case.is_open or not case.due_is_exact:  # a decided review keeps its clock
            _set_clock(session, case, case.due_rule)
        return
    anchor = due_anchor(case)
    if anchor is None:
        return
    if case.is_open or not case.due_is_exact:
        # a closed case keeps its clock; only a provisional date becomes final. An approved
        # extension extends the clock it was granted on (mediation, not the follow-up after)
        extra = case.extension_days if _rule(session, case, case.due_rule).extendable else 0
        _set_due(session, case, case.due_rule, anchor, extra)


def _set_clock(session: Session, case: Case, rule_code: str) -> None:
    """Set the due date of a clock started by a request (``Kind.request_clocks``: a review or
    re-examination): the rule's days from the request (plus hearing days where they do not
    count). The assigning authority's date does not apply here."""
    field_name, with_hearings, kept = kinds.kind_of(case.kind).request_clocks[rule_code]
    start = getattr(case, field_name)
    extra = case.hearing_days if with_hearings else 0
    due, exact = rule_due(session, case, rule_code, start, extra)
    case.due_on, case.due_rule, case.due_basis, case.due_is_exact = due, rule_code, "statutory", exact
    case.statutory_due_on, case.due_start_on = due, start
    if kept:  # its timeliness figure (按期复查) is judged by the same date: both move together
        setattr(case, kept, due)


def _check(session: Session, actor: User, case: Case, action: str,
           now: dt.datetime) -> steps.Transition:
    """The step's declared check: visibility, role right, state machine, guard."""
    return steps.check(session, actor, case, action, _today(now))


def _move(case: Case, actor: User, now: dt.datetime, action: str, transition: steps.Transition,
          fields: list[str], change, note: str = "") -> CaseEvent:
    """Apply ``change(case)``, move the status and record the event with before/after."""
    before = _snapshot(case, fields)
    old_status = case.status
    change(case)
    if transition.target is not None:
        case.status = transition.target
    after = _snapshot(case, fields)
    return record_event(case, actor, now, action, before=before, after=after,
                        from_status=old_status, to_status=case.status, note=note)


def _today(now: dt.datetime) -> dt.date:
    return local_date(now)


def announce(session: Session, case: Case, actor: User, now: dt.datetime, ev: CaseEvent,
             subject: str, body: str) -> None:
    """Write the step's declared notification (``Step.notice``) to the outbox, in this same
    transaction (the notify package gets plain values only). The actor is not told of their
    own step."""
    from casetrack.notify.services import notify_users, settle

    notice = steps.notice_for(ev.action)
    if notice is None:  # pragma: no cover - only steps with a notice announce
        raise RuntimeError(f"step {ev.action} declares no notification")
    users = notice.recipients(session, case)
    notify_users(session, [u for u in users if u is not None and u.id != actor.id], now,
                 kind=notice.kind, dedupe_key=f"case:{case.id}:{notice.kind}:{ev.id}",
                 subject=subject, body=body, link=f"/cases/{case.id}", town_id=case.town_id)
    if notice.kind in SETTLES:
        # the request this decision answers shows as handled in every recipient's bell
        tag = re.match(r"【(.+?)】", subject)
        settle(session, kind=SETTLES[notice.kind], link=f"/cases/{case.id}",
               note=f"{tag.group(1) if tag else subject}（{actor.name}）", now=now)


#: a decision's notice -> the request notice it answers (settled when the decision is made)
SETTLES = {"extension_decided": "extension_requested", "reply_approved": "reply_submitted",
           "reply_returned": "reply_submitted"}


def _cleaned(data: CaseInput) -> CaseInput:
    """The registration as stored: one-line fields on one line, texts without controls
    (``single_line``/``multi_line``: a page, the API and an import alike)."""
    return replace(
        data, title=single_line(data.title), summary=multi_line(data.summary),
        external_ref=single_line(data.external_ref) or None,
        external_authority=single_line(data.external_authority),
        parties=[replace(p, name=single_line(p.name), address=single_line(p.address))
                 for p in data.parties])


def _require_text(value: str | None, field_name: str, message: str) -> str:
    value = multi_line(value)
    if not value:
        raise ValidationError(message, fields={field_name: message})
    return value


def _not_future(day: dt.date, now: dt.datetime, field_name: str, label: str) -> None:
    if day > _today(now):
        msg = Msg(N_("%(label)s不能晚于今天（%(today)s）"), label=label,
                  today=_today(now).isoformat())
        raise ValidationError(msg, fields={field_name: msg})


def _reopened_on(case: Case) -> dt.date | None:
    """The day of the case's latest 退回重办 (its earlier reply and closing no longer count)."""
    days = [local_date(e.at) for e in case.events if e.action == "rework"]
    return max(days) if days else None


def _step_date(case: Case, day: dt.date, now: dt.datetime, field_name: str, label: str,
               bounds: list[tuple[str, dt.date | None]]) -> None:
    """A date entered on a step lies neither in the future nor before the steps it follows;
    the refusal names the date that bounds it."""
    _not_future(day, now, field_name, label)
    for bound_label, bound in bounds:
        if bound is not None and day < bound:
            msg = Msg(N_("%(label)s不能早于%(bound_label)s（%(bound)s）"), label=label,
                      bound_label=bound_label, bound=bound.isoformat())
            raise ValidationError(msg, fields={field_name: msg})


# --------------------------------------------------------------------------- register


def normalize_case_input(data: CaseInput) -> None:
    """Fold what identifies a party into the one stored form (``core.normalize``): full-width
    digits, x check digit, spaces. Forms, API and import all register through here, so a
    full-width ID typed once matches the same ID typed later (重信重访)."""
    for p in data.parties:
        p.id_number = normalize_id_number(p.id_number)
        p.phone = normalize_phone(p.phone)


#: the longest text each registered field may hold, whether typed on the page, sent to the API
#: or imported (the API schema and the import check the same sizes): the columns' sizes, and
#: for the summary the size the search index stays quick for (SQLite's trigger spaces out the
#: text a character at a time, in time that grows with the square of its length: a summary
#: of 2 million characters held the database's write lock for half an hour)
CASE_TEXT_LIMITS = {"summary": 20_000, "external_ref": 100, "external_authority": 100}
PARTY_TEXT_LIMITS = {"name": 64, "phone": 20, "address": 200}


def _too_long(limit: int) -> Msg:
    return Msg(N_("不能超过%(n)s个字"), n=limit)


def validate_case_input(session: Session, town: Town, data: CaseInput) -> dict[str, str]:
    """Field errors (Chinese) for a registration; empty when valid. Normalises the parties'
    IDs and phones in place first (``normalize_case_input``)."""
    normalize_case_input(data)
    errors: dict[str, str] = {}
    kind = kinds.get(data.kind)
    if kind is None:
        errors["kind"] = N_("案件类型无效")
        return errors
    if not data.title.strip():
        errors["title"] = N_("请填写事项标题")
    elif len(data.title) > 200:
        errors["title"] = N_("标题不能超过200字")
    for name, limit in CASE_TEXT_LIMITS.items():
        if len(getattr(data, name) or "") > limit:
            errors[name] = _too_long(limit)
    if data.received_on < REPORT_MIN_DAY:
        errors["received_on"] = Msg(N_("日期 %(day)s 超出合理范围"),
                                    day=data.received_on.isoformat())
    if data.source not in kind.sources:
        errors["source"] = N_("来源无效")
    if not data.category:
        errors["category"] = N_("请选择内容分类")
    elif data.category not in kind.categories:
        errors["category"] = N_("内容分类无效")
    errors.update(kind.validate(data))
    if kind.village_required and data.village_id is None:
        errors["village_id"] = kind.village_required
    if data.village_id is not None:
        village = session.get(Village, data.village_id)
        if village is None or village.town_id != town.id:
            errors["village_id"] = N_("村（居）不属于本镇")
    if data.source in rules.EXTERNAL_SOURCES:
        if not (data.external_ref or "").strip():
            errors["external_ref"] = N_("上级交办、转送的事项须填写上级交办文号")
        if data.source == "assigned" and data.external_due_on is None:
            errors["external_due_on"] = N_("上级交办的事项须填写上级规定的办理期限")
    if data.external_due_on and data.external_due_on < data.received_on:
        errors["external_due_on"] = N_("上级期限不能早于收到日期")
    if data.group_size < 1 or data.group_size > 10000:
        errors["group_size"] = N_("人数应在1至10000之间")
    if not data.parties:
        errors["parties"] = N_("请至少填写一名当事人")
    errors.update(kind.validate_parties(data))
    for i, p in enumerate(data.parties):
        for name, limit in PARTY_TEXT_LIMITS.items():
            if len(getattr(p, name) or "") > limit:
                errors[f"parties-{i}-{name}"] = _too_long(limit)
        if not p.name.strip():
            errors[f"parties-{i}-name"] = N_("请填写当事人姓名")
        if p.id_number:
            msg = rules.validate_id_number(p.id_number)
            if msg:
                errors[f"parties-{i}-id_number"] = msg
        if p.phone:
            msg = rules.validate_phone(p.phone)
            if msg:
                errors[f"parties-{i}-phone"] = msg
        if p.role not in rules.PARTY_ROLES:
            errors[f"parties-{i}-role"] = N_("当事人身份无效")
    return errors


def register_case(session: Session, actor: User, now: dt.datetime, data: CaseInput, *,
                  earlier_cases: EarlierCases | None = None) -> Case:
    """Register a petition or a dispute, give it its number and its first due date.

    ``earlier_cases``: an import's lookup of the earlier cases of every petitioner in its
    file (else the database is asked for this one)."""
    require_right(actor, "register", N_("您没有登记案件的权限"))
    data = _cleaned(data)
    town = session.get(Town, actor.town_id) if actor.town_id else None
    if town is None:
        raise PermissionDenied(N_("您不属于任何乡镇，不能登记案件"))
    errors = validate_case_input(session, town, data)
    if data.received_on > _today(now):
        errors["received_on"] = N_("收到日期不能晚于今天")
    if errors:
        raise ValidationError.of(errors)
    if not can_register_in_village(actor, data.village_id):
        raise PermissionDenied(N_("网格员只能登记本人负责村（居）的案件"))

    names, ids = [p.name for p in data.parties], [p.id_number for p in data.parties]
    earlier: list[Case] | list[EarlierCase]
    if earlier_cases is not None:
        earlier = earlier_cases.find(names, ids)
    else:
        earlier = find_earlier_cases(session, actor, names, ids)
    kind = kinds.kind_of(data.kind)
    if kind.refuse_earlier is not None and any(ids):
        # a refusal nobody can override (不再受理) needs the same person: the same ID number.
        # A name alone (a town has many 张伟) only lists the earlier cases (重信重访), and the
        # supervisor may still refuse by hand (不予受理, with the reason)
        # every such case, not the latest few: an old re-examined case still refuses
        same_person = (earlier_cases.find([], ids, limit=None) if earlier_cases is not None
                       else find_reexamined_cases(session, actor, ids, data.category))
        kind.refuse_earlier(same_person, data.category)
    year = data.received_on.year
    seq = next_number(session, town.id, data.kind, year)
    case = Case(
        town_id=town.id,
        kind=data.kind,
        number=rules.format_number(number_prefix(session, town.id, data.kind), year, seq),
        number_year=year,
        number_seq=seq,
        title=data.title.strip(),
        summary=data.summary.strip(),
        source=data.source,
        petition_class=data.petition_class if "petition_class" in kind.fields else None,
        category=data.category,
        village_id=data.village_id,
        received_on=data.received_on,
        external_ref=(data.external_ref or "").strip() or None,
        external_due_on=data.external_due_on,
        external_authority=data.external_authority.strip(),
        # the number of people is at least the number of petitioners named
        group_size=max(data.group_size,
                       sum(1 for p in data.parties if p.role == "petitioner")),
        is_repeat=bool(earlier),
        status=S.REGISTERED,
        reported_by_id=actor.id,
        created_at=now,
        updated_at=now,
    )
    for p in data.parties:
        case.parties.append(Party(
            role=p.role, name=p.name.strip(), id_number=normalize_id_number(p.id_number) or None,
            phone=normalize_phone(p.phone), address=p.address.strip(),
        ))
    _set_due(session, case, kind.first_clock(case), data.received_on)
    if kind.on_register is not None:
        kind.on_register(case)
    session.add(case)
    note = data.note
    if earlier:
        note = (note + "；" if note else "") + "重信重访：同一当事人此前有 " + "、".join(
            c.number for c in earlier[:5]) + (" 等" if len(earlier) > 5 else "")
    record_event(case, actor, now, "register",
                 after={"number": case.number, "status": case.status, "due_on": case.due_on,
                        "source": case.source, "title": case.title},
                 to_status=case.status, note=note)
    session.flush()
    if earlier_cases is not None:
        earlier_cases.add(case)
    return case


# --------------------------------------------------------------------------- the shared steps
# (the steps only one kind takes have their services in its folder: cases/kinds/<kind>/)


@implements("assign")
def assign_case(session: Session, actor: User, now: dt.datetime, case: Case,
                unit_id: int | None, handler_id: int | None, note: str = "") -> Case:
    """交办: give the case to a unit and, optionally, one of its handlers."""
    t = _check(session, actor, case, "assign", now)
    unit = session.get(Unit, unit_id) if unit_id else None
    if unit_id and (unit is None or unit.town_id != case.town_id):
        raise ValidationError(N_("承办单位不属于本镇"), fields={"unit_id": N_("承办单位不属于本镇")})
    handler = session.get(User, handler_id) if handler_id else None
    if handler_id:
        if handler is None or handler.town_id != case.town_id or not handler.is_enabled:
            raise ValidationError(N_("承办人不属于本镇"), fields={"handler_id": N_("承办人不属于本镇")})
        if unit is not None and handler.unit_id not in (None, unit.id) and handler.role == Role.HANDLER:
            raise ValidationError(N_("承办人不属于所选承办单位"), fields={"handler_id": N_("承办人不属于所选承办单位")})
        if unit is None and handler.unit_id:
            unit = session.get(Unit, handler.unit_id)
    if unit is None and handler is None:
        raise ValidationError(N_("请选择承办单位或承办人"), fields={"unit_id": N_("请选择承办单位或承办人")})

    def change(c: Case) -> None:
        c.unit_id = unit.id if unit else None
        c.handler_id = handler.id if handler else None

    ev = _move(case, actor, now, "assign", t, ["unit_id", "handler_id"], change, note=note)
    _describe_assignment(ev, unit, handler)
    session.flush()
    announce(session, case, actor, now, ev, f"【新交办】{case.number} {case.title}",
             f"{actor.name}{ev.note}：{case.number}“{case.title}”，到期日 {due_words(case)}。")
    return case


def _describe_assignment(ev: CaseEvent, unit: Unit | None, handler: User | None) -> None:
    names = "、".join(x for x in [unit.name if unit else "", handler.name if handler else ""] if x)
    ev.note = (f"交办给 {names}" + (f"；{ev.note}" if ev.note else "")) if names else ev.note


@implements("progress")
def record_progress(session: Session, actor: User, now: dt.datetime, case: Case, note: str) -> Case:
    """A progress note on the timeline (办理进展)."""
    _check(session, actor, case, "progress", now)
    note = _require_text(note, "note", N_("请填写进展情况"))
    record_event(case, actor, now, "progress", from_status=case.status, to_status=case.status,
                 note=note)
    session.flush()
    return case


@implements("extend_request")
def request_extension(session: Session, actor: User, now: dt.datetime, case: Case,
                      days: int, reason: str) -> Case:
    """Ask for an extension: at most 30 days, once, with a reason (Art. 34)."""
    t = _check(session, actor, case, "extend_request", now)
    reason = _require_text(reason, "reason", N_("申请延期须说明理由"))
    most = steps.max_extension_days(case)
    if not 1 <= days <= most:
        msg = Msg(N_("延期天数应在1至%(most)s天之间"), most=most)
        raise ValidationError(msg, fields={"days": msg})

    def change(c: Case) -> None:
        c.extension_state = ExtensionState.PENDING
        c.extension_requested_days = days
        c.extension_reason = reason

    warning = steps.authority_bound_warning(case)
    ev = _move(case, actor, now, "extend_request", t,
               ["extension_state", "extension_requested_days", "extension_reason"], change,
               note=reason + (f"（{warning}）" if warning else ""))
    session.flush()
    announce(session, case, actor, now, ev, f"【延期待审批】{case.number} {case.title}",
            f"{actor.name}申请将 {case.number}“{case.title}”延期 {days} 天（现到期日 "
            f"{due_words(case)}），理由：{reason}"
            + (f"。注意：{warning}" if warning else ""))
    return case


@implements("extend_decide")
def decide_extension(session: Session, actor: User, now: dt.datetime, case: Case,
                     approve: bool, note: str = "") -> Case:
    """The leader approves or refuses a pending extension; approval moves the due date."""
    t = _check(session, actor, case, "extend_decide", now)

    def change(c: Case) -> None:
        if approve:
            c.extension_state = ExtensionState.APPROVED
            c.extension_days = c.extension_requested_days or 0
            _set_due(session, c, c.due_rule, due_anchor(c), c.extension_days)
        else:
            c.extension_state = ExtensionState.REJECTED

    ev = _move(case, actor, now, "extend_decide", t,
               ["extension_state", "extension_days", "due_on", "statutory_due_on", "due_basis"],
               change,
               note=("批准延期" if approve else "不批准延期") + (f"：{note}" if note else ""))
    session.flush()
    decision = "已批准" if approve else "未批准"
    announce(session, case, actor, now, ev, f"【延期{decision}】{case.number} {case.title}",
            f"{actor.name}{decision} {case.number}“{case.title}”的延期申请"
            + (f"，新的到期日 {due_words(case)}" if approve and case.due_on else "")
            + (f"。意见：{note}" if note else "。"))
    return case


@implements("close")
def close_case(session: Session, actor: User, now: dt.datetime, case: Case,
               rating: str | None = None, closed_on: dt.date | None = None, note: str = "") -> Case:
    """办结 a replied petition (with the petitioner's rating) or 结案 a dispute."""
    t = _check(session, actor, case, "close", now)
    day = closed_on or _today(now)
    _step_date(case, day, now, "closed_on", N_("办结日期"),
               [(N_("收到日期"), case.received_on), (N_("受理日期"), case.accepted_on),
                (N_("答复送达日期"), case.reply_delivered_on),
                (N_("调解结果日期"), case.mediated_on), (N_("回访日期"), case.follow_up_on),
                (N_("退回重办日期"), _reopened_on(case))])
    if "rating" in kinds.kind_of(case.kind).fields:
        if rating not in rules.RATINGS:
            raise ValidationError(N_("请选择信访人评价"), fields={"rating": N_("请选择信访人评价")})
    else:
        rating = None

    def change(c: Case) -> None:
        c.rating = rating
        c.closed_on = day

    _move(case, actor, now, "close", t, ["rating", "closed_on"], change, note=note)
    session.flush()
    return case


def _within(session: Session, rule_code: str, start: dt.date, day: dt.date, field_name: str,
            what: str, town_id: int | None = None) -> None:
    """Refuse ``day`` when it lies after the rule's window (the town's) opened on ``start``."""
    end = steps.clock_end(session, rule_code, start, town_id=town_id)
    if day > end:
        msg = Msg(N_("已超过%(what)s期限（%(end)s）"), what=what, end=end.isoformat())
        raise ValidationError(msg, fields={field_name: msg})


# --------------------------------------------------------------------------- corrections


@implements("correct")
def correct_case(session: Session, actor: User, now: dt.datetime, case: Case, reason: str,
                 title: str = "", summary: str = "", category: str | None = None,
                 village_id: int | None = None, party_id: int | None = None,
                 party_name: str = "", party_phone: str = "") -> Case:
    """更正: fix registration details, with the reason and before → after on the timeline.

    Empty inputs leave a value as it is. Figures as of earlier dates are computed from the
    timeline, so they keep the values the case had then."""
    _check(session, actor, case, "correct", now)
    reason = _require_text(reason, "reason", N_("更正须说明理由"))
    errors: dict[str, str] = {}
    wanted: dict[str, Any] = {}
    title, summary = single_line(title), multi_line(summary)
    if title:
        if len(title) > 200:
            errors["title"] = N_("标题不能超过200字")
        wanted["title"] = title
    if summary:
        if len(summary) > CASE_TEXT_LIMITS["summary"]:
            errors["summary"] = _too_long(CASE_TEXT_LIMITS["summary"])
        wanted["summary"] = summary
    if category:
        if category not in kinds.kind_of(case.kind).categories:
            errors["category"] = N_("内容分类无效")
        wanted["category"] = category
    if village_id:
        village = session.get(Village, village_id)
        if village is None or village.town_id != case.town_id:
            errors["village_id"] = N_("村（居）不属于本镇")
        wanted["village_id"] = village_id
    party = None
    party_name, party_phone = single_line(party_name), normalize_phone(party_phone)
    if len(party_name) > PARTY_TEXT_LIMITS["name"]:
        errors["party_name"] = _too_long(PARTY_TEXT_LIMITS["name"])
    if party_id:
        party = next((p for p in case.parties if p.id == party_id), None)
        if party is None:
            errors["party_id"] = N_("当事人不属于本案")
    if (party_name or party_phone) and party is None and "party_id" not in errors:
        errors["party_id"] = N_("请选择要更正的当事人")
    if party_phone and (msg := rules.validate_phone(party_phone)):
        errors["party_phone"] = msg
    if errors:
        raise ValidationError.of(errors)
    before = {k: getattr(case, k) for k in wanted}
    after = dict(wanted)
    if party is not None:
        if party_name:
            before["party_name"], after["party_name"] = party.name, party_name
        if party_phone:
            before["party_phone"], after["party_phone"] = party.phone, party_phone
    if all(before[k] == after[k] for k in after):
        raise ValidationError(N_("没有需要更正的内容"), fields={"reason": N_("没有需要更正的内容")})
    for key, value in wanted.items():
        setattr(case, key, value)
    if party is not None:
        party.name = after.get("party_name", party.name)
        party.phone = after.get("party_phone", party.phone)
    note = reason + (f"（当事人：{before.get('party_name', party.name)}）" if party else "")
    record_event(case, actor, now, "correct", before=before, after=after,
                 from_status=case.status, to_status=case.status, note=note)
    session.flush()
    return case


# --------------------------------------------------------------------------- files and IDs


def add_attachment(session: Session, actor: User, now: dt.datetime, case: Case,
                   filename: str, content_type: str, stream: IO[bytes]) -> Attachment:
    """Store an uploaded file after checking its type and size, in the upload folder or the
    database (``ATTACHMENT_STORAGE``, see ``cases/storage.py``), read in chunks."""
    require_visible(actor, case)
    require_right(actor, "attach", N_("您没有上传附件的权限"))
    allowed = current_app.config["ATTACHMENT_EXTENSIONS"]
    max_bytes = current_app.config["ATTACHMENT_MAX_BYTES"]
    name = os.path.basename((filename or "").replace("\\", "/")).strip()
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if not name or ext not in allowed:
        raise ValidationError(Msg(N_("不支持的文件类型，允许：%(allowed)s"),
                                  allowed=Joined(sorted(allowed), LIST_SEPARATOR)),
                              fields={"file": N_("不支持的文件类型")})
    att = Attachment(case=case, uploaded_by_id=actor.id, filename=name[:255],
                     content_type=_content_type(ext), size=0, sha256="",
                     storage_key=secrets.token_hex(16), created_at=now)
    session.add(att)
    try:
        storage.save(session, att, stream, max_bytes)
    except storage.TooLarge:
        msg = Msg(N_("文件不能超过 %(size)s"), size=size_label(max_bytes))
        raise ValidationError(msg, fields={"file": msg}) from None
    if not att.size:
        raise ValidationError(N_("文件为空"), fields={"file": N_("文件为空")})
    record_event(case, actor, now, "attach", from_status=case.status, to_status=case.status,
                 after={"attachment": name}, note=f"上传附件 {name}")
    session.flush()
    return att


_TYPES = {
    "pdf": "application/pdf", "jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png",
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "txt": "text/plain", "mp3": "audio/mpeg", "m4a": "audio/mp4", "amr": "audio/amr",
    "ofd": "application/ofd",
}


def _content_type(ext: str) -> str:
    """The type we serve a file with is decided by us, never by the uploader."""
    return _TYPES.get(ext, "application/octet-stream")


def reveal_id_number(session: Session, actor: User, now: dt.datetime, party: Party,
                     channel: str = "web") -> str:
    """The full ID number, for supervisors and above only; every view is logged."""
    require_visible(actor, party.case)
    require_right(actor, "view_id", N_("您无权查看完整身份证号码"))
    session.add(IdNumberView(user_id=actor.id, party_id=party.id, at=now, channel=channel))
    session.flush()
    return party.id_number or ""


# --------------------------------------------------------------------------- the kinds' services


def __getattr__(name: str) -> Any:
    """The services of the steps only one kind takes live in the kind's folder
    (``cases/kinds/<kind>/services.py``); they are reached here under their own names too
    (``services.accept_case``), for every registered kind."""
    if not name.startswith("_"):
        for kind in kinds.all_kinds():
            if kind.services is not None and hasattr(kind.services, name):
                return getattr(kind.services, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# the kinds import this module's helpers (their services build on them): loaded last
from casetrack.cases import kinds  # noqa: E402
