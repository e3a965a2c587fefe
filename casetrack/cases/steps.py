"""The one step list: every lifecycle step of a case, declared once.

A ``Step`` says which transitions it makes for each kind (from which statuses, to which), the
right it needs, its guard (one function returning a refusal message, or ``None``), its
input (``Input`` fields, from which the web form and the API schema are both generated), the
notification it sends and the rule it rests on. The services enforce it (``check``), the
case page shows exactly the steps whose check passes (``available``), and the page routes,
the API endpoints and the OpenAPI document are generated from ``STEPS``.

To add a step: declare it here with ``_step(...)``, write its service in ``services.py``
decorated with ``@implements("name")`` (it starts with ``t = check(...)``), add its right to
the roles in ``auth/permissions.ROLE_ACTIONS``. Page, API, OpenAPI, buttons and
``flask cases steps`` follow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy.orm import Session, object_session

from casetrack.auth.models import User
from casetrack.auth.permissions import has_right
from casetrack.cases import rules
from casetrack.cases.models import Case, CaseKind, CaseStatus, ExtensionState
from casetrack.cases.scoping import require_visible
from casetrack.core.errors import InvalidTransition, PermissionDenied
from casetrack.core.i18n import N_
from casetrack.deadlines.calendar import load_calendar
from casetrack.deadlines.due import due_for
from casetrack.deadlines.rules import DEFAULT_RULES, DayUnit, amount_text
from casetrack.deadlines.town_rules import town_rule

S = CaseStatus
P, D = CaseKind.PETITION, CaseKind.DISPUTE


# --------------------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Transition:
    """What a step does to the status of one kind: allowed from ``sources``; ``target`` None
    means the step leaves the status as it is."""

    action: str
    sources: frozenset[str]
    target: str | None
    label: str


@dataclass(frozen=True)
class Input:
    """One input of a step. The web form field and the API schema field are generated from
    it (``cases.forms.step_form``, ``api.cases``); the service receives it by ``name``."""

    name: str
    #: "text" (one line), "longtext", "date", "int", "bool", "choice", "id"
    type: str
    label: str
    required: bool = False
    #: the web form's message when a required date/number/choice is missing
    required_message: str = ""
    #: (value, label) pairs for "choice"; for "bool" the web form's two radio values
    choices: tuple[tuple[str, str], ...] = ()
    max_length: int = 5000
    minimum: int | None = None
    maximum: int | None = None
    #: API default when the field is left out (for optional fields)
    default: Any = None
    #: the web form shows today's date in an empty date field
    today_default: bool = False
    #: the field's name in the web form when it differs (the API uses ``name``)
    web_name: str = ""
    #: only shown for these kinds (all when empty)
    kinds: tuple[str, ...] = ()
    description: str = ""
    #: ``(session, case) -> [(value, label)]``: choices that depend on the case
    options: Callable[[Session, Case], list[tuple[Any, str]]] | None = None
    #: the labels ``options`` gives are catalog strings (translated), not names people typed
    options_translated: bool = False

    @property
    def form_name(self) -> str:
        return self.web_name or self.name


#: a guard: ``(session, case, today) -> refusal message or None``
Guard = Callable[[Session, Case, dt.date], "str | None"]


@dataclass(frozen=True)
class Notice:
    """Who a step notifies (``recipients(session, case)``) and under which outbox kind; the
    service fills in the subject and body from the step's facts (``services.announce``)."""

    kind: str
    recipients: Callable[[Session, Case], list[User]]
    #: who, in words, for ``flask cases steps``
    who: str


@dataclass
class Step:
    """One lifecycle step, declared once."""

    name: str
    label: str
    transitions: dict[str, Transition]
    #: the right the step needs (per kind when it differs)
    right: str | dict[str, str]
    inputs: tuple[Input, ...] = ()
    guard: Guard | None = None
    notice: Notice | None = None
    #: the rule it rests on, in words (shown by ``flask cases steps``)
    rule: str = ""
    #: one line for the API document (defaults to the label)
    summary: str = ""
    #: ``(session, case, today) -> (msgid, params)`` shown above the step's form
    hint: Callable[[Session, Case, dt.date], tuple[str, dict[str, Any]] | None] | None = None
    #: the service implementing it (bound by ``@implements``)
    service: Callable[..., Any] | None = field(default=None, repr=False)

    @property
    def slug(self) -> str:
        """The URL segment of the step (``extend_request`` → ``extend-request``)."""
        return self.name.replace("_", "-")

    def label_for(self, kind: str) -> str:
        t = self.transitions.get(str(kind))
        return t.label if t is not None else self.label

    def right_for(self, kind: str) -> str:
        return self.right[kind] if isinstance(self.right, dict) else self.right

    def transition(self, kind: str) -> Transition | None:
        return self.transitions.get(str(kind))

    def perform(self, session: Session, actor: User, now: dt.datetime, case: Case,
                data: dict[str, Any]) -> Any:
        """Call the step's service with its inputs (``data`` keyed by input name)."""
        if self.service is None:  # pragma: no cover - every declared step has a service
            raise RuntimeError(f"step {self.name} has no service")
        wanted = {i.name for i in self.inputs}
        return self.service(session, actor, now, case,
                            **{k: v for k, v in data.items() if k in wanted})


