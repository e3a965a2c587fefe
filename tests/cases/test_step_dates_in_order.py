"""A dated step never precedes the step it follows, on the pages and through the API: the
follow-up visit (回访) and the agreement (调解成功), a dispute's closing and its mediation
outcome, a leader-approved reply's delivery and the receipt or the latest 退回重办."""

from __future__ import annotations

import datetime as dt

from api.api_support import Api, make_dispute, token_for
from sqlalchemy import select
from stats.builder import at

from casetrack.cases import services as svc
from casetrack.cases.kinds.petition import steps as psteps
from casetrack.cases.models import Case, CaseEvent
from casetrack.extensions import db
from casetrack.org.settings import set_setting

D = dt.date


def _api(client, user, now) -> Api:
    return Api(client, token_for(user, now))


def _events(case_id: int) -> list[str]:
    db.session.rollback()
    return list(db.session.scalars(select(CaseEvent.action).where(CaseEvent.case_id == case_id)
                                   .order_by(CaseEvent.id)))


def _resolved(world, now) -> Case:
    """Received 2026-11-20, agreement reached today (2026-11-23)."""
    case = make_dispute(world, now)
    svc.start_mediation(db.session, world.grid1, now, case, "village")
    svc.resolve_dispute(db.session, world.grid1, now, case, "written", "疏通排水沟")
    db.session.commit()
    return case


def test_api_refuses_a_follow_up_before_the_agreement(world, client, now):
    case = _resolved(world, now)
    api = _api(client, world.grid1, now)
    resp = api.post(f"/cases/{case.id}/follow-up", json={"visited_on": "2026-11-22",
                                                         "honoured": True})
    assert resp.status_code == 422
    error = resp.get_json()["error"]
    assert error["fields"]["visited_on"] == "回访日期不能早于调解协议达成日期（2026-11-23）"
    assert _events(case.id)[-1] == "resolve"
    resp = api.post(f"/cases/{case.id}/follow-up", json={"visited_on": "2026-11-23",
                                                         "honoured": True})
    assert resp.status_code == 200, resp.get_json()
    assert _events(case.id)[-1] == "follow_up"


def test_page_refuses_a_follow_up_before_the_agreement(world, client, auth, now):
    case = _resolved(world, now)
    auth.login("grid1")
    resp = client.post(f"/cases/{case.id}/follow-up", data={
        "visited_on": "2026-11-21", "honoured": "yes", "note": "已履行"})
    assert resp.status_code == 422
    assert "回访日期不能早于调解协议达成日期（2026-11-23）" in resp.get_data(as_text=True)
    assert _events(case.id)[-1] == "resolve"


def test_a_dispute_closes_no_earlier_than_its_mediation_outcome(world, client, auth, now):
    """Terminated today (调解终止 closes directly): a closing dated yesterday is refused, on
    the API and on the page."""
    case = make_dispute(world, now)
    svc.start_mediation(db.session, world.grid1, now, case, "village")
    svc.terminate_dispute(db.session, world.supervisor, now, case, "一方拒绝调解，已告知诉讼途径")
    db.session.commit()
    api = _api(client, world.supervisor, now)
    resp = api.post(f"/cases/{case.id}/close", json={"closed_on": "2026-11-22"})
    assert resp.status_code == 422
    assert (resp.get_json()["error"]["fields"]["closed_on"]
            == "办结日期不能早于调解结果日期（2026-11-23）")
    auth.login("super")
    resp = client.post(f"/cases/{case.id}/close", data={"closed_on": "2026-11-21"})
    assert resp.status_code == 422
    assert "办结日期不能早于调解结果日期（2026-11-23）" in resp.get_data(as_text=True)
    assert _events(case.id)[-1] == "terminate"


def _reworked_draft(world) -> Case:
    """An assigned petition received 2026-09-01, replied and closed, sent back for rework on
    2026-11-20, and its new reply waiting for a leader's approval."""
    set_setting(db.session, world.town.id, psteps.REPLY_APPROVAL_KEY, True)
    case = svc.register_case(db.session, world.supervisor, at(D(2026, 9, 1)), svc.CaseInput(
        kind="petition", title="反映征地补偿", source="assigned", received_on=D(2026, 9, 1),
        petition_class="申诉求决", category="自然资源", village_id=world.v1.id,
        external_ref="雷信交〔2026〕7号", external_due_on=D(2026, 10, 20),
        external_authority="雷州市信访局", parties=[svc.PartyInput(name="陈一（虚构）")]))
    svc.accept_case(db.session, world.supervisor, at(D(2026, 9, 1)), case,
                    accepted_on=D(2026, 9, 1))
    svc.assign_case(db.session, world.supervisor, at(D(2026, 9, 1), 11), case,
                    world.unit_xf.id, world.handler1.id)
    svc.submit_reply(db.session, world.handler1, at(D(2026, 10, 9)), case, "支持", "已处理")
    svc.approve_reply(db.session, world.leader, at(D(2026, 10, 9), 11), case, D(2026, 10, 9))
    svc.close_case(db.session, world.supervisor, at(D(2026, 10, 10)), case, rating="满意",
                   closed_on=D(2026, 10, 10))
    svc.rework_case(db.session, world.supervisor, at(D(2026, 11, 20)), case, "市局退回重办")
    svc.submit_reply(db.session, world.handler1, at(D(2026, 11, 21)), case, "支持", "补充答复")
    db.session.commit()
    return case


def test_an_approved_reply_is_delivered_after_the_rework_and_the_receipt(world, client, auth,
                                                                        now):
    """The leader's approval takes the same bounds as a direct reply (it used to check the
    acceptance only)."""
    case = _reworked_draft(world)
    api = _api(client, world.leader, now)
    resp = api.post(f"/cases/{case.id}/approve-reply", json={"delivered_on": "2026-11-19"})
    assert resp.status_code == 422
    assert (resp.get_json()["error"]["fields"]["delivered_on"]
            == "送达日期不能早于退回重办日期（2026-11-20）")
    auth.login("leader")
    resp = client.post(f"/cases/{case.id}/approve-reply", data={"delivered_on": "2026-08-31"})
    assert resp.status_code == 422
    assert "送达日期不能早于收到日期（2026-09-01）" in resp.get_data(as_text=True)
    assert _events(case.id)[-1] == "submit_reply"
    resp = api.post(f"/cases/{case.id}/approve-reply", json={"delivered_on": "2026-11-21"})
    assert resp.status_code == 200, resp.get_json()
