"""A refusal by the domain speaks the user's language: pages (flash and field messages) and
the API envelope translate the error's Msgid when they show it; outside a request (CLI) and
in the Chinese UI it stays Chinese; data in a message is never looked up."""

from __future__ import annotations

from casetrack.core.errors import CalendarUnknown, NotFound, ValidationError
from casetrack.core.i18n import N_
from casetrack.extensions import db


def _english(client, username: str) -> None:
    client.post("/login", data={"username": username, "password": "pass-1234"})
    client.post("/lang/en", data={"next": "/"})


def test_a_refusal_on_a_page_is_shown_in_english(client, world):
    _english(client, "admin")
    resp = client.post("/admin/calendar/overrides",
                       data={"day": "2026-12-05", "name": "节" * 101, "is_workday": "0"})
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "The name may have at most 100 characters" in page
    assert "名称不能超过100个字" not in page
    # the same refusal in the Chinese UI
    client.post("/lang/zh", data={"next": "/"})
    page = client.post("/admin/calendar/overrides",
                       data={"day": "2026-12-05", "name": "节" * 101, "is_workday": "0"}
                       ).get_data(as_text=True)
    assert "名称不能超过100个字" in page


def test_the_api_answers_in_the_token_users_language(client, world, now):
    from casetrack.auth.tokens import create_token

    world.supervisor.locale = "en"
    _row, secret = create_token(db.session, world.supervisor, now, "en")
    db.session.commit()
    resp = client.get("/api/v1/cases/12345", headers={"Authorization": f"Bearer {secret}"})
    assert resp.status_code == 404
    assert resp.get_json()["error"] == {
        "code": "not_found", "message": "The case does not exist or you may not view it",
        "fields": {}}


def test_messages_outside_a_request_stay_chinese_and_data_is_not_translated(app):
    with app.app_context():
        assert NotFound(N_("案件不存在或您无权查看")).message == "案件不存在或您无权查看"
        exc = CalendarUnknown(2031)
        assert exc.message.startswith("2031 年的节假日安排尚未录入") and str(exc) == exc.message
    with app.test_request_context("/", headers={"Cookie": "lang=en"}):
        assert CalendarUnknown(2031).message.startswith(
            "The holiday schedule for 2031 has not been entered")
        # a message composed from data (a plain str) is shown as it is, never looked up
        assert ValidationError("案件不存在或您无权查看").message == "案件不存在或您无权查看"
        field = ValidationError(N_("名称不能超过100个字"),
                                fields={"name": N_("名称不能超过100个字"), "raw": "用户的字"})
        assert field.fields == {"name": "The name may have at most 100 characters",
                                "raw": "用户的字"}


def test_a_service_refusal_reaches_an_english_grid_worker_in_english(client, world, now):
    """The refusal quoted in the issue: a grid worker registering in another village."""
    from casetrack.auth.tokens import create_token

    world.grid1.locale = "en"
    _row, secret = create_token(db.session, world.grid1, now, "en")
    db.session.commit()
    body = {"kind": "dispute", "title": "邻里排水纠纷（虚构）", "source": "screening",
            "received_on": "2026-11-20", "category": "邻里", "village_id": world.v2.id,
            "parties": [{"name": "王五（虚构）", "role": "applicant"},
                        {"name": "赵六（虚构）", "role": "respondent"}]}
    resp = client.post("/api/v1/cases", json=body, headers={"Authorization": f"Bearer {secret}"})
    assert resp.status_code == 403, resp.get_json()
    assert resp.get_json()["error"]["message"] == (
        "Grid workers may register cases only for the villages (communities) they are "
        "responsible for")


