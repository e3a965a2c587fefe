"""What the reminder run remembers: each reminder sent, each run, and the scheduler lease."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from casetrack.core.db import Base, UTCDateTime
from casetrack.core.i18n import N_
from casetrack.core.time import utcnow

#: how a run was started, as the admin page names it (the stored value is the key)
TRIGGER_LABELS = {"scheduler": N_("定时任务"), "cli": N_("命令行")}


class ReminderRun(Base):
    """One reminder run for one town (also a dry run is not recorded: it writes nothing)."""

    __tablename__ = "reminder_runs"
    __table_args__ = (Index("ix_reminder_runs_town_day", "town_id", "local_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("towns.id"))
    #: the town's calendar day the run was for (catch-up: has today's run happened?)
    local_day: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    #: open cases found due or overdue (within the yellow threshold)
    due_cases: Mapped[int] = mapped_column(default=0)
    #: reminders (case × level × recipient × channel) this run wrote; 0 when all were sent
    reminders: Mapped[int] = mapped_column(default=0)
    #: digests (outbox rows) this run wrote
    notifications: Mapped[int] = mapped_column(default=0)
    #: "scheduler" or "cli" (``TRIGGER_LABELS``)
    trigger: Mapped[str] = mapped_column(String(20), default="cli")


class ReminderLog(Base):
    """A reminder sent: at most one per case, level, recipient, channel and local day.

    The unique key is what makes concurrent runs safe: each run inserts its planned rows with
    ``ON CONFLICT DO NOTHING`` and builds digests only from the rows it actually inserted.
    """

    __tablename__ = "reminder_logs"
    __table_args__ = (
        UniqueConstraint("case_id", "level", "recipient_id", "channel", "local_day"),
        Index("ix_reminder_logs_day", "local_day"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    #: yellow / due_today / overdue / escalated / provisional
    level: Mapped[str] = mapped_column(String(20))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(10))
    local_day: Mapped[dt.date] = mapped_column(Date)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("reminder_runs.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class SchedulerLease(Base):
    """The right to be the one sending scheduler, on databases without advisory locks
    (SQLite): held by ``holder`` until ``expires_at``, renewed on every tick."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    #: host:pid:random of the scheduler process holding it
    holder: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
