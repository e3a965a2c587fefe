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
                       data={"day": "2026-12-05", "name": "节" * 101}).get_data(as_text=True)
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
