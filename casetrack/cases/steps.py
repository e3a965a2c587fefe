"""The one step list: every lifecycle step of a case, declared once.

A ``Step`` says which transitions it makes for each kind (from which statuses, to which), the
right it needs, its guard (one function returning a refusal message, or ``None``), its
input (``Input`` fields, from which the web form and the API schema are both generated), the
notification it sends and the rule it rests on. The services enforce it (``check``), the
case page shows exactly the steps whose check passes (``available``), and the page routes,
the API endpoints and the OpenAPI document are generated from ``STEPS``.

Which kinds take a step, from which statuses and to which, is declared by each kind in its
folder (``cases/kinds/<kind>/steps.py``, ``MOVES``); the steps only one kind takes are declared
there too. Here are the steps shared by the kinds.

To add a step: declare it with ``declare(...)`` (here when several kinds share it, else in the
kind's ``steps.py``), write its service decorated with ``@implements("name")`` (it starts with
``t = check(...)``), give it a move in the ``MOVES`` of each kind that takes it, and give its
right to the roles: in the kind's ``RIGHTS`` (granted when the kind is registered), or in
``auth/permissions`` for a step every kind shares. Page, API, OpenAPI, buttons and
``flask cases steps`` follow.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, object_session

from casetrack.auth.models import User
from casetrack.auth.permissions import has_right
from casetrack.cases import rules
from casetrack.cases.models import Case, CaseStatus, ExtensionState
from casetrack.cases.scoping import require_visible
from casetrack.core.errors import InvalidTransition, NotFound, PermissionDenied
from casetrack.core.i18n import N_
from casetrack.deadlines.calendar import load_calendar
from casetrack.deadlines.due import due_for
from casetrack.deadlines.rules import DEFAULT_RULES, DayUnit, amount_text
from casetrack.deadlines.town_rules import town_rule

S = CaseStatus


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
    """One lifecycle step, declared once; the kinds that take it add their transitions
    (``add_transition``, called by ``kinds.register``)."""

    name: str
    label: str
    #: the right the step needs (a kind may name another: ``Move.right``)
    right: str
    transitions: dict[str, Transition] = field(default_factory=dict)
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
    #: kind → the right it needs for that kind, when the kind names another
    rights: dict[str, str] = field(default_factory=dict)
    #: kind → the kind's own guard (checked before ``guard``)
    kind_guards: dict[str, Guard] = field(default_factory=dict)
    #: kind → the rule in words for that kind, when it is not ``rule``
    kind_rules: dict[str, str] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        """The URL segment of the step (``extend_request`` → ``extend-request``)."""
        return self.name.replace("_", "-")

    def add_transition(self, kind: str, sources: frozenset[str], target: str | None, *,
                       label: str = "", right: str = "", guard: Guard | None = None,
                       rule: str = "") -> None:
        """What the step does for ``kind`` (``kinds.register`` calls this for every move)."""
        kind = str(kind)
        self.transitions[kind] = Transition(self.name, frozenset(sources), target,
                                            label or self.label)
        if right:
            self.rights[kind] = right
        if guard is not None:
            self.kind_guards[kind] = guard
        if rule:
            self.kind_rules[kind] = rule

    def remove_transition(self, kind: str) -> None:
        for table in (self.transitions, self.rights, self.kind_guards, self.kind_rules):
            table.pop(str(kind), None)

    def label_for(self, kind: str) -> str:
        t = self.transitions.get(str(kind))
        return t.label if t is not None else self.label

    def right_for(self, kind: str) -> str:
        return self.rights.get(str(kind), self.right)

    def transition(self, kind: str) -> Transition | None:
        return self.transitions.get(str(kind))

    def refusal(self, session: Session, case: Case, today: dt.date) -> str | None:
        """The guard's refusal (the kind's first, then the step's), or None."""
        for guard in (self.kind_guards.get(str(case.kind)), self.guard):
            if guard is not None:
                message = guard(session, case, today)
                if message:
                    return message
        return None

    def perform(self, session: Session, actor: User, now: dt.datetime, case: Case,
                data: dict[str, Any]) -> Any:
        """Call the step's service with its inputs (``data`` keyed by input name)."""
        if self.service is None:  # pragma: no cover - every declared step has a service
            raise RuntimeError(f"step {self.name} has no service")
        wanted = {i.name for i in self.inputs}
        return self.service(session, actor, now, case,
                            **{k: v for k, v in data.items() if k in wanted})


