"""Services for the town's organisation: towns, villages, units and case number prefixes.

Each takes the acting user and ``now``, checks that the actor is an admin of the town it
touches, validates (messages in Chinese), changes, flushes and never commits. ``actor=None``
is the operator at the command line (``flask towns``), who has shell access to the server
and therefore every right; such calls name the town explicitly. User accounts are
administered in ``auth.services`` (the layer above, which knows users and roles).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Collection
from typing import Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from casetrack.core.errors import NotFound, PermissionDenied, ValidationError
from casetrack.core.i18n import N_, Msg
from casetrack.core.normalize import single_line
from casetrack.org.models import CaseNumberPrefix, Town, Unit, Village
from casetrack.org.prefixes import prefix_owner, prefix_problem, town_prefixes

#: village kinds: 行政村 (village committee) or 社区 (residents' committee)
VILLAGE_KINDS = (N_("行政村"), N_("社区"))


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
        raise PermissionDenied(N_("只有系统管理员可以进行此操作"))


def town_of(session: Session, actor: OrgActor | None, town: Town | None) -> Town:
    """The town an operation applies to: the admin's own, or the one named at the CLI."""
    if actor is not None:
        own = session.get(Town, actor.town_id)
        if own is None or (town is not None and town.id != own.id):
            raise PermissionDenied(N_("只能管理本镇的数据"))
        return own
    if town is None:
        raise ValidationError(N_("请指定乡镇"), fields={"town": N_("请指定乡镇")})
    return town


_SAME_CODE = N_("两类案件的机关代字不能相同")


def _used_elsewhere(session: Session, code: str, town_id: int | None = None):
    """A refusal when another town's numbers use ``code`` (a county would hold two cases
    numbered 北和信〔2026〕1号), else None."""
    if prefix_owner(session, code, town_id) is not None:
        return N_("其他乡镇已使用这个机关代字")
    return None


def create_town(
    session: Session,
    name: str,
    prefixes: dict[str, str],
    county_code: str = "",
    county_name: str = "",
) -> Town:
    """Create a town (the tenant): command line only, at installation time. ``prefixes``
    are its number prefixes by case kind (the kinds are the caller's: ``cases``)."""
    name = _clean_name(name, N_("乡镇名称"))
    if session.scalar(select(Town.id).where(Town.name == name)) is not None:
        raise ValidationError(N_("已有同名的乡镇"), fields={"name": N_("已有同名的乡镇")})
    codes = {kind: unicodedata.normalize("NFC", (code or "").strip())
             for kind, code in prefixes.items()}
    for kind, code in codes.items():
        if msg := prefix_problem(code) or _used_elsewhere(session, code):
            raise ValidationError(msg, fields={kind: msg})
    if len(set(codes.values())) != len(codes):
        msg = _SAME_CODE
        raise ValidationError(msg, fields={"code": msg})
    town = Town(name=name, county_code=county_code.strip(), county_name=county_name.strip(),
                number_prefixes=[CaseNumberPrefix(kind=k, code=c) for k, c in codes.items()])
    session.add(town)
    session.flush()
    return town


def _get_in_town(session: Session, actor: OrgActor, model, object_id: int, missing: str):
    """An object of the admin's own town, or NotFound (another town's looks like none)."""
    require_admin(actor)
    obj = session.get(model, object_id)
    if obj is None or obj.town_id != actor.town_id:
        raise NotFound(missing)
    return obj


def get_village(session: Session, actor: OrgActor, village_id: int) -> Village:
    """A village of the admin's town, or NotFound."""
    return _get_in_town(session, actor, Village, village_id, N_("村（社区）不存在"))


def get_unit(session: Session, actor: OrgActor, unit_id: int) -> Unit:
    """A unit of the admin's town, or NotFound."""
    return _get_in_town(session, actor, Unit, unit_id, N_("单位不存在"))


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


