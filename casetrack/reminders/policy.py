"""The reminder policy: town settings (``reminders.*``) with defaults from ``config.py``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app
from sqlalchemy.orm import Session

from casetrack.core.errors import ValidationError
from casetrack.core.i18n import N_
from casetrack.notify.models import Channel
from casetrack.org.settings import get_settings, set_setting

#: reminder levels, most urgent last
LEVELS = ("yellow", "due_today", "overdue", "escalated", "provisional")
LEVEL_LABELS = {
    "yellow": N_("即将到期"),
    "due_today": N_("今日到期"),
    "overdue": N_("已超期"),
    "escalated": N_("超期督办"),
    "provisional": N_("期限待定"),
}
#: roles that receive reminders
ROLES = ("handler", "supervisor", "leader", "admin")
ROLE_LABELS = {"handler": N_("承办人"), "supervisor": N_("督办员"), "leader": N_("镇领导"),
               "admin": N_("系统管理员")}
PREFIX = "reminders."


@dataclass
class ReminderPolicy:
    """Who is reminded of what, when and where (one town)."""

    is_enabled: bool = True
    #: a case is "due soon" (yellow) this many days before its due date
    yellow_days: int = 3
    #: the leader is told of cases overdue by at least this many days
    leader_overdue_days: int = 3
    #: a case that stays due is reminded again every this many days (1: every daily digest)
    cadence_days: int = 1
    #: local time of the daily run
    send_time: dt.time = dt.time(8, 30)
    timezone: str = "Asia/Shanghai"
    #: level -> roles told of it
    level_roles: dict[str, list[str]] = field(default_factory=dict)
    #: role -> channels used (in-app is always added)
    role_channels: dict[str, list[str]] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def roles_for(self, level: str) -> list[str]:
        return list(self.level_roles.get(level, []))

    def channels_for(self, role: str) -> list[str]:
        return list(dict.fromkeys([Channel.IN_APP.value, *self.role_channels.get(role, [])]))

    def to_settings(self) -> dict:
        """The policy as TownSetting values."""
        return {
            PREFIX + "enabled": self.is_enabled,
            PREFIX + "yellow_days": self.yellow_days,
            PREFIX + "leader_overdue_days": self.leader_overdue_days,
            PREFIX + "cadence_days": self.cadence_days,
            PREFIX + "send_time": self.send_time.strftime("%H:%M"),
            PREFIX + "timezone": self.timezone,
            PREFIX + "level_roles": self.level_roles,
            PREFIX + "role_channels": self.role_channels,
        }


def default_policy() -> ReminderPolicy:
    """The policy from the REMINDER_* settings of ``config.py``."""
    c = current_app.config
    yellow = c.get("REMINDER_YELLOW_DAYS")
    return ReminderPolicy(
        is_enabled=bool(c.get("REMINDER_ENABLED", True)),
        yellow_days=int(yellow if yellow is not None else c.get("WARNING_YELLOW_DAYS", 3)),
        leader_overdue_days=int(c.get("REMINDER_LEADER_OVERDUE_DAYS", 3)),
        cadence_days=int(c.get("REMINDER_CADENCE_DAYS", 1)),
        send_time=parse_time(c.get("REMINDER_SEND_TIME", "08:30")),
        timezone=c.get("REMINDER_TIMEZONE") or c.get("TIMEZONE", "Asia/Shanghai"),
        level_roles={k: list(v) for k, v in c.get("REMINDER_LEVEL_ROLES", {}).items()},
        role_channels={k: list(v) for k, v in c.get("REMINDER_ROLE_CHANNELS", {}).items()},
    )


def parse_time(text: str) -> dt.time:
    """"HH:MM" (two digits each, 00:00 to 23:59) -> time; ValidationError otherwise
    (8:5 is not read as 08:05 without a word: it may as well have meant 08:50)."""
    value = str(text).strip()
    try:
        if len(value) != 5 or value[2] != ":" or not (value[:2] + value[3:]).isdigit():
            raise ValueError(value)
        return dt.time(int(value[:2]), int(value[3:]))
    except (ValueError, TypeError):
        raise ValidationError(N_("发送时间格式应为 时:分，例如 08:30"),
                              fields={"send_time": N_("发送时间格式应为 时:分")}) from None


def load_policy(session: Session, town_id: int) -> ReminderPolicy:
    """The town's policy: stored values over the defaults (one query)."""
    policy = default_policy()
    stored = get_settings(session, town_id, PREFIX)
    if PREFIX + "enabled" in stored:
        policy.is_enabled = bool(stored[PREFIX + "enabled"])
    for name in ("yellow_days", "leader_overdue_days", "cadence_days"):
        if PREFIX + name in stored:
            setattr(policy, name, int(stored[PREFIX + name]))
    if PREFIX + "send_time" in stored:
        policy.send_time = parse_time(stored[PREFIX + "send_time"])
    if stored.get(PREFIX + "timezone"):
        policy.timezone = stored[PREFIX + "timezone"]
    if isinstance(stored.get(PREFIX + "level_roles"), dict):
        policy.level_roles = stored[PREFIX + "level_roles"]
    if isinstance(stored.get(PREFIX + "role_channels"), dict):
        policy.role_channels = stored[PREFIX + "role_channels"]
    return policy


def validate_policy(policy: ReminderPolicy) -> None:
    """Refuse out-of-range values with Chinese field messages."""
    errors: dict[str, str] = {}
    if not 0 <= policy.yellow_days <= 30:
        errors["yellow_days"] = N_("黄色预警天数应在0至30之间")
    if not 1 <= policy.leader_overdue_days <= 365:
        errors["leader_overdue_days"] = N_("领导督办的超期天数应在1至365之间")
    if not 1 <= policy.cadence_days <= 30:
        errors["cadence_days"] = N_("重复提醒间隔应在1至30天之间")
    try:
        ZoneInfo(policy.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = N_("时区无效")
    for level, roles in policy.level_roles.items():
        if level not in LEVELS or any(r not in ROLES for r in roles):
            errors["level_roles"] = N_("提醒对象设置无效")
    channels = {c.value for c in Channel}
    for role, chosen in policy.role_channels.items():
        if role not in ROLES or any(c not in channels for c in chosen):
            errors["role_channels"] = N_("提醒渠道设置无效")
    if errors:
        raise ValidationError.of(errors)


def save_policy(session: Session, town_id: int, policy: ReminderPolicy) -> None:
    """Validate and store the policy (flushes; the caller commits)."""
    validate_policy(policy)
    for key, value in policy.to_settings().items():
        set_setting(session, town_id, key, value)


def local_send_instant(policy: ReminderPolicy, day: dt.date) -> dt.datetime:
    """The UTC instant of the policy's send time on the town's ``day``."""
    return dt.datetime.combine(day, policy.send_time, tzinfo=policy.zone).astimezone(dt.UTC)
