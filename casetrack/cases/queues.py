"""Work queues (我的待办): what each role should do next, as named sections of cases.

Each ``Queue`` is a WHERE clause over ``Case`` with its order; ``queues_for`` lists a role's
queues and ``queue_select`` builds the scoped query of one (through ``scope_cases``, like
every list of cases). Counts are capped like the case list's, items are ordered most urgent
first (by due date, then id: the order of the list's index).

Approvals are open to extension: ``APPROVALS`` lists what waits for a leader's decision
(pending extensions here, draft replies from the petition's folder). A new kind of approval
adds one ``Approval`` with ``register_approval`` and appears in the leader's 待审批 queue,
named on each of its items, its count and the dashboard's action panel without other
changes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, false, or_, select, true

from casetrack.auth.models import Role, User
from casetrack.cases.models import Case, CaseStatus
from casetrack.cases.scoping import scope_cases
from casetrack.core.i18n import N_

S = CaseStatus


@dataclass(frozen=True)
class QueueContext:
    """What a queue's condition may depend on besides the case: the user, the town's
    local date and its warning thresholds."""

    user: User
    today: dt.date
    #: days before the due date a case turns yellow (the town's setting)
    yellow_days: int
    #: a leader is shown cases overdue by at least this many days (reminder policy)
    leader_overdue_days: int


@dataclass(frozen=True)
class Approval:
    """One kind of decision waiting for a leader: a condition on ``Case`` and the same test
    on a loaded case (which names the decision on each item of the 待审批 queue)."""

    key: str
    label: str
    condition: Callable[[], ColumnElement[bool]]
    applies: Callable[[Case], bool]


#: what waits for a leader's decision; extend with ``register_approval``
APPROVALS: list[Approval] = [
    Approval("extension", N_("延期申请"), lambda: Case.extension_state == "pending",
             lambda case: case.extension_state == "pending"),
]


def register_approval(approval: Approval) -> None:
    """Add a kind of approval to the leader's 待审批 queue (once per key)."""
    if all(a.key != approval.key for a in APPROVALS):
        APPROVALS.append(approval)


def pending_approval() -> ColumnElement[bool]:
    """Cases with any decision waiting for a leader."""
    return or_(*(a.condition() for a in APPROVALS)) if APPROVALS else false()


def approvals_of(case: Case) -> list[str]:
    """The names (msgids) of the decisions ``case`` waits for: 延期申请, 答复待审批."""
    return [a.label for a in APPROVALS if a.applies(case)]


@dataclass(frozen=True)
class Queue:
    """One heading of the work page: its cases and, where the case list can show the same
    cases, the list's query-string arguments for "show all"."""

    key: str
    label: str
    #: a one-line explanation under the heading
    hint: str
    condition: Callable[[QueueContext], ColumnElement[bool]]
    #: arguments of /cases showing the same cases (None when the list has no such filter)
    list_args: Callable[[QueueContext], dict[str, str]] | None = None
    #: what each item waits for, shown beside it (msgids), e.g. 延期申请 or 答复待审批
    tags: Callable[[Case], list[str]] | None = None

    def tags_of(self, case: Case) -> list[str]:
        return self.tags(case) if self.tags is not None else []


def _open() -> ColumnElement[bool]:
    return Case.is_open == true()


def _overdue(ctx: QueueContext) -> ColumnElement[bool]:
    return and_(_open(), Case.due_on < ctx.today)


def _due_soon(ctx: QueueContext) -> ColumnElement[bool]:
    edge = ctx.today + dt.timedelta(days=ctx.yellow_days)
    return and_(_open(), Case.due_on >= ctx.today, Case.due_on <= edge)


#: where a role's queues of the kinds (``Kind.queues``) go among its own
KIND_QUEUES = "*"

QUEUES: dict[str, Queue] = {q.key: q for q in (
    # handler
    Queue("mine", N_("我承办的在办案件"), N_("按到期日排列，最紧急的在前"),
          lambda ctx: and_(_open(), Case.handler_id == ctx.user.id)),
    Queue("unit_unassigned", N_("本单位待指定承办人"), N_("已交办到本单位、尚未指定承办人的案件"),
          lambda ctx: and_(_open(), Case.unit_id == ctx.user.unit_id, Case.handler_id.is_(None))
          if ctx.user.unit_id is not None else false()),
    # supervisor
    Queue("overdue", N_("已逾期"), N_("超过办理期限仍未办结"),
          _overdue, lambda ctx: {"warning": "red"}),
    Queue("due_soon", N_("即将到期"), N_("距到期日不足预警天数"),
          _due_soon, lambda ctx: {"warning": "yellow"}),
    # leader
    Queue("approvals", N_("待审批"), N_("等待镇领导审批的延期申请、答复等"),
          lambda ctx: and_(_open(), pending_approval()), tags=approvals_of),
    Queue("leader_overdue", N_("超期需督办"), N_("超期达到领导督办天数的案件"),
          lambda ctx: and_(_open(), Case.due_on
                           <= ctx.today - dt.timedelta(days=ctx.leader_overdue_days)),
          lambda ctx: {"warning": "red"}),
)}
"""Every queue by key: the shared ones above, and each kind's (added by ``kinds.register``)."""

#: each role's work page, in reading order (``KIND_QUEUES``: the kinds' queues for the role)
ROLE_QUEUES: dict[Role, tuple[str, ...]] = {
    Role.HANDLER: ("mine", "unit_unassigned"),
    # the kinds' queues in the order the supervisors know (a kind's queue not named here
    # still shows, at KIND_QUEUES; a name whose kind is not registered is skipped)
    Role.SUPERVISOR: ("to_accept", "to_assign", "escalated", "replied", KIND_QUEUES, "overdue",
                      "due_soon"),
    Role.ADMIN: ("to_accept", "to_assign", "escalated", "replied", KIND_QUEUES, "overdue",
                 "due_soon"),
    Role.LEADER: ("approvals", KIND_QUEUES, "leader_overdue"),
    Role.GRID_WORKER: (KIND_QUEUES,),
    Role.COUNTY: ("overdue", "due_soon"),
}


def queues_for(user: User) -> list[Queue]:
    """The queues on ``user``'s work page."""
    from casetrack.cases import kinds  # the kinds bring queues of their own

    role = Role(user.role)
    keys = ROLE_QUEUES.get(role, ())
    found: list[Queue] = []
    for key in keys:
        if key == KIND_QUEUES:
            found += [q for k in kinds.all_kinds() for q, roles in k.queues
                      if role in roles and q.key not in keys]
        elif key in QUEUES:
            found.append(QUEUES[key])
    return found


def queue_select(queue: Queue, ctx: QueueContext) -> Select:
    """The cases of ``queue`` that ``ctx.user`` may see, most urgent first."""
    stmt = scope_cases(select(Case), ctx.user).where(queue.condition(ctx))
    return stmt.order_by(Case.due_on, Case.id)
