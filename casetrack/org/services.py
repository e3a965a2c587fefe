"""Services for the town's organisation: villages, units and user accounts.

Each takes the acting user and ``now``, checks that the actor is an admin of the town it
touches, validates (messages in Chinese), changes, flushes and never commits. ``actor=None``
is the operator at the command line (``flask users``), who has shell access to the server
and therefore every right; such calls name the town explicitly.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from casetrack.auth.models import ROLE_LABELS, Role, User
from casetrack.core.errors import NotFound, PermissionDenied, ValidationError
from casetrack.core.i18n import N_
from casetrack.core.passwords import password_problem
from casetrack.org.models import CaseNumberPrefix, Town, Unit, Village
from casetrack.org.prefixes import prefix_problem, town_prefixes

#: shortest password accepted (the default of PASSWORD_MIN_LENGTH)
MIN_PASSWORD_LENGTH = 10
#: village kinds: 行政村 (village committee) or 社区 (residents' committee)
VILLAGE_KINDS = (N_("行政村"), N_("社区"))
#: roles a town admin may give; county-level users are created at the command line only
TOWN_ROLES = (Role.GRID_WORKER, Role.HANDLER, Role.SUPERVISOR, Role.LEADER, Role.ADMIN)

_USERNAME_RE = re.compile(r"^[A-Za-z0-9._-]{2,64}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# --------------------------------------------------------------------------- access


class OrgActor(Protocol):
    """The acting user as this layer sees it (``auth.models.User`` is one; org sits below
    auth and never imports it)."""

    id: int
    town_id: int | None

    def has_right(self, right: str) -> bool: ...


def require_admin(actor: OrgActor | None) -> None:
    """Refuse unless ``actor`` is a town admin (``None``, the command line, is always allowed)."""
    if actor is None:
        return
    if not actor.has_right("admin") or actor.town_id is None:
        raise PermissionDenied("只有系统管理员可以进行此操作")


def town_of(session: Session, actor: OrgActor | None, town: Town | None) -> Town:
    """The town an operation applies to: the admin's own, or the one named at the CLI."""
    if actor is not None:
        own = session.get(Town, actor.town_id)
        if own is None or (town is not None and town.id != own.id):
            raise PermissionDenied("只能管理本镇的数据")
        return own
    if town is None:
        raise ValidationError("请指定乡镇", fields={"town": "请指定乡镇"})
    return town


def create_town(
    session: Session,
    name: str,
    prefixes: dict[str, str],
    county_code: str = "",
    county_name: str = "",
) -> Town:
    """Create a town (the tenant): command line only, at installation time. ``prefixes``
    are its number prefixes by case kind (the kinds are the caller's: ``cases``)."""
    name = _clean_name(name, "乡镇名称")
    if session.scalar(select(Town.id).where(Town.name == name)) is not None:
        raise ValidationError("已有同名的乡镇", fields={"name": "已有同名的乡镇"})
    codes = {kind: unicodedata.normalize("NFC", (code or "").strip())
             for kind, code in prefixes.items()}
    for kind, code in codes.items():
        if msg := prefix_problem(code):
            raise ValidationError(msg, fields={kind: msg})
    if len(set(codes.values())) != len(codes):
        msg = "两类案件的机关代字不能相同"
        raise ValidationError(msg, fields={"code": msg})
    town = Town(name=name, county_code=county_code.strip(), county_name=county_name.strip(),
                number_prefixes=[CaseNumberPrefix(kind=k, code=c) for k, c in codes.items()])
    session.add(town)
    session.flush()
    return town


def _get_in_town(session: Session, actor: User, model, object_id: int, missing: str):
    """An object of the admin's own town, or NotFound (another town's looks like none)."""
    require_admin(actor)
    obj = session.get(model, object_id)
    if obj is None or obj.town_id != actor.town_id:
        raise NotFound(missing)
    return obj


