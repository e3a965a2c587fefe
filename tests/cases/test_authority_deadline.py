"""The assigning authority's deadline governs an assigned case (issue 8.1), and rework
restarts the clock (8.7): services, the page and the API."""

from __future__ import annotations

import datetime as dt

import pytest
from api.api_support import Api, token_for
from stats.builder import at

from casetrack.cases import services as svc
from casetrack.core.errors import InvalidTransition, PermissionDenied, ValidationError
from casetrack.extensions import db

D = dt.date


SEP_1, OCT_20 = D(2026, 9, 1), D(2026, 10, 20)


def _assigned(world, received=SEP_1, external=OCT_20):
    """An assigned petition accepted on receipt: statutory 60 days = 2026-11-02 (Monday after
    Saturday 10-31); the city's own deadline 2026-10-20 governs."""
    case = svc.register_case(db.session, world.supervisor, at(received, 9), svc.CaseInput(
        kind="petition", title="反映征地补偿", source="assigned", received_on=received,
        petition_class="申诉求决", category="自然资源", village_id=world.v1.id,
        external_ref="雷信交〔2026〕7号", external_due_on=external,
        external_authority="雷州市信访局", parties=[svc.PartyInput(name="陈一（虚构）")]))
    svc.accept_case(db.session, world.supervisor, at(received), case, accepted_on=received)
    svc.assign_case(db.session, world.supervisor, at(received, 11), case,
                    world.unit_xf.id, world.handler1.id)
    db.session.commit()
    return case


def test_the_earlier_date_governs_and_the_town_extension_never_passes_it(world):
    case = _assigned(world)
    assert (case.due_on, case.statutory_due_on, case.due_basis) == (
        D(2026, 10, 20), D(2026, 11, 2), "external")
    svc.request_extension(db.session, world.handler1, at(D(2026, 10, 10)), case, 30, "需补充材料")
    request = case.events[-1]
    assert "上级规定期限（2026-10-20）" in request.note  # the warning is on the record
    svc.decide_extension(db.session, world.leader, at(D(2026, 10, 11)), case, True)
    # the statutory date moved 30 days; the authority's date still governs
    assert case.statutory_due_on == D(2026, 11, 30)
    assert (case.due_on, case.due_basis) == (D(2026, 10, 20), "external")


def test_authority_extension_is_its_own_step(world):
    case = _assigned(world)
    with pytest.raises(PermissionDenied):
        svc.extend_authority_deadline(db.session, world.handler1, at(D(2026, 10, 15)), case,
                                      D(2026, 11, 20), "雷信延〔2026〕3号")
    with pytest.raises(ValidationError):
        svc.extend_authority_deadline(db.session, world.supervisor, at(D(2026, 10, 15)), case,
                                      D(2026, 10, 1), "雷信延〔2026〕3号")
    with pytest.raises(ValidationError):
        svc.extend_authority_deadline(db.session, world.supervisor, at(D(2026, 10, 15)), case,
                                      D(2026, 11, 20), " ")
    db.session.rollback()
    svc.extend_authority_deadline(db.session, world.supervisor, at(D(2026, 10, 15)), case,
                                  D(2026, 11, 20), "雷信延〔2026〕3号")
    ev = case.events[-1]
    assert ev.action == "authority_extend" and ev.note == "雷信延〔2026〕3号"
    assert ev.changes["external_due_on"] == ["2026-10-20", "2026-11-20"]
    # now the statutory date (2026-11-02) is the earlier one and governs
    assert (case.due_on, case.due_basis, case.external_extension_ref) == (
        D(2026, 11, 2), "statutory", "雷信延〔2026〕3号")


def test_authority_extension_needs_an_authority_deadline(world):
    case = svc.register_case(db.session, world.supervisor, at(D(2026, 9, 1)), svc.CaseInput(
        kind="petition", title="来访", source="visit", received_on=D(2026, 9, 1),
        petition_class="申诉求决", category="其他", village_id=world.v1.id,
        parties=[svc.PartyInput(name="甲（虚构）")]))
    with pytest.raises(InvalidTransition):
        svc.extend_authority_deadline(db.session, world.supervisor, at(D(2026, 9, 2)), case,
                                      D(2026, 12, 1), "x")


def test_page_shows_both_dates_and_warns_before_an_extension(world, client, auth):
    case = _assigned(world, received=D(2026, 10, 12), external=D(2026, 11, 30))
    auth.login("handler1")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "法定期限 2026-12-11，上级规定期限 2026-11-30，以上级期限为准" in page
    assert "镇内延期不能推迟该期限" in page  # on the extension request form


