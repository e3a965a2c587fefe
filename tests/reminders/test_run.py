"""The reminder run against the real database: digests per recipient, never twice a day,
stops for extended or closed cases, catches up after downtime with one digest."""

from __future__ import annotations

import datetime as dt
import re

from notify.support import petition_due
from sqlalchemy import func, select

from casetrack.cases import services as svc
from casetrack.extensions import db
from casetrack.notify.models import Notification
from casetrack.reminders.models import ReminderLog, ReminderRun
from casetrack.reminders.policy import load_policy, save_policy
from casetrack.reminders.run import run_reminders

DAY = dt.timedelta(days=1)


def _digests(user=None, channel="in_app"):
    stmt = select(Notification).where(Notification.kind == "reminder_digest",
                                      Notification.channel == channel)
    if user is not None:
        stmt = stmt.where(Notification.recipient_id == user.id)
    return db.session.scalars(stmt.order_by(Notification.id)).all()


def _run(now, **kw):
    result = run_reminders(db.session, now, **kw)
    db.session.commit()
    return result


def _scenario(world, now):
    """Cases at every level on Monday 2026-11-23 (yellow threshold 3, leader after 3 days)."""
    return {
        "yellow": petition_due(world, now, dt.date(2026, 11, 25)),
        "today": petition_due(world, now, dt.date(2026, 11, 23)),
        "late3": petition_due(world, now, dt.date(2026, 11, 20), world.handler2),
        "late4": petition_due(world, now, dt.date(2026, 11, 19)),
        "green": petition_due(world, now, dt.date(2026, 11, 27)),
    }


def test_one_digest_per_recipient_with_the_right_cases(world, now):
    cases = _scenario(world, now)
    result = _run(now)
    [town] = [t for t in result.towns if t.town_id == world.town.id]
    assert town.due_cases == 4 and town.local_day == dt.date(2026, 11, 23)

    def numbers(user):
        [digest] = _digests(user)
        return digest

    h1 = numbers(world.handler1)
    for key in ("yellow", "today", "late4"):
        assert cases[key].number in h1.body_text
    assert cases["late3"].number not in h1.body_text and cases["green"].number not in h1.body_text
    assert h1.subject == "【期限提醒】2026-11-23：已超期 1 件，今日到期 1 件，即将到期 1 件"
    sup = numbers(world.supervisor)
    assert cases["late3"].number in sup.body_text and cases["late4"].number in sup.body_text
    assert cases["yellow"].number not in sup.body_text
    leader = numbers(world.leader)
    assert leader.subject.endswith("超期督办 2 件")
    assert _digests(world.grid1) == [] and _digests(world.other_super) == []
    # the HTML digest is a table with number, title, village, handler, due date, days overdue
    html = sup.body_html
    for header in ("案件编号", "事项", "村（居）", "承办人", "到期日", "超期天数"):
        assert f"<th>{header}</th>" in html
    assert f'<a href="/cases/{cases["late4"].id}">{cases["late4"].number}</a>' in html
    assert "<td data-label=\"超期天数\">4</td>" in html and "北和社区" in html
    # in the app the table takes the app's styles (no mail-style black rules)
    assert '<table class="list responsive digest">' in html and 'border="1"' not in html


def test_second_run_the_same_day_sends_nothing_next_day_again(world, now):
    _scenario(world, now)
    first = _run(now)
    assert first.towns[0].reminders > 0
    n = len(_digests())
    second = _run(now + dt.timedelta(hours=5))
    assert second.towns[0].reminders == 0 and second.towns[0].digests == []
    assert len(_digests()) == n
    third = _run(now + DAY)  # the next day the same (and one more, now yellow) again
    assert third.towns[0].reminders == first.towns[0].reminders + 2
    assert len(_digests()) == 2 * n


def test_extended_or_closed_case_stops_being_reminded(world, now):
    late = petition_due(world, now, dt.date(2026, 11, 19))
    closing = petition_due(world, now, dt.date(2026, 11, 20))
    kept = petition_due(world, now, dt.date(2026, 11, 23))
    _run(now)
    assert late.number in _digests(world.handler1)[0].body_text
    svc.request_extension(db.session, world.handler1, now, late, 20, "需现场勘查")
    svc.decide_extension(db.session, world.leader, now, late, True)
    svc.reply_case(db.session, world.handler1, now, closing, "支持", "已处理", now.date())
    svc.close_case(db.session, world.supervisor, now, closing, rating="满意")
    db.session.commit()
    _run(now + DAY)
    latest = _digests(world.handler1)[-1].body_text
    assert kept.number in latest
    assert late.number not in latest and closing.number not in latest
    assert db.session.scalar(select(func.count()).select_from(ReminderLog).where(
        ReminderLog.local_day == dt.date(2026, 11, 24),
        ReminderLog.case_id.in_([late.id, closing.id]))) == 0


