"""The outbox: write notifications (same transaction as the decision), deliver them later.

``enqueue`` and the inbox functions follow the house rule (flush, never commit).
``deliver_pending`` is the sender itself, a job like a CLI command: it commits its claims
and each outcome, and never holds a transaction open while it talks to a mail server.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import Select, bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from casetrack.auth.models import User
from casetrack.core.errors import NotFound, ValidationError
from casetrack.core.i18n import N_
from casetrack.core.unit import unit_of_work
from casetrack.notify import channels as ch
from casetrack.notify import targets
from casetrack.notify.models import (
    Channel,
    Notification,
    NotificationPreference,
    NotificationStatus,
)
from casetrack.notify.registry import CHANNELS, ChannelSender, Message, OutboxRow
from casetrack.org.settings import get_settings

__all__ = ["Message"]  # where callers have always found it

#: TownSetting keys of the town's group robot
WEBHOOK_URL_KEY = "notify.webhook_url"
WEBHOOK_SECRET_KEY = "notify.webhook_secret"
WEBHOOK_STYLE_KEY = "notify.webhook_style"
WEBHOOK_STYLES = {"wecom": N_("企业微信群机器人"), "dingtalk": N_("钉钉群机器人")}


#: builds the message for one channel (links are absolute for mail and webhook)
MessageBuilder = Callable[[str], Message]


def absolute_url(path: str) -> str:
    """``path`` under the configured BASE_URL (for mail and the group robot)."""
    if not path or path.startswith(("http://", "https://")):
        return path
    return current_app.config["BASE_URL"].rstrip("/") + path


def dialect_insert(session: Session):
    """The dialect's ``insert`` (with ``on_conflict_do_nothing``) for the session's database."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"unsupported database {name}")
    return insert


# --------------------------------------------------------------------------- channels


def mail_enabled() -> bool:
    """Whether an SMTP server is configured at all."""
    return bool(current_app.config.get("MAIL_SERVER"))


def town_webhook(session: Session, town_id: int | None) -> dict[str, str]:
    """The town's robot settings: ``url``, ``secret``, ``style`` (url empty: none set)."""
    if town_id is None:
        return {"url": "", "secret": "", "style": "wecom"}
    values = get_settings(session, town_id, "notify.webhook_")
    return {
        "url": (values.get(WEBHOOK_URL_KEY) or "").strip(),
        "secret": (values.get(WEBHOOK_SECRET_KEY) or "").strip(),
        "style": values.get(WEBHOOK_STYLE_KEY) or "wecom",
    }


def load_preferences(session: Session, user_ids: Iterable[int]) -> dict[tuple[int, str], bool]:
    """Stored choices ``{(user_id, channel): enabled}`` for many users in one query."""
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = session.execute(select(NotificationPreference.user_id, NotificationPreference.channel,
                                  NotificationPreference.is_enabled)
                           .where(NotificationPreference.user_id.in_(ids)))
    return {(uid, channel): enabled for uid, channel, enabled in rows}


def ready_channels(session: Session, town_id: int | None) -> set[str]:
    """The delivery channels set up for the town (mail server, robot URL, ...)."""
    return {code for code, channel in CHANNELS.items() if channel.ready(session, town_id)}


def channels_for(user: User, wanted: Iterable[str], prefs: dict[tuple[int, str], bool],
                 ready: Iterable[str]) -> list[str]:
    """The channels a message to ``user`` goes out on: in-app always; each other wanted
    channel when it is set up for the town (``ready``), the user can be reached on it and
    did not opt out."""
    wanted, ready = set(wanted), set(ready)
    result = [Channel.IN_APP.value]
    for code, channel in CHANNELS.items():
        if code not in wanted or code not in ready or not prefs.get((user.id, code), True):
            continue
        if channel.needs_address() and not channel.address(user):
            continue
        result.append(code)
    return result


def get_preferences(session: Session, user: User) -> dict[str, bool]:
    """The user's switch per channel (in-app is always on)."""
    prefs = load_preferences(session, [user.id])
    return {c.value: c is Channel.IN_APP or prefs.get((user.id, c.value), True) for c in Channel}


