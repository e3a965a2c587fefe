"""Outbox rows and users' channel preferences."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from casetrack.auth.models import User
from casetrack.core.db import Base, UTCDateTime
from casetrack.core.i18n import N_
from casetrack.core.time import utcnow


class Channel(enum.StrEnum):
    """Where a notification is delivered."""

    IN_APP = "in_app"  # the bell in the app
    EMAIL = "email"  # SMTP mail
    WEBHOOK = "webhook"  # the town's work-group robot (WeCom / DingTalk style)
    SMS = "sms"  # a text to the user's mobile through the SMS gateway


CHANNEL_LABELS = {Channel.IN_APP: N_("站内消息"), Channel.EMAIL: N_("电子邮件"),
                  Channel.WEBHOOK: N_("工作群机器人"), Channel.SMS: N_("短信")}


class NotificationStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for (another) delivery attempt
    SENT = "sent"  # delivered (in-app rows are "delivered" when written)
    FAILED = "failed"  # gave up after the configured number of attempts


class Notification(Base):
    """One message to one recipient on one channel, written in the same transaction as the
    decision that causes it and delivered later by the sender (``deliver_pending``)."""

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_inbox", "recipient_id", "channel", "read_at"),
        Index("ix_notifications_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: the town whose settings (webhook URL and secret) apply; None for county-level users
    town_id: Mapped[int | None] = mapped_column(ForeignKey("towns.id"))
    recipient_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(10))
    #: what caused it, e.g. "reminder_digest", "case_assigned" (for filtering and tests)
    kind: Mapped[str] = mapped_column(String(40))
    #: unique per message and channel: the same decision can never enqueue it twice
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    #: e-mail address, or the mobile number the group robot mentions; fixed when enqueued
    address: Mapped[str] = mapped_column(String(200), default="")
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    #: HTML rendered by our own autoescaping templates (safe to show in the app)
    body_html: Mapped[str] = mapped_column(Text, default="")
    #: path inside the app (e.g. /cases/12); mail and webhook prefix BASE_URL
    link: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(10), default=NotificationStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    #: not before this instant; while a sender holds the row it is the end of its claim
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: random token of the sender currently holding the row
    claim_token: Mapped[str | None] = mapped_column(String(32))
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: when the request this message asked someone to decide was decided (by anyone):
    #: the bell then shows it as handled, with ``settled_note``, instead of still pending
    settled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    #: what became of the request, e.g. "已批准（镇领导 张三）"
    settled_note: Mapped[str] = mapped_column(String(200), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    recipient: Mapped[User | None] = relationship()


class NotificationPreference(Base):
    """A user's choice for one channel; no row means "on". In-app cannot be turned off."""

    __tablename__ = "notification_preferences"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    is_enabled: Mapped[bool] = mapped_column(default=True)
