"""Several hosts behave as one: two app processes (gunicorn, each with its own upload folder,
as on two machines) and one scheduler share a PostgreSQL database and Redis.

A user logs in on the first process and keeps working on the second with the same session
cookie; a file uploaded through one (``ATTACHMENT_STORAGE = "database"``) downloads through
the other; the dashboard figures cached by one are read from Redis by the other; exactly one
scheduler holds the sender lock; refused logins counted by one process are refused by the
other (the login limits live in Redis). Needs PostgreSQL (``CASETRACK_TEST_DATABASE_URL``) and Redis
(``CASETRACK_TEST_REDIS_URL``, default redis://127.0.0.1:6379/15): skipped without them,
failed under ``CASETRACK_REQUIRE_TOOLS=1``.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from toolcheck import REQUIRE_TOOLS

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("CASETRACK_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("CASETRACK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PASSWORD = "several-hosts-1"


def _unavailable(reason: str) -> None:
    if REQUIRE_TOOLS:
        pytest.fail(reason + " (CASETRACK_REQUIRE_TOOLS=1)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, proc: subprocess.Popen, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"process on port {port} exited: {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"nothing listens on port {port}")


@pytest.fixture
def shared(tmp_path):
    """A migrated PostgreSQL database with one town, a supervisor and a case; the
    environment every process gets; Redis flushed before and after."""
    if not PG_URL:  # the SQLite run of the suite: several hosts need PostgreSQL
        pytest.skip("CASETRACK_TEST_DATABASE_URL is not set (several hosts share PostgreSQL)")
    import redis

    r = redis.Redis.from_url(REDIS_URL)
    try:
        r.ping()
    except redis.RedisError:
        _unavailable(f"Redis does not answer at {REDIS_URL}")
    r.flushdb()
    name = f"casetrack_hosts_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0"))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "CASETRACK_SQLALCHEMY_DATABASE_URI": url,
           "CASETRACK_SECRET_KEY": "shared-secret-of-every-host",
           "CASETRACK_ATTACHMENT_STORAGE": "database", "CASETRACK_REDIS_URL": REDIS_URL,
           "CASETRACK_RATELIMIT_STORAGE_URI": REDIS_URL,
           "CASETRACK_FIXED_NOW": "2026-11-23T10:00:00+08:00",
           "CASETRACK_SCHEDULER_TICK_SECONDS": "1"}
    env.pop("CASETRACK_TEST_DATABASE_URL", None)
    flask = [sys.executable, "-m", "flask", "--app", "casetrack"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True,
                   capture_output=True)
    case_id = _seed(url)
    try:
        yield {"env": env, "url": url, "case_id": case_id, "flask": flask, "redis": r,
               "tmp": tmp_path}
    finally:
        r.flushdb()
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                              "WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def _seed(url: str) -> int:
    """A town, its supervisor and one registered petition, through the services."""
    from casetrack import create_app
    from casetrack.auth.models import Role, User
    from casetrack.cases import services as svc
    from casetrack.extensions import db
    from casetrack.org.models import Town, Unit, Village
    from casetrack.org.prefixes import prefix_rows

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "seed"})
    now = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
    with app.app_context():
        town = Town(name="北和镇", county_code="440882", county_name="雷州市",
                    number_prefixes=prefix_rows(petition="北和信", dispute="北和调"))
        db.session.add_all([town, Village(town=town, name="北和社区"),
                            Unit(town=town, name="信访办")])
        sup = User(username="super", name="督办员甲", role=str(Role.SUPERVISOR), town=town)
        sup.set_password(PASSWORD)
        db.session.add(sup)
        db.session.flush()
        case = svc.register_case(db.session, sup, now, svc.CaseInput(
            kind="petition", title="反映村道破损（虚构）", summary="", source="visit",
            petition_class="申诉求决", category="城乡建设", village_id=town.villages[0].id,
            received_on=dt.date(2026, 11, 20),
            parties=[svc.PartyInput(name="张三（虚构）")]))
        db.session.commit()
        case_id = case.id
        db.session.remove()
        db.engine.dispose()
    return case_id


def _csrf(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_two_app_processes_and_one_scheduler_behave_as_one(shared):
    import requests

    procs: list[subprocess.Popen] = []
    ports = [_free_port(), _free_port()]
    try:
        for i, port in enumerate(ports):
            env = {**shared["env"], "CASETRACK_UPLOAD_FOLDER": str(shared["tmp"] / f"host{i}"),
                   "CASETRACK_LOGIN_LIMIT_PER_ACCOUNT": "3 per 15 minutes"}
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}",
                 "--no-control-socket",
                 "--log-level", "warning", "wsgi:app"],
                env=env, cwd=ROOT, start_new_session=True))
        scheduler = subprocess.Popen([*shared["flask"], "scheduler", "run"], env=shared["env"],
                                     cwd=ROOT, start_new_session=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        procs.append(scheduler)
        for port, proc in zip(ports, procs, strict=False):
            _wait_for(port, proc)
        a, b = (f"http://127.0.0.1:{p}" for p in ports)

        # log in on A; the same session works on B
        s = requests.Session()
        token = _csrf(s.get(f"{a}/login").text)
        resp = s.post(f"{a}/login", data={"username": "super", "password": PASSWORD,
                                          "csrf_token": token}, allow_redirects=False)
        assert resp.status_code == 302, resp.text
        case_url = f"/cases/{shared['case_id']}"
        page_b = s.get(f"{b}{case_url}")
        assert page_b.status_code == 200 and "反映村道破损（虚构）" in page_b.text

        # upload through A, download through B (whose upload folder never saw the file)
        data = os.urandom(300_000) + "调解协议（虚构）".encode()
        token = _csrf(s.get(f"{a}{case_url}").text)
        resp = s.post(f"{a}{case_url}/attachments", data={"csrf_token": token},
                      files={"file": ("协议.pdf", data, "application/pdf")},
                      allow_redirects=False)
        assert resp.status_code == 302, resp.text
        link = re.search(r'href="(/attachments/\d+)"', s.get(f"{b}{case_url}").text).group(1)
        got = s.get(f"{b}{link}")
        assert got.status_code == 200 and got.content == data
        assert got.headers["Content-Type"] == "application/pdf"
        assert not [f for i in (0, 1) for f in (shared["tmp"] / f"host{i}").glob("*")]

        # the dashboard of a past cut-off computed on A is cached in Redis and served on B
        past = {"from": "2026-01-01", "to": "2026-11-21", "as_of": "2026-11-21"}
        assert s.get(f"{a}/dashboard", params=past).status_code == 200
        keys = shared["redis"].keys("casetrack:stats:*")
        assert keys, "no figures cached in Redis"
        assert s.get(f"{b}/dashboard", params=past).status_code == 200
        assert set(shared["redis"].keys("casetrack:stats:*")) == set(keys)

        # one scheduler, holding the sender lock (a PostgreSQL advisory lock)
        engine = create_engine(shared["url"])
        deadline = time.monotonic() + 30
        held = 0
        while time.monotonic() < deadline and not held:
            with engine.connect() as conn:
                held = conn.scalar(text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database())"))
            time.sleep(0.5)
        engine.dispose()
        assert held == 1
        assert scheduler.poll() is None

        # refused logins counted on A are counted on B: the limits live in Redis, so a
        # guesser gains nothing by spreading attempts over the hosts
        guesser = requests.Session()
        refused = []
        for _ in range(3):
            token = _csrf(guesser.get(f"{a}/login").text)
            refused.append(guesser.post(f"{a}/login", data={
                "username": "super", "password": "wrong-guess", "csrf_token": token},
                allow_redirects=False).status_code)
        assert refused == [401, 401, 401]
        token = _csrf(guesser.get(f"{b}/login").text)
        resp = guesser.post(f"{b}/login", data={"username": "super", "password": PASSWORD,
                                                 "csrf_token": token}, allow_redirects=False)
        assert resp.status_code == 429, resp.status_code
        assert [k for k in shared["redis"].keys("*") if b"login-account" in k]
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            if proc.stdout:
                proc.stdout.close()