def set_preference(session: Session, user: User, channel: str, enabled: bool) -> None:
    """Turn a channel on or off for the user; in-app cannot be turned off."""
    if channel not in {c.value for c in Channel}:
        raise ValidationError(N_("未知的通知渠道"), fields={"channel": N_("未知的通知渠道")})
    if channel == Channel.IN_APP and not enabled:
        raise ValidationError(N_("站内消息不能关闭"), fields={"channel": N_("站内消息不能关闭")})
    row = session.get(NotificationPreference, (user.id, channel))
    if row is None:
        session.add(NotificationPreference(user_id=user.id, channel=channel, is_enabled=enabled))
    else:
        row.is_enabled = enabled
    session.flush()


# --------------------------------------------------------------------------- enqueue


def notification_row(*, recipient: User, channel: str, kind: str, key: str, message: Message,
                     now: dt.datetime, town_id: int | None) -> dict:
    """The column values of one outbox row (in-app rows are delivered on the spot)."""
    in_app = channel == Channel.IN_APP
    address = CHANNELS[channel].address(recipient) if channel in CHANNELS else ""
    return {
        "town_id": town_id, "recipient_id": recipient.id, "channel": channel, "kind": kind,
        "dedupe_key": f"{key}:{channel}", "address": address or "",
        "subject": message.subject[:300], "body_text": message.text, "body_html": message.html,
        "link": message.link, "attempts": 0, "last_error": "", "claim_token": None,
        "status": NotificationStatus.SENT if in_app else NotificationStatus.PENDING,
        "next_attempt_at": None if in_app else now, "sent_at": now if in_app else None,
        "read_at": None, "created_at": now,
    }


def insert_notifications(session: Session, rows: list[dict]) -> list[int]:
    """Insert outbox rows, skipping any whose dedupe key exists; the ids actually inserted."""
    if not rows:
        return []
    table = Notification.__table__
    stmt = (dialect_insert(session)(table)
            .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(table.c.id))
    return list(session.execute(stmt, rows).scalars())


def enqueue(session: Session, *, recipient: User, channels: Iterable[str], kind: str,
            dedupe_key: str, build: MessageBuilder, now: dt.datetime,
            town_id: int | None = None) -> list[int]:
    """Write one notification per channel for ``recipient`` in the caller's transaction.

    ``dedupe_key`` names the decision (e.g. ``case:12:assign:345``); per channel it is unique,
    so enqueueing the same decision twice writes nothing the second time. Returns the ids of
    the rows written.
    """
    rows = [notification_row(recipient=recipient, channel=c, kind=kind, key=dedupe_key,
                             message=build(c), now=now, town_id=town_id) for c in channels]
    return insert_notifications(session, rows)


def notify_users(session: Session, users: Iterable[User | None], now: dt.datetime, *,
                 kind: str, dedupe_key: str, subject: str, body: str, link: str = "",
                 town_id: int | None = None) -> list[int]:
    """Tell people about a decision (assignment, extension, rework) on the event channels
    (NOTIFY_EVENT_CHANNELS), respecting each one's preferences. Skips None and disabled
    users and mentions each person once."""
    people = {u.id: u for u in users if u is not None and u.is_enabled}
    if not people:
        return []
    if _collect(session, people, subject, town_id):
        return []
    wanted = current_app.config.get("NOTIFY_EVENT_CHANNELS") or [Channel.IN_APP.value]
    prefs = load_preferences(session, people)
    ready = ready_channels(session, town_id) & set(wanted)

    def build(channel: str) -> Message:
        if channel == Channel.IN_APP:
            # the bell shows the subject as its heading and a button to the case: the body
            # alone, not the mail (its own heading, link line and "do not reply" footer)
            return Message(subject=subject, text=body, html="", link=link)
        return CHANNELS[channel].render(subject, body, link)

    ids: list[int] = []
    for user in people.values():
        ids += enqueue(session, recipient=user, channels=channels_for(user, wanted, prefs,
                                                                      ready),
                       kind=kind, dedupe_key=f"{dedupe_key}:u{user.id}", build=build, now=now,
                       town_id=town_id if town_id is not None else user.town_id)
    session.flush()
    return ids


# --------------------------------------------------------------------------- inbox


def inbox_query(user: User, *, unread_only: bool = False) -> Select:
    """The user's in-app notifications, newest first."""
    stmt = select(Notification).where(Notification.recipient_id == user.id,
                                      Notification.channel == Channel.IN_APP)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt.order_by(Notification.created_at.desc(), Notification.id.desc())


