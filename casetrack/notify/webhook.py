"""The group-robot channel: the town's WeCom / DingTalk robot, mentioning the user's phone."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from casetrack.auth.models import User
from casetrack.core.unit import unit_of_work
from casetrack.notify import channels as ch
from casetrack.notify.mail import MailChannel
from casetrack.notify.models import Channel
from casetrack.notify.registry import Message, OutboxRow
from casetrack.notify.targets import TargetPolicy


class WebhookChannel:
    code = Channel.WEBHOOK.value

    def address(self, user: User) -> str:
        return user.phone or ""

    def needs_address(self) -> bool:
        return False  # the robot posts to the group; the phone only adds a mention

    def ready(self, session: Session, town_id: int | None) -> bool:
        from casetrack.notify.services import town_webhook

        return bool(town_webhook(session, town_id)["url"])

    def render(self, subject: str, body: str, link: str) -> Message:
        """The same text as the mail (the robot's markdown is built when sending)."""
        return MailChannel().render(subject, body, link)

    def sender(self, session: Session, config: Any) -> WebhookSender:
        return WebhookSender(session, config)


class WebhookSender:
    """Posts to each town's robot; the town's settings are read once per run."""

    def __init__(self, session: Session, config: Any):
        self.session, self.config = session, config
        self.hooks: dict[int | None, dict[str, str]] = {}

    def send(self, row: OutboxRow, now: dt.datetime) -> None:
        from casetrack.notify.services import markdown_of, town_webhook

        if row.town_id not in self.hooks:
            # a unit of its own: the read transaction ends before the POST
            with unit_of_work(self.session):
                self.hooks[row.town_id] = town_webhook(self.session, row.town_id)
        hook = self.hooks[row.town_id]
        if not hook["url"]:
            raise ch.DeliveryError("the town has no group robot URL")
        payload = ch.webhook_payload(hook["style"], row.subject, markdown_of(row), row.address)
        ch.post_webhook(hook["url"], payload, secret=hook["secret"], now=now,
                        timeout=float(self.config.get("WEBHOOK_TIMEOUT", 10)),
                        policy=TargetPolicy.from_config(self.config))

    def close(self) -> None:
        return None
