"""The reminder scheduler (APScheduler 3.x): embedded in the web process, or dedicated.

Two jobs: every minute, the reminder run for each town whose send time has passed today
and that has no run recorded for today (so the daily run and the catch-up after downtime
are the same check, and a policy edit takes effect without a restart); and outbox delivery
every minute. Any number of scheduler processes may run: only the one holding the sender
lock works (a PostgreSQL advisory lock held on a dedicated connection, or a lease row on
SQLite renewed each tick); the others retry each tick and take over when the holder dies.
An orderly shutdown (SIGTERM, Ctrl+C, exit) releases the lock at once, and a lease whose
holder was a process on this host that no longer exists is taken over without waiting.
The jobs are idempotent anyway (unique reminder keys, claimed outbox rows).
"""

from __future__ import annotations

import atexit
import datetime as dt
import hashlib
import logging
import os
import signal
import socket
import threading
from zoneinfo import ZoneInfo

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import delete, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from casetrack.core.time import app_now
from casetrack.core.unit import unit_of_work

log = logging.getLogger(__name__)

LOCK_NAME = "casetrack-sender"


#: the holder ids this process made (another id with our pid is a previous process's)
_OWN_HOLDERS: set[str] = set()


def _pid_space() -> str:
    """Which pid namespace this process lives in (containers sharing a host name have
    their own): a pid means the same process only within one."""
    try:
        return format(os.stat("/proc/self/ns/pid").st_ino, "x")
    except OSError:
        return "-"


def _holder_id() -> str:
    """``host:pid:random:pid-namespace``, unique per lock object."""
    holder = f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}:{_pid_space()}"
    _OWN_HOLDERS.add(holder)
    return holder


def _holder_is_gone(holder: str) -> bool:
    """Whether the process named by a holder id (``_holder_id``) is known to be dead: it
    ran on this host, in our pid namespace, and its pid is now ours (a restarted
    container) or no process's. A holder elsewhere, or one we cannot tell about (another
    id format, a namespace we cannot read), is taken to be alive."""
    parts = holder.split(":")
    if len(parts) != 4 or not parts[1].isdigit() or parts[3] == "-":
        return False
    host, pid_text, _random, space = parts
    if host != socket.gethostname() or space != _pid_space():
        return False
    pid = int(pid_text)
    if pid == os.getpid():
        return holder not in _OWN_HOLDERS
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # e.g. another user's process: alive
        return False
    return False


def _local_text(instant: dt.datetime) -> str:
    """An instant as the town reads it, for log lines."""
    from casetrack.core.time import TOWN_ZONE

    return instant.astimezone(TOWN_ZONE).isoformat(timespec="seconds")


class AdvisoryLock:
    """``pg_try_advisory_lock`` held on a dedicated connection for as long as we live.

    PostgreSQL releases it when that connection ends, so a killed holder frees it at once.
    """

    def __init__(self, engine: Engine, name: str = LOCK_NAME, holder: str | None = None):
        self.engine = engine
        self.name = name
        #: shown as the holding connection's application_name (pg_stat_activity)
        self.holder = holder or _holder_id()
        self.key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big",
                                  signed=True)
        self._conn: Connection | None = None

    @property
    def held(self) -> bool:
        return self._conn is not None

    def acquire(self, now: dt.datetime | None = None) -> bool:
        """Take the lock, or confirm we still hold it; False when another process holds it."""
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT 1"))
                return True
            except DBAPIError:
                self._drop()
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar()
        except DBAPIError:
            conn.invalidate()
            conn.close()
            return False
        if got:
            try:
                conn.execute(text("SELECT set_config('application_name', :n, false)"),
                             {"n": f"casetrack-scheduler {self.holder}"[:63]})
            except DBAPIError:
                pass  # only a name for the log of the others
            self._conn = conn
            return True
        conn.close()
        return False

    def holder_text(self) -> str:
        """Which PostgreSQL session holds the lock (its application_name names the
        scheduler process); it holds it until that session ends."""
        unsigned = self.key & 0xFFFFFFFFFFFFFFFF
        with self.engine.connect() as conn:
            row = conn.execute(text(
                "SELECT l.pid, a.application_name, a.client_addr, a.backend_start "
                "FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :hi "
                "AND l.objid = :lo AND l.objsubid = 1"),
                {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF}).first()
        if row is None:
            return "nobody holds it now"
        who = row.application_name or "an unnamed session"
        where = f" from {row.client_addr}" if row.client_addr else ""
        since = f" since {_local_text(row.backend_start)}" if row.backend_start else ""
        return (f"{who} (PostgreSQL backend pid {row.pid}{where}{since}) holds it until "
                "that session ends")

    def release(self) -> None:
        """Give the lock up (and drop the connection, which would release it anyway)."""
        if self._conn is None:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
        except DBAPIError:
            pass
        self._drop()

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.invalidate()  # really close it: no pooled connection keeps a session lock
            conn.close()