STEPS: dict[str, Step] = {}


def _step(name: str, label: str, moves: dict[str, tuple[set[CaseStatus], CaseStatus | None]],
          right: str | dict[str, str] | None = None,
          kind_labels: dict[str, str] | None = None, **kw: Any) -> Step:
    """Declare a step; ``kind_labels`` names it differently for some kinds (办结 / 结案)."""
    kind_labels = kind_labels or {}
    transitions = {str(kind): Transition(name, frozenset(src), tgt,
                                         kind_labels.get(kind, label))
                   for kind, (src, tgt) in moves.items()}
    step = Step(name=name, label=label, transitions=transitions, right=right or name, **kw)
    STEPS[name] = step
    return step


def implements(name: str) -> Callable[[Callable], Callable]:
    """Bind a service function to its declared step."""

    def bind(fn: Callable) -> Callable:
        STEPS[name].service = fn
        return fn

    return bind


# --------------------------------------------------------------------------- guards


def _extendable(session: Session, case: Case, today: dt.date) -> str | None:
    if case.kind == P and case.status == S.ACCEPTED and case.due_rule != "petition.handle":
        return "尚未受理的事项不能申请延期"
    if case.due_rule not in DEFAULT_RULES:
        return "该期限不能延长"
    rule = town_rule(session, case.town_id, case.due_rule)
    if not rule.extendable or (case.kind == P and case.due_rule != "petition.handle"):
        return "该期限不能延长"
    if case.extension_state == ExtensionState.APPROVED:
        return "该案件已经延期一次，不能再次延期"
    if case.extension_state == ExtensionState.PENDING:
        return "已有延期申请等待审批"
    return None


def max_extension_days(case: Case) -> int:
    """The most days an extension of the case's current clock may ask for (the town's
    rule)."""
    if case.due_rule not in DEFAULT_RULES:
        return 0
    session = object_session(case)
    with session.no_autoflush:
        return town_rule(session, case.town_id, case.due_rule).max_extension_days


def _extension_pending(session: Session, case: Case, today: dt.date) -> str | None:
    return None if case.extension_state == ExtensionState.PENDING else "没有待审批的延期申请"


def return_deadline(session: Session, case: Case) -> dt.date | None:
    """Last day on which an assigned case may be returned (the town's rule petition.object:
    5 working days after receipt by default, Art. 23)."""
    if case.source not in rules.EXTERNAL_SOURCES:
        return None
    return clock_end(session, "petition.object", case.received_on, town_id=case.town_id)


def _returnable(session: Session, case: Case, today: dt.date) -> str | None:
    if case.source not in rules.EXTERNAL_SOURCES:
        return "只有上级交办或转送的事项可以退回"
    limit = return_deadline(session, case)
    if limit is not None and today > limit:
        return (f"已超过收到后{_period(session, case, 'petition.object')}的退回期限"
                f"（{limit.isoformat()}），不能退回")
    return None


def _period(session: Session, case: Case, code: str, translated: bool = False) -> str:
    """How long the town's rule ``code`` runs, in words (``5个工作日``, ``30天``); in the
    interface language with ``translated`` (page hints)."""
    rule = town_rule(session, case.town_id, code)
    if not translated:
        return amount_text(rule.amount, rule.unit)
    from flask_babel import gettext

    return gettext(str(PERIOD_WORDS[DayUnit(rule.unit)]), n=rule.amount)


#: a period in words, per unit (the page hints translate it)
PERIOD_WORDS = {DayUnit.DAYS: N_("%(n)s天"), DayUnit.WORKDAYS: N_("%(n)s个工作日"),
                DayUnit.MONTHS: N_("%(n)s个月")}


def _authority_bound(session: Session, case: Case, today: dt.date) -> str | None:
    if case.source not in rules.EXTERNAL_SOURCES or case.external_due_on is None:
        return "只有有上级规定期限的交办、转送事项才能登记上级同意延期"
    return None


