"""The delivery channels: SMTP mail (standard library only) and group-robot webhooks.

Nothing here touches the database: each sender takes plain values and raises
``DeliveryError`` (or an ``OSError``) when the message did not get through.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import smtplib
import ssl
import unicodedata
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from casetrack.notify.targets import RefusedTarget, TargetPolicy, guarded_opener, url_refusal


class DeliveryError(Exception):
    """The channel refused or could not take the message; it will be retried."""


# --------------------------------------------------------------------------- mail


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send mail (from the MAIL_* settings)."""

    host: str
    port: int = 25
    use_starttls: bool = False
    use_ssl: bool = False
    username: str | None = None
    password: str | None = None
    sender: str = "casetrack@localhost"
    sender_name: str = ""
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config) -> SmtpSettings | None:
        """None when no MAIL_SERVER is configured (mail is then not offered at all)."""
        if not config.get("MAIL_SERVER"):
            return None
        return cls(
            host=config["MAIL_SERVER"], port=int(config.get("MAIL_PORT") or 25),
            use_starttls=bool(config.get("MAIL_USE_STARTTLS")),
            use_ssl=bool(config.get("MAIL_USE_SSL")),
            username=config.get("MAIL_USERNAME") or None,
            password=config.get("MAIL_PASSWORD") or None,
            sender=config.get("MAIL_SENDER") or "casetrack@localhost",
            sender_name=config.get("MAIL_SENDER_NAME") or "",
            timeout=float(config.get("MAIL_TIMEOUT") or 10),
        )


#: longest header value kept (a subject is cut there, with an ellipsis)
MAX_HEADER_CHARS = 200


def header_text(value: str, limit: int = MAX_HEADER_CHARS) -> str:
    """``value`` made safe for a mail header: every line break (CR, LF, U+2028/2029, a
    title typed with Alt+Enter in Excel) and every other control character becomes a space,
    runs of spaces shrink to one, and the result is cut to ``limit`` characters. Users' text
    reaches headers only through this."""
    cleaned = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch
        for ch in value or "")
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def build_email(settings: SmtpSettings, to: str, subject: str, text: str, html: str,
                message_id: str, now: dt.datetime) -> EmailMessage:
    """A UTF-8 multipart/alternative message (plain text first, then HTML); every header
    value passes through ``header_text``."""
    msg = EmailMessage()
    msg["Subject"] = header_text(subject)
    sender_name = header_text(settings.sender_name)
    msg["From"] = formataddr((sender_name, settings.sender)) if sender_name \
        else settings.sender
    msg["To"] = header_text(to)
    msg["Date"] = format_datetime(now)
    #: stable per outbox row, so a receiver can drop a copy re-sent after a crash
    msg["Message-ID"] = message_id
    msg.set_content(text, charset="utf-8")
    if html:
        msg.add_alternative(html, subtype="html", charset="utf-8")
    return msg


class SmtpSender:
    """One SMTP connection reused for a batch; reconnects after an error."""

    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        context = ssl.create_default_context()
        if s.use_ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout,
                                                  context=context)
        else:
            smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
        try:
            if s.use_starttls and not s.use_ssl:
                smtp.starttls(context=context)
            if s.username:
                smtp.login(s.username, s.password or "")
        except Exception:
            smtp.close()
            raise
        return smtp

    def send(self, msg: EmailMessage) -> None:
        """Send one message; raises on any failure (and drops the connection)."""
        try:
            if self._smtp is None:
                self._smtp = self._connect()
            refused = self._smtp.send_message(msg)
        except (smtplib.SMTPException, OSError):
            self.close()
            raise
        if refused:
            raise DeliveryError(f"recipients refused: {refused}")

    def close(self) -> None:
        """Close the connection, if any (QUIT when possible)."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()


# --------------------------------------------------------------------------- webhook


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's robot signature: base64(HMAC-SHA256(secret, "timestamp\\nsecret"))."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def signed_url(url: str, secret: str, now: dt.datetime) -> str:
    """``url`` with ``timestamp`` and url-encoded ``sign`` parameters added."""
    timestamp_ms = int(now.timestamp() * 1000)
    sign = urllib.parse.quote_plus(dingtalk_sign(secret, timestamp_ms))
    sep = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{sep}timestamp={timestamp_ms}&sign={sign}"


def webhook_payload(style: str, subject: str, markdown: str, mention_mobile: str = "") -> dict:
    """The JSON body of a markdown message for a WeCom or DingTalk group robot."""
    if style == "dingtalk":
        text = markdown + (f"\n\n@{mention_mobile}" if mention_mobile else "")
        payload: dict = {"msgtype": "markdown", "markdown": {"title": subject, "text": text}}
        if mention_mobile:
            payload["at"] = {"atMobiles": [mention_mobile], "isAtAll": False}
        return payload
    content = markdown
    if mention_mobile:
        content += f"\n\n提醒：{mention_mobile}"
    return {"msgtype": "markdown", "markdown": {"content": content}}


def post_webhook(url: str, payload: dict, *, secret: str = "", now: dt.datetime,
                 timeout: float = 10.0, policy: TargetPolicy) -> None:
    """POST the JSON payload; an HTTP error, a non-zero ``errcode`` or an address the
    ``policy`` refuses (checked again here: a name may resolve elsewhere by now; the
    connection goes to the address checked; no redirect is followed) raises DeliveryError."""
    reason = url_refusal(url)
    if reason:
        raise DeliveryError(f"refused webhook address ({reason})")
    if secret:
        url = signed_url(url, secret, now)
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(
        url, data=data, method="POST",
        headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with guarded_opener(policy).open(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        exc.close()
        raise DeliveryError(f"HTTP {exc.code}") from None
    except urllib.error.URLError as exc:
        raise DeliveryError(f"connection failed: {exc.reason}") from None
    except RefusedTarget as exc:
        raise DeliveryError(str(exc)) from None
    try:
        answer = json.loads(body.decode("utf-8") or "{}")
    except ValueError:
        answer = {}
    if isinstance(answer, dict) and answer.get("errcode", 0) != 0:
        raise DeliveryError(f"robot refused: {answer.get('errcode')} {answer.get('errmsg', '')}")
