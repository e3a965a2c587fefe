"""One bad message never holds up the others (issue 9.5): header values are sanitised, a
message that fails for its own reasons is retried with backoff and then parked (listed with
its error on an admin page, with a retry button) while the rest of every town's mail goes
out; a bulk import sends each handler one digest. Real SMTP server (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from aiosmtpd.controller import Controller
from openpyxl import Workbook
from sqlalchemy import select

from casetrack.cases import importing
from casetrack.extensions import db
from casetrack.notify import channels as ch
from casetrack.notify.models import Notification, NotificationStatus
from casetrack.notify.services import deliver_pending, notify_users
from notify.support import free_port

POISON = "poison@beihe.example"


class _Refusing:
    """An SMTP sink that refuses one mailbox (550) and keeps every other message."""

    def __init__(self):
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address == POISON:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        self.received.append((list(envelope.rcpt_tos), envelope.original_content
                              or envelope.content))
        return "250 OK"


@pytest.fixture
def refusing_smtp(app, monkeypatch):
    sink = _Refusing()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 5)
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 3)
    monkeypatch.setitem(app.config, "NOTIFY_RETRY_BASE_SECONDS", 60)
    yield sink
    controller.stop()


def _status(notification_id: int) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, notification_id)


def _mail_ids(ids: list[int]) -> list[int]:
    return list(db.session.scalars(select(Notification.id).where(
        Notification.id.in_(ids), Notification.channel == "email")))


def test_one_poisoned_message_does_not_block_other_towns(app, world, emails, now,
                                                         refusing_smtp, monkeypatch):
    w = world
    w.handler1.email = POISON  # the server refuses this mailbox: a failure of its own
    w.other_super.email = "nanxing@nanxing.example"
    db.session.commit()
    poisoned = _mail_ids(notify_users(
        db.session, [w.handler1], now, kind="t", dedupe_key="a",
        subject="标题\r\nBcc: evil@evil.example", body="正文", town_id=w.town.id))
    # a title with an Excel line break (Alt+Enter): once it made the whole batch raise
    newline = _mail_ids(notify_users(
        db.session, [w.leader], now, kind="t", dedupe_key="b",
        subject="【新交办】反映村道\n破损\u2028问题", body="正文", town_id=w.town.id))
    # a message whose building raises (any bug): its own failure too
    real_build = ch.build_email

    def build(settings, to, subject, *rest):
        if "炸弹" in subject:
            raise ValueError("boom")
        return real_build(settings, to, subject, *rest)

    monkeypatch.setattr(ch, "build_email", build)
    broken = _mail_ids(notify_users(db.session, [w.admin], now, kind="t", dedupe_key="c",
                                    subject="炸弹", body="x", town_id=w.town.id))
    others = _mail_ids(notify_users(db.session, [w.other_super], now, kind="t",
                                    dedupe_key="d", subject="南兴镇的通知", body="正文",
                                    town_id=w.other_town.id))
    db.session.commit()
    # the poisoned rows come first in the queue
    report = deliver_pending(db.session, now, batch=2)
    assert report.sent == 2 and report.retried == 2
    delivered = [rcpt for rcpt, _ in refusing_smtp.received]
    assert delivered == [["leader@beihe.example"], ["nanxing@nanxing.example"]]
    assert _status(newline[0]).status == NotificationStatus.SENT
    assert _status(others[0]).status == NotificationStatus.SENT
    # backoff: 1 min, then 2 min; then parked as failed with its error
    row = _status(poisoned[0])
    assert row.attempts == 1 and row.next_attempt_at == now + dt.timedelta(seconds=60)
    assert "550" in row.last_error
    assert "ValueError: boom" in _status(broken[0]).last_error
    assert deliver_pending(db.session, now + dt.timedelta(seconds=30)).sent == 0  # not yet
    deliver_pending(db.session, now + dt.timedelta(seconds=61))
    assert _status(poisoned[0]).next_attempt_at == now + dt.timedelta(seconds=61 + 120)
    report = deliver_pending(db.session, now + dt.timedelta(seconds=200))
    assert report.gave_up == 2
    row = _status(poisoned[0])
    assert row.status == NotificationStatus.FAILED and row.attempts == 3


def test_header_values_are_sanitised(world, emails, now, smtp):
    notify_users(db.session, [world.handler1], now, kind="t", dedupe_key="h",
                 subject="标题\r\nBcc: evil@evil.example\x07\x1b尾", body="正文",
                 town_id=world.town.id)
    db.session.commit()
    assert deliver_pending(db.session, now).sent == 1
    msg = smtp.messages[0]
    assert msg["Subject"] == "标题 Bcc: evil@evil.example 尾"
    assert msg["Bcc"] is None
    assert ch.header_text("a\r\nb\u2028c\td" + "x" * 300).startswith("a b c d")
    assert len(ch.header_text("x" * 300)) == ch.MAX_HEADER_CHARS


def test_admin_page_lists_failures_and_retries(app, client, auth, world, emails, now,
                                               refusing_smtp):
    world.handler1.email = POISON
    db.session.commit()
    ids = _mail_ids(notify_users(db.session, [world.handler1], now, kind="t", dedupe_key="p",
                                 subject="无法投递的通知", body="x", town_id=world.town.id))
    db.session.commit()
    for minutes in (0, 2, 10):
        deliver_pending(db.session, now + dt.timedelta(minutes=minutes))
    assert _status(ids[0]).status == NotificationStatus.FAILED
    auth.login("super")
    assert client.get("/notifications/undelivered").status_code == 403
    auth.logout()
    auth.login("admin")
    page = client.get("/notifications/undelivered").get_data(as_text=True)
    assert "无法投递的通知" in page and "550" in page and POISON in page and "已放弃" in page
    resp = client.post(f"/notifications/undelivered/{ids[0]}/retry")
    assert resp.status_code == 302
    row = _status(ids[0])
    assert row.status == NotificationStatus.PENDING and row.attempts == 0
    # fixed address: it goes out at the next run
    row.address = "handler1@beihe.example"
    db.session.commit()
    assert deliver_pending(db.session, now + dt.timedelta(minutes=20)).sent == 1
    # another town's admin cannot see or retry it
    assert client.post("/notifications/undelivered/999999/retry").status_code == 404


def _import_file(n: int) -> bytes:
    headers = [c.header for c in importing.COLUMNS]
    wb = Workbook()
    ws = wb.active
    ws.append(headers)
    for i in range(1, n + 1):
        data = {"交办文号": f"雷信交〔2026〕{i}号", "标题": f"反映问题{i}（虚构）",
                "来源": "上级交办", "信访类别": "申诉求决", "内容分类": "城乡建设",
                "村（居）": "北和社区", "收到日期": "2026-11-20", "上级办理期限": "2027-01-05",
                "交办机关": "雷州市信访局", "人数": "1", "信访人姓名": f"张三{i}（虚构）",
                "承办单位": "信访办" if i % 2 else "司法所"}
        ws.append([data.get(h, "") for h in headers])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def test_an_import_sends_each_handler_one_digest(app, world, emails, now, smtp):
    n = 40
    sheet = importing.read_sheet("清单.xlsx", _import_file(n))
    preview = importing.preview_import(db.session, world.supervisor, now, sheet,
                                       importing.auto_mapping(sheet.headers))
    assert preview.is_valid, preview.errors
    result = importing.run_import(db.session, world.supervisor, now, preview)
    db.session.commit()
    assert len(result.imported) == n
    rows = list(db.session.scalars(select(Notification).where(
        Notification.recipient_id.in_([world.handler1.id, world.handler2.id]))))
    per_person = {(r.recipient_id, r.channel) for r in rows}
    assert len(rows) == len(per_person) == 4  # two handlers × (in-app, mail)
    mine = [r for r in rows if r.recipient_id == world.handler1.id and r.channel == "email"][0]
    assert mine.kind == "digest" and "（20 件）" in mine.subject
    assert mine.body_text.count("\n· ") == 20
    assert deliver_pending(db.session, now).sent == 2
    assert sorted(smtp.recipients()) == ["handler1@beihe.example", "handler2@beihe.example"]
