"""Users and their roles."""

from __future__ import annotations

import datetime as dt
import enum

from flask_login import UserMixin
from sqlalchemy import Column, ForeignKey, String, Table, false
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from casetrack.core.db import Base, UTCDateTime
from casetrack.core.i18n import N_
from casetrack.core.time import utcnow
from casetrack.org.models import Town, Unit, Village


class Role(enum.StrEnum):
    """What a user is in the town (DOMAIN.md, "Who uses it")."""

    GRID_WORKER = "grid_worker"  # 网格员
    HANDLER = "handler"  # 承办人
    SUPERVISOR = "supervisor"  # 督办员
    LEADER = "leader"  # 镇领导
    ADMIN = "admin"  # 系统管理员
    COUNTY = "county"  # 县级查看: every town of the county, read only


ROLE_LABELS = {
    Role.GRID_WORKER: N_("网格员"),
    Role.HANDLER: N_("承办人"),
    Role.SUPERVISOR: N_("督办员"),
    Role.LEADER: N_("镇领导"),
    Role.ADMIN: N_("系统管理员"),
    Role.COUNTY: N_("县级查看"),
}

user_villages = Table(
    "user_villages",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("village_id", ForeignKey("villages.id", ondelete="CASCADE"), primary_key=True),
)


class User(UserMixin, Base):
    """A person who logs in. Grid workers are tied to villages, handlers to a unit."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: None only for county-level users, who see every town of ``county_code``
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"), index=True)
    county_code: Mapped[str] = mapped_column(String(12), default="")
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    phone: Mapped[str] = mapped_column(String(20), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(256))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    #: every login session carries the value it was opened with; raising it (logout,
    #: password change or reset, disabling, role change) ends all of the user's sessions on
    #: every process and host at their next request
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")
    #: the password was set by an administrator: the user must choose their own first
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=false())
    #: "zh_CN" or "en"; empty means the town's default (Chinese)
    locale: Mapped[str] = mapped_column(String(10), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    town: Mapped[Town | None] = relationship()
    unit: Mapped[Unit | None] = relationship()
    villages: Mapped[list[Village]] = relationship(secondary=user_villages)

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_enabled

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[Role(self.role)]

    def has_right(self, right: str) -> bool:
        """Whether the user's role carries ``right`` (``permissions.ROLE_ACTIONS``)."""
        from casetrack.auth.permissions import has_right  # it imports this module

        return has_right(self, right)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def end_sessions(self) -> None:
        """End every login session of this user (the next request of each is anonymous)."""
        self.session_version = (self.session_version or 1) + 1

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)