def settle(session: Session, *, kind: str, link: str, note: str, now: dt.datetime) -> int:
    """The request behind the in-app messages of ``kind`` about ``link`` was decided: each
    recipient's bell shows it as handled (``note``) and it leaves the unread count.
    Returns how many messages were settled; already settled ones keep their note."""
    result = session.execute(
        update(Notification).where(Notification.kind == kind, Notification.link == link,
                                   Notification.channel == Channel.IN_APP,
                                   Notification.settled_at.is_(None))
        .values(settled_at=now, settled_note=note[:200],
                read_at=func.coalesce(Notification.read_at, now))
        .execution_options(synchronize_session=False))
    return result.rowcount or 0


#: the bell's count, asked on every page: the statement is built once (SQLAlchemy then
#: reuses its compiled form and cache key; only the user's id changes)
_UNREAD = select(func.count()).select_from(Notification).where(
    Notification.recipient_id == bindparam("user_id"), Notification.channel == Channel.IN_APP,
    Notification.read_at.is_(None))


def unread_count(session: Session, user: User) -> int:
    """How many in-app notifications the user has not read (the bell's badge)."""
    return session.scalar(_UNREAD, {"user_id": user.id}) or 0


def get_own_notification(session: Session, user: User, notification_id: int) -> Notification:
    """One of the user's in-app notifications, or NotFound."""
    row = session.get(Notification, notification_id)
    if row is None or row.recipient_id != user.id or row.channel != Channel.IN_APP:
        raise NotFound(N_("消息不存在"))
    return row


def mark_read(session: Session, user: User, notification_id: int,
              now: dt.datetime) -> Notification:
    """Mark one of the user's notifications read (idempotent)."""
    row = get_own_notification(session, user, notification_id)
    if row.read_at is None:
        row.read_at = now
    session.flush()
    return row


def mark_all_read(session: Session, user: User, now: dt.datetime) -> int:
    """Mark every unread notification of the user read; how many were."""
    result = session.execute(
        update(Notification).where(Notification.recipient_id == user.id,
                                   Notification.channel == Channel.IN_APP,
                                   Notification.read_at.is_(None)).values(read_at=now))
    return result.rowcount or 0


# --------------------------------------------------------------------------- sender


@dataclass
class DeliveryReport:
    """What one ``deliver_pending`` call did."""

    sent: int = 0
    retried: int = 0
    gave_up: int = 0
    errors: list[str] = field(default_factory=list)


_Claimed = OutboxRow


def retry_delay(attempts: int, config) -> dt.timedelta:
    """Exponential backoff: base, 2×base, 4×base … capped (attempts counts failures so far)."""
    base = int(config.get("NOTIFY_RETRY_BASE_SECONDS", 60))
    cap = int(config.get("NOTIFY_RETRY_MAX_SECONDS", 6 * 3600))
    return dt.timedelta(seconds=min(cap, base * 2 ** max(0, attempts - 1)))


def _claim(session: Session, now: dt.datetime, batch: int, channels: list[str]) -> tuple[str, list[_Claimed]]:
    """Take up to ``batch`` due rows for this sender and commit the claim.

    On PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets concurrent senders take disjoint rows; on
    SQLite the transaction holds the write lock from BEGIN, which serialises claimers. A
    claim lasts NOTIFY_CLAIM_SECONDS: a sender that dies mid-batch delays its rows, never
    loses them.
    """
    config = current_app.config
    token = secrets.token_hex(16)
    with unit_of_work(session):  # the claim is committed before any message goes out
        return token, _take(session, now, batch, channels, token, config)


def _take(session: Session, now: dt.datetime, batch: int, channels: list[str], token: str,
          config) -> list[_Claimed]:
    """Mark up to ``batch`` due rows with ``token`` (flushed); the rows taken."""
    stmt = (select(Notification.id)
            .where(Notification.status == NotificationStatus.PENDING,
                   Notification.channel.in_(channels),
                   Notification.next_attempt_at <= now)
            .order_by(Notification.next_attempt_at, Notification.id).limit(batch))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    ids = list(session.scalars(stmt))
    if not ids:
        return []
    until = now + dt.timedelta(seconds=int(config.get("NOTIFY_CLAIM_SECONDS", 300)))
    session.execute(update(Notification).where(Notification.id.in_(ids))
                    .values(claim_token=token, next_attempt_at=until))
    rows = session.execute(
        select(Notification.id, Notification.town_id, Notification.channel,
               Notification.address, Notification.subject, Notification.body_text,
               Notification.body_html, Notification.link, Notification.attempts)
        .where(Notification.claim_token == token).order_by(Notification.id))
    return [_Claimed(*row) for row in rows]


