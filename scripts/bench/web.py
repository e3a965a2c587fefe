#!/usr/bin/env python
"""Requests per second of the case list and case pages under gunicorn, against a bare
Flask endpoint served by the same processes with the same settings.

    .venv/bin/python scripts/bench/web.py                      # PostgreSQL county of 10k
    .venv/bin/python scripts/bench/web.py --size 1000000 --seconds 20 --workers 2

Serves the app on 127.0.0.1 with ``gunicorn -w WORKERS`` (sync workers, as in production),
on the PostgreSQL county that ``scripts/bench/pages.py`` builds (built here when missing).
The bench app is the real app (``create_app``, same config, extensions, request hooks and
response headers) plus one route, ``/bench/bare``, that returns a short text and touches
neither the database nor a template. It is measured twice in the same run:

* ``bare``: requested without a session cookie. The app's hooks run (NUL check, password
  gate, security headers) but no user is loaded: the floor of Flask plus the app's
  middleware. This is the reference of the ratio (the goal of issue 13: the list page
  serves at least a tenth of it).
* ``bare, logged in``: the same view with town 1's supervisor's session cookie. Every request
  of a logged-in user opens the session and loads the user (one query: the session-version
  check), so this is the floor of any logged-in page; printed for comparison only (it made
  the ratio look better than it is when it was the reference).

Each URL is loaded for ``--seconds`` with ``--connections`` concurrent connections, by
``wrk`` when installed (Debian package ``wrk``; installed here with apt-get when running as
root) or else a small Python load generator (threads, one request at a time each), after a
1-second warm-up of every URL. The machine's load average (``/proc/loadavg``) is printed
before and after: on a shared machine the ratios are the trustworthy part.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(HERE))

import county  # noqa: E402
import pages  # noqa: E402

#: the user whose pages are loaded
USER = "t1-supervisor"


def bench_wsgi():
    """The WSGI app gunicorn serves: the real app on ``$CASETRACK_BENCH_URL`` plus
    ``/bench/bare``. (gunicorn calls this: ``web:bench_wsgi()``.)"""
    app = pages.bench_app(os.environ["CASETRACK_BENCH_URL"])

    @app.route("/bench/bare")
    def bare():
        return "ok"

    return app


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not listen on port {port}")


def login(port: int) -> str:
    """The session cookie of ``USER`` (``name=value``)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = urlencode({"username": USER, "password": county.PASSWORD})
    conn.request("POST", "/login", body, {"Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    resp.read()
    cookie = resp.getheader("Set-Cookie") or ""
    if resp.status != 302 or not cookie:
        raise SystemExit(f"login failed: {resp.status}")
    return cookie.split(";", 1)[0]


def load_wrk(port: int, path: str, cookie: str, seconds: int, connections: int) -> tuple[float, str]:
    headers = ["-H", f"Cookie: {cookie}"] if cookie else []
    out = subprocess.run(
        ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", *headers,
         f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    latency = re.search(r"Latency\s+(\S+)", out)
    note = f"mean latency {latency.group(1) if latency else '?'}"
    if bad:
        note += f", {bad.group(1)} non-2xx"
    return rate, note


def load_python(port: int, path: str, cookie: str, seconds: int,
                connections: int) -> tuple[float, str]:
    """``connections`` threads, each requesting ``path`` in a loop (new connection each time:
    gunicorn's sync workers close it) until ``seconds`` have passed."""
    deadline = time.monotonic() + seconds
    counts, bad = [0] * connections, [0] * connections

    def worker(i: int) -> None:
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", path, headers={"Cookie": cookie} if cookie else {})
            resp = conn.getresponse()
            resp.read()
            conn.close()
            counts[i] += 1
            if resp.status != 200:
                bad[i] += 1

    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.monotonic() - start), (f"{sum(bad)} non-200" if sum(bad) else "")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=10_000, help="cases in the county")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--pg-prefix", default="bench")
    ap.add_argument("--python-load", action="store_true", help="do not use wrk")
    args = ap.parse_args()

    if not args.python_load and shutil.which("wrk") is None and os.geteuid() == 0 \
            and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False,
                       capture_output=True)
    use_wrk = not args.python_load and shutil.which("wrk") is not None
    url = pages.ensure_database("pg", args.size, False, args.pg_prefix)
    app = pages.bench_app(url)
    with app.app_context():
        from sqlalchemy import text

        from casetrack.extensions import db

        case_id = db.session.scalar(text(
            "SELECT id FROM cases WHERE town_id = 1 AND status = 'closed' ORDER BY id DESC "
            "LIMIT 1"))
        db.session.remove()
        db.engine.dispose()
    port = free_port()
    env = {**os.environ, "CASETRACK_BENCH_URL": url}
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "-w", str(args.workers),
         "-b", f"127.0.0.1:{port}",
         "--chdir", str(HERE), "--log-level", "warning",
         "--no-control-socket",
         "web:bench_wsgi()"],
        env=env, start_new_session=True)
    try:
        wait_for(port)
        cookie = login(port)
        # (label, path, logged in)
        targets = [("bare Flask endpoint", "/bench/bare", False),
                   ("bare, logged in", "/bench/bare", True),
                   ("case list, page 1", "/cases", True),
                   ("case list, all, page 1", "/cases?status=all", True),
                   ("case page", f"/cases/{case_id}", True),
                   ("home (我的待办)", "/", True)]
        load = load_wrk if use_wrk else load_python
        for _label, path, logged_in in targets:  # warm each worker up
            load(port, path, cookie if logged_in else "", 1, args.connections)
        load_before = Path("/proc/loadavg").read_text().split()[:3]
        print(f"gunicorn -w {args.workers} on PostgreSQL, county of {args.size:,} cases; "
              f"{args.connections} connections for {args.seconds} s each, "
              f"{'wrk' if use_wrk else 'Python load generator'}; "
              f"load average before {' '.join(load_before)}")
        results = []
        for label, path, logged_in in targets:
            rate, note = load(port, path, cookie if logged_in else "", args.seconds,
                              args.connections)
            results.append((label, path, rate, note))
        bare, bare_in = results[0][2], results[1][2]
        print(f"{'page':24s} {'req/s':>8s} {'of bare':>8s} {'of bare logged in':>17s}  notes")
        for label, path, rate, note in results:
            print(f"{label:24s} {rate:8.1f} {rate / bare:8.3f} {rate / bare_in:17.3f}  "
                  f"{path} {note}")
        lst = results[2][2]
        print(f"goal: list ≥ 1/10 of bare → {lst / bare:.3f} "
              f"({'met' if lst / bare >= 0.1 else 'NOT met'}); "
              f"load average after {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
