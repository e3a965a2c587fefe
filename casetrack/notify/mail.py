"""The mail channel: SMTP (standard library, ``channels.SmtpSender``) to the user's address."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy.orm import Session

from casetrack.auth.models import User
from casetrack.notify import channels as ch
from casetrack.notify.models import Channel
from casetrack.notify.registry import Message, OutboxRow


class MailChannel:
    code = Channel.EMAIL.value

    def address(self, user: User) -> str:
        return user.email or ""

    def needs_address(self) -> bool:
        return True

    def ready(self, session: Session, town_id: int | None) -> bool:
        return bool(current_app.config.get("MAIL_SERVER"))

    def render(self, subject: str, body: str, link: str) -> Message:
        url = (current_app.config["BASE_URL"].rstrip("/") + link) if link else ""
        text = body + (f"\n\n查看：{url}" if url else "")
        with force_locale("zh_CN"):
            html = render_template("notify/mail_event.html", subject=subject, body=body, url=url)
        return Message(subject=subject, text=text, html=html, link=link)

    def sender(self, session: Session, config: Any) -> MailSender:
        return MailSender(ch.SmtpSettings.from_config(config))


class MailSender:
    """One SMTP connection for the run (``channels.SmtpSender`` reconnects after errors)."""

    def __init__(self, settings: ch.SmtpSettings | None):
        self.settings = settings
        self.smtp = ch.SmtpSender(settings) if settings else None

    def send(self, row: OutboxRow, now: dt.datetime) -> None:
        if self.smtp is None or self.settings is None:
            raise ch.DeliveryError("mail is not configured (MAIL_SERVER)")
        if not row.address:
            raise ch.DeliveryError("recipient has no e-mail address")
        domain = self.settings.sender.rpartition("@")[2] or "localhost"
        msg = ch.build_email(self.settings, row.address, row.subject, row.body_text,
                             row.body_html, f"<notification-{row.id}@{domain}>", now)
        self.smtp.send(msg)

    def close(self) -> None:
        if self.smtp is not None:
            self.smtp.close()