def test_three_days_down_then_one_digest_with_the_current_state(world, now):
    """Nothing ran on 11-23, 11-24, 11-25; the run on 11-26 sends today's state once."""
    cases = _scenario(world, now)
    later = now + 3 * DAY
    result = _run(later)
    [digest] = _digests(world.handler1)
    # the case that was yellow on 11-23 is overdue now, and is listed once, as overdue
    assert digest.body_text.count(cases["yellow"].number) == 1
    assert "超期 1 天" in digest.body_text
    assert {log.local_day for log in db.session.scalars(select(ReminderLog))} == {
        dt.date(2026, 11, 26)}
    assert db.session.scalar(select(func.count()).select_from(ReminderRun)
                             .where(ReminderRun.town_id == world.town.id)) == 1
    assert result.towns[0].reminders > 0
    assert len(_digests(world.supervisor)) == 1


def test_cadence_reminds_again_after_n_days(world, now):
    petition_due(world, now, dt.date(2026, 11, 19))
    policy = load_policy(db.session, world.town.id)
    policy.cadence_days = 3
    save_policy(db.session, world.town.id, policy)
    db.session.commit()
    sent = [bool(_run(now + i * DAY).towns[0].digests) for i in range(5)]
    assert sent == [True, False, False, True, False]


def test_leader_threshold_and_roles_from_policy(world, now):
    petition_due(world, now, dt.date(2026, 11, 19))  # 4 days overdue
    policy = load_policy(db.session, world.town.id)
    policy.leader_overdue_days = 5
    policy.level_roles["overdue"] = ["handler"]  # the supervisor is not told
    save_policy(db.session, world.town.id, policy)
    db.session.commit()
    _run(now)
    assert _digests(world.leader) == [] and _digests(world.supervisor) == []
    assert len(_digests(world.handler1)) == 1
    _run(now + DAY)
    assert len(_digests(world.leader)) == 1


def test_mail_digest_and_opt_out(world, now, emails, smtp):
    from casetrack.notify.services import deliver_pending, set_preference

    petition_due(world, now, dt.date(2026, 11, 19))
    set_preference(db.session, world.supervisor, "email", False)
    db.session.commit()
    _run(now)
    assert _digests(world.supervisor, "email") == [] and len(_digests(world.supervisor)) == 1
    assert deliver_pending(db.session, now).sent == 3  # the assignment, 2 digests
    digests = [m for m in smtp.messages if m["Subject"].startswith("【期限提醒】")]
    assert sorted(m["To"] for m in digests) == ["handler1@beihe.example",
                                                "leader@beihe.example"]
    msg = next(m for m in digests if m["To"] == "handler1@beihe.example")
    assert msg["Subject"] == "【期限提醒】2026-11-23：已超期 1 件"
    html = msg.get_body(("html",)).get_content()
    assert "<th>超期天数</th>" in html and "http://127.0.0.1:5000/cases/" in html
    # mail clients have no stylesheet: the red "overdue" badge carries its colour inline
    assert re.search(r'<span class="warn warn-red" style="[^"]*background:#c62828', html)
    assert "http://127.0.0.1:5000/cases/" in msg.get_body(("plain",)).get_content()


def test_disabled_policy_sends_nothing(world, now):
    petition_due(world, now, dt.date(2026, 11, 19))
    policy = load_policy(db.session, world.town.id)
    policy.is_enabled = False
    save_policy(db.session, world.town.id, policy)
    db.session.commit()
    result = _run(now)
    assert not result.towns[0].is_enabled and _digests() == []


def test_mail_digest_names_the_running_clock(world, now, emails, smtp):
    """Each line of the digest says which clock is running (办理期限, 复查期限, ...), not
    only the due date; sent through a real SMTP server on loopback."""
    from casetrack.notify.services import deliver_pending

    handling = petition_due(world, now, dt.date(2026, 11, 19), title="办理超期的事项（虚构）")
    review = petition_due(world, now, dt.date(2026, 11, 19), title="复查将到期的事项（虚构）")
    svc.reply_case(db.session, world.handler1, now, review, "解释说明", "已解释政策",
                   dt.date(2026, 10, 20))
    svc.request_review(db.session, world.supervisor, now, review, dt.date(2026, 10, 25), "不服")
    db.session.commit()
    assert (review.due_rule, review.due_on) == ("petition.review_answer", dt.date(2026, 11, 24))
    _run(now)
    deliver_pending(db.session, now)
    msg = next(m for m in smtp.messages
               if m["To"] == "handler1@beihe.example" and m["Subject"].startswith("【期限提醒】"))
    plain = msg.get_body(("plain",)).get_content()
    lines = plain.splitlines()
    at = {case.title: lines[i + 1] for i, line in enumerate(lines)
          for case in (handling, review) if case.title in line}
    assert "办理期限到期日：2026-11-19" in at[handling.title]
    assert "复查期限到期日：2026-11-24" in at[review.title]
    html = msg.get_body(("html",)).get_content()
    assert "<th>期限</th>" in html
    row = re.search(rf"<tr>(?:(?!</tr>).)*{review.number}(?:(?!</tr>).)*</tr>", html, re.S)
    assert row and '<td data-label="期限">复查期限</td>' in row.group(0)
