"""The reminder policy's send time is HH:MM: 8:5 is refused in words, not read as 08:05."""

import datetime as dt

import pytest

from casetrack.core.errors import ValidationError
from casetrack.extensions import db
from casetrack.reminders.policy import load_policy, parse_time

FORM = {"is_enabled": "on", "timezone": "Asia/Shanghai", "yellow_days": "3",
        "leader_overdue_days": "3", "cadence_days": "1"}


@pytest.mark.parametrize("value", ["8:5", "8:30", "08:5", "24:00", "08:60", "0830", "08:30:00",
                                   ""])
def test_parse_time_wants_two_digits_each(value):
    with pytest.raises(ValidationError):
        parse_time(value)


def test_parse_time_reads_hh_mm():
    assert parse_time(" 07:45 ") == dt.time(7, 45)
    assert parse_time("00:00") == dt.time(0, 0) and parse_time("23:59") == dt.time(23, 59)


def test_the_policy_page_refuses_a_time_that_is_not_hh_mm(world, client, auth):
    auth.login("admin")
    resp = client.post("/admin/reminders/", data={**FORM, "send_time": "8:5"})
    assert resp.status_code == 422
    assert "发送时间格式应为 时:分" in resp.get_data(as_text=True)
    assert load_policy(db.session, world.town.id).send_time == dt.time(8, 30)
    resp = client.post("/admin/reminders/", data={**FORM, "send_time": "08:05"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert load_policy(db.session, world.town.id).send_time == dt.time(8, 5)
