"""The town's organisation over the API (read only): villages, units, users, and the caller."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from casetrack.api.core import api_route, current_api_user
from casetrack.api.schema import Boolean, Id, Integer, ListOf, Schema, String
from casetrack.auth.models import ROLE_LABELS, Role, User
from casetrack.auth.permissions import ROLE_ACTIONS
from casetrack.extensions import db
from casetrack.org.models import Unit, Village

TAG = "org"
ROLES = tuple(r.value for r in Role)

VILLAGE_OUT = Schema("Village", {
    "id": Id(required=True),
    "name": String(required=True),
    "kind": String(required=True),
    "sort_order": Integer(required=True),
    "is_active": Boolean(required=True),
})
UNIT_OUT = Schema("Unit", {
    "id": Id(required=True),
    "name": String(required=True),
    "is_active": Boolean(required=True),
})
USER_OUT = Schema("User", {
    "id": Id(required=True),
    "username": String(required=True),
    "name": String(required=True),
    "role": String(required=True, choices=ROLES),
    "role_label": String(required=True),
    "unit_id": Id(required=True, nullable=True),
    "village_ids": ListOf(Id(), required=True, max_items=10_000),
    "is_enabled": Boolean(required=True),
}, required=True)
ME_OUT = Schema("Me", {
    "user": USER_OUT,
    "town_id": Id(required=True, nullable=True),
    "town_name": String(required=True, nullable=True),
    "rights": ListOf(String(), required=True, max_items=100,
                     description="角色拥有的操作权限（案件状态另行限制）"),
})
USERS_QUERY = Schema("UserListQuery", {
    "role": String(choices=ROLES),
    "unit_id": Id(),
    "include_disabled": Boolean(default=False),
})


def user_out(user: User) -> dict[str, Any]:
    """A user as colleagues see them (no contact details, no login data)."""
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "role": user.role,
        "role_label": _(ROLE_LABELS[Role(user.role)]),
        "unit_id": user.unit_id,
        "village_ids": sorted(v.id for v in user.villages),
        "is_enabled": user.is_enabled,
    }


@api_route("/me", "GET", summary="当前令牌对应的用户及其权限", tag=TAG, response=ME_OUT,
           errors=(401,))
def me():
    """Who the token acts as, in which town, with which rights."""
    user = current_api_user()
    return {
        "user": user_out(user),
        "town_id": user.town_id,
        "town_name": user.town.name if user.town else None,
        "rights": sorted(ROLE_ACTIONS.get(Role(user.role), frozenset())),
    }


@api_route("/villages", "GET", summary="本镇村（居）", tag=TAG,
           response=ListOf(VILLAGE_OUT, max_items=10_000), errors=(401,))
def list_villages():
    """The villages and residents' committees of the user's town."""
    user = current_api_user()
    rows = db.session.scalars(
        select(Village).where(Village.town_id == user.town_id)
        .order_by(Village.sort_order, Village.id)
    ) if user.town_id else []
    return [{"id": v.id, "name": v.name, "kind": v.kind, "sort_order": v.sort_order,
             "is_active": v.is_active} for v in rows]


@api_route("/units", "GET", summary="本镇承办单位", tag=TAG,
           response=ListOf(UNIT_OUT, max_items=10_000), errors=(401,))
def list_units():
    """The handling units of the user's town."""
    user = current_api_user()
    rows = db.session.scalars(
        select(Unit).where(Unit.town_id == user.town_id).order_by(Unit.id)
    ) if user.town_id else []
    return [{"id": u.id, "name": u.name, "is_active": u.is_active} for u in rows]


@api_route("/users", "GET", summary="本镇用户", tag=TAG,
           response=ListOf(USER_OUT, max_items=100_000), query=USERS_QUERY,
           errors=(400, 401, 422))
def list_users(query: dict[str, Any]):
    """Users of the caller's town (enabled ones unless asked), e.g. to pick a handler."""
    user = current_api_user()
    if user.town_id is None:
        return []
    stmt = select(User).where(User.town_id == user.town_id)
    if query["role"]:
        stmt = stmt.where(User.role == query["role"])
    if query["unit_id"]:
        stmt = stmt.where(User.unit_id == query["unit_id"])
    if not query["include_disabled"]:
        stmt = stmt.where(User.is_enabled.is_(True))
    return [user_out(u) for u in db.session.scalars(stmt.order_by(User.id))]
