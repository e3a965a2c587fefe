"""Kinds of case, registered in one place.

A kind of case (信访事项, 矛盾纠纷, ...) is a folder beside this file: its ``steps.py`` declares
the steps only it takes and, in ``MOVES``, the transition of every step it takes (generic ones
such as ``assign`` or ``close`` included), in the order of the case page's buttons; its
``rules.py`` holds its sources, categories, deadline policy (its default rules, registered into
the deadline rule table from here, since ``deadlines`` sits below ``cases``) and registration
checks; ``fields.py`` names the columns only it fills; ``metrics.py`` the figures only it
counts; its template parts live under ``templates/cases/kinds/<code>/``. The folder builds one
``Kind`` in its ``__init__.py``, and ``REGISTERED`` below lists the kinds of the installation.

Generic code (services, the step list, forms, pages, the API, statistics, reports) asks this
registry (``get``, ``all_kinds``, ``codes``) instead of naming a kind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.expression import ColumnClause

from casetrack.auth import permissions
from casetrack.cases import queues, steps
from casetrack.cases.queues import Approval, Queue
from casetrack.deadlines import rules as deadline_rules
from casetrack.deadlines.rules import DeadlineRule

if TYPE_CHECKING:
    from casetrack.cases.models import Case


# --------------------------------------------------------------------------- figures

#: a row of the statistics: column name → column of the as-of row
Columns = dict[str, ColumnClause]
#: the cut-off handed to a predicate: a date, or the bound parameter that will carry it
Cutoff = dt.date | BindParameter
Predicate = Callable[[Columns, Cutoff], ColumnElement[bool]]


@dataclass(frozen=True)
class Metric:
    """A count of cases: ``label`` is the Chinese name shown everywhere, ``definition`` the
    sentence a reader of the report or the API sees when asking what it means."""

    key: str
    label: str
    definition: str
    predicate: Predicate


@dataclass(frozen=True)
class RateDef:
    """A rate = numerator metric / denominator metric, both shown beside it."""

    key: str
    label: str
    numerator: str
    denominator: str
    definition: str


@dataclass(frozen=True)
class Sentence:
    """A report sentence of the kind (the annual summary): the cohort it counts (the kind's
    cases, of one source when ``source`` is set) and its default wording, whose
    ``{placeholders}`` are figures (``reports.sentences``)."""

    key: str
    label: str
    source: str | None
    default: str


# --------------------------------------------------------------------------- the kind


@dataclass(frozen=True)
class Move:
    """What one step does for one kind: allowed from ``sources``, to ``target`` (None: the
    status stays). ``label`` and ``right`` name the step differently for this kind (办结 /
    结案); ``guard`` is a further refusal the kind adds to the step's own guard (checked
    first)."""

    sources: frozenset[str]
    target: str | None
    label: str = ""
    right: str = ""
    guard: steps.Guard | None = None
    #: the rule in words for this kind (``flask cases steps``), when the step's own rule is
    #: not the kind's (a law that applies to one kind only)
    rule: str = ""


def move(sources: set[str], target: str | None = None, **kw: Any) -> Move:
    return Move(frozenset(sources), target, **kw)


def _no_checks(data: Any) -> dict[str, str]:
    return {}


@dataclass
class Kind:
    """Everything kind-specific about a kind of case, built by the kind's folder."""

    code: str
    #: the kind's name (a msgid), e.g. 信访事项
    label: str
    #: the last character of a town's GB/T 9704 issuer code for this kind (北和 + 信)
    default_prefix: str
    #: channel code → name
    sources: dict[str, str]
    categories: tuple[str, ...]
    #: step name → this kind's move, in the order of the case page's buttons
    moves: dict[str, Move]
    #: the kind's deadline rules (defaults; a town overrides amounts), in table order
    deadline_rules: tuple[DeadlineRule, ...]
    #: the rule code of the clock that starts at registration
    first_clock: Callable[[Case], str]
    #: the kind's own checks of a registration (``services.CaseInput`` → field errors)
    validate: Callable[[Any], dict[str, str]] = _no_checks
    #: the kind's own checks of the parties of a registration
    validate_parties: Callable[[Any], dict[str, str]] = _no_checks
    #: after registration set the first clock: keep what the figures need (notify date)
    on_register: Callable[[Case], None] | None = None
    #: after a rule or the calendar changed: recompute the dates the kind keeps
    recompute: Callable[[Session, Case], None] | None = None
    #: rule code → (the field holding the request that starts the clock, whether the case's
    #: hearing days are added, the field keeping the clock's date for the stage's timeliness
    #: figure or ""): clocks a party's request starts (复查, 复核)
    request_clocks: dict[str, tuple[str, bool, str]] = field(default_factory=dict)
    #: rules whose date the assigning authority's own deadline never caps (the notice to
    #: the petitioner: a duty of its own, not the handling)
    uncapped_rules: frozenset[str] = frozenset()
    #: rule code → the condition on ``Case`` of the cases whose kept date (not their running
    #: clock) follows that rule: a change of the rule recomputes them
    kept_dates: dict[str, Callable[[], ColumnElement[bool]]] = field(default_factory=dict)
    #: ``(earlier cases of the parties, category)``: refuses the registration (raises) when
    #: an earlier matter bars it (a petition: 不再受理 after 复核)
    refuse_earlier: Callable[[list, str], None] | None = None
    #: role → the rights of the kind's own steps (granted to the roles when registered)
    rights: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: (queue, roles) of the work pages (我的待办), and what waits for a leader's approval
    queues: tuple[tuple[Queue, frozenset[str]], ...] = ()
    approvals: tuple[Approval, ...] = ()
    #: the module holding the services of the steps only this kind takes
    services: ModuleType | None = None
    #: ``Case`` columns only this kind fills (the API and the exports show them)
    fields: tuple[str, ...] = ()
    #: a case must name its village (村/居) when registered: the refusal when it does not
    #: (empty: the village is optional)
    village_required: str = ""
    #: the source a new registration form starts with
    default_source: str | None = None
    #: party roles offered when registering (the form's rows start with them in order, the
    #: last one repeated), and how many party boxes are open at first
    party_roles: tuple[str, ...] = ("party",)
    parties_shown: int = 1
    #: heading of the parties section (a msgid)
    parties_label: str = "当事人"
    #: field → {stored value: label (msgid)} for the kind's coded fields (mediation level, ...)
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)
    #: fixed values of the kind's fields that are labels themselves (classes, outcomes, ...),
    #: and the fields holding them
    known_values: tuple[str, ...] = ()
    labelled_fields: tuple[str, ...] = ()
    #: roles whose registration form starts with this kind (else the first kind)
    default_for: frozenset[str] = frozenset()
    #: template parts: "parts" names the template whose macros the registration form and
    #: the case page call (``templates/cases/kinds/_none.html`` lists them, empty)
    templates: dict[str, str] = field(default_factory=dict)
    #: figures only this kind counts, and its rates
    metrics: tuple[Metric, ...] = ()
    rates: tuple[RateDef, ...] = ()
    #: the report sentences of the kind (annual summary)
    sentences: tuple[Sentence, ...] = ()
    #: when a finished case of this kind counts as on time (按期); default: closed by due
    on_time: Predicate | None = None
    #: the heading of the case sheet (PDF 办理单)
    sheet_title: str = ""
    #: the kind's rows of the case sheet: ``(case, place) -> [(label, text)]``, at the
    #: places "received" (after the day of receipt) and "outcome" (after the summary)
    sheet_facts: Callable[[Case, str], list[tuple[str, str]]] | None = None

    def template(self, part: str = "parts") -> str:
        return self.templates.get(part, "cases/kinds/_none.html")

    def sheet_rows(self, case: Case, place: str) -> list[tuple[str, str]]:
        return self.sheet_facts(case, place) if self.sheet_facts is not None else []


