"""The SMS channel: a short text to the user's mobile number through an SMS gateway.

Chinese SMS providers (Alibaba Cloud, Tencent Cloud, China Mobile's 云MAS) all take a phone
number and a text over HTTPS; the gateway interface below is that much. ``HttpSmsGateway``
posts JSON to ``SMS_GATEWAY_URL`` (a provider's relay or a company SMS server), signed with
``SMS_GATEWAY_TOKEN``; ``LogSmsGateway`` only writes the messages to the log (development,
and a machine with no SMS service). Tests run the HTTP gateway against a loopback server.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from typing import Any, Protocol

from flask import current_app
from sqlalchemy.orm import Session

from casetrack.auth.models import User
from casetrack.core.normalize import normalize_phone
from casetrack.notify.channels import DeliveryError
from casetrack.notify.models import Channel
from casetrack.notify.registry import Message, OutboxRow

#: one SMS segment holds 70 Chinese characters; longer texts go out as up to 3 segments
MAX_CHARS = 200
#: the signature SMS providers require at the start of every text
DEFAULT_SIGNATURE = "【信访台账】"


class SmsGateway(Protocol):
    """Sends one text to one mobile number; raises ``DeliveryError`` when refused."""

    def send(self, phone: str, text: str, message_id: str) -> None: ...


class HttpSmsGateway:
    """POST ``{"phone", "text", "id"}`` as JSON; any answer but 2xx with ``"ok": true`` (or
    an empty body) is a refusal. ``id`` lets the gateway drop a resent duplicate."""

    def __init__(self, url: str, token: str = "", timeout: float = 10.0):
        self.url, self.token, self.timeout = url, token, timeout

    def send(self, phone: str, text: str, message_id: str) -> None:
        data = json.dumps({"phone": phone, "text": text, "id": message_id},
                          ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url, data=data, method="POST", headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read()
        except urllib.error.HTTPError as exc:
            exc.close()
            raise DeliveryError(f"SMS gateway HTTP {exc.code}") from None
        except urllib.error.URLError as exc:
            raise DeliveryError(f"SMS gateway unreachable: {exc.reason}") from None
        try:
            answer = json.loads(body.decode("utf-8") or "{}")
        except ValueError:
            answer = {}
        if isinstance(answer, dict) and answer.get("ok", True) is not True:
            raise DeliveryError(f"SMS gateway refused: {answer.get('error', '')}")


class LogSmsGateway:
    """Writes each text to the application log instead of sending it."""

    def send(self, phone: str, text: str, message_id: str) -> None:
        current_app.logger.info("SMS %s to %s: %s", message_id, phone, text)


def gateway_from_config(config: Any) -> SmsGateway | None:
    """The configured gateway: ``SMS_GATEWAY`` = "http" (with ``SMS_GATEWAY_URL``), "log",
    or empty for none."""
    kind = (config.get("SMS_GATEWAY") or "").strip()
    if kind == "http" and config.get("SMS_GATEWAY_URL"):
        return HttpSmsGateway(config["SMS_GATEWAY_URL"], config.get("SMS_GATEWAY_TOKEN") or "",
                              float(config.get("SMS_TIMEOUT") or 10))
    if kind == "log":
        return LogSmsGateway()
    return None


def sms_text(subject: str, link: str, signature: str = DEFAULT_SIGNATURE) -> str:
    """The text of one SMS: signature, subject (one line), the link, at most MAX_CHARS."""
    line = " ".join(subject.split())
    text = f"{signature}{line}" + (f" {link}" if link else "")
    return text if len(text) <= MAX_CHARS else text[:MAX_CHARS - 1] + "…"


class SmsChannel:
    code = Channel.SMS.value

    def address(self, user: User) -> str:
        phone = normalize_phone(user.phone or "")
        return phone if len(phone) == 11 and phone.startswith("1") else ""

    def needs_address(self) -> bool:
        return True

    def ready(self, session: Session, town_id: int | None) -> bool:
        return gateway_from_config(current_app.config) is not None

    def render(self, subject: str, body: str, link: str) -> Message:
        url = (current_app.config["BASE_URL"].rstrip("/") + link) if link else ""
        signature = current_app.config.get("SMS_SIGNATURE") or DEFAULT_SIGNATURE
        return Message(subject=subject, text=sms_text(subject, url, signature), link=link)

    def sender(self, session: Session, config: Any) -> SmsSender:
        return SmsSender(gateway_from_config(config))


class SmsSender:
    def __init__(self, gateway: SmsGateway | None):
        self.gateway = gateway

    def send(self, row: OutboxRow, now: dt.datetime) -> None:
        if self.gateway is None:
            raise DeliveryError("no SMS gateway is configured (SMS_GATEWAY)")
        if not row.address:
            raise DeliveryError("recipient has no mobile number")
        # the text is built from the subject and link here, so every message (an event, a
        # reminder digest) reads the same on a phone
        url = (current_app.config["BASE_URL"].rstrip("/") + row.link) if row.link else ""
        signature = current_app.config.get("SMS_SIGNATURE") or DEFAULT_SIGNATURE
        self.gateway.send(row.address, sms_text(row.subject, url, signature),
                          f"notification-{row.id}")

    def close(self) -> None:
        return None