class LeaseLock:
    """A lease row in ``scheduler_leases``: ours until ``expires_at``, renewed every tick.

    A holder that dies stops renewing; another process takes over after the lease expires.
    """

    def __init__(self, engine: Engine, name: str = LOCK_NAME, holder: str | None = None,
                 ttl_seconds: int = 180):
        self.engine = engine
        self.name = name
        self.holder = holder or _holder_id()
        self.ttl = dt.timedelta(seconds=ttl_seconds)
        self.held = False

    def acquire(self, now: dt.datetime) -> bool:
        """Take or renew the lease; False while another live holder has it."""
        from casetrack.reminders.models import SchedulerLease

        # its own session, committed at once: the lease is seen by the other processes
        # whatever the jobs' session does
        with Session(self.engine) as session:
            try:
                with unit_of_work(session):
                    row = session.get(SchedulerLease, self.name)
                    if row is None:
                        session.add(SchedulerLease(name=self.name, holder=self.holder,
                                                   expires_at=now + self.ttl))
                    elif (row.holder == self.holder or row.expires_at <= now
                          or _holder_is_gone(row.holder)):
                        row.holder, row.expires_at = self.holder, now + self.ttl
                    else:
                        self.held = False
                        return False
            except (IntegrityError, OperationalError):  # another process took it first
                self.held = False
                return False
        self.held = True
        return True

    def release(self) -> None:
        """Give the lease up so another process can take over at once."""
        from casetrack.reminders.models import SchedulerLease

        with Session(self.engine) as session, unit_of_work(session):
            session.execute(delete(SchedulerLease).where(SchedulerLease.name == self.name,
                                                         SchedulerLease.holder == self.holder))
        self.held = False

    def holder_text(self) -> str:
        """Who holds the lease and until when (for the log), as far as the row says."""
        from casetrack.reminders.models import SchedulerLease

        with Session(self.engine) as session:
            row = session.get(SchedulerLease, self.name)
            if row is None:
                return "nobody holds it now"
            return (f"{row.holder} holds it until {_local_text(row.expires_at)} (a lease "
                    "renewed each tick; taken over when it lapses or its process is gone)")


