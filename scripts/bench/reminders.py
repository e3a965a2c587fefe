#!/usr/bin/env python
"""Benchmark one reminder run against 100k and 1M cases (about 1% due or overdue).

Builds fresh databases with bulk ``INSERT ... SELECT`` from a recursive CTE (no Python loop
per case), then times one reminder run (including the commit) and counts the SQL statements
it issued (``before_cursor_execute``). A third run on the 1M database after closing 90% of
the due cases shows that the cost follows the number of due cases, not the number of cases.

    .venv/bin/python scripts/bench/reminders.py            # SQLite, 100k and 1M
    .venv/bin/python scripts/bench/reminders.py --pg       # and PostgreSQL
    .venv/bin/python scripts/bench/reminders.py --sizes 20000 200000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import create_engine, delete, event, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from casetrack import create_app  # noqa: E402
from casetrack.auth.models import Role, User  # noqa: E402
from casetrack.cases.models import Case  # noqa: E402
from casetrack.extensions import db  # noqa: E402
from casetrack.notify.models import Notification  # noqa: E402
from casetrack.org.models import Town, Unit, Village  # noqa: E402
from casetrack.org.prefixes import prefix_rows  # noqa: E402
from casetrack.reminders.models import ReminderLog, ReminderRun  # noqa: E402
from casetrack.reminders.run import run_reminders  # noqa: E402

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in Beihe
TODAY = dt.date(2026, 11, 23)
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
HANDLERS, SUPERVISORS, LEADERS, VILLAGES, UNITS = 50, 2, 1, 31, 5


@dataclass
class Figure:
    label: str
    cases: int
    due: int
    reminders: int
    digests: int
    seconds: float
    statements: int


def _people(town: Town) -> tuple[int, int, int]:
    """Villages, units and users of the bench town; first ids of villages, units, handlers."""
    villages = [Village(town=town, name=f"第{i + 1}村", sort_order=i) for i in range(VILLAGES)]
    units = [Unit(town=town, name=f"单位{i + 1}") for i in range(UNITS)]
    db.session.add_all(villages + units)
    db.session.flush()
    handlers = []
    for i in range(HANDLERS):
        handlers.append(User(username=f"h{i}", name=f"承办人{i}", role=Role.HANDLER, town_id=town.id,
                             unit_id=units[i % UNITS].id, email=f"h{i}@bench.example",
                             password_hash="x"))
    others = [User(username=f"s{i}", name=f"督办员{i}", role=Role.SUPERVISOR, town_id=town.id,
                   email=f"s{i}@bench.example", password_hash="x") for i in range(SUPERVISORS)]
    others += [User(username=f"l{i}", name=f"镇领导{i}", role=Role.LEADER, town_id=town.id,
                    email=f"l{i}@bench.example", password_hash="x") for i in range(LEADERS)]
    others.append(User(username="admin", name="管理员", role=Role.ADMIN, town_id=town.id,
                       email="admin@bench.example", password_hash="x"))
    db.session.add_all(handlers + others)
    db.session.flush()
    return villages[0].id, units[0].id, handlers[0].id


def _date(dialect: str, offset_sql: str) -> str:
    """SQL for TODAY + offset days (offset an integer SQL expression)."""
    if dialect == "sqlite":
        return f"date('{TODAY.isoformat()}', ({offset_sql}) || ' days')"
    return f"(DATE '{TODAY.isoformat()}' + ({offset_sql}))"


def fill(n: int) -> None:
    """A town with ``n`` cases: 1% open and due within 3 days or up to 6 days overdue, 2% open
    and due later this year, 97% closed (past due dates). One INSERT ... SELECT statement."""
    town = Town(name="基准镇",
                number_prefixes=prefix_rows(petition="基准信", dispute="基准调"))
    db.session.add(town)
    db.session.flush()
    v0, u0, h0 = _people(town)
    town_id = town.id
    db.session.commit()
    db.session.close()  # SQLite: no open transaction while the bulk insert writes
    dialect = db.engine.dialect.name
    r = "(n % 1000)"
    status = f"CASE WHEN {r} < 30 THEN 'handling' ELSE 'closed' END"
    due = (f"CASE WHEN {r} < 10 THEN {_date(dialect, '(n % 10) - 6')} "
           f"WHEN {r} < 30 THEN {_date(dialect, '4 + (n % 30)')} "
           f"ELSE {_date(dialect, '-1 - (n % 700)')} END")
    cols = {
        "town_id": ":town", "kind": "'petition'",
        "number": "'基准信〔2026〕' || CAST(n AS VARCHAR(12)) || '号'",
        "number_year": "2026", "number_seq": "n",
        "title": "'事项（虚构）' || CAST(n AS VARCHAR(12))", "summary": "''",
        "source": "'visit'", "petition_class": "'建议意见'", "category": "'其他'",
        "village_id": f"{v0} + ((n / 1000) % {VILLAGES})", "received_on": ":received",
        "external_authority": "''", "group_size": "1", "is_repeat": ":false",
        "handler_id": f"{h0} + ((n / 1000) % {HANDLERS})",
        "unit_id": f"{u0} + ((n / 1000) % {UNITS})",
        "status": status, "due_on": due, "due_rule": "'petition.handle'",
        "due_basis": "'statutory'", "due_is_exact": ":true", "extension_days": "0",
        "extension_state": "'none'", "extension_reason": "''", "reply_text": "''",
        "exit_reason": "''", "agreement_text": "''", "is_risk": ":false",
        "created_at": ":now", "updated_at": ":now", "version": "1",
    }
    sql = (f"INSERT INTO cases ({', '.join(cols)}) "
           f"WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :n) "
           f"SELECT {', '.join(cols.values())} FROM seq")
    now = NOW.replace(tzinfo=None) if dialect == "sqlite" else NOW
    with db.engine.begin() as conn:
        conn.execute(text(sql), {"town": town_id, "n": n, "received": dt.date(2026, 1, 1),
                                 "false": False, "true": True, "now": now})
        conn.execute(text("ANALYZE"))


def reset_outbox() -> None:
    """Forget earlier runs, so the next run on the same day sends again."""
    for model in (Notification, ReminderLog, ReminderRun):
        db.session.execute(delete(model))
    db.session.commit()


def vacuum() -> None:
    """Clean up after bulk changes, as autovacuum / a maintenance job would."""
    db.session.remove()
    if db.engine.dialect.name == "sqlite":
        raw = db.engine.raw_connection()  # outside SQLAlchemy's BEGIN IMMEDIATE
        try:
            raw.driver_connection.execute("VACUUM")
            raw.driver_connection.execute("ANALYZE")
        finally:
            raw.close()
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


def measure(label: str) -> Figure:
    """One reminder run (plus its commit): wall time and SQL statements."""
    count = [0]

    def counter(*args):
        count[0] += 1

    db.session.remove()
    event.listen(db.engine, "before_cursor_execute", counter)
    try:
        start = time.perf_counter()
        result = run_reminders(db.session, NOW, trigger="bench")
        db.session.commit()
        seconds = time.perf_counter() - start
    finally:
        event.remove(db.engine, "before_cursor_execute", counter)
    town = result.towns[0]
    total = db.session.scalar(select(func.count()).select_from(Case))
    return Figure(label, total, town.due_cases, town.reminders, len(town.notification_ids),
                  seconds, count[0])


def plan() -> str:
    """The database's plan for the due-case query (it must use ix_cases_town_status_due)."""
    from casetrack.cases.rules import OPEN_STATUSES

    stmt = select(Case.id).where(Case.town_id == 1, Case.status.in_(sorted(OPEN_STATUSES)),
                                 Case.due_on <= TODAY + dt.timedelta(days=3))
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
    rows = db.session.execute(text(prefix + str(compiled))).all()
    db.session.rollback()
    return " | ".join(str(r[-1]) for r in rows)