def test_authority_extension_through_page_and_api(world, client, auth, now):
    case = _assigned(world, received=D(2026, 10, 12), external=D(2026, 11, 30))
    auth.login("super")
    resp = client.post(f"/cases/{case.id}/authority-extend",
                       data={"due_on": "2026-12-31", "reference": "雷信延〔2026〕9号"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    db.session.expire_all()
    assert case.external_due_on == D(2026, 12, 31) and case.due_basis == "statutory"
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "雷信延〔2026〕9号" in page

    api = Api(client, token_for(world.supervisor, now))
    body = api.get(f"/cases/{case.id}").get_json()["data"]
    assert body["statutory_due_on"] == "2026-12-11" and body["external_due_on"] == "2026-12-31"
    assert body["due_basis_label"] == "法定期限"
    resp = api.post(f"/cases/{case.id}/authority-extend",
                    json={"due_on": "2026-12-01", "reference": "x"})
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"]["due_on"]


def test_rework_with_the_authoritys_new_deadline(world):
    case = _assigned(world)
    svc.reply_case(db.session, world.handler1, at(D(2026, 10, 9)), case, "支持", "已处理",
                   D(2026, 10, 9))
    svc.close_case(db.session, world.supervisor, at(D(2026, 10, 10)), case, rating="满意",
                   closed_on=D(2026, 10, 10))
    svc.rework_case(db.session, world.supervisor, at(D(2026, 11, 23)), case, "市局退回重办",
                    due_on=D(2026, 12, 15))
    assert (case.due_on, case.due_basis, case.external_due_on) == (
        D(2026, 12, 15), "external", D(2026, 12, 15))


def test_rework_without_a_new_deadline_restarts_the_statutory_clock(world):
    case = _assigned(world)
    svc.reply_case(db.session, world.handler1, at(D(2026, 10, 9)), case, "支持", "已处理",
                   D(2026, 10, 9))
    svc.close_case(db.session, world.supervisor, at(D(2026, 10, 10)), case, rating="满意",
                   closed_on=D(2026, 10, 10))
    svc.rework_case(db.session, world.supervisor, at(D(2026, 11, 23)), case, "市局退回重办")
    # not red at once because of the old 2026-10-20: 60 days from the rework day
    assert case.due_basis == "statutory" and case.due_on > D(2026, 11, 23)
    assert case.due_start_on == D(2026, 11, 23)


# --------------------------------------------------------------------------- dates in order (8.7)


def _refused_with(func, *args, text: str, **kw):
    with pytest.raises(ValidationError) as refused:
        func(db.session, *args, **kw)
    assert text in refused.value.message, refused.value.message
    db.session.rollback()


def test_dates_cannot_run_backwards_nor_into_the_future(world):
    case = _assigned(world)  # received and accepted 2026-09-01
    now = at(D(2026, 10, 9))
    _refused_with(svc.reply_case, world.handler1, now, case, "支持", "已处理", D(2026, 8, 31),
                  text="送达日期不能早于收到日期（2026-09-01）")
    _refused_with(svc.reply_case, world.handler1, now, case, "支持", "已处理", D(2026, 10, 10),
                  text="送达日期不能晚于今天（2026-10-09）")
    svc.reply_case(db.session, world.handler1, now, case, "支持", "已处理", D(2026, 10, 8))
    db.session.commit()
    _refused_with(svc.close_case, world.supervisor, now, case, rating="满意",
                  closed_on=D(2026, 10, 7), text="办结日期不能早于答复送达日期（2026-10-08）")
    svc.close_case(db.session, world.supervisor, now, case, rating="满意", closed_on=D(2026, 10, 9))
    db.session.commit()
    # reopened on 2026-11-20: a reply or a closing dated before that is refused
    svc.rework_case(db.session, world.supervisor, at(D(2026, 11, 20)), case, "市局退回重办")
    db.session.commit()
    later = at(D(2026, 11, 23))
    _refused_with(svc.reply_case, world.handler1, later, case, "支持", "补充答复", D(2026, 11, 19),
                  text="送达日期不能早于退回重办日期（2026-11-20）")
    svc.reply_case(db.session, world.handler1, later, case, "支持", "补充答复", D(2026, 11, 21))
    db.session.commit()
    _refused_with(svc.close_case, world.supervisor, later, case, rating="满意",
                  closed_on=D(2026, 11, 20), text="办结日期不能早于答复送达日期（2026-11-21）")


def test_the_page_shows_which_date_bounds_it(world, client, auth):
    case = _assigned(world)
    auth.login("handler1")
    resp = client.post(f"/cases/{case.id}/reply", data={
        "outcome": "支持", "reply_text": "已处理", "delivered_on": "2026-08-01"})
    assert resp.status_code == 422
    assert "送达日期不能早于收到日期（2026-09-01）" in resp.get_data(as_text=True)


def test_list_ledger_and_mail_say_which_date_governs(world, client, auth):
    from casetrack.notify.models import Notification

    case = _assigned(world)
    mail = db.session.scalar(db.select(Notification).where(Notification.kind == "case_assigned"))
    assert ("2026-10-20（法定期限 2026-11-02，上级规定期限 2026-10-20，以上级规定期限为准）"
            in mail.body_text)
    auth.login("super")
    page = client.get("/cases").get_data(as_text=True)
    assert "上级期限" in page and "法定期限 2026-11-02" in page
    text = client.get("/reports/ledger.csv").data.decode("utf-8-sig")
    header, row = text.splitlines()[:2] if text.startswith("序号") else text.splitlines()[1:3]
    cells = dict(zip(header.split(","), row.split(","), strict=False))
    assert cells["办理期限"] == "2026-10-20" and cells["法定期限"] == "2026-11-02"
    assert cells["期限依据"] == "上级期限"
    assert case.number in text
