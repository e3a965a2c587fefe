"""`flask reminders run` through the CLI runner, the admin policy page and the provisional
due dates (banner, listing, admin notice) through the client."""

from __future__ import annotations

import datetime as dt

from notify.support import petition_due
from sqlalchemy import func, select

from casetrack.cases import services as svc
from casetrack.deadlines.models import CalendarYear
from casetrack.extensions import db
from casetrack.notify.models import Notification
from casetrack.org.models import TownSetting
from casetrack.reminders.models import ReminderLog, ReminderRun
from casetrack.reminders.policy import load_policy


def _counts() -> tuple[int, int, int]:
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (ReminderLog, ReminderRun, Notification))


def test_cli_dry_run_writes_nothing_then_run_prints_by_recipient(world, now, runner):
    number = petition_due(world, now, dt.date(2026, 11, 19)).number
    before = _counts()
    db.session.remove()
    result = runner.invoke(args=["reminders", "run", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would send in 3 digest(s)" in result.output
    assert "承办人甲 (handler1, 承办人) via in_app:" in result.output
    assert f"[已超期] {number}" in result.output
    assert "督办员 (super, 督办员) via in_app:" in result.output
    assert f"[超期督办] {number}" in result.output
    assert _counts() == before

    result = runner.invoke(args=["reminders", "run"])
    assert result.exit_code == 0, result.output
    assert "3 reminder(s) sent in 3 digest(s) (run #" in result.output
    assert _counts()[0] == 3
    result = runner.invoke(args=["reminders", "run"])
    assert "0 reminder(s) sent in 0 digest(s)" in result.output and "nothing to send" in result.output
    result = runner.invoke(args=["reminders", "run", "--dry-run", "--now", "2026-11-24T08:30"])
    assert "北和镇 2026-11-24: 1 due case(s), 3 reminder(s) would send" in result.output
    result = runner.invoke(args=["reminders", "run", "--now", "yesterday"])
    assert result.exit_code != 0 and "not an ISO datetime" in result.output


def test_policy_page_for_admins_only(world, now, client, auth):
    auth.login("super")
    assert client.get("/admin/reminders/").status_code == 403
    auth.logout()
    auth.login("admin")
    page = client.get("/admin/reminders/").get_data(as_text=True)
    assert 'name="send_time" value="08:30"' in page and "提醒对象" in page
    form = {"is_enabled": "on", "send_time": "07:45", "timezone": "Asia/Shanghai",
            "yellow_days": "5", "leader_overdue_days": "7", "cadence_days": "2",
            "level:overdue:supervisor": "on", "level:escalated:leader": "on",
            "level:yellow:handler": "on", "channel:supervisor:email": "on",
            "webhook_style": "dingtalk", "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=x",
            "webhook_secret": "SECxyz"}
    resp = client.post("/admin/reminders/", data=form)
    assert resp.status_code == 302
    policy = load_policy(db.session, world.town.id)
    assert (policy.send_time, policy.yellow_days, policy.leader_overdue_days,
            policy.cadence_days) == (dt.time(7, 45), 5, 7, 2)
    assert policy.level_roles["overdue"] == ["supervisor"]
    assert policy.level_roles["due_today"] == []
    assert policy.role_channels == {"handler": [], "supervisor": ["email"], "leader": [],
                                    "admin": []}
    settings = dict(db.session.execute(select(TownSetting.key, TownSetting.value)
                                       .where(TownSetting.town_id == world.town.id)).all())
    assert settings["notify.webhook_secret"] == "SECxyz"
    # an empty secret field keeps the stored secret
    resp = client.post("/admin/reminders/", data={**form, "webhook_secret": ""})
    db.session.expire_all()
    assert db.session.scalar(select(TownSetting.value).where(
        TownSetting.key == "notify.webhook_secret")) == "SECxyz"
    bad = client.post("/admin/reminders/", data={**form, "yellow_days": "99",
                                                  "webhook_url": "ftp://x"})
    assert bad.status_code == 422
    assert "黄色预警天数应在0至30之间" in bad.get_data(as_text=True)
    assert load_policy(db.session, world.town.id).yellow_days == 5


def _provisional_case(world, now):
    """Accepted today: the 60 days run into 2027, which nobody has entered yet."""
    data = svc.CaseInput(kind="petition", title="跨年事项（虚构）", source="visit",
                         received_on=dt.date(2026, 11, 20), petition_class="建议意见",
                         category="其他", village_id=world.v1.id,
                         parties=[svc.PartyInput(name="孙七（虚构）")])
    case = svc.register_case(db.session, world.supervisor, now, data)
    svc.accept_case(db.session, world.supervisor, now, case)
    db.session.commit()
    assert case.due_on.year == 2027 and case.due_is_exact is False
    return case


def test_next_year_unknown_banner_listing_and_admin_notice(world, now, client, auth, runner):
    case = _provisional_case(world, now)
    number = case.number
    auth.login("admin")
    page = client.get("/notifications/").get_data(as_text=True)
    assert "2027 年的节假日与调休安排尚未录入" in page
    assert 'href="/admin/calendar' in page
    listing = client.get("/admin/reminders/provisional").get_data(as_text=True)
    assert case.number in listing and "（暂定）" in listing

    db.session.remove()
    result = runner.invoke(args=["reminders", "run"])
    assert "1 case(s) with a provisional due date (2027 has no holiday schedule)" in result.output
    assert f"[期限待定] {number}" in result.output
    admin_id = world.admin.id
    [notice] = db.session.scalars(select(Notification).where(
        Notification.recipient_id == admin_id, Notification.kind == "reminder_digest")).all()
    assert "期限待定 1 件" in notice.subject
    assert "2027 年的节假日安排尚未录入" in notice.body_text
    assert "/admin/calendar" in notice.body_html

    db.session.add(CalendarYear(year=2027, source="国办发明电〔2026〕X号（虚构）"))
    db.session.commit()
    page = client.get("/notifications/").get_data(as_text=True)
    assert "年的节假日与调休安排尚未录入" not in page


def test_banner_is_for_admins_only(world, now, client, auth):
    auth.login("super")
    assert "年的节假日与调休安排尚未录入" not in client.get("/notifications/").get_data(as_text=True)