def bench(url: str, sizes: list[int], backend: str) -> list[Figure]:
    figures = []
    for n in sizes:
        db_url, cleanup = url, None
        if backend == "sqlite":
            folder = tempfile.mkdtemp(prefix="casetrack-bench-")
            db_url = f"sqlite:///{folder}/bench-{n}.sqlite3"
        else:
            name = f"casetrack_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
            db_url = make_url(url).set(database=name).render_as_string(hide_password=False)

            def cleanup(admin=admin, name=name):
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": db_url,
                          "FIXED_NOW": NOW, "MAIL_SERVER": "127.0.0.1",
                          "UPLOAD_FOLDER": tempfile.gettempdir()})
        try:
            with app.app_context():
                db.create_all()
                start = time.perf_counter()
                fill(n)
                print(f"[{backend}] built {n:,} cases in {time.perf_counter() - start:.1f} s; "
                      f"plan: {plan()}", flush=True)
                figures.append(measure(f"{backend} {n:,}"))
                if n == max(sizes):
                    # same database, 90% of the due cases closed: as many due cases as the
                    # smallest database has
                    reset_outbox()
                    db.session.execute(text(
                        "UPDATE cases SET status = 'closed' WHERE status = 'handling' "
                        "AND (number_seq % 1000) < 10 AND (number_seq % 10) <> 0"))
                    db.session.commit()
                    vacuum()
                    figures.append(measure(f"{backend} {n:,}, 90% of due closed"))
                db.session.remove()
                db.engine.dispose()
        finally:
            if cleanup:
                cleanup()
            elif backend == "sqlite":
                for f in Path(db_url.removeprefix("sqlite:///")).parent.glob("*"):
                    f.unlink()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--pg", action="store_true", help="also run against PostgreSQL")
    parser.add_argument("--pg-url", default=os.environ.get("CASETRACK_BENCH_PG_URL", PG_DEFAULT))
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    sizes = sorted(args.sizes)
    figures: list[Figure] = []
    if not args.no_sqlite:
        figures += bench("", sizes, "sqlite")
    if args.pg:
        figures += bench(args.pg_url, sizes, "postgresql")
    print()
    print(f"{'database':<36}{'cases':>11}{'due':>8}{'reminders':>11}{'digests':>9}"
          f"{'seconds':>9}{'SQL stmts':>11}")
    for f in figures:
        print(f"{f.label:<36}{f.cases:>11,}{f.due:>8,}{f.reminders:>11,}{f.digests:>9,}"
              f"{f.seconds:>9.2f}{f.statements:>11,}")
    print()
    for backend in ("sqlite", "postgresql"):
        rows = [f for f in figures if f.label.startswith(backend)]
        if len(rows) < 2:
            continue
        small, big = rows[0], rows[-2] if len(rows) > 2 else rows[-1]
        print(f"{backend}: {big.cases / small.cases:.0f}x the cases, "
              f"{big.due / max(1, small.due):.1f}x the due cases -> "
              f"{big.seconds / small.seconds:.1f}x the time, "
              f"{big.statements / small.statements:.1f}x the statements")
        if len(rows) > 2:
            same = rows[-1]
            print(f"{backend}: {same.cases / small.cases:.0f}x the cases, "
                  f"{same.due / max(1, small.due):.1f}x the due cases -> "
                  f"{same.seconds / small.seconds:.1f}x the time, "
                  f"{same.statements / small.statements:.1f}x the statements")


if __name__ == "__main__":
    main()