def make_sender_lock(engine: Engine, name: str = LOCK_NAME, holder: str | None = None,
                     ttl_seconds: int = 180) -> AdvisoryLock | LeaseLock:
    """The right lock for the database: advisory on PostgreSQL, a lease row elsewhere."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine, name, holder)
    return LeaseLock(engine, name, holder, ttl_seconds)


class Jobs:
    """The two jobs, run under the sender lock inside an app context."""

    def __init__(self, app: Flask, lock: AdvisoryLock | LeaseLock):
        self.app = app
        self.lock = lock
        self._mutex = threading.Lock()
        #: the lock state last logged (None: nothing logged yet)
        self._had_lock: bool | None = None
        #: set by ``stop``: no job takes the lock again
        self._stopped = False

    def _have_lock(self) -> bool:
        with self._mutex:
            if self._stopped:
                return False
            try:
                got = self.lock.acquire(app_now())
            except Exception:  # the database is away: try again next tick
                log.exception("scheduler: could not check the sender lock")
                got = False
            if got != self._had_lock:
                if got:
                    log.info("scheduler (pid %s): holds the sender lock: this process sends",
                             os.getpid())
                else:
                    log.info("scheduler (pid %s): does not hold the sender lock: %s; that "
                             "process sends", os.getpid(), self.holder_text())
                self._had_lock = got
            return got

    def holder_text(self) -> str:
        """Who holds the sender lock and until when, or why that is unknown."""
        try:
            return self.lock.holder_text()
        except Exception as exc:  # noqa: BLE001 - only words for a log line
            return f"its holder could not be read ({type(exc).__name__})"

    def stop(self) -> None:
        """Orderly shutdown: give the lock up at once (another process may take over on its
        next tick) and never take it again. Safe to call twice, and from a signal handler."""
        self._stopped = True
        # a job checking the lock in another thread finishes that first (a signal handler
        # must not wait for ever, so not longer than a database round trip should take)
        locked = self._mutex.acquire(timeout=10)
        try:
            if not self.lock.held:
                return
            self.lock.release()
        except Exception:  # the database may already be gone at exit
            log.warning("scheduler: could not release the sender lock", exc_info=True)
        else:
            log.info("scheduler (pid %s): released the sender lock", os.getpid())
        finally:
            if locked:
                self._mutex.release()

    def reminders(self) -> list[int]:
        """Run reminders for the towns whose send time has passed and that have no run
        today; the ids of the towns run."""
        from casetrack.extensions import db
        from casetrack.reminders.run import run_reminders, towns_due_for_run

        with self.app.app_context():
            if not self._have_lock():
                return []
            try:
                now = app_now()
                with unit_of_work() as session:
                    towns = towns_due_for_run(session, now)
                    result = run_reminders(session, now, town_ids=towns,
                                           trigger="scheduler") if towns else None
            except Exception:  # rolled back by the unit; the next tick tries again
                log.exception("scheduler: the reminder run failed")
                return []
            finally:
                db.session.remove()
            for town in result.towns if result else ():
                log.info("reminders: %s %s: %s reminders in %s digests",
                         town.town_name, town.local_day, town.reminders, len(town.digests))
            return towns

    def deliver(self) -> int:
        """Deliver due outbox rows; how many were sent."""
        from casetrack.extensions import db
        from casetrack.notify.services import deliver_pending

        with self.app.app_context():
            if not self._have_lock():
                return 0
            try:
                report = deliver_pending(db.session, app_now())
                if report.sent or report.errors:
                    log.info("outbox: sent %s, retry %s, gave up %s", report.sent,
                             report.retried, report.gave_up)
                return report.sent
            except Exception:  # each message is its own unit (notify.services)
                db.session.rollback()
                log.exception("scheduler: outbox delivery failed")
                return 0
            finally:
                db.session.remove()


def build_scheduler(app: Flask, jobs: Jobs, *, blocking: bool):
    """An APScheduler 3 scheduler with both jobs, the first run at once (catch-up)."""
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.blocking import BlockingScheduler
    from apscheduler.triggers.interval import IntervalTrigger

    zone = ZoneInfo(app.config["TIMEZONE"])
    cls = BlockingScheduler if blocking else BackgroundScheduler
    scheduler = cls(timezone=zone, job_defaults={"coalesce": True, "max_instances": 1,
                                                 "misfire_grace_time": 300})
    start = dt.datetime.now(zone)
    every = int(app.config.get("SCHEDULER_TICK_SECONDS", 60))
    scheduler.add_job(jobs.reminders, IntervalTrigger(seconds=every, timezone=zone),
                      id="reminders", name="reminder run", next_run_time=start)
    scheduler.add_job(jobs.deliver, IntervalTrigger(seconds=every, timezone=zone),
                      id="deliver", name="outbox delivery",
                      next_run_time=start + dt.timedelta(seconds=5))
    return scheduler


def should_start_embedded(app: Flask) -> bool:
    """Embedded mode runs in the serving process only: not in tests, not in other ``flask``
    commands, and not in the reloader's parent process (which serves nothing)."""
    if not app.config.get("SCHEDULER_EMBEDDED") or app.testing:
        return False
    ctx = click.get_current_context(silent=True)
    if ctx is None:
        return True  # a WSGI server (gunicorn): the lock leaves one sender among workers
    from flask.cli import run_command

    if ctx.command is not run_command:
        return False
    reload = ctx.params.get("reload")
    uses_reloader = app.debug if reload is None else bool(reload)
    return not uses_reloader or os.environ.get("WERKZEUG_RUN_MAIN") == "true"


