"""Who may see and do what: the one place where scoping and role rights are decided.

Every query that returns cases goes through ``scope_cases``; every service asks
``require_action`` before it changes a case.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import Select, false, or_, select
from sqlalchemy.orm import Session

from casetrack.auth.models import Role, User, user_villages
from casetrack.core.errors import NotFound, PermissionDenied
from casetrack.org.models import Town

if TYPE_CHECKING:
    from casetrack.cases.models import Case

#: what each role may do to a case it can see (the state machine decides *when*)
ROLE_ACTIONS: dict[Role, frozenset[str]] = {
    Role.GRID_WORKER: frozenset({
        "register", "progress", "start_mediation", "mediation_session", "escalate", "resolve",
        "terminate", "follow_up", "flag_risk", "close_dispute", "extend_request", "attach",
    }),
    Role.HANDLER: frozenset({
        "progress", "extend_request", "reply", "start_mediation", "mediation_session",
        "escalate", "resolve", "terminate", "follow_up", "flag_risk", "close_dispute", "attach",
    }),
    Role.SUPERVISOR: frozenset({
        "register", "accept", "reject", "return", "assign", "progress", "extend_request",
        "reply", "close", "close_dispute", "rework", "start_mediation", "mediation_session",
        "escalate", "resolve", "terminate", "follow_up", "flag_risk", "attach", "view_id",
        "export",
    }),
    Role.LEADER: frozenset({"extend_decide", "progress", "view_id", "export"}),
    Role.ADMIN: frozenset({
        "register", "accept", "reject", "return", "assign", "progress", "extend_request",
        "reply", "close", "close_dispute", "rework", "start_mediation", "mediation_session",
        "escalate", "resolve", "terminate", "follow_up", "flag_risk", "attach", "view_id",
        "export", "admin",
    }),
    Role.COUNTY: frozenset({"view_id", "export"}),
}

TOWN_WIDE_ROLES = frozenset({Role.SUPERVISOR, Role.LEADER, Role.ADMIN})


def has_right(user: User, right: str) -> bool:
    """Whether the user's role carries ``right`` at all."""
    return right in ROLE_ACTIONS.get(Role(user.role), frozenset())


def scope_cases(stmt: Select, user: User) -> Select:
    """Restrict a ``select(Case)`` (or any select over ``Case``) to what ``user`` may see."""
    from casetrack.cases.models import Case

    role = Role(user.role)
    if role is Role.COUNTY:
        towns = select(Town.id).where(Town.county_code == user.county_code)
        return stmt.where(Case.town_id.in_(towns))
    if user.town_id is None:
        return stmt.where(false())
    stmt = stmt.where(Case.town_id == user.town_id)
    if role in TOWN_WIDE_ROLES:
        return stmt
    if role is Role.GRID_WORKER:
        mine = select(user_villages.c.village_id).where(user_villages.c.user_id == user.id)
        return stmt.where(Case.village_id.in_(mine))
    if role is Role.HANDLER:
        conds = [Case.handler_id == user.id]
        if user.unit_id is not None:
            conds.append(Case.unit_id == user.unit_id)
        return stmt.where(or_(*conds))
    return stmt.where(false())


def can_see_case(user: User, case: Case) -> bool:
    """The same rule as ``scope_cases``, for one loaded case."""
    role = Role(user.role)
    if role is Role.COUNTY:
        return case.town.county_code == user.county_code and bool(user.county_code)
    if user.town_id is None or case.town_id != user.town_id:
        return False
    if role in TOWN_WIDE_ROLES:
        return True
    if role is Role.GRID_WORKER:
        return case.village_id is not None and case.village_id in {v.id for v in user.villages}
    if role is Role.HANDLER:
        return case.handler_id == user.id or (
            user.unit_id is not None and case.unit_id == user.unit_id
        )
    return False


def require_visible(user: User, case: Case | None) -> Case:
    """The case, or NotFound when it does not exist or lies outside the user's scope."""
    if case is None or not can_see_case(user, case):
        raise NotFound("案件不存在或您无权查看")
    return case


def require_right(user: User, right: str, message: str = "您没有执行此操作的权限") -> None:
    if not has_right(user, right):
        raise PermissionDenied(message)


def can_register_in_village(user: User, village_id: int | None) -> bool:
    """Grid workers register only in their own villages; town-wide roles anywhere in town."""
    role = Role(user.role)
    if role in (Role.SUPERVISOR, Role.ADMIN):
        return True
    if role is Role.GRID_WORKER:
        return village_id is not None and village_id in {v.id for v in user.villages}
    return False


#: largest id a filter may name (the ids are 32-bit integers in every table)
MAX_ID = 2**31 - 1


def require_filters_in_scope(session: Session, user: User, *, town_id: int | None = None,
                             village_id: int | None = None, unit_id: int | None = None,
                             handler_id: int | None = None) -> None:
    """NotFound unless every town, village, unit and handler a page's filter names lies in
    the user's scope, so that a hand-made ``?town_id=`` or ``?village_id=`` can never put
    another town's names (or counts) on a page. ``None`` means "not filtered"; ``0`` means
    "cases without one" (village, unit) and is always allowed."""
    from casetrack.org.models import Unit, Village

    named = {"town": town_id, "village": village_id, "unit": unit_id, "handler": handler_id}
    for value in named.values():
        if value is not None and not 0 <= value <= MAX_ID:
            raise NotFound("筛选条件超出您的查看范围")
    role = Role(user.role)
    if role is Role.COUNTY:
        if not user.county_code:
            raise NotFound("筛选条件超出您的查看范围")
        towns = set(session.scalars(select(Town.id).where(Town.county_code == user.county_code)))
    else:
        towns = {user.town_id} if user.town_id is not None else set()
    if town_id is not None and town_id not in towns:
        raise NotFound("筛选条件超出您的查看范围")
    if town_id is not None:
        towns = {town_id}
    if village_id:
        village = session.get(Village, village_id)
        if village is None or village.town_id not in towns or (
                role is Role.GRID_WORKER and village_id not in {v.id for v in user.villages}):
            raise NotFound("筛选条件超出您的查看范围")
    if unit_id:
        unit = session.get(Unit, unit_id)
        if unit is None or unit.town_id not in towns:
            raise NotFound("筛选条件超出您的查看范围")
    if handler_id:
        handler = session.get(User, handler_id)
        if handler is None or handler.town_id not in towns:
            raise NotFound("筛选条件超出您的查看范围")