def get_village(session: Session, actor: User, village_id: int) -> Village:
    """A village of the admin's town, or NotFound."""
    return _get_in_town(session, actor, Village, village_id, "村（社区）不存在")


def get_unit(session: Session, actor: User, unit_id: int) -> Unit:
    """A unit of the admin's town, or NotFound."""
    return _get_in_town(session, actor, Unit, unit_id, "单位不存在")


def get_user(session: Session, actor: User, user_id: int) -> User:
    """A user of the admin's town, or NotFound."""
    return _get_in_town(session, actor, User, user_id, "用户不存在")


# --------------------------------------------------------------------------- queries


def list_villages(session: Session, town_id: int) -> list[Village]:
    """Every village of the town (inactive ones too), in the town's sort order."""
    stmt = (
        select(Village).where(Village.town_id == town_id).order_by(Village.sort_order, Village.id)
    )
    return list(session.scalars(stmt))


def list_units(session: Session, town_id: int) -> list[Unit]:
    """Every unit of the town (inactive ones too)."""
    return list(session.scalars(select(Unit).where(Unit.town_id == town_id).order_by(Unit.id)))


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


def is_locked(user: User, now: dt.datetime) -> bool:
    """Whether too many failed logins keep the user out at ``now``."""
    return user.locked_until is not None and user.locked_until > now


# --------------------------------------------------------------------------- villages