STEPS: dict[str, Step] = {}


def declare(name: str, label: str, right: str | None = None, **kw: Any) -> Step:
    """Declare a step (the kinds that take it give its transitions in their ``MOVES``)."""
    if name in STEPS:
        raise ValueError(f"step {name} is declared twice")
    step = Step(name=name, label=label, right=right or name, **kw)
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
    if case.due_rule not in DEFAULT_RULES:
        return N_("该期限不能延长")
    rule = town_rule(session, case.town_id, case.due_rule)
    if not rule.extendable:
        return N_("该期限不能延长")
    if case.extension_state == ExtensionState.APPROVED:
        return N_("该案件已经延期一次，不能再次延期")
    if case.extension_state == ExtensionState.PENDING:
        return N_("已有延期申请等待审批")
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
    return None if case.extension_state == ExtensionState.PENDING else N_("没有待审批的延期申请")


def period(session: Session, case: Case, code: str, translated: bool = False) -> str:
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


def _extension_hint(session: Session, case: Case, today: dt.date) -> Hint:
    most = max_extension_days(case)
    if authority_bound_warning(case, most):
        return N_("延期只能申请一次，最多%(n)s天，须经镇领导批准。注意：本案受上级规定期限"
                  "（%(d)s）约束，镇内延期不能推迟该期限；如需更多时间，须由交办机关同意延期。"), {
            "n": most, "d": case.external_due_on.isoformat()}
    return N_("延期只能申请一次，最多%(n)s天，须经镇领导批准。"), {"n": most}


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
    from sqlalchemy.orm import joinedload

    handlers = session.scalars(
        select(User).options(joinedload(User.unit))  # each one's unit named below
        .where(User.town_id == case.town_id, User.is_enabled,
                           User.role == "handler").order_by(User.unit_id, User.id))
    return [("", N_("（暂不指定）"))] + [
        (h.id, f"{h.name}（{h.unit.name}）" if h.unit else h.name) for h in handlers]


def _category_options(session: Session, case: Case) -> list[tuple[Any, str]]:
    from casetrack.cases import kinds  # the kinds build on this module

    return [("", N_("（不更正）"))] + [(c, c) for c in kinds.kind_of(case.kind).categories]


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


def reason_input(label: str = N_("理由")) -> Input:
    return Input("reason", "longtext", label, required=True)


def note_input(label: str = N_("说明"), required: bool = False, max_length: int = 5000) -> Input:
    return Input("note", "longtext", label, required=required, max_length=max_length,
                 default="")


def date_input(name: str, label: str, required_message: str, **kw: Any) -> Input:
    """A required date field that shows today's date when empty."""
    return Input(name, "date", label, required=True, today_default=True,
                 required_message=required_message, **kw)