# --------------------------------------------------------------------------- the registry

KINDS: dict[str, Kind] = {}


def register(kind: Kind) -> Kind:
    """Register a kind: its moves become transitions of the declared steps, its deadline
    rules join the rule table. Refuses a move of a step nobody declared."""
    if kind.code in KINDS:
        raise ValueError(f"kind {kind.code} is registered already")
    for name in kind.moves:
        if name not in steps.STEPS:
            raise ValueError(f"kind {kind.code}: no step {name}")
    for name, mv in kind.moves.items():
        steps.STEPS[name].add_transition(kind.code, mv.sources, mv.target, label=mv.label,
                                         right=mv.right, guard=mv.guard, rule=mv.rule)
    for rule in kind.deadline_rules:
        deadline_rules.register_rule(rule)
    permissions.grant(f"kind:{kind.code}", kind.rights)
    for queue, _roles in kind.queues:
        queues.QUEUES[queue.key] = queue
    for approval in kind.approvals:
        queues.register_approval(approval)
    KINDS[kind.code] = kind
    return kind


def unregister(code: str) -> None:
    """Forget a kind (a kind registered by a test)."""
    kind = KINDS.pop(code)
    for name in kind.moves:
        steps.STEPS[name].remove_transition(code)
    for rule in kind.deadline_rules:
        deadline_rules.unregister_rule(rule.code)
    permissions.revoke(f"kind:{kind.code}")
    for queue, _roles in kind.queues:
        queues.QUEUES.pop(queue.key, None)
    for approval in kind.approvals:
        if approval in queues.APPROVALS:
            queues.APPROVALS.remove(approval)