def _record(session: Session, row: _Claimed, token: str, now: dt.datetime,
            error: str | None, report: DeliveryReport) -> None:
    """Write one outcome (only if this sender still holds the row), as its own unit of
    work."""
    config = current_app.config
    attempts = row.attempts + 1
    where = (Notification.id == row.id, Notification.claim_token == token)
    if error is None:
        values = {"status": NotificationStatus.SENT, "sent_at": now, "attempts": attempts,
                  "claim_token": None, "next_attempt_at": None, "last_error": ""}
        report.sent += 1
    elif attempts >= int(config.get("NOTIFY_MAX_ATTEMPTS", 8)):
        values = {"status": NotificationStatus.FAILED, "attempts": attempts,
                  "claim_token": None, "next_attempt_at": None, "last_error": error[:2000]}
        report.gave_up += 1
        report.errors.append(f"#{row.id}: {error}")
    else:
        values = {"attempts": attempts, "claim_token": None, "last_error": error[:2000],
                  "next_attempt_at": now + retry_delay(attempts, config)}
        report.retried += 1
        report.errors.append(f"#{row.id}: {error}")
    with unit_of_work(session):  # each outcome is its own unit: a later failure keeps it
        session.execute(update(Notification).where(*where).values(**values))


def markdown_of(row: OutboxRow) -> str:
    """The group robot's text: subject as a heading, the plain body, the link."""
    link = absolute_url(row.link)
    return f"### {row.subject}\n\n{row.body_text}" + (
        f"\n\n[打开系统查看]({link})" if link and link not in row.body_text else "")


def deliver_pending(session: Session, now: dt.datetime, *, batch: int | None = None,
                    max_rows: int | None = None) -> DeliveryReport:
    """Deliver due mail and webhook rows with retries and exponential backoff.

    Commits (it is a job, like a CLI command). Safe to run in several processes at once:
    each row is claimed by exactly one sender. Rows that fail get ``attempts``,
    ``last_error`` and a later ``next_attempt_at``; after NOTIFY_MAX_ATTEMPTS they are
    marked failed.
    """
    config = current_app.config
    batch = batch or int(config.get("NOTIFY_BATCH_SIZE", 100))
    report = DeliveryReport()
    senders: dict[str, ChannelSender] = {}
    done = 0
    try:
        while max_rows is None or done < max_rows:
            token, rows = _claim(session, now, batch, sorted(CHANNELS))
            if not rows:
                break
            for row in rows:
                error = None
                try:
                    if row.channel not in senders:
                        senders[row.channel] = CHANNELS[row.channel].sender(session, config)
                    senders[row.channel].send(row, now)
                except Exception as exc:  # noqa: BLE001
                    # whatever is wrong with this one message (a header it cannot hold, an
                    # address the server refuses, a bug in building it) is its own failure:
                    # retried with backoff, then parked; the rest of the batch goes out
                    error = f"{type(exc).__name__}: {exc}"
                    if not isinstance(exc, (ch.DeliveryError, OSError)):
                        current_app.logger.exception("notification %s failed", row.id)
                    session.rollback()
                _record(session, row, token, now, error, report)
                done += 1
    finally:
        for sender in senders.values():
            sender.close()
    return report


def save_webhook(session: Session, town_id: int, *, url: str, style: str,
                 secret: str | None) -> None:
    """Store the town's group robot (``secret`` None keeps the stored one; "" clears it).

    The address must be one the server may post to (``notify/targets.py``): refused when it
    is not http(s), carries a user name or password, or resolves to an address the policy
    refuses. A name that does not resolve here is kept: it is checked again at each send."""
    from casetrack.org.settings import set_setting

    url = (url or "").strip()
    if url:
        _check_webhook_url(url)
    if style not in WEBHOOK_STYLES:
        raise ValidationError(N_("机器人类型无效"), fields={"webhook_style": N_("机器人类型无效")})
    set_setting(session, town_id, WEBHOOK_URL_KEY, url)
    set_setting(session, town_id, WEBHOOK_STYLE_KEY, style)
    if secret is not None:
        set_setting(session, town_id, WEBHOOK_SECRET_KEY, secret.strip())


#: the administrator's message for each reason an address is refused
_TARGET_REFUSALS = {
    "malformed": N_("机器人地址格式不正确"),
    "scheme": N_("机器人地址应以 http:// 或 https:// 开头"),
    "credentials": N_("机器人地址不能包含用户名或密码"),
    "denied": N_("机器人地址所在的网络已被系统运维禁止"),
    "internal": N_("机器人地址不能指向本机、链路本地（如云服务器元数据）、组播或保留地址"),
}


