"""The outbox against a real SMTP server and a real HTTP robot: nothing lost, nothing twice."""

from __future__ import annotations

import datetime as dt
import threading

from sqlalchemy import func, select

from casetrack.extensions import db
from casetrack.notify import services as svc
from casetrack.notify.models import Notification, NotificationStatus
from casetrack.org.settings import set_setting
from notify.support import Robot, SmtpServer, dingtalk_signature_ok


def _notify(world, now, key="t1", users=None):
    ids = svc.notify_users(db.session, users or [world.handler1], now, kind="case_assigned",
                           dedupe_key=key, subject="【新交办】北和信〔2026〕7号 村道破损",
                           body="督办员交办给 信访办、承办人甲：请于2026-12-01前办结。",
                           link="/cases/7", town_id=world.town.id)
    db.session.commit()
    return ids


def _mail_row(world):
    return db.session.scalar(select(Notification).where(Notification.channel == "email",
                                                        Notification.recipient_id == world.handler1.id))


def test_mail_waits_while_server_is_down_then_goes_once(app, emails, now, smtp):
    world = emails
    smtp.stop()
    _notify(world, now)
    report = svc.deliver_pending(db.session, now)
    assert report.sent == 0 and report.retried == 1
    row = _mail_row(world)
    assert row.status == NotificationStatus.PENDING and row.sent_at is None
    assert row.attempts == 1 and "Connection refused" in row.last_error
    assert row.next_attempt_at == now + dt.timedelta(seconds=60)

    # still down a minute later: second attempt, backoff doubles
    later = now + dt.timedelta(seconds=61)
    svc.deliver_pending(db.session, later)
    db.session.refresh(row)
    assert row.attempts == 2 and row.next_attempt_at == later + dt.timedelta(seconds=120)

    smtp.start()
    # before the backoff has passed nothing is tried
    assert svc.deliver_pending(db.session, later + dt.timedelta(seconds=60)).sent == 0
    assert smtp.messages == []
    back = later + dt.timedelta(seconds=121)
    assert svc.deliver_pending(db.session, back).sent == 1
    assert svc.deliver_pending(db.session, back + dt.timedelta(hours=1)).sent == 0
    db.session.refresh(row)
    assert row.status == NotificationStatus.SENT and row.sent_at == back
    assert row.attempts == 3 and row.last_error == ""
    [msg] = smtp.messages
    assert smtp.recipients() == ["handler1@beihe.example"]
    assert msg["Subject"] == "【新交办】北和信〔2026〕7号 村道破损"
    assert msg.get_content_type() == "multipart/alternative"
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text.get_content_charset() == "utf-8"
    assert "请于2026-12-01前办结" in text.get_content()
    assert "http://127.0.0.1:5000/cases/7" in text.get_content()
    assert 'href="http://127.0.0.1:5000/cases/7"' in html.get_content()


def test_same_decision_enqueued_twice_is_written_once(app, emails, now, smtp):
    assert len(_notify(emails, now, key="same")) == 2  # in-app + email
    assert _notify(emails, now, key="same") == []
    assert db.session.scalar(select(func.count()).select_from(Notification)) == 2
    svc.deliver_pending(db.session, now)
    assert len(smtp.messages) == 1


def test_in_app_only_without_mail_server(app, emails, now):
    ids = _notify(emails, now)
    rows = db.session.scalars(select(Notification).where(Notification.id.in_(ids))).all()
    assert [r.channel for r in rows] == ["in_app"]
    assert rows[0].status == NotificationStatus.SENT


def test_gives_up_after_max_attempts(app, emails, now, monkeypatch):
    dead = SmtpServer()  # never started: connection refused
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", dead.port)
    monkeypatch.setitem(app.config, "NOTIFY_MAX_ATTEMPTS", 3)
    _notify(emails, now)
    t = now
    for _ in range(5):
        svc.deliver_pending(db.session, t)
        t += dt.timedelta(hours=7)
    row = _mail_row(emails)
    assert row.status == NotificationStatus.FAILED and row.attempts == 3
    assert row.last_error