# --------------------------------------------------------------------------- villages


def _clean_name(value: str | None, label: str) -> str:
    value = single_line(value)  # one line, no bidi override or other control
    if not value:
        msg = Msg(N_("请填写%(label)s"), label=label)
        raise ValidationError(msg, fields={"name": msg})
    if len(value) > 100:
        msg = Msg(N_("%(label)s不能超过100个字"), label=label)
        raise ValidationError(msg, fields={"name": msg})
    return value


def _clean_kind(kind: str | None) -> str:
    kind = (kind or VILLAGE_KINDS[0]).strip()
    if kind not in VILLAGE_KINDS:
        raise ValidationError(N_("类型应为行政村或社区"), fields={"kind": N_("类型应为行政村或社区")})
    return kind


def _name_taken(session: Session, model, town_id: int, name: str, except_id: int | None) -> bool:
    """Whether another village or unit (``model``) of the town already has ``name``."""
    stmt = select(model.id).where(model.town_id == town_id, model.name == name)
    if except_id is not None:
        stmt = stmt.where(model.id != except_id)
    return session.scalar(stmt) is not None


def create_village(
    session: Session,
    actor: OrgActor | None,
    now: dt.datetime,
    name: str,
    kind: str = "行政村",
    sort_order: int | None = None,
    town: Town | None = None,
) -> Village:
    """Add a village (村) or residents' committee (社区) to the town; by default it sorts last."""
    require_admin(actor)
    town = town_of(session, actor, town)
    name = _clean_name(name, N_("村（社区）名称"))
    kind = _clean_kind(kind)
    if _name_taken(session, Village, town.id, name, None):
        raise ValidationError(
            N_("本镇已有同名的村（社区）"), fields={"name": N_("本镇已有同名的村（社区）")}
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
    actor: OrgActor,
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
        raise NotFound(N_("村（社区）不存在"))
    if name is not None:
        name = _clean_name(name, N_("村（社区）名称"))
        if _name_taken(session, Village, village.town_id, name, village.id):
            raise ValidationError(
                N_("本镇已有同名的村（社区）"), fields={"name": N_("本镇已有同名的村（社区）")}
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
    session: Session, actor: OrgActor | None, now: dt.datetime, name: str, town: Town | None = None
) -> Unit:
    """Add a handling unit (综治办, 司法所, ...) to the town."""
    require_admin(actor)
    town = town_of(session, actor, town)
    name = _clean_name(name, N_("单位名称"))
    if _name_taken(session, Unit, town.id, name, None):
        raise ValidationError(N_("本镇已有同名的单位"), fields={"name": N_("本镇已有同名的单位")})
    unit = Unit(town_id=town.id, name=name)
    session.add(unit)
    session.flush()
    return unit


def update_unit(
    session: Session,
    actor: OrgActor,
    now: dt.datetime,
    unit: Unit,
    *,
    name: str | None = None,
    is_active: bool | None = None,
) -> Unit:
    """Rename, deactivate or reactivate a unit. Units are never deleted (cases refer to them)."""
    require_admin(actor)
    if unit.town_id != actor.town_id:
        raise NotFound(N_("单位不存在"))
    if name is not None:
        name = _clean_name(name, N_("单位名称"))
        if _name_taken(session, Unit, unit.town_id, name, unit.id):
            raise ValidationError(N_("本镇已有同名的单位"), fields={"name": N_("本镇已有同名的单位")})
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
        raise ValidationError(N_("未知的案件类型"), fields={"kind": N_("未知的案件类型")})
    code = unicodedata.normalize("NFC", (code or "").strip())
    if msg := prefix_problem(code) or _used_elsewhere(session, code, town.id):
        raise ValidationError(msg, fields={"code": msg})
    effective = {**(defaults or {}), **town_prefixes(session, town.id)}
    if any(other != kind and value == code for other, value in effective.items()):
        msg = _SAME_CODE
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