def _check_webhook_url(url: str) -> None:
    """Raise ValidationError (on the ``webhook_url`` field) for an address the robot may
    not post to."""
    reason = targets.url_refusal(url)
    if reason is None:
        try:
            targets.check_target(url, targets.TargetPolicy.from_config(current_app.config))
        except targets.RefusedTarget as exc:
            reason = "denied" if exc.reason.startswith("denied") else "internal"
        except targets.UnresolvedTarget:
            return  # checked again when sending
        else:
            return
    message = _TARGET_REFUSALS[reason]
    raise ValidationError(message, fields={"webhook_url": message})


# --------------------------------------------------------------------------- failed messages


def undelivered_query(town_id: int) -> Select:
    """The town's mail, robot and SMS messages that did not go out: parked as failed, or pending
    after at least one failed attempt (waiting for their next try); newest first."""
    return (select(Notification)
            .where(Notification.town_id == town_id,
                   Notification.channel != Channel.IN_APP.value,
                   or_(Notification.status == NotificationStatus.FAILED,
                       (Notification.status == NotificationStatus.PENDING)
                       & (Notification.attempts > 0)))
            .order_by(Notification.created_at.desc(), Notification.id.desc()))


def retry_notification(session: Session, actor: User, now: dt.datetime,
                       notification_id: int) -> Notification:
    """Send a failed (or waiting) message again at the next delivery run, with a fresh
    count of attempts. Administrators of the message's town only; flushes."""
    from casetrack.auth.permissions import require_right

    require_right(actor, "admin", N_("只有系统管理员可以重发消息"))
    row = session.get(Notification, notification_id)
    if (row is None or row.town_id is None or row.town_id != actor.town_id
            or row.channel == Channel.IN_APP):
        raise NotFound(N_("消息不存在"))
    if row.status == NotificationStatus.SENT:
        raise ValidationError(N_("该消息已发送"))
    row.status = NotificationStatus.PENDING
    row.attempts = 0
    row.next_attempt_at = now
    row.claim_token = None
    session.flush()
    return row


# --------------------------------------------------------------------------- digests

#: session.info key of the open digest (see ``digest_notifications``)
_DIGEST_KEY = "casetrack_notify_digest"
#: lines listed in one digest body; the rest are counted
DIGEST_MAX_LINES = 200


@dataclass
class _Digest:
    key: str
    title: str
    link: str
    #: recipient id -> (user, town id, [subject lines])
    items: dict[int, tuple[User, int | None, list[str]]] = field(default_factory=dict)


@contextmanager
def digest_notifications(session: Session, now: dt.datetime, *, key: str, title: str,
                         link: str = "") -> Iterator[None]:
    """Inside this block ``notify_users`` collects instead of writing: at its end each
    recipient gets ONE message (on their event channels) listing what happened, e.g. one
    mail per handler for an import of 10,000 rows instead of 10,000 mails. ``key`` names the
    bulk decision (dedupe); nothing is written when the block raises."""
    if _DIGEST_KEY in session.info:  # nested: the outer digest collects
        yield
        return
    digest = _Digest(key, title, link)
    session.info[_DIGEST_KEY] = digest
    try:
        yield
    finally:
        session.info.pop(_DIGEST_KEY, None)
    for user, town_id, lines in digest.items.values():
        shown = lines[:DIGEST_MAX_LINES]
        body = f"{title}，共 {len(lines)} 件：\n" + "\n".join(f"· {x}" for x in shown)
        if len(lines) > len(shown):
            body += f"\n……另有 {len(lines) - len(shown)} 件，请在系统中查看。"
        notify_users(session, [user], now, kind="digest", dedupe_key=f"digest:{key}",
                     subject=f"【汇总】{title}（{len(lines)} 件）", body=body, link=link,
                     town_id=town_id)


def _collect(session: Session, people: dict[int, User], subject: str,
             town_id: int | None) -> bool:
    """Add a message to the open digest, if there is one (True: collected)."""
    digest: _Digest | None = session.info.get(_DIGEST_KEY)
    if digest is None:
        return False
    for user in people.values():
        entry = digest.items.setdefault(
            user.id, (user, town_id if town_id is not None else user.town_id, []))
        entry[2].append(subject)
    return True