def test_opting_out_of_mail_leaves_in_app(app, emails, now, smtp):
    svc.set_preference(db.session, emails.handler1, "email", False)
    db.session.commit()
    ids = _notify(emails, now, users=[emails.handler1, emails.handler2])
    rows = db.session.execute(select(Notification.recipient_id, Notification.channel)
                              .where(Notification.id.in_(ids))).all()
    assert sorted(rows) == sorted([(emails.handler1.id, "in_app"), (emails.handler2.id, "in_app"),
                                   (emails.handler2.id, "email")])
    svc.deliver_pending(db.session, now)
    assert smtp.recipients() == ["handler2@beihe.example"]


def test_webhook_fails_then_succeeds_signed_and_once(app, world, now, monkeypatch):
    # the test robot listens on loopback, which only the operator may allow
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_NETWORKS", ["127.0.0.1/32"])
    world.handler1.phone = "13800138000"
    secret = "SEC-test-秘钥"
    with Robot(statuses=[500]) as robot:
        set_setting(db.session, world.town.id, svc.WEBHOOK_URL_KEY, robot.url)
        set_setting(db.session, world.town.id, svc.WEBHOOK_SECRET_KEY, secret)
        set_setting(db.session, world.town.id, svc.WEBHOOK_STYLE_KEY, "dingtalk")
        db.session.commit()
        app.config["NOTIFY_EVENT_CHANNELS"] = ["in_app", "webhook"]
        try:
            _notify(world, now)
        finally:
            app.config["NOTIFY_EVENT_CHANNELS"] = ["in_app", "email"]
        first = svc.deliver_pending(db.session, now)
        assert first.retried == 1 and "HTTP 500" in first.errors[0]
        row = db.session.scalar(select(Notification).where(Notification.channel == "webhook"))
        assert row.status == "pending" and row.attempts == 1 and "HTTP 500" in row.last_error
        assert svc.deliver_pending(db.session, now + dt.timedelta(seconds=61)).sent == 1
        assert svc.deliver_pending(db.session, now + dt.timedelta(hours=2)).sent == 0
    assert len(robot.requests) == 2 and len(robot.delivered) == 1
    req = robot.delivered[0]
    assert req["path"] == "/robot/send" and req["query"]["access_token"] == "t1"
    assert dingtalk_signature_ok(req["query"], secret)
    assert not dingtalk_signature_ok(req["query"], "wrong")
    assert req["content_type"].startswith("application/json")
    body = req["json"]
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "【新交办】北和信〔2026〕7号 村道破损"
    assert "请于2026-12-01前办结" in body["markdown"]["text"]
    assert "http://127.0.0.1:5000/cases/7" in body["markdown"]["text"]
    assert body["at"]["atMobiles"] == ["13800138000"]
    db.session.refresh(row)
    assert row.status == "sent" and row.attempts == 2


def test_wecom_style_unsigned(app, world, now, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_ALLOWED_NETWORKS", ["127.0.0.1/32"])
    with Robot() as robot:
        set_setting(db.session, world.town.id, svc.WEBHOOK_URL_KEY, robot.url)
        db.session.commit()
        app.config["NOTIFY_EVENT_CHANNELS"] = ["in_app", "webhook"]
        try:
            _notify(world, now)
        finally:
            app.config["NOTIFY_EVENT_CHANNELS"] = ["in_app", "email"]
        assert svc.deliver_pending(db.session, now).sent == 1
    [req] = robot.requests
    assert "sign" not in req["query"]
    assert req["json"]["msgtype"] == "markdown"
    assert req["json"]["markdown"]["content"].startswith("### 【新交办】")


def test_concurrent_senders_deliver_each_row_once(app, emails, now, smtp):
    users = [emails.handler1, emails.handler2, emails.supervisor, emails.leader, emails.admin]
    for i in range(8):
        _notify(emails, now, key=f"k{i}", users=users)
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.channel == "email")) == 40
    db.session.remove()
    errors: list[BaseException] = []

    def sender():
        try:
            with app.app_context():
                svc.deliver_pending(db.session, now, batch=3)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    ids = [m["Message-ID"] for m in smtp.messages]
    assert len(ids) == 40 and len(set(ids)) == 40
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.status == "sent")) == 80
