"""User administration: accounts of a town (create, edit, role change, password reset,
disable) and county-level accounts.

Each service takes the acting user and ``now``, checks that the actor is an admin of the
user's town, validates (messages in Chinese), changes, flushes and never commits.
``actor=None`` is the operator at the command line (``flask users``), who has shell access
to the server and therefore every right; such calls name the town explicitly. Changing one's
own password is ``passwords.change_own_password``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from casetrack.auth.models import ROLE_LABELS, Role, User
from casetrack.core.errors import NotFound, ValidationError
from casetrack.core.i18n import N_
from casetrack.core.passwords import password_problem
from casetrack.core.validators import validate_phone
from casetrack.org.models import Town, Unit, Village
from casetrack.org.services import require_admin, town_of

#: roles a town admin may give; county-level users are created at the command line only
TOWN_ROLES = (Role.GRID_WORKER, Role.HANDLER, Role.SUPERVISOR, Role.LEADER, Role.ADMIN)

_USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{2,64}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _require_admin_of(actor: User | None, user: User | None) -> User:
    """``user``, when ``actor`` is an admin of its town (``None``, the command line, is of
    every town); NotFound otherwise (another town's user looks like none)."""
    require_admin(actor)
    if user is None or (actor is not None and user.town_id != actor.town_id):
        raise NotFound(N_("用户不存在"))
    return user


def get_user(session: Session, actor: User, user_id: int) -> User:
    """A user of the admin's town, or NotFound (another town's looks like none)."""
    return _require_admin_of(actor, session.get(User, user_id))


def users_query(town_id: int, role: str | None = None, q: str = "") -> Select:
    """The users of a town, optionally of one role and matching ``q`` (username or name)."""
    stmt = select(User).where(User.town_id == town_id)
    if role:
        stmt = stmt.where(User.role == role)
    q = q.strip()
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.name.ilike(like)))
    return stmt.order_by(User.role, User.username)


@dataclass
class UserInput:
    """What creating or editing a user needs; ``password`` is used on creation only."""

    username: str
    name: str
    role: str
    unit_id: int | None = None
    village_ids: list[int] = field(default_factory=list)
    phone: str = ""
    email: str = ""
    password: str = ""


def validate_password(password: str, username: str = "", name: str = "") -> str | None:
    """A Chinese error message, or None when the password passes the policy
    (``core.passwords``: length, zxcvbn strength, not like the username or name)."""
    return password_problem(password, username=username, name=name)


def _validate_user(
    session: Session, town: Town, data: UserInput, user: User | None, roles: tuple[Role, ...]
) -> tuple[dict[str, str], Unit | None, list[Village]]:
    """Field errors plus the resolved unit and villages (all of ``town``)."""
    errors: dict[str, str] = {}
    if user is None:
        if not _USERNAME_RE.match(data.username or ""):
            errors["username"] = N_("用户名应为2至64位字母、数字、点、下划线或连字符")
        elif (
            session.scalar(
                select(User.id).where(func.lower(User.username) == data.username.lower())
            )
            is not None
        ):
            errors["username"] = N_("用户名已存在")
        if msg := validate_password(data.password, data.username, data.name):
            errors["password"] = msg
    if not data.name.strip():
        errors["name"] = N_("请填写姓名")
    elif len(data.name.strip()) > 64:
        errors["name"] = N_("姓名不能超过64个字")
    if data.role not in {str(r) for r in roles}:
        errors["role"] = N_("请选择有效的角色")
    unit = None
    if data.unit_id is not None:
        unit = session.get(Unit, data.unit_id)
        if unit is None or unit.town_id != town.id:
            errors["unit_id"] = N_("单位不属于本镇")
            unit = None
        elif not unit.is_active and (user is None or user.unit_id != unit.id):
            errors["unit_id"] = N_("该单位已停用")
    if data.role == Role.HANDLER and unit is None and "unit_id" not in errors:
        errors["unit_id"] = N_("承办人必须属于一个承办单位")
    villages: list[Village] = []
    if data.village_ids:
        villages = list(
            session.scalars(
                select(Village).where(
                    Village.id.in_(set(data.village_ids)), Village.town_id == town.id
                )
            )
        )
        if len(villages) != len(set(data.village_ids)):
            errors["village_ids"] = N_("所选村（社区）不属于本镇")
    if data.role == Role.GRID_WORKER and not villages and "village_ids" not in errors:
        errors["village_ids"] = N_("网格员至少要负责本镇的一个村（社区）")
    if data.phone.strip() and (msg := validate_phone(data.phone)):
        errors["phone"] = msg
    if data.email.strip() and not _EMAIL_RE.match(data.email.strip()):
        errors["email"] = N_("电子邮箱格式不正确")
    return errors, unit, villages


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationError.of(errors)


