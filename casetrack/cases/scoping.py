"""Which cases a user may see: the one scoping function every case query goes through
(pages, exports, reports, the API and the statistics), and its one-case twin."""

from __future__ import annotations

from sqlalchemy import Select, false, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from casetrack.auth.models import Role, User, user_villages
from casetrack.auth.permissions import TOWN_WIDE_ROLES
from casetrack.cases.models import Case
from casetrack.core.errors import NotFound
from casetrack.core.i18n import N_
from casetrack.org.models import Town


def scope_cases(stmt: Select, user: User, *, county_by_town: bool = True) -> Select:
    """Restrict a ``select(Case)`` (or any select over ``Case``) to what ``user`` may see.

    ``county_by_town=False`` (the case list): a county user's towns are checked on each row
    rather than looked up through the town indexes. SQLite, whose figures say only that
    ``is_open`` has two values, otherwise read a county's list town by town through
    (town, status) or (town, received) and sorted the result (7 s for the county's closed
    cases at a million); the ``is_open``-led indexes give the list's order directly."""
    role = Role(user.role)
    if role is Role.COUNTY:
        towns = select(Town.id).where(Town.county_code == user.county_code)
        column = Case.town_id if county_by_town else _NotIndexed(Case.town_id)
        return stmt.where(column.in_(towns))
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


def scope_town(user: User) -> int | None:
    """The one town whose cases ``scope_cases`` lets ``user`` see (a town user's, whatever
    the role), or ``None`` for a county user (or a user of no town)."""
    if Role(user.role) is Role.COUNTY:
        return None
    return user.town_id


class _NotIndexed(ColumnElement):
    """A column that the SQLite planner may not use as an index constraint (``+column``,
    SQLite's documented way to say so); the plain column on other databases."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column) -> None:
        self.column = column
        self.type = column.type


@compiles(_NotIndexed)
def _compile_plain(element: _NotIndexed, compiler, **kw) -> str:
    return compiler.process(element.column, **kw)


@compiles(_NotIndexed, "sqlite")
def _compile_unindexed(element: _NotIndexed, compiler, **kw) -> str:
    return "+" + compiler.process(element.column, **kw)


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