def authority_bound_warning(case: Case, days: int | None = None) -> str:
    """The warning shown when the town's extension cannot move the governing date: the case
    is bound by the assigning authority's deadline (only the authority can grant more time).
    Empty when the statutory date governs even after an extension of ``days``."""
    if case.source not in rules.EXTERNAL_SOURCES or case.external_due_on is None:
        return ""
    if case.due_basis != "external" and (
            days is None or case.statutory_due_on is None
            or case.statutory_due_on + dt.timedelta(days=days) <= case.external_due_on):
        return ""
    return (f"本案受上级规定期限（{case.external_due_on.isoformat()}）约束，镇内延期不能推迟该期限；"
            "如需更多时间，须由交办机关同意延期")


def _not_at_town_yet(session: Session, case: Case, today: dt.date) -> str | None:
    if case.mediation_level == "town" and case.status == S.MEDIATING:
        return "该纠纷已在镇级调解"
    return None


def _followed_up(session: Session, case: Case, today: dt.date) -> str | None:
    if case.kind == D and case.status == S.RESOLVED and case.follow_up_on is None:
        return "调解成功的纠纷须先回访，确认协议履行情况后才能结案"
    return None


#: the town setting that switches reply approval on or off (default: REPLY_APPROVAL)
REPLY_APPROVAL_KEY = "cases.reply_approval"


def reply_approval_on(session: Session, town_id: int) -> bool:
    """Whether a reply in this town is a draft until a leader approves it."""
    from casetrack.org.settings import get_setting

    default = bool(current_app.config.get("REPLY_APPROVAL", True))
    return bool(get_setting(session, town_id, REPLY_APPROVAL_KEY, default))


def _approval_off(session: Session, case: Case, today: dt.date) -> str | None:
    if reply_approval_on(session, case.town_id):
        return "本镇的答复须经领导审批：请“提交答复审批”"
    return None


def _approval_on(session: Session, case: Case, today: dt.date) -> str | None:
    if not reply_approval_on(session, case.town_id):
        return "本镇的答复无须审批：请直接“答复”"
    return None


def _written_reply(session: Session, case: Case, today: dt.date) -> str | None:
    if case.reply_delivered_on is None:
        return "没有书面答复送达日期的事项不能申请复查"
    return None


def _agreement_reached(session: Session, case: Case, today: dt.date) -> str | None:
    if case.agreement_type is None:
        return "只有达成调解协议的纠纷才能申请司法确认"
    if case.judicial_applied_on is not None:
        return "已记录司法确认申请"
    return None


def agreement_day(case: Case) -> dt.date | None:
    """The day the mediation agreement was reached (the day of the last 调解成功 step)."""
    from casetrack.core.time import local_date

    ev = next((e for e in reversed(case.events) if e.action == "resolve"), None)
    return local_date(ev.at) if ev is not None else None


def clock_end(session: Session, rule_code: str, start: dt.date, extra_days: int = 0,
              town_id: int | None = None) -> dt.date:
    """The last day of a clock of the rule table (the town's, with its overrides) started on
    ``start``."""
    with session.no_autoflush:
        rule = town_rule(session, town_id, rule_code)
        calendar = load_calendar(session, town_id)
    due, _exact = due_for(calendar, start, rule.amount, rule.unit, extra_days)
    return due


# --------------------------------------------------------------------------- hints


Hint = tuple[str, dict[str, Any]] | None


def _risk_hint(session: Session, case: Case, today: dt.date) -> Hint:
    return N_("提交后系统会立即通知本镇督办员。有激化风险须同时打电话报警（110），"
              "本系统不会替您报警。"), {}


def _return_hint(session: Session, case: Case, today: dt.date) -> Hint:
    limit = return_deadline(session, case)
    if limit is None:
        return None
    return N_("退回期限：收到后%(n)s内，即 %(d)s 前"), {
        "n": _period(session, case, "petition.object", translated=True),
            "d": limit.isoformat()}


def _extension_hint(session: Session, case: Case, today: dt.date) -> Hint:
    most = max_extension_days(case)
    if authority_bound_warning(case, most):
        return N_("延期只能申请一次，最多%(n)s天，须经镇领导批准。注意：本案受上级规定期限"
                  "（%(d)s）约束，镇内延期不能推迟该期限；如需更多时间，须由交办机关同意延期。"), {
            "n": most, "d": case.external_due_on.isoformat()}
    return N_("延期只能申请一次，最多%(n)s天，须经镇领导批准。"), {"n": most}


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
            "n": _period(session, case, "petition.review_request", translated=True),
            "d": end.isoformat()}
    return None


