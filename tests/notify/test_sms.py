"""The SMS channel behind the channel protocol, against a real HTTP gateway on loopback: the
same outbox guarantees as mail (retried when the gateway fails, sent once)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from casetrack.extensions import db
from casetrack.notify import services as svc
from casetrack.notify.models import Notification
from casetrack.notify.registry import CHANNELS
from casetrack.notify.sms import MAX_CHARS, sms_text
from notify.support import Robot


def _notify(world, now, key="s1"):
    svc.notify_users(db.session, [world.handler1, world.handler2], now, kind="case_assigned",
                     dedupe_key=key, subject="【新交办】北和信〔2026〕7号 村道破损",
                     body="督办员交办给 信访办、承办人甲：请于2026-12-01前办结。",
                     link="/cases/7", town_id=world.town.id)
    db.session.commit()


def test_sms_goes_through_the_gateway_once_after_a_failure(app, world, now, monkeypatch):
    assert "sms" in CHANNELS
    world.handler1.phone = "138 0013 8000"  # typed with spaces: stored as dialled
    world.handler2.phone = ""  # no mobile number: no SMS row at all
    db.session.commit()
    with Robot(statuses=[503]) as gateway:
        monkeypatch.setitem(app.config, "SMS_GATEWAY", "http")
        monkeypatch.setitem(app.config, "SMS_GATEWAY_URL", gateway.url)
        monkeypatch.setitem(app.config, "NOTIFY_EVENT_CHANNELS", ["in_app", "sms"])
        _notify(world, now)
        rows = list(db.session.scalars(select(Notification).where(Notification.channel == "sms")))
        assert [(r.recipient_id, r.address) for r in rows] == [(world.handler1.id, "13800138000")]
        first = svc.deliver_pending(db.session, now)
        assert first.retried == 1 and "HTTP 503" in first.errors[0]
        assert svc.deliver_pending(db.session, now + dt.timedelta(seconds=61)).sent == 1
        assert svc.deliver_pending(db.session, now + dt.timedelta(hours=3)).sent == 0
    assert len(gateway.requests) == 2 and len(gateway.delivered) == 1
    body = gateway.delivered[0]["json"]
    assert body["phone"] == "13800138000"
    assert body["text"] == ("【信访台账】【新交办】北和信〔2026〕7号 村道破损 "
                            "http://127.0.0.1:5000/cases/7")
    assert body["id"] == f"notification-{rows[0].id}"
    db.session.refresh(rows[0])
    assert rows[0].status == "sent" and rows[0].attempts == 2


def test_sms_needs_a_gateway_and_respects_the_opt_out(app, world, now, monkeypatch):
    world.handler1.phone = "13800138000"
    db.session.commit()
    monkeypatch.setitem(app.config, "NOTIFY_EVENT_CHANNELS", ["in_app", "sms"])
    monkeypatch.setitem(app.config, "SMS_GATEWAY", "")
    _notify(world, now, key="none")
    assert db.session.scalar(select(Notification).where(Notification.channel == "sms")) is None
    monkeypatch.setitem(app.config, "SMS_GATEWAY", "log")
    svc.set_preference(db.session, world.handler1, "sms", False)
    _notify(world, now, key="off")
    assert db.session.scalar(select(Notification).where(Notification.channel == "sms")) is None
    svc.set_preference(db.session, world.handler1, "sms", True)
    _notify(world, now, key="on")
    assert db.session.scalar(select(Notification).where(Notification.channel == "sms"))
    assert svc.deliver_pending(db.session, now).sent == 1  # the log gateway takes it


def test_sms_text_is_one_line_and_bounded():
    text = sms_text("标题\n第二行" + "长" * 500, "http://x/cases/1")
    assert "\n" not in text and len(text) == MAX_CHARS and text.endswith("…")


def test_preferences_page_offers_sms(client, world, auth):
    auth.login("handler1")
    page = client.get("/notifications/preferences").get_data(as_text=True)
    assert 'name="sms"' in page and "短信" in page
    resp = client.post("/notifications/preferences", data={"email": "on"})
    assert resp.status_code == 302
    assert svc.get_preferences(db.session, world.handler1)["sms"] is False