def get(code: str | None) -> Kind | None:
    """The kind of ``code``, or None for an unknown code."""
    return KINDS.get(str(code)) if code is not None else None


def kind_of(code: str) -> Kind:
    """The kind of ``code``; raises KeyError for an unknown one."""
    return KINDS[str(code)]


def all_kinds() -> list[Kind]:
    return list(KINDS.values())


def codes() -> tuple[str, ...]:
    return tuple(KINDS)


def labels() -> dict[str, str]:
    """code → name (msgid) of every kind."""
    return {k.code: k.label for k in KINDS.values()}


def sources() -> dict[str, str]:
    """Every kind's channel code → name."""
    return {code: label for k in KINDS.values() for code, label in k.sources.items()}


def value_labels() -> dict[str, dict[str, str]]:
    """Every kind's coded fields: field → {stored value: label}."""
    found: dict[str, dict[str, str]] = {}
    for k in KINDS.values():
        for name, labels_ in k.value_labels.items():
            found.setdefault(name, {}).update(labels_)
    return found


def known_values() -> tuple[str, ...]:
    """Every fixed value of every kind's fields that is a label (categories included)."""
    return tuple(dict.fromkeys(v for k in KINDS.values() for v in (*k.known_values,
                                                                    *k.categories)))


def labelled_fields() -> frozenset[str]:
    """Every kind's fields whose values are labels (translated on the timeline)."""
    return frozenset(f for k in KINDS.values() for f in k.labelled_fields)


def default_for(role: str) -> str:
    """The kind a user of ``role`` registers unless they choose another."""
    return next((k.code for k in KINDS.values() if role in k.default_for), codes()[0])


def all_categories() -> tuple[str, ...]:
    """The categories of every kind, each once, in the kinds' order."""
    return tuple(dict.fromkeys(c for k in KINDS.values() for c in k.categories))


# the kinds of the installation: a new kind is one folder and one entry here
from casetrack.cases.kinds import dispute, petition  # noqa: E402

REGISTERED = (petition.KIND, dispute.KIND)
for _kind in REGISTERED:
    register(_kind)
