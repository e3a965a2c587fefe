"""The delivery channels of the outbox, behind one protocol, registered in one place.

A channel is one module with one object that says where a user is reached (``address``),
whether the town has it set up (``ready``), what a message looks like on it (``render``)
and how a batch of messages goes out (``sender``). The in-app bell is not a delivery channel:
its rows are delivered when written. To add a channel: write its module, add its code to
``models.Channel`` (with a label) and its object to ``CHANNELS`` below.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from casetrack.auth.models import User


@dataclass(frozen=True)
class Message:
    """What one channel shows: subject, plain text, HTML (our own templates) and a link path."""

    subject: str
    text: str
    html: str = ""
    link: str = ""


@dataclass(frozen=True)
class OutboxRow:
    """A plain copy of a claimed outbox row, so no transaction stays open while sending."""

    id: int
    town_id: int | None
    channel: str
    address: str
    subject: str
    body_text: str
    body_html: str
    link: str
    attempts: int


class ChannelSender(Protocol):
    """Sends the rows of one delivery run on one channel; raises ``DeliveryError`` (or an
    ``OSError``) when a message did not get through, so it is retried."""

    def send(self, row: OutboxRow, now: dt.datetime) -> None: ...

    def close(self) -> None: ...


class DeliveryChannel(Protocol):
    """One way of delivering notifications (mail, group robot, ...)."""

    #: the value stored in ``Notification.channel`` (a ``models.Channel``)
    code: str

    def address(self, user: User) -> str:
        """Where ``user`` is reached on this channel ("" when they cannot be)."""
        ...

    def needs_address(self) -> bool:
        """Whether a user without an address cannot get messages on this channel."""
        ...

    def ready(self, session: Session, town_id: int | None) -> bool:
        """Whether the channel is set up (for the town)."""
        ...

    def render(self, subject: str, body: str, link: str) -> Message:
        """The message as stored in the outbox for this channel."""
        ...

    def sender(self, session: Session, config: Any) -> ChannelSender:
        """A sender for one delivery run (opened lazily, closed at the end)."""
        ...


def _channels() -> dict[str, DeliveryChannel]:
    from casetrack.notify.mail import MailChannel
    from casetrack.notify.sms import SmsChannel
    from casetrack.notify.webhook import WebhookChannel

    return {c.code: c for c in (MailChannel(), WebhookChannel(), SmsChannel())}


#: every delivery channel by code: the one place a channel is registered
CHANNELS: dict[str, DeliveryChannel] = _channels()
