#!/usr/bin/env python
"""Benchmark ``flask cases import`` with 1,000 and 10,000 rows: rows per second and their ratio.

Each size gets a fresh database (a town of 31 villages, 11 units with two handlers each, one
supervisor) and an .xlsx like a city's list: half the rows name a unit (imported, accepted and
assigned, its handlers notified), a third carry a resident ID number, one petitioner in twenty
petitions again (重信重访). The import runs through the CLI exactly as a user types it, then
runs again to show that a re-import changes nothing. A ratio of rows/s (10k over 1k) near 1
means the cost of a row does not grow with the size of the file.

    .venv/bin/python scripts/bench/import.py                   # SQLite, 1k and 10k rows
    .venv/bin/python scripts/bench/import.py --pg              # and PostgreSQL
    .venv/bin/python scripts/bench/import.py --sizes 1000 --profile   # cProfile of casetrack's code
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from openpyxl import Workbook  # noqa: E402
from sqlalchemy import create_engine, event, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from casetrack import create_app  # noqa: E402
from casetrack.auth.models import Role, User  # noqa: E402
from casetrack.cases.importing import COLUMNS  # noqa: E402
from casetrack.cases.models import Case  # noqa: E402
from casetrack.extensions import db  # noqa: E402
from casetrack.org.models import Town, Unit, Village  # noqa: E402
from casetrack.org.prefixes import prefix_rows  # noqa: E402

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)  # Monday 10:00 in Beihe
PG_DEFAULT = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
VILLAGES, UNITS = 31, 11


def _id_number(n: int) -> str:
    """A fictional resident ID number with a correct check digit."""
    body = f"440882{1950 + n % 50}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]
    return body + check


def workbook(n: int) -> bytes:
    """The import file: ``n`` valid rows of the template."""
    wb = Workbook()
    ws = wb.active
    ws.append([c.header for c in COLUMNS])
    for i in range(1, n + 1):
        person = i if i % 20 else i // 20  # every 20th row: a petitioner seen before
        ws.append([
            f"雷信交〔2026〕{i}号", f"反映村道破损（虚构）{i}", "上级交办", "申诉求决", "城乡建设",
            f"第{1 + i % VILLAGES}村", "2026-11-20", "2027-01-05", "雷州市信访局", "1",
            f"张{person}（虚构）", _id_number(person) if person % 3 == 0 else "",
            "13800138000", "北和社区一巷", f"单位{1 + i % UNITS}" if i % 2 else "",
            "村道破损，出行不便",
        ])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _town() -> None:
    town = Town(name="北和镇", county_code="440882", county_name="雷州市",
                number_prefixes=prefix_rows(petition="北和信", dispute="北和调"))
    db.session.add(town)
    db.session.flush()
    db.session.add_all([Village(town=town, name=f"第{i + 1}村", sort_order=i)
                        for i in range(VILLAGES)])
    units = [Unit(town=town, name=f"单位{i + 1}") for i in range(UNITS)]
    db.session.add_all(units)
    db.session.flush()
    db.session.add(User(username="super", name="督办员", role=Role.SUPERVISOR, town_id=town.id,
                        email="super@bench.example", password_hash="x"))
    # two handlers per unit: each assignment notifies them
    db.session.add_all([User(username=f"h{i}", name=f"承办人{i}", role=Role.HANDLER,
                             town_id=town.id, unit_id=units[i % UNITS].id,
                             email=f"h{i}@bench.example", password_hash="x")
                        for i in range(2 * UNITS)])
    db.session.commit()


def _database(url: str, backend: str, n: int):
    """A fresh database URL and the function that removes it."""
    if backend == "sqlite":
        folder = tempfile.mkdtemp(prefix="casetrack-bench-import-")
        path = Path(folder) / f"import-{n}.sqlite3"

        def cleanup() -> None:
            for f in path.parent.glob("*"):
                f.unlink()
            path.parent.rmdir()

        return f"sqlite:///{path}", cleanup
    name = f"casetrack_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(url).set(database=name).render_as_string(hide_password=False), drop


def bench(url: str, backend: str, n: int, profile: bool) -> tuple[float, float, float, int]:
    """Seconds for the import (wall clock and this process's CPU: on a busy machine the
    second is the steadier figure; PostgreSQL's own work is not in it), seconds for the
    re-import, and the SQL statements of the import."""
    db_url, cleanup = _database(url, backend, n)
    folder = Path(tempfile.mkdtemp(prefix="casetrack-bench-file-"))
    path = folder / f"清单{n}.xlsx"
    path.write_bytes(workbook(n))
    app = create_app({"TESTING": True, "SECRET_KEY": "bench", "SQLALCHEMY_DATABASE_URI": db_url,
                      "FIXED_NOW": NOW, "UPLOAD_FOLDER": str(folder)})
    try:
        with app.app_context():
            db.create_all()
            _town()
            statements = 0

            def count(*_args) -> None:
                nonlocal statements
                statements += 1

            event.listen(db.engine, "before_cursor_execute", count)
            runner = app.test_cli_runner()
            args = ["cases", "import", str(path), "--user", "super"]
            profiler = cProfile.Profile() if profile else None
            start, cpu_start = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            result = runner.invoke(args=args)
            if profiler:
                profiler.disable()
            seconds = time.perf_counter() - start
            cpu = time.process_time() - cpu_start
            event.remove(db.engine, "before_cursor_execute", count)
            assert result.exit_code == 0 and f"导入 {n} 件" in result.output, result.output
            db.session.remove()
            assert db.session.scalar(select(func.count()).select_from(Case)) == n
            db.session.remove()
            start = time.perf_counter()
            again = runner.invoke(args=args)
            reimport = time.perf_counter() - start
            assert again.exit_code == 0 and f"导入 0 件，{n} 件已存在" in again.output, again.output
            if profiler:
                stats = pstats.Stats(profiler).sort_stats("cumulative")
                stats.print_stats(os.environ.get("BENCH_PROFILE_FILTER", "casetrack/"), 40)
            db.session.remove()
            db.engine.dispose()
    finally:
        for f in folder.glob("*"):
            f.unlink()
        folder.rmdir()
        cleanup()
    return seconds, cpu, reimport, statements


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000])
    parser.add_argument("--pg", action="store_true", help="also run against PostgreSQL")
    parser.add_argument("--pg-url", default=os.environ.get("CASETRACK_BENCH_PG_URL", PG_DEFAULT))
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="print cProfile's top 40 functions of casetrack (cumulative); "
                             "BENCH_PROFILE_FILTER=<regex> picks other functions")
    args = parser.parse_args()
    backends = ([] if args.no_sqlite else ["sqlite"]) + (["postgresql"] if args.pg else [])
    print(f"{'database':<12}{'rows':>8}{'import s':>10}{'cpu s':>8}{'rows/s':>9}{'SQL/row':>9}"
          f"{'re-import s':>13}")
    for backend in backends:
        speeds = []
        for n in args.sizes:
            seconds, cpu, reimport, statements = bench(args.pg_url, backend, n, args.profile)
            speeds.append(n / seconds)
            print(f"{backend:<12}{n:>8,}{seconds:>10.1f}{cpu:>8.1f}{n / seconds:>9.0f}"
                  f"{statements / n:>9.1f}{reimport:>13.1f}", flush=True)
        if len(speeds) > 1:
            print(f"{backend:<12} rows/s ratio {args.sizes[-1]:,} / {args.sizes[0]:,} rows: "
                  f"{speeds[-1] / speeds[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