def pairs(mapping: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(mapping.items())


def same(values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    return tuple((v, v) for v in values)


# --------------------------------------------------------------------------- the shared steps

declare("assign", N_("交办承办单位"),
        inputs=(Input("unit_id", "id", N_("承办单位"), options=_unit_options),
                Input("handler_id", "id", N_("承办人"), options=_handler_options),
                note_input(N_("交办意见"))),
        notice=Notice("case_assigned", case_handlers, N_("承办人（或承办单位的承办人）")),
        summary=N_("交办承办单位 / 指定承办人"), rule=N_("承办人须属本镇"))
declare("progress", N_("记录办理进展"),
        inputs=(note_input(N_("情况说明"), required=True, max_length=20_000),),
        rule=N_("须填写进展情况"))
declare("extend_request", N_("申请延期"),
        inputs=(Input("days", "int", N_("延期天数"), required=True, minimum=-1000, maximum=1000,
                      required_message=N_("请填写延期天数")),
                reason_input(N_("延期理由"))),
        guard=_extendable, hint=_extension_hint,
        notice=Notice("extension_requested", town_users("leader"), N_("本镇领导")),
        rule=N_("只能延期一次，不超过本镇期限规则规定的最长延期天数，须说明理由"))
declare("extend_decide", N_("审批延期"),
        inputs=(Input("approve", "bool", N_("审批意见"), required=True, web_name="decision",
                      choices=(("approve", N_("批准延期")), ("refuse", N_("不批准"))),
                      required_message=N_("请选择是否批准")),
                note_input()),
        guard=_extension_pending, hint=_decide_hint,
        notice=Notice("extension_decided", _requester_and_handlers, N_("申请人与承办人")),
        rule=N_("有待审批的延期申请；批准后期限顺延"))
declare("close", N_("办结"),
        inputs=(Input("rating", "choice", N_("信访人评价"), choices=same(rules.RATINGS),
                      kinds=("petition",)),
                Input("closed_on", "date", N_("办结日期")), note_input()),
        summary=N_("办结 / 结案"),
        rule=N_("按本类案件的条件办结"))
declare("correct", N_("更正"),
        inputs=(Input("title", "text", N_("事项标题"), max_length=200, default=""),
                Input("summary", "longtext", N_("主要内容"), max_length=20_000, default=""),
                Input("category", "choice", N_("内容分类"), options=_category_options,
                      options_translated=True, description="留空表示不更正"),
                Input("village_id", "id", N_("所在村（居）"), options=_village_options),
                Input("party_id", "id", N_("当事人"), options=_party_options),
                Input("party_name", "text", N_("当事人姓名"), max_length=64, default=""),
                Input("party_phone", "text", N_("当事人电话"), max_length=20, default=""),
                reason_input(N_("更正理由"))),
        summary=N_("更正登记信息（标题、内容、分类、村居、当事人姓名与电话）"),
        rule=N_("须说明理由；时间线记录更正前后的值，以往日期的统计不变"))


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
            today: dt.date) -> tuple[int, str, dict[str, Any]] | None:
    """Why ``user`` may not take ``action`` on ``case`` now: (status code, message, its
    params), or None. The message is shown in the reader's language (``DomainError``).

    Right first, then the state machine, then the step's guard."""
    step = STEPS.get(action)
    if step is None:
        return 404, N_("没有这个办理步骤"), {}
    if step.transition(case.kind) is None:
        return 409, NO_STEP_FOR_KIND, {}
    if not has_right(user, step.right_for(case.kind)):
        return 403, N_("您没有执行此操作的权限"), {}
    t = step.transition(case.kind)
    if t is None or case.status not in t.sources:
        status = rules.STATUS_LABELS.get(CaseStatus(case.status), case.status)
        return 409, N_("案件当前状态为“%(status)s”，不能执行“%(step)s”"), {
            "status": status, "step": step.label_for(case.kind)}
    message = step.refusal(session, case, today)
    if message:
        return 409, message, {}
    return None


#: a step the case's kind does not have (a dispute is not reviewed): 409 before any input
#: (404 stays the answer for a case the user may not see)
NO_STEP_FOR_KIND = N_("该类案件没有此步骤")


def require_step_of_kind(case: Case, action: str) -> None:
    """Refuse (409, ``no_such_step``) a step the case's kind does not have: asked before the
    step's inputs are read, so the answer is not a form error about inputs that could never
    be right."""
    step = STEPS.get(action)
    if step is None or step.transition(case.kind) is None:
        raise InvalidTransition(NO_STEP_FOR_KIND, code="no_such_step")


def check(session: Session, actor: User, case: Case, action: str,
          today: dt.date) -> Transition:
    """What a service calls first: visibility, right, transition, guard; raises on refusal."""
    require_visible(actor, case)
    found = refusal(session, actor, case, action, today)
    if found is not None:
        code, message, params = found
        if code == 403:
            raise PermissionDenied(message, params=params)
        if code == 404:
            raise NotFound(message, code="no_such_step", params=params)
        if message == NO_STEP_FOR_KIND:
            raise InvalidTransition(message, code="no_such_step", params=params)
        raise InvalidTransition(message, params=params)
    transition = STEPS[action].transition(case.kind)
    assert transition is not None
    return transition


def available(session: Session, user: User, case: Case, today: dt.date) -> list[str]:
    """The steps ``user`` may take on ``case`` now: exactly those whose check passes, in the
    order of the kind's moves (the order of the buttons)."""
    from casetrack.cases import kinds  # the kinds build on this module

    kind = kinds.get(case.kind)
    order = tuple(kind.moves) if kind is not None else tuple(STEPS)
    return [a for a in order if a in STEPS and refusal(session, user, case, a, today) is None]


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
                                 step.kind_rules.get(kind, step.rule)))
    return rows


def notice_for(action: str) -> Notice | None:
    step = STEPS.get(action)
    return step.notice if step is not None else None