def test_a_step_refused_by_the_case_state_names_state_and_step_in_the_readers_language(
        client, world, now):
    """invalid_transition (the commonest refusal: a second click, a stale page) and the
    missing right: the status and step labels are translated with the sentence."""
    from casetrack.auth.tokens import create_token
    from casetrack.cases import services as svc

    case = svc.register_case(db.session, world.supervisor, now, svc.CaseInput(
        kind="petition", title="反映村道破损（虚构）", source="visit",
        received_on=now.date(), petition_class="申诉求决", category="城乡建设",
        village_id=world.v1.id, parties=[svc.PartyInput(name="李四（虚构）")]))
    svc.reject_case(db.session, world.supervisor, now, case, "不属于信访事项")
    world.supervisor.locale = "en"
    _row, secret = create_token(db.session, world.supervisor, now, "en")
    db.session.commit()
    auth = {"Authorization": f"Bearer {secret}"}
    resp = client.post(f"/api/v1/cases/{case.id}/accept", json={}, headers=auth)
    assert resp.status_code == 409
    assert resp.get_json()["error"] == {
        "code": "invalid_transition", "fields": {},
        "message": "The case is now “Not accepted”: “Accept” cannot be done"}
    # the same on a page, and in Chinese for a Chinese reader
    _english(client, "super")
    page = client.post(f"/cases/{case.id}/accept", data={}).get_data(as_text=True)
    assert "The case is now “Not accepted”: “Accept” cannot be done" in page
    client.post("/lang/zh", data={"next": "/"})
    page = client.post(f"/cases/{case.id}/accept", data={}).get_data(as_text=True)
    assert "案件当前状态为“不予受理”，不能执行“受理”" in page
    # a right the user lacks: the grid worker cannot accept a petition
    world.grid1.locale = "en"
    _row, grid_secret = create_token(db.session, world.grid1, now, "en")
    db.session.commit()
    other = svc.register_case(db.session, world.supervisor, now, svc.CaseInput(
        kind="petition", title="反映路灯损坏（虚构）", source="visit", received_on=now.date(),
        petition_class="申诉求决", category="城乡建设", village_id=world.v1.id,
        parties=[svc.PartyInput(name="王五（虚构）")]))
    db.session.commit()
    resp = client.post(f"/api/v1/cases/{other.id}/accept", json={},
                       headers={"Authorization": f"Bearer {grid_secret}"})
    assert resp.status_code == 403
    assert resp.get_json()["error"]["message"] == "You are not allowed to do this"


def _api_user(world_user, now, locale: str) -> dict[str, str]:
    from casetrack.auth.tokens import create_token

    world_user.locale = locale
    _row, secret = create_token(db.session, world_user, now, locale)
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


_CASE_BODY = {"kind": "dispute", "source": "screening", "received_on": "2026-11-20",
              "category": "邻里", "parties": [{"name": "王五（虚构）", "role": "applicant"}]}


def test_an_api_validation_error_is_english_for_an_english_token_user(client, world, now):
    """A missing required field (422) and a value of the wrong type (400): the message and
    the field messages in English; the field names and the values stay as they are."""
    auth = _api_user(world.supervisor, now, "en")
    body = {**_CASE_BODY, "village_id": world.v1.id}
    resp = client.post("/api/v1/cases", json=body, headers=auth)
    assert resp.status_code == 422, resp.get_json()
    assert resp.get_json()["error"] == {"code": "validation_error", "message": "Required",
                                        "fields": {"title": "Required"}}
    resp = client.post("/api/v1/cases", json={**body, "title": "排水纠纷（虚构）",
                                               "group_size": "三"}, headers=auth)
    assert resp.status_code == 400
    error = resp.get_json()["error"]
    assert error["message"] == "Malformed request: group_size: must be an integer"
    assert error["fields"] == {"group_size": "must be an integer"}
    # a rule the service checks: the phone number, and the date received in the future
    resp = client.post("/api/v1/cases", json={
        **body, "title": "排水纠纷（虚构）", "received_on": "2026-11-24",
        "parties": [{"name": "王五（虚构）", "role": "applicant", "phone": "12345"}]},
        headers=auth)
    assert resp.status_code == 422
    assert resp.get_json()["error"]["fields"] == {
        "parties-0-phone": "The phone number must be an 11-digit mobile number, or an area "
                           "code and number (e.g. 0759-8888888)",
        "received_on": "The date received cannot be later than today"}
    assert resp.get_json()["error"]["message"] == (
        "The phone number must be an 11-digit mobile number, or an area code and number "
        "(e.g. 0759-8888888); The date received cannot be later than today")


