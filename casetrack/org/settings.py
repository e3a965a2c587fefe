"""Town settings: a town's stored value, else the default from the app's configuration."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casetrack.org.models import TownSetting


def get_setting(session: Session, town_id: int, key: str, default: Any = None) -> Any:
    """The town's value for ``key``, or ``default`` when the admin never set it."""
    row = session.scalar(
        select(TownSetting).where(TownSetting.town_id == town_id, TownSetting.key == key)
    )
    return default if row is None else row.value


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