def create_user(
    session: Session,
    actor: User | None,
    now: dt.datetime,
    data: UserInput,
    town: Town | None = None,
) -> User:
    """Create a user of the admin's town (or, at the CLI, of ``town``) with an initial password.

    Grid workers keep their villages, handlers their unit; other roles get neither.
    """
    require_admin(actor)
    town = town_of(session, actor, town)
    errors, unit, villages = _validate_user(session, town, data, None, TOWN_ROLES)
    _raise_if(errors)
    user = User(
        town_id=town.id,
        county_code=town.county_code,
        username=data.username.strip(),
        name=data.name.strip(),
        role=data.role,
        unit_id=unit.id if unit and data.role == Role.HANDLER else None,
        phone=data.phone.strip(),
        email=data.email.strip(),
        created_at=now,
    )
    user.villages = villages if data.role == Role.GRID_WORKER else []
    user.set_password(data.password)
    # a password an administrator chose must be replaced at the first login
    user.must_change_password = actor is not None
    session.add(user)
    session.flush()
    return user


def create_county_user(
    session: Session, now: dt.datetime, data: UserInput, county_code: str
) -> User:
    """Create a county-level read-only user (command line only): sees every town of the county."""
    errors: dict[str, str] = {}
    if not _USERNAME_RE.match(data.username or ""):
        errors["username"] = N_("用户名应为2至64位字母、数字、点、下划线或连字符")
    elif (
        session.scalar(select(User.id).where(func.lower(User.username) == data.username.lower()))
        is not None
    ):
        errors["username"] = N_("用户名已存在")
    if msg := validate_password(data.password, data.username, data.name):
        errors["password"] = msg
    if not data.name.strip():
        errors["name"] = N_("请填写姓名")
    if not re.fullmatch(r"\d{6}", county_code or ""):
        errors["county_code"] = N_("县级区划代码应为6位数字")
    elif session.scalar(select(Town.id).where(Town.county_code == county_code)) is None:
        errors["county_code"] = N_("没有乡镇属于该县级区划代码")
    _raise_if(errors)
    user = User(
        town_id=None,
        county_code=county_code,
        username=data.username.strip(),
        name=data.name.strip(),
        role=str(Role.COUNTY),
        phone=data.phone.strip(),
        email=data.email.strip(),
        created_at=now,
    )
    user.set_password(data.password)
    session.add(user)
    session.flush()
    return user


def update_user(
    session: Session, actor: User, now: dt.datetime, user: User, data: UserInput
) -> User:
    """Change a user's name, role, unit, villages and contact details (not the username)."""
    _require_admin_of(actor, user)
    town = town_of(session, actor, None)
    errors, unit, villages = _validate_user(session, town, data, user, TOWN_ROLES)
    if user.id == actor.id and data.role != user.role:
        errors["role"] = N_("不能修改自己的角色")
    _raise_if(errors)
    if data.role != user.role:
        user.end_sessions()  # the old role's pages and rights end with its sessions
    user.name = data.name.strip()
    user.role = data.role
    user.unit_id = unit.id if unit and data.role == Role.HANDLER else None
    user.villages = villages if data.role == Role.GRID_WORKER else []
    user.phone = data.phone.strip()
    user.email = data.email.strip()
    session.flush()
    return user


def set_password(
    session: Session, actor: User | None, now: dt.datetime, user: User, password: str
) -> User:
    """Reset a user's password (the admin tells the user); every session of the user ends."""
    _require_admin_of(actor, user)
    if msg := validate_password(password, user.username, user.name):
        raise ValidationError(msg, fields={"password": msg})
    user.set_password(password)
    user.end_sessions()
    # an administrator's password is known to two people: the user must replace it
    user.must_change_password = actor is not None
    session.flush()
    return user


def set_user_enabled(
    session: Session, actor: User, now: dt.datetime, user: User, enabled: bool
) -> User:
    """Enable or disable a login. A disabled user cannot log in; their cases stay as they are."""
    _require_admin_of(actor, user)
    if user.id == actor.id and not enabled:
        raise ValidationError(N_("不能停用自己的账号"))
    user.is_enabled = enabled
    if not enabled:
        user.end_sessions()
    session.flush()
    return user


def role_choices() -> list[tuple[str, str]]:
    """(value, Chinese label) of the roles a town admin may give."""
    return [(str(r), ROLE_LABELS[r]) for r in TOWN_ROLES]
