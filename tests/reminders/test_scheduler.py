"""One sender at a time: the lock (advisory on PostgreSQL, lease row on SQLite), the jobs
under it, the embedded-mode guard, and `flask scheduler run --once`."""

from __future__ import annotations

import datetime as dt
import time

import click
import pytest
from flask.cli import run_command
from notify.support import petition_due
from sqlalchemy import func, select

from casetrack import scheduler as sched
from casetrack.extensions import db
from casetrack.notify.models import Notification
from casetrack.reminders.models import ReminderRun
from casetrack.reminders.policy import load_policy, save_policy


def test_only_one_lock_wins_and_release_hands_over(app, now):
    first = sched.make_sender_lock(db.engine, holder="host-a:1")
    second = sched.make_sender_lock(db.engine, holder="host-b:2")
    try:
        assert first.acquire(now) is True
        assert second.acquire(now) is False
        assert first.acquire(now + dt.timedelta(seconds=60)) is True  # renewal
        assert second.acquire(now + dt.timedelta(seconds=61)) is False
        first.release()
        assert second.acquire(now + dt.timedelta(seconds=62)) is True
        assert first.acquire(now + dt.timedelta(seconds=63)) is False
    finally:
        first.release()
        second.release()


def test_lease_of_a_dead_holder_expires(app, now):
    dead = sched.LeaseLock(db.engine, holder="dead:1", ttl_seconds=180)
    alive = sched.LeaseLock(db.engine, holder="alive:2", ttl_seconds=180)
    try:
        assert dead.acquire(now)
        assert not alive.acquire(now + dt.timedelta(seconds=179))
        assert alive.acquire(now + dt.timedelta(seconds=181))  # never renewed: taken over
        assert not dead.acquire(now + dt.timedelta(seconds=182))
    finally:
        alive.release()


def test_advisory_lock_dies_with_its_connection(app, now):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    holder = sched.AdvisoryLock(db.engine)
    other = sched.AdvisoryLock(db.engine)
    try:
        assert holder.acquire() and not other.acquire()
        holder._conn.invalidate()  # the holder's connection is gone (process killed)
        holder._conn = None
        # the server ends the holder's backend as soon as it reads the closed socket: a
        # moment later, not necessarily before another connection's next statement
        deadline = time.monotonic() + 5
        while not other.acquire() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert other.held
    finally:
        holder.release()
        other.release()


def test_reminder_job_runs_once_a_day_after_send_time(app, world, now):
    petition_due(world, now, dt.date(2026, 11, 19))
    jobs = sched.Jobs(app, sched.make_sender_lock(db.engine, holder="me"))
    other = sched.Jobs(app, sched.make_sender_lock(db.engine, holder="someone-else"))
    policy = load_policy(db.session, world.town.id)
    policy.send_time = dt.time(11, 0)  # now is 10:00 in Beihe
    town_id, other_id = world.town.id, world.other_town.id
    save_policy(db.session, town_id, policy)
    db.session.commit()
    db.session.remove()
    try:
        assert jobs.reminders() == [other_id]  # default 08:30 has passed there
        assert other.reminders() == []  # not the lock holder: does nothing
        policy.send_time = dt.time(9, 0)
        save_policy(db.session, town_id, policy)
        db.session.commit()
        db.session.remove()
        assert jobs.reminders() == [town_id]  # today's run (the catch-up at start)
        assert jobs.reminders() == []  # already ran today
    finally:
        jobs.lock.release()
    runs = db.session.scalars(select(ReminderRun).where(ReminderRun.town_id == town_id)).all()
    assert [r.trigger for r in runs] == ["scheduler"]
    assert db.session.scalar(select(func.count()).select_from(Notification)
                             .where(Notification.kind == "reminder_digest")) == 3


def test_cli_scheduler_run_once(app, world, now, runner):
    petition_due(world, now, dt.date(2026, 11, 19))
    db.session.remove()
    result = runner.invoke(args=["scheduler", "run", "--once"])
    assert result.exit_code == 0, result.output
    assert "reminder run for 2 town(s)" in result.output
    result = runner.invoke(args=["scheduler", "run", "--once"])
    assert "reminder run for 0 town(s)" in result.output
    # another process holding the lock: this one does nothing
    holder = sched.make_sender_lock(db.engine, holder="elsewhere")
    assert holder.acquire(now)
    try:
        result = runner.invoke(args=["scheduler", "run", "--once"])
        assert "another scheduler holds the sender lock" in result.output
    finally:
        holder.release()


def test_embedded_only_in_the_serving_process(app, monkeypatch):
    monkeypatch.setitem(app.config, "SCHEDULER_EMBEDDED", True)
    monkeypatch.setattr(app, "testing", False)
    monkeypatch.delenv("WERKZEUG_RUN_MAIN", raising=False)
    assert sched.should_start_embedded(app) is True  # gunicorn: no click context
    with click.Context(click.Group("flask")):
        assert sched.should_start_embedded(app) is False  # e.g. `flask reminders run`
    with click.Context(run_command) as ctx:
        ctx.params = {"reload": True}
        assert sched.should_start_embedded(app) is False  # the reloader's parent
        monkeypatch.setenv("WERKZEUG_RUN_MAIN", "true")
        assert sched.should_start_embedded(app) is True  # the reloader's child
        ctx.params = {"reload": False}
        monkeypatch.delenv("WERKZEUG_RUN_MAIN")
        assert sched.should_start_embedded(app) is True  # `flask run` without reloader
    monkeypatch.setitem(app.config, "SCHEDULER_EMBEDDED", False)
    assert sched.should_start_embedded(app) is False


def test_scheduler_has_both_jobs_due_at_start(app):
    jobs = sched.Jobs(app, sched.make_sender_lock(db.engine, holder="x"))
    scheduler = sched.build_scheduler(app, jobs, blocking=False)
    scheduler.start(paused=True)
    try:
        names = {job.id: job for job in scheduler.get_jobs()}
        assert set(names) == {"reminders", "deliver"}
        assert names["reminders"].trigger.interval == dt.timedelta(seconds=60)
    finally:
        scheduler.shutdown(wait=False)
