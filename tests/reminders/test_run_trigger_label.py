"""The recent runs on the reminder page say how each run was started in the interface's
language (定时任务 / 命令行), not the stored key ("scheduler", "cli")."""

from __future__ import annotations

import datetime as dt

from casetrack.extensions import db
from casetrack.reminders.models import ReminderRun


def test_recent_runs_name_their_trigger_in_chinese_and_english(world, now, client, auth):
    for trigger in ("scheduler", "cli"):
        db.session.add(ReminderRun(town_id=world.town.id, local_day=dt.date(2026, 11, 23),
                                   started_at=now, trigger=trigger))
    db.session.commit()
    auth.login("admin")
    page = client.get("/admin/reminders/").get_data(as_text=True)
    assert "定时任务" in page and "命令行" in page
    assert ">scheduler<" not in page and ">cli<" not in page
    client.post("/lang/en", data={"next": "/admin/reminders/"})
    page = client.get("/admin/reminders/").get_data(as_text=True)
    assert ">scheduler<" in page and ">command line<" in page
