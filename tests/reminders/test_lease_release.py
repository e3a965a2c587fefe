"""The sender lock is given up on an orderly shutdown (SIGTERM to `flask run` with the
embedded scheduler, or to `flask scheduler run`), a lease left by a dead process on this
host is taken over at once, and a process without the lock says who holds it until when."""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

from sqlalchemy import create_engine, select

from casetrack import scheduler as sched
from casetrack.extensions import db
from casetrack.reminders.models import SchedulerLease
from reminders.support import free_port

ROOT = Path(__file__).resolve().parents[2]
HOLDS = "holds the sender lock: this process sends"





def _leases(url: str) -> list[tuple[str, dt.datetime]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(select(SchedulerLease.holder, SchedulerLease.expires_at)))
    finally:
        engine.dispose()


class Process:
    """A casetrack command in its own process group, its stderr collected line by line."""

    def __init__(self, database: str, tmp_path: Path, *args: str, **env: str):
        full_env = {**os.environ, "CASETRACK_SQLALCHEMY_DATABASE_URI": database,
                    "CASETRACK_SECRET_KEY": "t", "PYTHONUNBUFFERED": "1",
                    "CASETRACK_UPLOAD_FOLDER": str(tmp_path / "uploads"),
                    # a lease that would outlive the test: only a release frees it in time
                    "CASETRACK_SCHEDULER_LEASE_SECONDS": "3600", **env}
        for name in ("WERKZEUG_RUN_MAIN", "WERKZEUG_SERVER_FD"):
            full_env.pop(name, None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "casetrack", *args], cwd=ROOT,
            env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)
        self.lines: list[str] = []
        self.held = threading.Event()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line)
            if HOLDS in line:
                self.held.set()

    @property
    def output(self) -> str:
        return "".join(self.lines)

    def wait_for_lock(self, seconds: float = 60) -> None:
        assert self.held.wait(seconds), self.output

    def end(self, sig: int = signal.SIGTERM) -> int:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, sig)
        try:
            code = self.proc.wait(timeout=30)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            self.reader.join(timeout=5)
            self.proc.stdout.close()
        return code


def _web(database: str, tmp_path: Path) -> Process:
    return Process(database, tmp_path, "run", "--port", str(free_port()),
                   CASETRACK_SCHEDULER_EMBEDDED="1")


def test_sigterm_to_the_web_server_releases_the_lease(database, tmp_path):
    first = _web(database, tmp_path)
    first.wait_for_lock()
    assert len(_leases(database)) == 1
    first.end(signal.SIGTERM)
    assert "released the sender lock" in first.output, first.output
    assert _leases(database) == []
    # a quick restart sends at once
    second = _web(database, tmp_path)
    try:
        second.wait_for_lock(30)
    finally:
        second.end()


def test_sigterm_to_the_dedicated_scheduler_releases_the_lease(database, tmp_path):
    proc = Process(database, tmp_path, "scheduler", "run")
    proc.wait_for_lock()
    assert proc.end(signal.SIGTERM) == 0
    assert "released the sender lock" in proc.output and "scheduler stopped" in proc.output
    assert _leases(database) == []


def test_a_killed_holders_lease_on_this_host_is_taken_over_at_once(database, tmp_path):
    """SIGKILL leaves the lease behind; the next process on this host sees that its holder
    is gone and sends without waiting for the lease to lapse."""
    first = Process(database, tmp_path, "scheduler", "run")
    first.wait_for_lock()
    first.end(signal.SIGKILL)
    [(holder, _expires)] = _leases(database)
    assert holder.startswith(f"{socket.gethostname()}:{first.proc.pid}:")
    second = Process(database, tmp_path, "scheduler", "run")
    try:
        second.wait_for_lock(30)
    finally:
        assert second.end() == 0
    assert _leases(database) == []


def test_the_process_without_the_lock_says_who_holds_it_until_when(app, now, runner, caplog):
    other = sched.make_sender_lock(db.engine, holder="otherhost:4242:abcdef")
    assert other.acquire(now)
    try:
        result = runner.invoke(args=["scheduler", "run", "--once"])
        assert result.exit_code == 0, result.output
        assert "another scheduler holds the sender lock" in result.output
        assert "otherhost:4242:abcdef" in result.output
        if db.engine.dialect.name == "postgresql":
            assert "until that session ends" in result.output
        else:  # 10:00 in Beihe plus the 180 s lease
            assert "until 2026-11-23T10:03:00+08:00" in result.output
        jobs = sched.Jobs(app, sched.make_sender_lock(db.engine, holder="me:1:x"))
        with caplog.at_level(logging.INFO, logger="casetrack.scheduler"):
            assert jobs.reminders() == []
        assert any("does not hold the sender lock: " in r.getMessage()
                   and "otherhost:4242:abcdef" in r.getMessage() for r in caplog.records)
        jobs.stop()
    finally:
        other.release()
    # once it is released, nobody holds it
    assert sched.make_sender_lock(db.engine).holder_text() == "nobody holds it now"