def _reexam_window_hint(session: Session, case: Case, today: dt.date) -> Hint:
    if case.review_decided_on:
        end = clock_end(session, "petition.recheck_request", case.review_decided_on,
                        town_id=case.town_id)
        return N_("申请复核期限：复查意见送达后%(n)s内，即 %(d)s 前（信访工作条例第36条）"), {
            "n": _period(session, case, "petition.recheck_request", translated=True),
            "d": end.isoformat()}
    return None


def _judicial_hint(session: Session, case: Case, today: dt.date) -> Hint:
    day = agreement_day(case)
    if day is None:
        return None
    end = clock_end(session, "dispute.judicial_confirmation", day, town_id=case.town_id)
    return N_("申请司法确认期限：调解协议生效后%(n)s内，即 %(d)s 前（人民调解法第33条）"), {
        "n": _period(session, case, "dispute.judicial_confirmation", translated=True),
            "d": end.isoformat()}


def _decide_hint(session: Session, case: Case, today: dt.date) -> Hint:
    return N_("申请延期%(n)s天：%(r)s"), {"n": case.extension_requested_days,
                                        "r": case.extension_reason}


# --------------------------------------------------------------------------- recipients


def town_users(role: str) -> Callable[[Session, Case], list[User]]:
    """The enabled users of the case's town with ``role``."""
    from sqlalchemy import select

    def find(session: Session, case: Case) -> list[User]:
        return list(session.scalars(select(User).where(
            User.town_id == case.town_id, User.role == role, User.is_enabled)))

    return find


def case_handlers(session: Session, case: Case) -> list[User]:
    """The case's handler, or the enabled handlers of its unit when none is named."""
    from sqlalchemy import select

    if case.handler_id is not None:
        user = session.get(User, case.handler_id)
        return [user] if user is not None else []
    if case.unit_id is None:
        return []
    return list(session.scalars(select(User).where(
        User.unit_id == case.unit_id, User.role == "handler", User.is_enabled)))


def _requester_and_handlers(session: Session, case: Case) -> list[User]:
    requester = next((e.actor for e in reversed(case.events) if e.action == "extend_request"),
                     None)
    return [u for u in [requester, *case_handlers(session, case)] if u is not None]


# --------------------------------------------------------------------------- options


def _unit_options(session: Session, case: Case) -> list[tuple[Any, str]]:
    from sqlalchemy import select

    from casetrack.org.models import Unit

    units = session.scalars(
        select(Unit).where(Unit.town_id == case.town_id, Unit.is_active).order_by(Unit.id))
    return [("", N_("请选择"))] + [(u.id, u.name) for u in units]


def _handler_options(session: Session, case: Case) -> list[tuple[Any, str]]:
    from sqlalchemy import select

    handlers = session.scalars(
        select(User).where(User.town_id == case.town_id, User.is_enabled,
                           User.role == "handler").order_by(User.unit_id, User.id))
    return [("", N_("（暂不指定）"))] + [
        (h.id, f"{h.name}（{h.unit.name}）" if h.unit else h.name) for h in handlers]


def _category_options(session: Session, case: Case) -> list[tuple[Any, str]]:
    return [("", N_("（不更正）"))] + [(c, c) for c in rules.CATEGORIES[CaseKind(case.kind)]]


def _village_options(session: Session, case: Case) -> list[tuple[Any, str]]:
    from sqlalchemy import select

    from casetrack.org.models import Village

    villages = session.scalars(select(Village).where(Village.town_id == case.town_id,
                                                     Village.is_active)
                               .order_by(Village.sort_order, Village.id))
    return [("", N_("（不更正）"))] + [(v.id, v.name) for v in villages]


def _party_options(session: Session, case: Case) -> list[tuple[Any, str]]:
    return [("", N_("（不更正当事人）"))] + [(p.id, p.name) for p in case.parties]


# --------------------------------------------------------------------------- inputs


def _reason(label: str = N_("理由")) -> Input:
    return Input("reason", "longtext", label, required=True)


def _note(label: str = N_("说明"), required: bool = False, max_length: int = 5000) -> Input:
    return Input("note", "longtext", label, required=required, max_length=max_length,
                 default="")