def _clean_name(value: str | None, label: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(f"请填写{label}", fields={"name": f"请填写{label}"})
    if len(value) > 100:
        raise ValidationError(f"{label}不能超过100个字", fields={"name": f"{label}不能超过100个字"})
    return value


def _clean_kind(kind: str | None) -> str:
    kind = (kind or VILLAGE_KINDS[0]).strip()
    if kind not in VILLAGE_KINDS:
        raise ValidationError("类型应为行政村或社区", fields={"kind": "类型应为行政村或社区"})
    return kind


def _name_taken(session: Session, model, town_id: int, name: str, except_id: int | None) -> bool:
    """Whether another village or unit (``model``) of the town already has ``name``."""
    stmt = select(model.id).where(model.town_id == town_id, model.name == name)
    if except_id is not None:
        stmt = stmt.where(model.id != except_id)
    return session.scalar(stmt) is not None


def create_village(
    session: Session,
    actor: User | None,
    now: dt.datetime,
    name: str,
    kind: str = "行政村",
    sort_order: int | None = None,
    town: Town | None = None,
) -> Village:
    """Add a village (村) or residents' committee (社区) to the town; by default it sorts last."""
    require_admin(actor)
    town = town_of(session, actor, town)
    name = _clean_name(name, "村（社区）名称")
    kind = _clean_kind(kind)
    if _name_taken(session, Village, town.id, name, None):
        raise ValidationError(
            "本镇已有同名的村（社区）", fields={"name": "本镇已有同名的村（社区）"}
        )
    if sort_order is None:
        last = session.scalar(
            select(func.max(Village.sort_order)).where(Village.town_id == town.id)
        )
        sort_order = (last or 0) + 1
    village = Village(town_id=town.id, name=name, kind=kind, sort_order=sort_order)
    session.add(village)
    session.flush()
    return village


def update_village(
    session: Session,
    actor: User,
    now: dt.datetime,
    village: Village,
    *,
    name: str | None = None,
    kind: str | None = None,
    sort_order: int | None = None,
    is_active: bool | None = None,
) -> Village:
    """Rename, re-sort, change the kind of, deactivate or reactivate a village.

    A village is never deleted: its cases keep pointing at it. A deactivated village is no
    longer offered when registering cases or giving grid workers villages.
    """
    require_admin(actor)
    if village.town_id != actor.town_id:
        raise NotFound("村（社区）不存在")
    if name is not None:
        name = _clean_name(name, "村（社区）名称")
        if _name_taken(session, Village, village.town_id, name, village.id):
            raise ValidationError(
                "本镇已有同名的村（社区）", fields={"name": "本镇已有同名的村（社区）"}
            )
        village.name = name
    if kind is not None:
        village.kind = _clean_kind(kind)
    if sort_order is not None:
        village.sort_order = sort_order
    if is_active is not None:
        village.is_active = is_active
    session.flush()
    return village


# --------------------------------------------------------------------------- units


def create_unit(
    session: Session, actor: User | None, now: dt.datetime, name: str, town: Town | None = None
) -> Unit:
    """Add a handling unit (综治办, 司法所, ...) to the town."""
    require_admin(actor)
    town = town_of(session, actor, town)
    name = _clean_name(name, "单位名称")
    if _name_taken(session, Unit, town.id, name, None):
        raise ValidationError("本镇已有同名的单位", fields={"name": "本镇已有同名的单位"})
    unit = Unit(town_id=town.id, name=name)
    session.add(unit)
    session.flush()
    return unit


def update_unit(
    session: Session,
    actor: User,
    now: dt.datetime,
    unit: Unit,
    *,
    name: str | None = None,
    is_active: bool | None = None,
) -> Unit:
    """Rename, deactivate or reactivate a unit. Units are never deleted (cases refer to them)."""
    require_admin(actor)
    if unit.town_id != actor.town_id:
        raise NotFound("单位不存在")
    if name is not None:
        name = _clean_name(name, "单位名称")
        if _name_taken(session, Unit, unit.town_id, name, unit.id):
            raise ValidationError("本镇已有同名的单位", fields={"name": "本镇已有同名的单位"})
        unit.name = name
    if is_active is not None:
        unit.is_active = is_active
    session.flush()
    return unit


# --------------------------------------------------------------------------- number prefixes


def set_number_prefix(
    session: Session,
    actor: OrgActor | None,
    now: dt.datetime,
    kind: str,
    code: str,
    *,
    kinds: Collection[str],
    defaults: dict[str, str] | None = None,
    town: Town | None = None,
) -> CaseNumberPrefix:
    """Set the prefix of ``kind``'s numbers in the admin's town (at the CLI: ``town``).

    ``kinds`` are the case kinds the caller knows; ``defaults`` the prefixes of kinds without
    a row, so that two kinds of a town never end up numbering alike. Numbers already issued
    keep their prefix; the next registration uses the new one."""
    require_admin(actor)
    town = town_of(session, actor, town)
    if kind not in kinds:
        raise ValidationError("未知的案件类型", fields={"kind": "未知的案件类型"})
    code = unicodedata.normalize("NFC", (code or "").strip())
    if msg := prefix_problem(code):
        raise ValidationError(msg, fields={"code": msg})
    effective = {**(defaults or {}), **town_prefixes(session, town.id)}
    if any(other != kind and value == code for other, value in effective.items()):
        msg = "两类案件的机关代字不能相同"
        raise ValidationError(msg, fields={"code": msg})
    row = session.scalar(select(CaseNumberPrefix).where(
        CaseNumberPrefix.town_id == town.id, CaseNumberPrefix.kind == kind))
    if row is None:
        row = CaseNumberPrefix(town_id=town.id, kind=kind, code=code)
        session.add(row)
    else:
        row.code = code
    session.flush()
    return row


# --------------------------------------------------------------------------- users


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
    from casetrack.core.validators import validate_phone  # shared with case parties

    errors: dict[str, str] = {}
    if user is None:
        if not _USERNAME_RE.match(data.username or ""):
            errors["username"] = "用户名应为2至64位字母、数字、点、下划线或连字符"
        elif (
            session.scalar(
                select(User.id).where(func.lower(User.username) == data.username.lower())
            )
            is not None
        ):
            errors["username"] = "用户名已存在"
        if msg := validate_password(data.password, data.username, data.name):
            errors["password"] = msg
    if not data.name.strip():
        errors["name"] = "请填写姓名"
    elif len(data.name.strip()) > 64:
        errors["name"] = "姓名不能超过64个字"
    if data.role not in {str(r) for r in roles}:
        errors["role"] = "请选择有效的角色"
    unit = None
    if data.unit_id is not None:
        unit = session.get(Unit, data.unit_id)
        if unit is None or unit.town_id != town.id:
            errors["unit_id"] = "单位不属于本镇"
            unit = None
        elif not unit.is_active and (user is None or user.unit_id != unit.id):
            errors["unit_id"] = "该单位已停用"
    if data.role == Role.HANDLER and unit is None and "unit_id" not in errors:
        errors["unit_id"] = "承办人必须属于一个承办单位"
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
            errors["village_ids"] = "所选村（社区）不属于本镇"
    if data.role == Role.GRID_WORKER and not villages and "village_ids" not in errors:
        errors["village_ids"] = "网格员至少要负责本镇的一个村（社区）"
    if data.phone.strip() and (msg := validate_phone(data.phone)):
        errors["phone"] = msg
    if data.email.strip() and not _EMAIL_RE.match(data.email.strip()):
        errors["email"] = "电子邮箱格式不正确"
    return errors, unit, villages


def _raise_if(errors: dict[str, str]) -> None:
    if errors:
        raise ValidationError("；".join(dict.fromkeys(errors.values())), fields=errors)


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
        errors["username"] = "用户名应为2至64位字母、数字、点、下划线或连字符"
    elif (
        session.scalar(select(User.id).where(func.lower(User.username) == data.username.lower()))
        is not None
    ):
        errors["username"] = "用户名已存在"
    if msg := validate_password(data.password, data.username, data.name):
        errors["password"] = msg
    if not data.name.strip():
        errors["name"] = "请填写姓名"
    if not re.fullmatch(r"\d{6}", county_code or ""):
        errors["county_code"] = "县级区划代码应为6位数字"
    elif session.scalar(select(Town.id).where(Town.county_code == county_code)) is None:
        errors["county_code"] = "没有乡镇属于该县级区划代码"
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
    require_admin(actor)
    if user.town_id != actor.town_id:
        raise NotFound("用户不存在")
    town = town_of(session, actor, None)
    errors, unit, villages = _validate_user(session, town, data, user, TOWN_ROLES)
    if user.id == actor.id and data.role != user.role:
        errors["role"] = "不能修改自己的角色"
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
    """Reset a user's password (the admin tells the user); also lifts a login lock."""
    require_admin(actor)
    if actor is not None and user.town_id != actor.town_id:
        raise NotFound("用户不存在")
    if msg := validate_password(password, user.username, user.name):
        raise ValidationError(msg, fields={"password": msg})
    user.set_password(password)
    user.end_sessions()
    # an administrator's password is known to two people: the user must replace it
    user.must_change_password = actor is not None
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    return user


def set_user_enabled(
    session: Session, actor: User, now: dt.datetime, user: User, enabled: bool
) -> User:
    """Enable or disable a login. A disabled user cannot log in; their cases stay as they are."""
    require_admin(actor)
    if user.town_id != actor.town_id:
        raise NotFound("用户不存在")
    if user.id == actor.id and not enabled:
        raise ValidationError("不能停用自己的账号")
    user.is_enabled = enabled
    if not enabled:
        user.end_sessions()
    session.flush()
    return user


def unlock_user(session: Session, actor: User, now: dt.datetime, user: User) -> User:
    """Lift the lock that too many failed logins put on an account."""
    require_admin(actor)
    if user.town_id != actor.town_id:
        raise NotFound("用户不存在")
    if not is_locked(user, now) and not user.failed_logins:
        raise ValidationError("该账号没有被锁定")
    user.failed_logins = 0
    user.locked_until = None
    session.flush()
    return user


def role_choices() -> list[tuple[str, str]]:
    """(value, Chinese label) of the roles a town admin may give."""
    return [(str(r), ROLE_LABELS[r]) for r in TOWN_ROLES]
