"""Four reminder runs at once (threads, one transaction each) send every reminder once:
on PostgreSQL the unique key makes the later inserts wait and skip; on SQLite the write
lock serialises the runs. Deliveries are counted at the real SMTP server."""

from __future__ import annotations

import datetime as dt
import threading

from notify.support import petition_due
from sqlalchemy import func, select

from casetrack.extensions import db
from casetrack.notify.models import Notification
from casetrack.notify.services import deliver_pending
from casetrack.reminders.models import ReminderLog
from casetrack.reminders.run import run_reminders


def test_four_runs_at_once_send_each_reminder_once(app, emails, now, smtp):
    world = emails
    for due in (dt.date(2026, 11, 19), dt.date(2026, 11, 20), dt.date(2026, 11, 23),
                dt.date(2026, 11, 25)):
        petition_due(world, now, due)
        petition_due(world, now, due, world.handler2)
    town_id = world.town.id
    db.session.remove()
    barrier = threading.Barrier(4)
    results, errors = [], []

    def one_run():
        try:
            with app.app_context():
                barrier.wait()
                result = run_reminders(db.session, now, trigger="scheduler")
                db.session.commit()
                results.append(result)
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)

    threads = [threading.Thread(target=one_run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    owned = [t.reminders for r in results for t in r.towns if t.town_id == town_id]
    assert len(owned) == 4 and sum(1 for n in owned if n) == 1
    logs = db.session.scalar(select(func.count()).select_from(ReminderLog))
    assert logs == max(owned)

    # every (recipient, channel) has exactly one digest; deliver with 4 senders at once
    rows = db.session.execute(
        select(Notification.recipient_id, Notification.channel, func.count())
        .where(Notification.kind == "reminder_digest")
        .group_by(Notification.recipient_id, Notification.channel)).all()
    assert rows and all(n == 1 for _r, _c, n in rows)
    expected_mail = sum(1 for _r, c, _n in rows if c == "email")
    db.session.remove()

    def sender():
        with app.app_context():
            deliver_pending(db.session, now, batch=1)
            db.session.remove()

    senders = [threading.Thread(target=sender) for _ in range(4)]
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    digests = [m for m in smtp.messages if m["Subject"].startswith("【期限提醒】")]
    assert len(digests) == expected_mail == 4  # handler1, handler2, supervisor, leader
    assert len({m["To"] for m in digests}) == 4