def _log_to_stderr() -> None:
    """Show this module's INFO lines (start, lock taken or lost, runs) on stderr next to the
    server's own output, unless the application configured logging itself."""
    if log.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def init_app(app: Flask) -> None:
    """Start the embedded scheduler when configured (see ``should_start_embedded``)."""
    app.cli.add_command(scheduler_cli)
    if not should_start_embedded(app):
        return
    from casetrack.extensions import db

    with app.app_context():
        engine = db.engine
    lock = make_sender_lock(engine, ttl_seconds=int(app.config.get("SCHEDULER_LEASE_SECONDS",
                                                                   180)))
    jobs = Jobs(app, lock)
    scheduler = build_scheduler(app, jobs, blocking=False)
    _log_to_stderr()
    scheduler.start()
    log.info("scheduler (pid %s): reminder scheduler started inside the web process "
             "(ticks every %s s)", os.getpid(), app.config.get("SCHEDULER_TICK_SECONDS", 60))
    app.extensions["casetrack_scheduler"] = scheduler

    def _stop() -> None:
        scheduler.shutdown(wait=False)
        jobs.stop()

    atexit.register(_stop)
    _stop_on_sigterm(_stop)


def _stop_on_sigterm(stop) -> None:
    """Run ``stop`` when the process is told to end (SIGTERM), then end it as before.

    Python's default SIGTERM ends the process without running ``atexit``, so a web server
    stopped by systemd or ``kill`` (``flask run``) kept its lease for SCHEDULER_LEASE_SECONDS
    and a quick restart sent nothing meanwhile. A server that handles SIGTERM itself
    (gunicorn's workers) keeps its handler: it is called after ``stop``."""
    if threading.current_thread() is not threading.main_thread():
        return  # signals are the main thread's; atexit still releases on a normal exit
    previous = signal.getsignal(signal.SIGTERM)

    def handler(signum, frame) -> None:
        stop()
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)  # ends the process as the default would

    signal.signal(signal.SIGTERM, handler)


@click.group("scheduler")
def scheduler_cli() -> None:
    """The reminder scheduler (production: one dedicated process beside gunicorn)."""


@scheduler_cli.command("run")
@click.option("--once", is_flag=True, help="run each job once (if we get the lock) and exit")
@with_appcontext
def run(once: bool) -> None:
    """Run the scheduler in the foreground until stopped (SIGTERM / Ctrl+C). Several may
    run, on one host or several: only the holder of the sender lock sends."""
    from casetrack.extensions import db

    app = current_app._get_current_object()
    lock = make_sender_lock(db.engine, ttl_seconds=int(app.config.get(
        "SCHEDULER_LEASE_SECONDS", 180)))
    jobs = Jobs(app, lock)
    if once:
        try:
            if not jobs._have_lock():
                click.echo("another scheduler holds the sender lock "
                           f"({jobs.holder_text()}); nothing done")
                return
            towns = jobs.reminders()
            sent = jobs.deliver()
            click.echo(f"reminder run for {len(towns)} town(s); {sent} notification(s) sent")
        finally:
            jobs.stop()
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    scheduler = build_scheduler(app, jobs, blocking=True)

    def _stop(signum, frame) -> None:
        # give the lock up now: jobs still running finish without it, and none takes it again
        jobs.stop()
        scheduler.shutdown(wait=False)

    previous = signal.signal(signal.SIGTERM, _stop)
    click.echo("scheduler running (Ctrl+C stops)")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        jobs.stop()
        signal.signal(signal.SIGTERM, previous)
        click.echo("scheduler stopped")