def test_the_same_api_errors_stay_chinese_for_a_chinese_token_user(client, world, now):
    auth = _api_user(world.supervisor, now, "zh")
    body = {**_CASE_BODY, "village_id": world.v1.id}
    resp = client.post("/api/v1/cases", json=body, headers=auth)
    assert resp.get_json()["error"]["fields"] == {"title": "必填"}
    resp = client.post("/api/v1/cases", json={**body, "title": "排水纠纷（虚构）",
                                               "group_size": "三"}, headers=auth)
    assert resp.get_json()["error"]["message"] == "请求格式不正确：group_size：应为整数"


def test_a_future_date_received_is_refused_on_the_page_in_the_readers_language(client, world):
    form = {"kind": "dispute", "title": "邻里排水纠纷（虚构）", "source": "screening",
            "category": "邻里", "village_id": str(world.v1.id), "received_on": "2026-11-24",
            "parties-0-role": "applicant", "parties-0-name": "王五（虚构）", "submit": "1"}
    _english(client, "super")
    resp = client.post("/cases/new?kind=dispute", data=form)
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "The date received cannot be later than today" in page
    assert "收到日期不能晚于今天" not in page
    client.post("/lang/zh", data={"next": "/"})
    page = client.post("/cases/new?kind=dispute", data=form).get_data(as_text=True)
    assert "收到日期不能晚于今天" in page
    assert "The date received" not in page


def test_values_in_a_refusal_stay_data_and_labels_follow_the_reader(world, now):
    """A step date bounded by another (the labels are Msgids, the dates data), the refusal
    of a petition re-examined before (Art. 36: the category and case numbers are data) and
    the authority-extension date: Chinese by default, English for an English reader."""
    import datetime as dt

    from flask_babel import force_locale

    from casetrack.cases import services as svc
    from casetrack.cases.kinds.petition.services import refuse_after_reexamination
    from casetrack.core.errors import ValidationError as VE

    earlier = svc.register_case(db.session, world.supervisor, now, svc.CaseInput(
        kind="petition", title="反映村道破损（虚构）", source="assigned",
        received_on=dt.date(2026, 11, 20), petition_class="申诉求决", category="城乡建设",
        village_id=world.v1.id, external_ref="雷信交〔2026〕7号",
        external_due_on=dt.date(2027, 1, 5), parties=[svc.PartyInput(name="李四（虚构）")]))
    db.session.commit()

    def refused(call) -> VE:
        try:
            call()
        except VE as exc:
            db.session.rollback()
            return exc
        raise AssertionError("not refused")

    accept = refused(lambda: svc.accept_case(db.session, world.supervisor, now, earlier,
                                             accepted_on=dt.date(2026, 11, 19)))
    earlier.status = "reexamined"
    again = refused(lambda: refuse_after_reexamination([earlier], "城乡建设"))
    assert accept.message == "受理日期不能早于收到日期（2026-11-20）"
    assert again.message.startswith("不予受理：同一信访人就同一事项（城乡建设）已经复核终结（"
                                    f"{earlier.number}），")
    with force_locale("en"):
        assert accept.message == "“Accepted on” cannot be earlier than “Received on” (2026-11-20)"
        assert accept.fields == {"accepted_on": accept.message}
        assert again.message.startswith(
            "Not accepted: the same petitioner’s matter (城乡建设) has already been concluded by "
            f"re-examination ({earlier.number}); under Article 36")
        assert again.fields == {"parties": f"Concluded by re-examination: {earlier.number}"}


def test_an_override_on_a_working_day_names_the_weekday_in_the_readers_language(client, world):
    """A refusal composed with a date and a weekday: the weekday is a label (translated),
    the date data."""
    _english(client, "admin")
    form = {"day": "2026-12-07", "name": "调休（虚构）", "is_workday": "1"}
    resp = client.post("/admin/calendar/overrides", data=form)
    assert resp.status_code == 422
    assert "2026-12-07 is a Monday, a working day anyway" in resp.get_data(as_text=True)
    client.post("/lang/zh", data={"next": "/"})
    page = client.post("/admin/calendar/overrides", data=form).get_data(as_text=True)
    assert "2026-12-07 是星期一，本来就是工作日" in page
