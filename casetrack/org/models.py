"""The town's organisation: the tenant (town), its villages and its handling units."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casetrack.core.db import Base, UTCDateTime
from casetrack.core.time import utcnow


class Town(Base):
    """A town government: the tenant boundary. No user sees another town's cases unless
    given a county-level role."""

    __tablename__ = "towns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    #: statistical division code of the county (e.g. 440882 for 雷州市)
    county_code: Mapped[str] = mapped_column(String(12), default="", index=True)
    county_name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    villages: Mapped[list[Village]] = relationship(
        back_populates="town", order_by="Village.sort_order, Village.id"
    )
    units: Mapped[list[Unit]] = relationship(back_populates="town", order_by="Unit.id")
    number_prefixes: Mapped[list[CaseNumberPrefix]] = relationship(
        back_populates="town", order_by="CaseNumberPrefix.id", cascade="all, delete-orphan"
    )


class CaseNumberPrefix(Base):
    """The GB/T 9704 issuer code (机关代字) a town puts before the numbers of one case kind,
    e.g. 北和信 → 北和信〔2026〕18号. A kind without a row uses the kind's default."""

    __tablename__ = "case_number_prefixes"
    __table_args__ = (UniqueConstraint("town_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"))
    #: the case kind ("petition", "dispute", ...), as ``Case.kind`` stores it
    kind: Mapped[str] = mapped_column(String(20))
    #: 1 to 20 characters, no white space or control characters (``org.prefixes``)
    code: Mapped[str] = mapped_column(String(20))

    town: Mapped[Town] = relationship(back_populates="number_prefixes")


class Village(Base):
    """A village or residents' committee (村委会/居委会), the grid area of grid workers."""

    __tablename__ = "villages"
    __table_args__ = (UniqueConstraint("town_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: 社区 or 行政村
    kind: Mapped[str] = mapped_column(String(20), default="行政村")
    sort_order: Mapped[int] = mapped_column(default=0)
    is_active: Mapped[bool] = mapped_column(default=True)

    town: Mapped[Town] = relationship(back_populates="villages")


class Unit(Base):
    """A town department that handles assigned cases (综治办, 司法所, 派出所, ...)."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("town_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    is_active: Mapped[bool] = mapped_column(default=True)

    town: Mapped[Town] = relationship(back_populates="units")


class TownSetting(Base):
    """One admin-editable setting of a town (reminder policy, report templates, webhook).

    Values are JSON; the defaults live in ``config.py`` and apply while no row exists.
    """

    __tablename__ = "town_settings"
    __table_args__ = (UniqueConstraint("town_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"), index=True)
    #: dotted name, e.g. "reminders.yellow_days" or "reports.sentence.petition"
    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[Any] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
