"""A petition and a dispute through their whole lifecycle, against the real database."""

import datetime as dt

import pytest

from casetrack.cases import services as svc
from casetrack.cases.models import CaseStatus
from casetrack.core.errors import InvalidTransition
from casetrack.extensions import db


def _petition(world, now, **kw):
    data = svc.CaseInput(
        kind="petition", title="反映道路破损", source="assigned", received_on=dt.date(2026, 11, 20),
        petition_class="申诉求决", category="城乡建设", village_id=world.v1.id,
        external_ref="雷信交〔2026〕101号", external_due_on=dt.date(2027, 1, 5),
        parties=[svc.PartyInput(name="张三（虚构）", id_number="440882198001010013")], **kw)
    return svc.register_case(db.session, world.supervisor, now, data)


def test_petition_lifecycle(world, now):
    case = _petition(world, now)
    assert case.number == "北和信〔2026〕1号"
    assert case.due_rule == "petition.notify"
    svc.accept_case(db.session, world.supervisor, now, case)
    assert case.status == CaseStatus.ACCEPTED
    # 60 days from 2026-11-23 is 2027-01-22, but the city's deadline 2027-01-05 is earlier
    assert case.due_on == dt.date(2027, 1, 5) and case.due_basis == "external"
    svc.assign_case(db.session, world.supervisor, now, case, world.unit_xf.id, world.handler1.id)
    assert case.status == CaseStatus.HANDLING
    svc.request_extension(db.session, world.handler1, now, case, 20, "需现场勘查")
    svc.decide_extension(db.session, world.leader, now, case, True)
    # the town's extension moves the statutory date only: the city's date still governs
    assert case.due_on == dt.date(2027, 1, 5) and case.due_basis == "external"
    assert case.statutory_due_on == dt.date(2027, 2, 11)
    with pytest.raises(InvalidTransition):
        svc.request_extension(db.session, world.handler1, now, case, 5, "再延")
    svc.reply_case(db.session, world.handler1, now, case, "支持", "已修复", dt.date(2026, 11, 23))
    svc.close_case(db.session, world.supervisor, now, case, rating="满意")
    assert case.status == CaseStatus.CLOSED
    db.session.commit()
    actions = [e.action for e in case.events]
    assert actions == ["register", "accept", "assign", "extend_request", "extend_decide",
                       "reply", "close"]


def test_close_unaccepted_refused(world, now):
    case = _petition(world, now)
    with pytest.raises(InvalidTransition) as exc:
        svc.close_case(db.session, world.supervisor, now, case, rating="满意")
    assert "不能执行" in exc.value.message
