"""Services against the real database: every refusal DOMAIN.md names, and the timeline.

Each successful step must leave one CaseEvent with the before and after values of what it
changed; each refusal must raise a DomainError with a Chinese message and write nothing.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from casetrack.cases import services as svc
from casetrack.cases.models import Case, CaseEvent, CaseStatus
from casetrack.core.errors import (
    DomainError,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from casetrack.extensions import db

S = CaseStatus


def _at(day: dt.date) -> dt.datetime:
    """10:00 in Beihe (UTC+8) on ``day``, as an aware UTC instant."""
    return dt.datetime(day.year, day.month, day.day, 2, 0, tzinfo=dt.UTC)


def _petition(world, now, *, source="visit", received_on=dt.date(2026, 9, 1),
              external_due_on=None) -> Case:
    data = svc.CaseInput(
        kind="petition", title="反映排水沟堵塞", source=source, received_on=received_on,
        petition_class="申诉求决", category="城乡建设", village_id=world.v1.id,
        external_ref="雷信交〔2025〕88号" if source == "assigned" else None,
        external_due_on=external_due_on, external_authority="雷州市信访局",
        parties=[svc.PartyInput(name="陈一（虚构）", id_number="11010519491231002X")])
    case = svc.register_case(db.session, world.supervisor, now, data)
    db.session.commit()
    return case


def _dispute(world, now, village=None, actor=None) -> Case:
    data = svc.CaseInput(
        kind="dispute", title="宅基地边界纠纷", source="screening",
        received_on=dt.date(2026, 11, 16), category="房屋宅基地",
        village_id=(village or world.v1).id,
        parties=[svc.PartyInput(name="林二（虚构）", role="applicant"),
                 svc.PartyInput(name="黄三（虚构）", role="respondent")])
    case = svc.register_case(db.session, actor or world.grid1, now, data)
    db.session.commit()
    return case


def _handling(world, now) -> Case:
    """A petition accepted on 2026-09-01 and handled by handler1 (信访办)."""
    case = _petition(world, now)
    svc.accept_case(db.session, world.supervisor, now, case, accepted_on=dt.date(2026, 9, 1))
    svc.assign_case(db.session, world.supervisor, now, case, world.unit_xf.id, world.handler1.id)
    db.session.commit()
    return case


def _event_count(case: Case) -> int:
    return db.session.scalar(
        select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case.id))


def _last_event(case: Case) -> CaseEvent:
    """The newest event, read back from the database after a commit."""
    db.session.commit()
    db.session.expire_all()
    return db.session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc())
    ).first()


def _refused(exc_type: type[DomainError], case: Case, call, *args, **kwargs) -> DomainError:
    """Run a service that must refuse: the error is raised, in Chinese, and nothing is
    written (the status and the timeline are as before)."""
    db.session.commit()
    status, events = case.status, _event_count(case)
    with pytest.raises(exc_type) as info:
        call(db.session, *args, **kwargs)
    db.session.rollback()
    assert any("\u4e00" <= ch <= "\u9fff" for ch in info.value.message), info.value.message
    assert db.session.get(Case, case.id).status == status
    assert _event_count(case) == events
    return info.value


# --------------------------------------------------------------------------- not accepted


def test_not_accepting_needs_a_reason(world, now):
    case = _petition(world, now)
    err = _refused(ValidationError, case, svc.reject_case, world.supervisor, now, case, "  ")
    assert "理由" in err.message and "reason" in err.fields

    svc.reject_case(db.session, world.supervisor, now, case, "不属于信访事项，已告知通过诉讼解决")
    ev = _last_event(case)
    assert (ev.action, ev.from_status, ev.to_status) == ("reject", S.REGISTERED, S.NOT_ACCEPTED)
    assert ev.actor_id == world.supervisor.id and ev.at == now
    assert ev.changes == {
        "exit_reason": ["", "不属于信访事项，已告知通过诉讼解决"],
        "closed_on": [None, "2026-11-23"],
    }
    # and a case that was not accepted stays so
    _refused(InvalidTransition, case, svc.accept_case, world.supervisor, now, case)


# --------------------------------------------------------------------------- return (退回)


def _assigned_received_2025_09_26(world) -> Case:
    now = _at(dt.date(2025, 9, 26))
    return _petition(world, now, source="assigned", received_on=dt.date(2025, 9, 26),
                     external_due_on=dt.date(2025, 11, 25))


def test_return_within_five_working_days_is_allowed(world):
    # received Fri 2025-09-26; working days: Sun 09-28 (adjusted), 09-29, 09-30, then the
    # National Day holiday, 10-09, 10-10: the fifth working day is 2025-10-10
    case = _assigned_received_2025_09_26(world)
    on_time = _at(dt.date(2025, 10, 10))
    svc.return_case(db.session, world.supervisor, on_time, case, "属于市场监管部门职责")
    ev = _last_event(case)
    assert (ev.action, ev.from_status, ev.to_status) == ("return", S.REGISTERED, S.RETURNED)
    assert ev.changes == {"exit_reason": ["", "属于市场监管部门职责"],
                          "closed_on": [None, "2025-10-10"]}


def test_return_after_five_working_days_is_refused(world):
    case = _assigned_received_2025_09_26(world)
    too_late = _at(dt.date(2025, 10, 11))  # a Saturday, and itself an adjusted working day
    err = _refused(InvalidTransition, case, svc.return_case, world.supervisor, too_late, case,
                   "属于市场监管部门职责")
    assert "5个工作日" in err.message and "2025-10-10" in err.message


def test_only_assigned_cases_can_be_returned(world, now):
    visit = _petition(world, now, source="visit", received_on=dt.date(2026, 11, 20))
    err = _refused(InvalidTransition, visit, svc.return_case, world.supervisor, now, visit,
                   "不属于本镇")
    assert "上级交办" in err.message

    # an assigned case already being handled cannot be returned either
    case = _petition(world, now, source="assigned", received_on=dt.date(2026, 11, 20),
                     external_due_on=dt.date(2026, 12, 30))
    svc.accept_case(db.session, world.supervisor, now, case)
    svc.assign_case(db.session, world.supervisor, now, case, world.unit_xf.id, None)
    _refused(InvalidTransition, case, svc.return_case, world.supervisor, now, case, "不属于本镇")


# --------------------------------------------------------------------------- extensions


def test_extension_over_30_days_or_without_reason_is_refused(world, now):
    case = _handling(world, now)
    err = _refused(ValidationError, case, svc.request_extension, world.handler1, now, case, 31,
                   "需要现场勘查")
    assert "30" in err.message
    _refused(ValidationError, case, svc.request_extension, world.handler1, now, case, 0, "x")
    _refused(ValidationError, case, svc.request_extension, world.handler1, now, case, 10, " ")


def test_only_the_leader_approves_and_a_second_extension_is_refused(world, now):
    case = _handling(world, now)
    assert case.due_on == dt.date(2026, 11, 2)  # 60 days from 09-01 is Sat 10-31: moved to Mon

    svc.request_extension(db.session, world.handler1, now, case, 20, "需要现场勘查")
    ev = _last_event(case)
    assert ev.action == "extend_request" and ev.from_status == ev.to_status == S.HANDLING
    assert ev.changes == {"extension_state": ["none", "pending"],
                          "extension_requested_days": [None, 20],
                          "extension_reason": ["", "需要现场勘查"]}
    # a second request while the first is pending
    _refused(InvalidTransition, case, svc.request_extension, world.handler1, now, case, 5, "再延")

    for not_leader in (world.supervisor, world.handler1, world.admin):
        _refused(PermissionDenied, case, svc.decide_extension, not_leader, now, case, True)

    svc.decide_extension(db.session, world.leader, now, case, True, "同意")
    ev = _last_event(case)
    assert ev.actor_id == world.leader.id
    assert ev.changes == {"extension_state": ["pending", "approved"],
                          "extension_days": [0, 20],
                          "due_on": ["2026-11-02", "2026-11-20"],
                          "statutory_due_on": ["2026-11-02", "2026-11-20"]}
    assert db.session.get(Case, case.id).due_on == dt.date(2026, 11, 20)

    err = _refused(InvalidTransition, case, svc.request_extension, world.handler1, now, case, 5,
                   "再延期")
    assert "延期一次" in err.message


def test_a_refused_extension_leaves_the_due_date(world, now):
    case = _handling(world, now)
    svc.request_extension(db.session, world.handler1, now, case, 10, "材料未齐")
    svc.decide_extension(db.session, world.leader, now, case, False, "理由不足")
    ev = _last_event(case)
    assert ev.changes == {"extension_state": ["pending", "rejected"]}
    assert db.session.get(Case, case.id).due_on == dt.date(2026, 11, 2)
    _refused(InvalidTransition, case, svc.decide_extension, world.leader, now, case, True)


# --------------------------------------------------------------------------- scoping


def test_grid_worker_of_another_village_gets_not_found(world, now):
    case = _dispute(world, now)  # in v1, grid1's village
    err = _refused(NotFound, case, svc.start_mediation, world.grid2, now, case, "village")
    assert err.http_status == 404
    _refused(NotFound, case, svc.record_progress, world.grid2, now, case, "看看")
    _refused(NotFound, case, svc.flag_risk, world.grid2, now, case, "有冲突")
    # a supervisor of another town does not see it either
    _refused(NotFound, case, svc.start_mediation, world.other_super, now, case, "village")
    # while grid1 may act on it
    svc.start_mediation(db.session, world.grid1, now, case, "village")
    assert _last_event(case).changes == {"mediation_level": [None, "village"]}


def test_grid_worker_cannot_register_in_another_village(world, now):
    with pytest.raises(PermissionDenied):
        _dispute(world, now, village=world.v2, actor=world.grid1)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_handler_of_another_unit_gets_not_found(world, now):
    case = _handling(world, now)  # 信访办, handler1
    _refused(NotFound, case, svc.reply_case, world.handler2, now, case, "支持", "已处理",
             dt.date(2026, 11, 20))
    _refused(NotFound, case, svc.request_extension, world.handler2, now, case, 10, "需要")


def test_a_step_the_role_lacks_is_refused(world, now):
    case = _petition(world, now)
    _refused(PermissionDenied, case, svc.accept_case, world.leader, now, case)
    _refused(PermissionDenied, case, svc.reject_case, world.leader, now, case, "理由")


# --------------------------------------------------------------------------- disputes


def test_resolved_dispute_closes_only_after_the_follow_up(world, now):
    case = _dispute(world, now)
    g = world.grid1
    svc.start_mediation(db.session, g, now, case, "village")
    svc.record_mediation_session(db.session, g, now, case, dt.date(2026, 11, 18), "双方到场，各自陈述")
    svc.resolve_dispute(db.session, g, now, case, "written", "以界桩为界，费用各半")
    ev = _last_event(case)
    assert (ev.from_status, ev.to_status) == (S.MEDIATING, S.RESOLVED)
    assert ev.changes == {"agreement_type": [None, "written"],
                          "resolution_level": [None, "village"],
                          "mediated_on": [None, "2026-11-23"],
                          "mediation_due_on": [None, "2026-12-16"],
                          # mediation is done: the follow-up visit's clock runs
                          "due_on": ["2026-12-16", "2026-12-23"],
                          "due_rule": ["dispute.mediate", "dispute.follow_up"],
                          "follow_up_due_on": [None, "2026-12-23"]}

    err = _refused(InvalidTransition, case, svc.close_case, g, now, case)
    assert "回访" in err.message

    # the visit follows the agreement reached today: not the day before, the same day is fine
    err = _refused(ValidationError, case, svc.record_follow_up, g, now, case,
                   dt.date(2026, 11, 22), True, "已履行")
    assert err.message == "回访日期不能早于调解协议达成日期（2026-11-23）"
    svc.record_follow_up(db.session, g, now, case, dt.date(2026, 11, 23), True, "已履行")
    assert _last_event(case).changes == {"follow_up_on": [None, "2026-11-23"],
                                         "follow_up_honoured": [None, True]}
    svc.close_case(db.session, g, now, case)
    ev = _last_event(case)
    assert (ev.action, ev.from_status, ev.to_status) == ("close", S.RESOLVED, S.CLOSED)
    assert ev.changes == {"closed_on": [None, "2026-11-23"]}
    assert [e.action for e in db.session.get(Case, case.id).events] == [
        "register", "start_mediation", "mediation_session", "resolve", "follow_up", "close"]


def test_escalated_dispute_is_resolved_at_town_level_and_terminated_closes_directly(world, now):
    case = _dispute(world, now)
    svc.start_mediation(db.session, world.grid1, now, case, "village")
    svc.escalate_dispute(db.session, world.grid1, now, case, "村级调解不成")
    assert _last_event(case).changes == {"mediation_level": ["village", "town"]}
    svc.resolve_dispute(db.session, world.supervisor, now, case, "oral", "当场赔偿500元")
    assert db.session.get(Case, case.id).resolution_level == "town"

    other = _dispute(world, now)
    svc.start_mediation(db.session, world.grid1, now, other, "village")
    _refused(ValidationError, other, svc.terminate_dispute, world.grid1, now, other, "")
    svc.terminate_dispute(db.session, world.grid1, now, other, "一方拒绝调解，已告知诉讼途径")
    svc.close_case(db.session, world.grid1, now, other)  # no agreement to follow up
    assert db.session.get(Case, other.id).status == S.CLOSED


# --------------------------------------------------------------------------- rework


def test_rework_reopens_a_closed_case(world, now):
    case = _handling(world, now)
    svc.reply_case(db.session, world.handler1, now, case, "支持", "已疏通排水沟",
                   dt.date(2026, 11, 20))
    _refused(ValidationError, case, svc.close_case, world.supervisor, now, case, rating="很好")
    svc.close_case(db.session, world.supervisor, now, case, rating="满意")
    assert db.session.get(Case, case.id).status == S.CLOSED

    _refused(PermissionDenied, case, svc.rework_case, world.handler1, now, case, "市局退回")
    _refused(ValidationError, case, svc.rework_case, world.supervisor, now, case, "")
    svc.rework_case(db.session, world.supervisor, now, case, "市信访局认为答复不充分，退回重办")
    ev = _last_event(case)
    assert (ev.action, ev.from_status, ev.to_status) == ("rework", S.CLOSED, S.HANDLING)
    # no new deadline from the authority: the statutory clock restarts on the rework day
    assert ev.changes == {"closed_on": ["2026-11-23", None], "rating": ["满意", None],
                          "due_on": ["2026-11-02", "2027-01-22"],
                          "statutory_due_on": ["2026-11-02", "2027-01-22"]}
    assert ev.note == "市信访局认为答复不充分，退回重办"
    reopened = db.session.get(Case, case.id)
    assert reopened.is_open and reopened.closed_on is None and reopened.rating is None

    # the handler can answer again and the case closes again
    svc.reply_case(db.session, world.handler1, now, reopened, "解释说明", "补充说明",
                   dt.date(2026, 11, 23))
    svc.close_case(db.session, world.supervisor, now, reopened, rating="基本满意")
    assert db.session.get(Case, case.id).status == S.CLOSED


# --------------------------------------------------------------------------- timeline


def test_case_events_are_append_only(world, now):
    case = _petition(world, now)
    ev = _last_event(case)
    assert ev.action == "register" and ev.to_status == S.REGISTERED
    assert ev.changes["number"] == [None, "北和信〔2026〕1号"]
    ev.note = "改写历史"
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert _last_event(case).note == ""


def test_case_events_cannot_be_deleted(world, now):
    case = _petition(world, now)
    db.session.commit()
    db.session.delete(_last_event(case))
    with pytest.raises(RuntimeError, match="append-only"):
        db.session.flush()
    db.session.rollback()
    assert _last_event(case).action == "register"


def test_rolled_back_attachment_leaves_no_file(world, now, app):
    import io
    from pathlib import Path

    case = _petition(world, now)
    db.session.commit()
    folder = Path(app.config["UPLOAD_FOLDER"])
    att = svc.add_attachment(db.session, world.supervisor, now, case, "来信.pdf",
                             "application/pdf", io.BytesIO(b"%PDF-1.4 fictional"))
    stored = folder / att.storage_key
    assert stored.exists()
    db.session.rollback()
    assert not stored.exists()
    kept = svc.add_attachment(db.session, world.supervisor, now, case, "来信.pdf",
                              "application/pdf", io.BytesIO(b"%PDF-1.4 fictional"))
    db.session.commit()
    assert (folder / kept.storage_key).exists()


def test_group_visit_has_at_most_five_representatives(world, now):
    people = [svc.PartyInput(name=f"代表{i}（虚构）") for i in range(6)]
    data = svc.CaseInput(kind="petition", title="集体反映征地补偿", source="visit",
                         received_on=dt.date(2026, 11, 20), petition_class="申诉求决",
                         category="自然资源", village_id=world.v1.id, group_size=40,
                         parties=people)
    with pytest.raises(ValidationError) as exc:
        svc.register_case(db.session, world.supervisor, now, data)
    assert "不超过5人" in exc.value.message
    data.parties = people[:5]
    case = svc.register_case(db.session, world.supervisor, now, data)
    assert case.group_size == 40 and len(case.parties) == 5
    data.group_size = 1  # five named petitioners are at least five people
    assert svc.register_case(db.session, world.supervisor, now, data).group_size == 5


def test_risk_flag_alerts_the_supervisor(world, now):
    from casetrack.notify.models import Notification

    data = svc.CaseInput(kind="dispute", title="宅基地争执", source="screening",
                         received_on=dt.date(2026, 11, 20), category="房屋宅基地",
                         village_id=world.v1.id, parties=[svc.PartyInput(name="甲（虚构）", role="party")])
    case = svc.register_case(db.session, world.grid1, now, data)
    svc.flag_risk(db.session, world.grid1, now, case, "双方扬言动手，已报派出所")
    db.session.commit()
    rows = db.session.scalars(select(Notification).where(
        Notification.recipient_id == world.supervisor.id)).all()
    assert rows and all("风险预警" in r.subject for r in rows)
    assert {r.kind for r in rows} == {"case_risk"}