def _pairs(mapping: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(mapping.items())


def _same(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((v, v) for v in values)


# --------------------------------------------------------------------------- the list

_step("accept", N_("受理"), {P: ({S.REGISTERED}, S.ACCEPTED)},
      inputs=(Input("accepted_on", "date", N_("受理日期"), description="默认今天"),),
      rule=N_("信访工作条例第23条；受理后60日办理期限开始（第34条）"))
_step("reject", N_("不予受理"), {P: ({S.REGISTERED}, S.NOT_ACCEPTED)},
      inputs=(_reason(),), rule=N_("须写明理由"))
_step("return", N_("退回交办机关"), {P: ({S.REGISTERED, S.ACCEPTED}, S.RETURNED)},
      inputs=(_reason(),), guard=_returnable, hint=_return_hint,
      summary=N_("退回交办机关（第23条规定的期限内）"),
      rule=N_("仅上级交办、转送的事项，在本镇期限规则 petition.object 规定的期限内（第23条）"))
_step("assign", N_("交办承办单位"),
      {P: ({S.ACCEPTED, S.HANDLING}, S.HANDLING), D: ({S.REGISTERED, S.MEDIATING}, None)},
      kind_labels={D: N_("指定承办")},
      inputs=(Input("unit_id", "id", N_("承办单位"), options=_unit_options),
              Input("handler_id", "id", N_("承办人"), options=_handler_options),
              _note(N_("交办意见"))),
      notice=Notice("case_assigned", case_handlers, N_("承办人（或承办单位的承办人）")),
      summary=N_("交办承办单位 / 指定承办人"), rule=N_("承办人须属本镇"))
_step("start_mediation", N_("开始调解"), {D: ({S.REGISTERED}, S.MEDIATING)},
      inputs=(Input("level", "choice", N_("调解层级"), choices=_pairs(rules.MEDIATION_LEVELS),
                    default="village"), _note()),
      rule=N_("人民调解法第17条：调解自愿"))
_step("mediation_session", N_("记录调解"), {D: ({S.MEDIATING}, None)},
      inputs=(Input("held_on", "date", N_("调解日期"), required=True, today_default=True,
                    required_message=N_("请填写调解日期")),
              _note(N_("调解情况"), required=True, max_length=20_000)),
      rule=N_("调解日期不晚于今天"))
_step("progress", N_("记录办理进展"),
      {P: ({S.ACCEPTED, S.HANDLING, S.REPLIED}, None),
       D: ({S.REGISTERED, S.MEDIATING, S.RESOLVED, S.TERMINATED}, None)},
      kind_labels={D: N_("记录进展")},
      inputs=(_note(N_("情况说明"), required=True, max_length=20_000),),
      rule=N_("须填写进展情况"))
_step("extend_request", N_("申请延期"),
      {P: ({S.ACCEPTED, S.HANDLING}, None), D: ({S.REGISTERED, S.MEDIATING}, None)},
      inputs=(Input("days", "int", N_("延期天数"), required=True, minimum=-1000, maximum=1000,
                    required_message=N_("请填写延期天数")),
              _reason(N_("延期理由"))),
      guard=_extendable, hint=_extension_hint,
      notice=Notice("extension_requested", town_users("leader"), N_("本镇领导")),
      rule=N_("只能延期一次，不超过本镇期限规则规定的最长延期天数，须说明理由（第34条）"))
_step("authority_extend", N_("上级同意延期"),
      {P: ({S.REGISTERED, S.ACCEPTED, S.HANDLING, S.REPLY_PENDING, S.REPLIED}, None)},
      inputs=(Input("due_on", "date", N_("上级同意延期至"), required=True,
                    required_message=N_("请填写上级同意延期后的期限"),
                    description="交办机关同意延期后的期限"),
              Input("reference", "text", N_("上级同意延期文号"), required=True, max_length=100),
              _note(N_("备注"))),
      guard=_authority_bound, hint=_authority_hint,
      notice=Notice("authority_extended", case_handlers, N_("承办人")),
      summary=N_("上级同意延期（交办机关的新期限及文号）"),
      rule=N_("只有交办机关能推迟其规定的期限：记录新期限及文号；办理期限取法定期限与上级期限中较早者"))
_step("extend_decide", N_("审批延期"),
      {P: ({S.ACCEPTED, S.HANDLING}, None), D: ({S.REGISTERED, S.MEDIATING}, None)},
      inputs=(Input("approve", "bool", N_("审批意见"), required=True, web_name="decision",
                    choices=(("approve", N_("批准延期")), ("refuse", N_("不批准"))),
                    required_message=N_("请选择是否批准")),
              _note()),
      guard=_extension_pending, hint=_decide_hint,
      notice=Notice("extension_decided", _requester_and_handlers, N_("申请人与承办人")),
      rule=N_("有待审批的延期申请；批准后期限顺延"))
_step("reply", N_("答复"), {P: ({S.HANDLING}, S.REPLIED)}, guard=_approval_off,
      inputs=(Input("outcome", "choice", N_("处理意见"), required=True,
                    choices=_same(rules.OUTCOMES)),
              Input("reply_text", "longtext", N_("答复意见"), required=True, max_length=20_000),
              Input("delivered_on", "date", N_("送达日期"), required=True, today_default=True,
                    required_message=N_("请填写送达日期"))),
      rule=N_("书面答复，送达日期不早于受理日期（第32条）"))
_step("submit_reply", N_("提交答复审批"), {P: ({S.HANDLING}, S.REPLY_PENDING)}, right="reply",
      inputs=(Input("outcome", "choice", N_("处理意见"), required=True,
                    choices=_same(rules.OUTCOMES)),
              Input("reply_text", "longtext", N_("答复意见"), required=True,
                    max_length=20_000)),
      guard=_approval_on,
      notice=Notice("reply_submitted", town_users("leader"), N_("本镇领导")),
      rule=N_("本镇设置答复须经领导审批时，答复先为草稿"))
_step("approve_reply", N_("审批通过答复"), {P: ({S.REPLY_PENDING}, S.REPLIED)},
      inputs=(Input("delivered_on", "date", N_("送达日期"), required=True, today_default=True,
                    required_message=N_("请填写送达日期")),
              _note(N_("审批意见"))),
      notice=Notice("reply_approved", case_handlers, N_("承办人")),
      summary=N_("审批通过答复（领导）"),
      rule=N_("领导审批答复草稿；送达日期不早于受理日期"))
_step("return_reply", N_("退回修改答复"), {P: ({S.REPLY_PENDING}, S.HANDLING)},
      right="approve_reply", inputs=(_reason(N_("退回修改意见")),),
      notice=Notice("reply_returned", case_handlers, N_("承办人")),
      rule=N_("领导退回答复草稿，承办人修改后重新提交"))
_step("request_review", N_("申请复查"), {P: ({S.REPLIED, S.CLOSED}, S.REVIEWING)},
      inputs=(Input("requested_on", "date", N_("申请日期"), required=True, today_default=True,
                    required_message=N_("请填写申请日期")),
              _reason(N_("复查请求及理由"))),
      guard=_written_reply, hint=_review_window_hint,
      notice=Notice("review_requested", town_users("supervisor"), N_("本镇督办员")),
      rule=N_("书面答复送达后30日内申请；复查30日内答复（信访工作条例第35条）"))
_step("decide_review", N_("复查意见"), {P: ({S.REVIEWING}, S.REVIEWED)},
      inputs=(Input("outcome", "choice", N_("复查结论"), required=True,
                    choices=_same(rules.REVIEW_OUTCOMES)),
              Input("decision_text", "longtext", N_("复查意见"), required=True,
                    max_length=20_000),
              Input("decided_on", "date", N_("出具日期"), required=True, today_default=True,
                    required_message=N_("请填写出具日期"))),
      rule=N_("收到复查请求之日起30日内出具复查意见（第35条）"))
_step("request_reexamination", N_("申请复核"), {P: ({S.REVIEWED}, S.REEXAMINING)},
      inputs=(Input("requested_on", "date", N_("申请日期"), required=True, today_default=True,
                    required_message=N_("请填写申请日期")),
              _reason(N_("复核请求及理由"))),
      hint=_reexam_window_hint,
      notice=Notice("reexamination_requested", town_users("supervisor"), N_("本镇督办员")),
      rule=N_("复查意见送达后30日内申请；复核30日内答复，听证时间不计入（第36条）"))
_step("hearing", N_("记录听证"), {P: ({S.REEXAMINING}, None)}, right="decide_reexamination",
      inputs=(Input("held_on", "date", N_("听证日期"), required=True, today_default=True,
                    required_message=N_("请填写听证日期")),
              Input("days", "int", N_("听证所用天数"), required=True, minimum=1, maximum=60,
                    required_message=N_("请填写听证所用天数")),
              _note()),
      rule=N_("听证所需时间不计入复核期限（第36条）"))
_step("decide_reexamination", N_("复核意见"), {P: ({S.REEXAMINING}, S.REEXAMINED)},
      inputs=(Input("outcome", "choice", N_("复核结论"), required=True,
                    choices=_same(rules.REVIEW_OUTCOMES)),
              Input("decision_text", "longtext", N_("复核意见"), required=True,
                    max_length=20_000),
              Input("decided_on", "date", N_("出具日期"), required=True, today_default=True,
                    required_message=N_("请填写出具日期"))),
      rule=N_("复核意见为最终意见，同一事项不再受理（第36条）"))
_step("resolve", N_("调解成功"), {D: ({S.MEDIATING}, S.RESOLVED)},
      inputs=(Input("agreement_type", "choice", N_("协议形式"), required=True,
                    choices=_pairs(rules.AGREEMENT_TYPES)),
              Input("agreement_text", "longtext", N_("协议内容"), required=True,
                    max_length=20_000)),
      rule=N_("人民调解法第28条：书面或口头协议"))
_step("terminate", N_("调解终止"), {D: ({S.MEDIATING}, S.TERMINATED)},
      inputs=(_reason(),), rule=N_("人民调解法第26条：告知当事人其他途径"))
_step("escalate", N_("上交镇级调解"), {D: ({S.MEDIATING, S.TERMINATED}, S.MEDIATING)},
      inputs=(_reason(),), guard=_not_at_town_yet,
      notice=Notice("case_escalated", town_users("supervisor"), N_("本镇督办员")),
      rule=N_("村调委会调解不成的上交镇级"))
_step("judicial_confirmation", N_("申请司法确认"), {D: ({S.RESOLVED, S.CLOSED}, None)},
      inputs=(Input("applied_on", "date", N_("申请日期"), required=True, today_default=True,
                    required_message=N_("请填写申请日期")),
              Input("court", "text", N_("受理法院"), required=True, max_length=100),
              _note()),
      guard=_agreement_reached, hint=_judicial_hint,
      rule=N_("调解协议生效后30日内共同向人民法院申请（人民调解法第33条）"))
_step("follow_up", N_("回访"), {D: ({S.RESOLVED}, None)},
      inputs=(Input("visited_on", "date", N_("回访日期"), required=True, today_default=True,
                    required_message=N_("请填写回访日期")),
              Input("honoured", "bool", N_("协议履行情况"), required=True,
                    choices=(("yes", N_("已履行")), ("no", N_("未履行"))),
                    required_message=N_("请选择协议是否履行")),
              _note(N_("回访情况"))),
      rule=N_("人民调解法第31条：回访协议履行"))
_step("close", N_("办结"),
      {P: ({S.REPLIED}, S.CLOSED), D: ({S.RESOLVED, S.TERMINATED}, S.CLOSED)},
      right={P: "close", D: "close_dispute"}, kind_labels={D: N_("结案")},
      inputs=(Input("rating", "choice", N_("信访人评价"), choices=_same(rules.RATINGS),
                    kinds=(P,)),
              Input("closed_on", "date", N_("办结日期")), _note()),
      guard=_followed_up, summary=N_("办结 / 结案"),
      rule=N_("信访：答复后记录评价；纠纷：调解成功的须先回访"))
_step("rework", N_("退回重办"), {P: ({S.CLOSED}, S.HANDLING)},
      inputs=(_reason(N_("退回重办理由")),
              Input("due_on", "date", N_("新的办理期限（上级规定，可不填）"),
                    description="交办机关重新规定的办理期限")),
      notice=Notice("case_reworked", case_handlers, N_("承办人")),
      rule=N_("交办机关退回重办；期限按上级规定"))
_step("flag_risk", N_("标记激化风险（通知督办员）"),
      {D: ({S.REGISTERED, S.MEDIATING, S.RESOLVED, S.TERMINATED}, None)},
      inputs=(_note(N_("情况说明"), required=True),),
      notice=Notice("case_risk", town_users("supervisor"), N_("本镇督办员")),
      hint=_risk_hint,
      rule=N_("人民调解法第25条：有激化可能的及时报告"))

_ALL = {S.REGISTERED, S.ACCEPTED, S.HANDLING, S.REPLY_PENDING, S.REPLIED, S.REVIEWING,
        S.REVIEWED, S.REEXAMINING, S.REEXAMINED, S.CLOSED, S.NOT_ACCEPTED, S.RETURNED}
_step("correct", N_("更正"),
      {P: (_ALL, None),
       D: ({S.REGISTERED, S.MEDIATING, S.RESOLVED, S.TERMINATED, S.CLOSED}, None)},
      inputs=(Input("title", "text", N_("事项标题"), max_length=200, default=""),
              Input("summary", "longtext", N_("主要内容"), max_length=20_000, default=""),
              Input("category", "choice", N_("内容分类"), options=_category_options,
                    options_translated=True, description="留空表示不更正"),
              Input("village_id", "id", N_("所在村（居）"), options=_village_options),
              Input("party_id", "id", N_("当事人"), options=_party_options),
              Input("party_name", "text", N_("当事人姓名"), max_length=64, default=""),
              Input("party_phone", "text", N_("当事人电话"), max_length=20, default=""),
              _reason(N_("更正理由"))),
      summary=N_("更正登记信息（标题、内容、分类、村居、当事人姓名与电话）"),
      rule=N_("须说明理由；时间线记录更正前后的值，以往日期的统计不变"))

#: the order of the buttons on the case page
ORDER = ("accept", "assign", "start_mediation", "mediation_session", "progress",
         "extend_request", "extend_decide", "authority_extend", "reply", "submit_reply", "approve_reply",
         "return_reply", "resolve", "terminate", "escalate", "follow_up",
         "judicial_confirmation", "close", "request_review", "decide_review",
         "request_reexamination", "hearing", "decide_reexamination", "rework", "flag_risk",
         "reject", "return", "correct")


# --------------------------------------------------------------------------- queries


def transitions_of(kind: str) -> dict[str, Transition]:
    """The kind's transition table: step name → transition."""
    return {name: t for name, s in STEPS.items() if (t := s.transition(kind)) is not None}


def transition_for(kind: str, action: str) -> Transition | None:
    step = STEPS.get(action)
    return step.transition(kind) if step is not None else None


def can_transition(kind: str, status: str, action: str) -> bool:
    t = transition_for(kind, action)
    return t is not None and status in t.sources


def actions_from(kind: str, status: str) -> list[str]:
    """Steps the state machine allows now (before asking who the user is)."""
    return [a for a, t in transitions_of(kind).items() if status in t.sources]


def refusal(session: Session, user: User, case: Case, action: str,
            today: dt.date) -> tuple[int, str] | None:
    """Why ``user`` may not take ``action`` on ``case`` now: (status code, message), or None.

    Right first, then the state machine, then the step's guard."""
    step = STEPS.get(action)
    if step is None:
        return 404, "没有这个办理步骤"
    if not has_right(user, step.right_for(case.kind)):
        return 403, "您没有执行此操作的权限"
    t = step.transition(case.kind)
    if t is None or case.status not in t.sources:
        status = rules.STATUS_LABELS.get(CaseStatus(case.status), case.status)
        return 409, f"案件当前状态为“{status}”，不能执行“{step.label_for(case.kind)}”"
    if step.guard is not None:
        message = step.guard(session, case, today)
        if message:
            return 409, message
    return None


def check(session: Session, actor: User, case: Case, action: str,
          today: dt.date) -> Transition:
    """What a service calls first: visibility, right, transition, guard; raises on refusal."""
    require_visible(actor, case)
    found = refusal(session, actor, case, action, today)
    if found is not None:
        code, message = found
        if code == 403:
            raise PermissionDenied(message)
        raise InvalidTransition(message)
    transition = STEPS[action].transition(case.kind)
    assert transition is not None
    return transition


def available(session: Session, user: User, case: Case, today: dt.date) -> list[str]:
    """The steps ``user`` may take on ``case`` now: exactly those whose check passes."""
    return [a for a in ORDER + tuple(n for n in STEPS if n not in ORDER)
            if a in STEPS and refusal(session, user, case, a, today) is None]


def label_of(kind: str, action: str) -> str | None:
    """The (untranslated) label of a step, or None for timeline entries that are no step."""
    step = STEPS.get(action)
    return step.label_for(kind) if step is not None else None


def statuses_of(kind: str) -> frozenset[str]:
    """Every status a case of ``kind`` can be in."""
    found: set[str] = {S.REGISTERED}
    for t in transitions_of(kind).values():
        found |= set(t.sources)
        if t.target is not None:
            found.add(t.target)
    return frozenset(found)


@dataclass(frozen=True)
class TableRow:
    step: str
    kind: str
    sources: tuple[str, ...]
    target: str
    right: str
    rule: str


def table() -> list[TableRow]:
    """Every (step, kind) pair: for ``flask cases steps``."""
    rows = []
    for name, step in STEPS.items():
        for kind, t in step.transitions.items():
            sources = ("*",) if t.sources >= statuses_of(kind) else tuple(sorted(t.sources))
            rows.append(TableRow(name, kind, sources,
                                 t.target or "(unchanged)", step.right_for(kind),
                                 step.rule))
    return rows


def notice_for(action: str) -> Notice | None:
    step = STEPS.get(action)
    return step.notice if step is not None else None

