"""The bell through the client: badge, list, open (marks read, goes to the case), read-all,
preferences; and `flask notify deliver` through the CLI runner."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from casetrack.core.errors import ValidationError
from casetrack.extensions import db
from casetrack.notify import services as svc
from casetrack.notify.models import Notification, NotificationPreference
from notify.support import petition_due


def _badge(html: str) -> str | None:
    import re

    # the nav link: an SVG bell, the label, the unread count
    m = re.search(r'href="/notifications/">(?:(?!</a>).)*?<span class="badge">(\d+)</span>',
                  html, re.S)
    return m.group(1) if m else None


def test_bell_lists_marks_read_and_opens_the_case(world, now, client, auth):
    c1 = petition_due(world, now, dt.date(2026, 12, 9))
    c2 = petition_due(world, now, dt.date(2026, 12, 10))
    auth.login("handler1")
    page = client.get("/notifications/").get_data(as_text=True)
    assert _badge(page) == "2"
    assert f"【新交办】{c1.number}" in page and f"【新交办】{c2.number}" in page
    n1 = db.session.scalar(select(Notification).where(Notification.link == f"/cases/{c1.id}"))
    resp = client.post(f"/notifications/{n1.id}/open")
    assert resp.status_code == 302 and resp.headers["Location"] == f"/cases/{c1.id}"
    db.session.refresh(n1)
    assert n1.read_at == now
    page = client.get("/notifications/?unread=1").get_data(as_text=True)
    assert _badge(page) == "1" and f"{c1.number}" not in page and c2.number in page
    assert client.post("/notifications/read-all", follow_redirects=True).status_code == 200
    assert _badge(client.get("/notifications/").get_data(as_text=True)) is None


def test_cannot_touch_someone_elses_notification(world, now, client, auth):
    petition_due(world, now, dt.date(2026, 12, 9))
    n = db.session.scalar(select(Notification))
    auth.login("handler2")
    assert client.post(f"/notifications/{n.id}/read").status_code == 404
    assert client.post(f"/notifications/{n.id}/open").status_code == 404
    db.session.refresh(n)
    assert n.read_at is None


def test_preferences_page_turns_mail_off_not_in_app(world, now, client, auth):
    auth.login("handler1")
    assert "电子邮件" in client.get("/notifications/preferences").get_data(as_text=True)
    resp = client.post("/notifications/preferences", data={"webhook": "on"})
    assert resp.status_code == 302
    prefs = svc.get_preferences(db.session, world.handler1)
    assert prefs["in_app"] and not prefs["email"] and prefs["webhook"]
    # every other delivery channel (e.g. SMS) is off too: only what was ticked stays on
    assert [c for c, on in prefs.items() if on] == ["in_app", "webhook"]
    with pytest.raises(ValidationError, match="站内消息不能关闭"):
        svc.set_preference(db.session, world.handler1, "in_app", False)
    db.session.rollback()
    rows = db.session.scalars(select(NotificationPreference)).all()
    assert {(r.channel, r.is_enabled) for r in rows} == {("email", False), ("webhook", True),
                                                         ("sms", False)}


def test_bell_needs_login(client):
    assert client.get("/notifications/").status_code == 302


def test_cli_deliver(app, world, now, runner, monkeypatch):
    from notify.support import SmtpServer

    server = SmtpServer()
    server.start()
    try:
        monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
        monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
        world.handler1.email = "h1@beihe.example"
        db.session.commit()
        petition_due(world, now, dt.date(2026, 12, 9))
        db.session.remove()
        result = runner.invoke(args=["notify", "deliver"])
        assert result.exit_code == 0, result.output
        assert "sent 1, to retry 0, given up 0" in result.output
        assert server.recipients() == ["h1@beihe.example"]
        result = runner.invoke(args=["notify", "deliver"])
        assert "sent 0" in result.output
    finally:
        server.stop()


def test_bell_shows_a_decision_once_not_the_mail(app, world, now, client, auth, monkeypatch):
    """In the app a notification reads as a message (subject, text, a button to the case);
    the mail's own heading, link line and "do not reply" footer stay in the mail."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    world.handler1.email = "h1@beihe.example"
    db.session.commit()
    case = petition_due(world, now, dt.date(2026, 12, 9))
    auth.login("handler1")
    page = client.get("/notifications/").get_data(as_text=True)
    subject = f"【新交办】{case.number} {case.title}"
    assert page.count(subject) == 1
    assert "到期日 2026-12-09" in page
    assert "请勿直接回复" not in page and "<!doctype" not in page.lower().split("<body", 1)[1]
    mail = db.session.scalar(select(Notification).where(Notification.channel == "email"))
    assert subject in mail.body_html and f"/cases/{case.id}" in mail.body_html
    assert "请勿直接回复" in mail.body_html


def test_a_page_past_the_end_shows_the_last_page_and_says_so(client, auth, world):
    """Not an empty page: the last one, said (400)."""
    auth.login("super")
    resp = client.get("/notifications/?page=7")
    assert resp.status_code == 400
    assert "第 7 页超出列表范围（共 1 页），本次显示最后一页" in resp.get_data(as_text=True)
    assert client.get("/notifications/").status_code == 200
    auth.logout()
    auth.login("admin")
    resp = client.get("/notifications/undelivered?page=3")
    assert resp.status_code == 400 and "第 3 页超出列表范围" in resp.get_data(as_text=True)
    resp = client.get("/admin/reminders/provisional?page=3")
    assert resp.status_code == 400 and "第 3 页超出列表范围" in resp.get_data(as_text=True)
