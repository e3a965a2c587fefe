"""The holiday calendar's forms refuse what they cannot store, in words, instead of saving a
guess: a type that is neither 放假 nor 调休上班, a year no override may name."""

import pytest
from sqlalchemy import func, select

from casetrack.deadlines.models import HolidayOverride
from casetrack.extensions import db


@pytest.fixture
def admin_client(client, auth, world):
    assert auth.login("admin").status_code == 302
    return client


def test_a_type_that_is_neither_holiday_nor_workday_is_refused(admin_client):
    for value in ("maybe", "", "2"):
        resp = admin_client.post("/admin/calendar/overrides",
                                 data={"day": "2026-12-23", "is_workday": value})
        assert resp.status_code == 422, value
        assert "请选择放假或调休上班" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(HolidayOverride)) == 0
    resp = admin_client.post("/admin/calendar/overrides",
                             data={"day": "2026-12-23", "is_workday": "0"})
    assert resp.status_code == 302


def test_a_year_no_override_may_name_has_no_entry_form(admin_client):
    for year in (0, 1999, 2101):
        assert admin_client.get(f"/admin/calendar/year/{year}").status_code == 404, year
        resp = admin_client.post(f"/admin/calendar/year/{year}", data={"entries": ""})
        assert resp.status_code == 404, year
    for year in (2000, 2100):
        assert admin_client.get(f"/admin/calendar/year/{year}").status_code == 200, year


def test_an_over_long_basis_is_refused_not_cut(admin_client):
    from .calendar_support import schedule_text

    resp = admin_client.post("/admin/calendar/year/2027",
                             data={"entries": schedule_text(), "source": "国" * 201})
    assert resp.status_code == 422
    assert "依据不能超过200个字符" in resp.get_data(as_text=True)
    resp = admin_client.post("/admin/calendar/year/2027",
                             data={"entries": schedule_text(), "source": "国" * 200})
    assert resp.status_code == 302
