"""Which cases a user may see: the one scoping function every case query goes through
(pages, exports, reports, the API and the statistics), and its one-case twin."""

from __future__ import annotations

from sqlalchemy import Select, false, or_, select

from casetrack.auth.models import Role, User, user_villages
from casetrack.auth.permissions import TOWN_WIDE_ROLES
from casetrack.cases.models import Case
from casetrack.core.errors import NotFound
from casetrack.core.i18n import N_
from casetrack.org.models import Town


def scope_cases(stmt: Select, user: User) -> Select:
    """Restrict a ``select(Case)`` (or any select over ``Case``) to what ``user`` may see."""
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
        raise NotFound(N_("案件不存在或您无权查看"))
    return case


def can_register_in_village(user: User, village_id: int | None) -> bool:
    """Grid workers register only in their own villages; town-wide roles anywhere in town."""
    role = Role(user.role)
    if role in (Role.SUPERVISOR, Role.ADMIN):
        return True
    if role is Role.GRID_WORKER:
        return village_id is not None and village_id in {v.id for v in user.villages}
    return False
