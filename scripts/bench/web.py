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

The ratios are printed on lines of their own (``ratio list ÷ bare = …``, with the goal), and
then, unless ``--no-breakdown``, where a request's time goes, measured in this process on the
same database through the Flask test client (no HTTP, no gunicorn): the median wall time
and CPU time per request, the time spent in the database driver (sending statements and
waiting for their answers: the SQL and its round trips), in template rendering, and the
rest (Flask, routing, session cookie, user loading, ORM, forms), with the statements and
round trips (statements, BEGIN, COMMIT/ROLLBACK) per request. Next to it, "served" is
what one request costs a gunicorn worker under the load (workers × 1000 / req/s, in ms);
served less in-process wall is the HTTP server, the client and the machine's contention.
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
    return with_bare(pages.bench_app(os.environ["CASETRACK_BENCH_URL"]))


def with_bare(app):
    """``app`` with the route ``/bench/bare``: a short text, no database, no template."""

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


def breakdown(url: str, targets: list[tuple[str, str, bool]], repeat: int) -> dict[str, dict]:
    """Per target label: median ``wall``, ``cpu``, ``sql`` (driver), ``template`` (ms) and
    the ``statements`` and ``round_trips`` per request, measured in this process."""
    import statistics

    import flask.templating
    from sqlalchemy import event

    from casetrack.extensions import db

    app = with_bare(pages.bench_app(url))
    with app.app_context():
        engine = db.engine
    acc = {"sql": 0.0, "template": 0.0, "statements": 0, "trips": 0}

    def before(conn, *args):
        conn.info["bench_t"] = time.perf_counter()

    def after(conn, *args):
        acc["sql"] += time.perf_counter() - conn.info.pop("bench_t", time.perf_counter())
        acc["statements"] += 1
        acc["trips"] += 1

    def transaction(conn, *args):
        acc["trips"] += 1  # BEGIN, COMMIT or ROLLBACK: one round trip each on PostgreSQL

    listeners = [("before_cursor_execute", before), ("after_cursor_execute", after),
                 ("begin", transaction), ("commit", transaction), ("rollback", transaction)]
    for name, fn in listeners:
        event.listen(engine, name, fn)
    render = flask.templating._render

    def timed_render(*args, **kwargs):
        t = time.perf_counter()
        try:
            return render(*args, **kwargs)
        finally:
            acc["template"] += time.perf_counter() - t

    flask.templating._render = timed_render
    out: dict[str, dict] = {}
    try:
        anonymous, user = app.test_client(), app.test_client()
        if user.post("/login", data={"username": USER, "password": county.PASSWORD}) \
                .status_code != 302:
            raise SystemExit("login failed (breakdown)")
        for label, path, logged_in in targets:
            client = user if logged_in else anonymous
            for _ in range(5):
                resp = client.get(path)
                resp.get_data()
            if resp.status_code != 200:
                raise SystemExit(f"{path}: {resp.status_code} (breakdown)")
            rows = []
            for _ in range(repeat):
                acc.update(sql=0.0, template=0.0, statements=0, trips=0)
                c0, t0 = time.process_time(), time.perf_counter()
                client.get(path).get_data()
                rows.append((time.perf_counter() - t0, time.process_time() - c0, acc["sql"],
                             acc["template"], acc["statements"], acc["trips"]))
            med = [statistics.median(col) for col in zip(*rows, strict=True)]
            out[label] = {"wall": med[0] * 1000, "cpu": med[1] * 1000, "sql": med[2] * 1000,
                          "template": med[3] * 1000, "statements": med[4],
                          "round_trips": med[5]}
    finally:
        flask.templating._render = render
        for name, fn in listeners:
            event.remove(engine, name, fn)
        engine.dispose()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=10_000, help="cases in the county")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--pg-prefix", default="bench")
    ap.add_argument("--python-load", action="store_true", help="do not use wrk")
    ap.add_argument("--no-breakdown", action="store_true",
                    help="skip the in-process breakdown per request")
    ap.add_argument("--repeat", type=int, default=100,
                    help="requests per page of the in-process breakdown")
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
        load_after = Path("/proc/loadavg").read_text().split()[:3]
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    bare, bare_in = results[0][2], results[1][2]
    rate = {label: r for label, _path, r, _note in results}
    print(f"{'page':24s} {'req/s':>8s} {'of bare':>8s} {'of bare logged in':>17s}  notes")
    for label, path, r, note in results:
        print(f"{label:24s} {r:8.1f} {r / bare:8.3f} {r / bare_in:17.3f}  {path} {note}")
    print(f"load average after {' '.join(load_after)}")
    lst, case = rate["case list, page 1"], rate["case page"]
    print()
    print(f"ratio list ÷ bare            = {lst / bare:.3f}   goal ≥ 0.100: "
          f"{'met' if lst / bare >= 0.1 else 'NOT met'}")
    print(f"ratio case page ÷ bare       = {case / bare:.3f}")
    print(f"ratio list ÷ bare logged in  = {lst / bare_in:.3f}")
    print(f"ratio bare logged in ÷ bare  = {bare_in / bare:.3f}   "
          "(the ceiling of any logged-in page's ratio)")
    if args.no_breakdown:
        return
    print()
    print(f"where a request's time goes (in process, test client, median of {args.repeat}; "
          f"ms; load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])})")
    parts = breakdown(url, targets, args.repeat)
    print(f"{'page':24s} {'served':>7s} {'wall':>6s} {'cpu':>6s} {'driver':>7s} "
          f"{'template':>8s} {'rest':>6s} {'stmts':>5s} {'trips':>5s}")
    for label, _path, r, _note in results:
        p = parts[label]
        served = args.workers * 1000 / r
        print(f"{label:24s} {served:7.2f} {p['wall']:6.2f} {p['cpu']:6.2f} {p['sql']:7.2f} "
              f"{p['template']:8.2f} {p['wall'] - p['sql'] - p['template']:6.2f} "
              f"{p['statements']:5.0f} {p['round_trips']:5.0f}")
    print("served: a worker's ms per request under gunicorn (workers × 1000 / req/s); "
          "driver: statements sent and answered (SQL + round trips); rest: Flask, session, "
          "user, ORM, forms")


if __name__ == "__main__":
    main()
