"""The bell shows a decided request as decided (issue 12 item 1): once a leader approves or
refuses an extension, every leader's "延期待审批" message says so and leaves the unread count."""

from __future__ import annotations

from sqlalchemy import select

from casetrack.auth.models import Role
from casetrack.cases import services as cs
from casetrack.extensions import db
from casetrack.notify.models import Notification
from notify.support import petition_due


def test_extension_request_message_shows_the_decision(world, now, client, auth, create_user):
    import datetime as dt

    second_leader = create_user("leader2", Role.LEADER, world.town, name="副镇长")
    case = petition_due(world, now, dt.date(2026, 12, 9))
    cs.request_extension(db.session, world.handler1, now, case, 10, "需要现场勘查")
    db.session.commit()
    auth.login("leader2")
    page = client.get("/notifications/").get_data(as_text=True)
    assert "【延期待审批】" in page and "已处理" not in page
    cs.decide_extension(db.session, world.leader, now, case, True, "同意")
    db.session.commit()
    rows = db.session.scalars(select(Notification).where(
        Notification.kind == "extension_requested", Notification.channel == "in_app")).all()
    assert {r.recipient_id for r in rows} == {world.leader.id, second_leader.id}
    assert all(r.settled_at == now and r.settled_note == "延期已批准（镇领导）" for r in rows)
    page = client.get("/notifications/").get_data(as_text=True)
    assert "已处理：延期已批准（镇领导）" in page
    assert client.get("/notifications/?unread=1").get_data(as_text=True).count("【延期待审批】") == 0
    # the requester's own message says the decision too (as before)
    auth.logout()
    auth.login("handler1")
    assert "【延期已批准】" in client.get("/notifications/").get_data(as_text=True)
