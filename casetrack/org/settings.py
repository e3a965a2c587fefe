"""Town settings: a town's stored value, else the default from the app's configuration."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from casetrack.org.models import TownSetting

#: one town's value of one key (pages ask one on every request): built once
_ONE_VALUE = select(TownSetting.value).where(TownSetting.town_id == bindparam("town_id"),
                                             TownSetting.key == bindparam("key"))


def get_setting(session: Session, town_id: int, key: str, default: Any = None) -> Any:
    """The town's value for ``key``, or ``default`` when the admin never set it."""
    rows = session.execute(_ONE_VALUE, {"town_id": town_id, "key": key}).all()
    return default if not rows else rows[0][0]


def get_setting_of_towns(session: Session, town_ids, key: str,
                         default: Any = None) -> dict[int, Any]:
    """``{town_id: value}`` of ``key`` for several towns in one query (``default`` where a
    town never set it): a county page shows cases of many towns."""
    ids = set(town_ids)
    out = dict.fromkeys(ids, default)
    if ids:
        rows = session.execute(select(TownSetting.town_id, TownSetting.value)
                               .where(TownSetting.key == key, TownSetting.town_id.in_(ids)))
        out.update({town_id: value for town_id, value in rows})
    return out


def get_settings(session: Session, town_id: int, prefix: str) -> dict[str, Any]:
    """Every stored value whose key starts with ``prefix`` (one query)."""
    rows = session.scalars(
        select(TownSetting).where(TownSetting.town_id == town_id,
                                  TownSetting.key.startswith(prefix))
    )
    return {row.key: row.value for row in rows}


def set_setting(session: Session, town_id: int, key: str, value: Any) -> None:
    """Store ``value`` for ``key`` (flushes; the caller commits)."""
    row = session.scalar(
        select(TownSetting).where(TownSetting.town_id == town_id, TownSetting.key == key)
    )
    if row is None:
        session.add(TownSetting(town_id=town_id, key=key, value=value))
    else:
        row.value = value
    session.flush()
