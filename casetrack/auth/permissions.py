"""What each role may do: the rights of the roles (``ROLE_ACTIONS``) and their checks.

Which cases a user may see is decided in ``cases/scoping.py`` (above this layer); every
service asks ``has_right``/``require_right`` (through the step list for case steps).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from casetrack.auth.models import Role, User
from casetrack.core.errors import NotFound, PermissionDenied
from casetrack.core.i18n import N_
from casetrack.org.models import Town

#: what each role may do to a case it can see (the state machine decides *when*), before
#: the kinds of case add the rights of their own steps (``grant``)
_OWN_ACTIONS: dict[Role, frozenset[str]] = {
    Role.GRID_WORKER: frozenset({"register", "progress", "extend_request", "attach"}),
    Role.HANDLER: frozenset({"progress", "extend_request", "attach"}),
    Role.SUPERVISOR: frozenset({
        "register", "assign", "progress", "extend_request", "close", "attach", "view_id",
        "export", "correct",
    }),
    Role.LEADER: frozenset({"extend_decide", "progress", "view_id", "export"}),
    Role.ADMIN: frozenset({
        "register", "assign", "progress", "extend_request", "close", "attach", "view_id",
        "export", "correct", "admin",
    }),
    Role.COUNTY: frozenset({"view_id", "export"}),
}
#: rights granted from above, by source (a kind of case: the rights of its own steps)
_GRANTED: dict[str, dict[Role, frozenset[str]]] = {}

#: every right of each role: its own and those granted (kept by ``grant``/``revoke``)
ROLE_ACTIONS: dict[Role, frozenset[str]] = dict(_OWN_ACTIONS)


def _rebuild() -> None:
    for role in Role:
        ROLE_ACTIONS[role] = _OWN_ACTIONS.get(role, frozenset()).union(
            *(granted.get(role, frozenset()) for granted in _GRANTED.values()))


def grant(source: str, rights: Mapping[str, Iterable[str]]) -> None:
    """Give roles more rights on behalf of ``source`` (a kind of case registering the rights
    of its steps: this layer knows no kind)."""
    _GRANTED[source] = {Role(role): frozenset(names) for role, names in rights.items()}
    _rebuild()


def revoke(source: str) -> None:
    """Take back what ``source`` granted."""
    _GRANTED.pop(source, None)
    _rebuild()


TOWN_WIDE_ROLES = frozenset({Role.SUPERVISOR, Role.LEADER, Role.ADMIN})


def has_right(user: User, right: str) -> bool:
    """Whether the user's role carries ``right`` at all."""
    return right in ROLE_ACTIONS.get(Role(user.role), frozenset())


def require_right(user: User, right: str, message: str = N_("您没有执行此操作的权限")) -> None:
    if not has_right(user, right):
        raise PermissionDenied(message)


def current_rights() -> frozenset[str]:
    """The rights of the logged-in user (none when nobody is logged in), for templates."""
    from flask_login import current_user

    if not getattr(current_user, "is_authenticated", False):
        return frozenset()
    return ROLE_ACTIONS.get(Role(current_user.role), frozenset())


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
            raise NotFound(N_("筛选条件超出您的查看范围"))
    role = Role(user.role)
    if role is Role.COUNTY:
        if not user.county_code:
            raise NotFound(N_("筛选条件超出您的查看范围"))
        towns = set(session.scalars(select(Town.id).where(Town.county_code == user.county_code)))
    else:
        towns = {user.town_id} if user.town_id is not None else set()
    if town_id is not None and town_id not in towns:
        raise NotFound(N_("筛选条件超出您的查看范围"))
    if town_id is not None:
        towns = {town_id}
    if village_id:
        village = session.get(Village, village_id)
        if village is None or village.town_id not in towns or (
                role is Role.GRID_WORKER and village_id not in {v.id for v in user.villages}):
            raise NotFound(N_("筛选条件超出您的查看范围"))
    if unit_id:
        unit = session.get(Unit, unit_id)
        if unit is None or unit.town_id not in towns:
            raise NotFound(N_("筛选条件超出您的查看范围"))
    if handler_id:
        handler = session.get(User, handler_id)
        if handler is None or handler.town_id not in towns:
            raise NotFound(N_("筛选条件超出您的查看范围"))
