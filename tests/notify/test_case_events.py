"""Decisions on a case write notifications in the same transaction: assigned, extension
requested and decided, closure sent back."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from casetrack.cases import services as svc
from casetrack.extensions import db
from casetrack.notify.models import Notification
from notify.support import petition_due


def _rows(kind):
    return db.session.execute(select(Notification.recipient_id, Notification.channel,
                                     Notification.subject, Notification.link)
                              .where(Notification.kind == kind)).all()


def test_assignment_notifies_the_handler(world, now):
    case = petition_due(world, now, dt.date(2026, 12, 9))
    [(recipient, channel, subject, link)] = _rows("case_assigned")
    assert (recipient, channel) == (world.handler1.id, "in_app")
    assert subject == f"【新交办】{case.number} {case.title}"
    assert link == f"/cases/{case.id}"


def test_assignment_to_a_unit_notifies_its_handlers(world, now, create_user):
    from casetrack.auth.models import Role

    other = create_user("handler3", Role.HANDLER, world.town, unit=world.unit_xf)
    data = svc.CaseInput(kind="petition", title="单位交办（虚构）", source="visit",
                         received_on=dt.date(2026, 11, 20), petition_class="建议意见",
                         category="其他", village_id=world.v1.id,
                         parties=[svc.PartyInput(name="赵六（虚构）")])
    case = svc.register_case(db.session, world.supervisor, now, data)
    svc.accept_case(db.session, world.supervisor, now, case)
    svc.assign_case(db.session, world.supervisor, now, case, world.unit_xf.id, None)
    db.session.commit()
    assert sorted(r[0] for r in _rows("case_assigned")) == sorted([world.handler1.id, other.id])


def test_notifications_roll_back_with_the_decision(world, now):
    data = svc.CaseInput(kind="petition", title="回滚（虚构）", source="visit",
                         received_on=dt.date(2026, 11, 20), petition_class="建议意见",
                         category="其他", village_id=world.v1.id,
                         parties=[svc.PartyInput(name="赵六（虚构）")])
    case = svc.register_case(db.session, world.supervisor, now, data)
    svc.accept_case(db.session, world.supervisor, now, case)
    db.session.commit()
    svc.assign_case(db.session, world.supervisor, now, case, world.unit_xf.id, world.handler1.id)
    assert len(_rows("case_assigned")) == 1
    db.session.rollback()
    assert _rows("case_assigned") == []


def test_extension_request_and_decision(world, now):
    case = petition_due(world, now, dt.date(2026, 11, 20))
    svc.request_extension(db.session, world.handler1, now, case, 20, "需现场勘查")
    db.session.commit()
    [(leader, _c, subject, _l)] = _rows("extension_requested")
    assert leader == world.leader.id and subject.startswith("【延期待审批】")
    svc.decide_extension(db.session, world.leader, now, case, True, "同意")
    db.session.commit()
    [(handler, _c, subject, _l)] = _rows("extension_decided")
    assert handler == world.handler1.id and subject.startswith("【延期已批准】")
    body = db.session.scalar(select(Notification.body_text)
                             .where(Notification.kind == "extension_decided"))
    assert "新的到期日 2026-12-10" in body


def test_rework_notifies_the_handler(world, now):
    case = petition_due(world, now, dt.date(2026, 11, 30))
    svc.reply_case(db.session, world.handler1, now, case, "支持", "已处理", now.date())
    svc.close_case(db.session, world.supervisor, now, case, rating="不满意")
    svc.rework_case(db.session, world.supervisor, now, case, "上级要求重新核查",
                    due_on=dt.date(2026, 12, 15))
    db.session.commit()
    [(handler, _c, subject, _l)] = _rows("case_reworked")
    assert handler == world.handler1.id and subject.startswith("【退回重办】")
