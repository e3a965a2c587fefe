"""Benchmark of the statistics layer on a county of 1,000,000 cases (SQLite).

    .venv/bin/python scripts/bench/stats.py [--cases 1000000] [--towns 100] [--db PATH]
                                            [--rebuild] [--repeat 5]

Builds (once; ``--rebuild`` to redo) a database of ``--cases`` cases spread over ``--towns``
towns and six years (2020-2025), with the timeline events the as-of figures are
reconstructed from (registration with its due date, acceptance, closure with its day and
rating; disputes resolved at village or town level), all with bulk ``INSERT ... SELECT``
from a recursive CTE. Then prints, for one town's 2025 and for the whole county's 2025 as of
2025-12-31:

* the time of ``stats.queries.summary`` (the stats layer: SQL built by SQLAlchemy, one
  GROUP BY, rows turned into dataclasses),
* the time of one hand-written SQL statement computing the same counts (checked equal),
* their ratio, and the time to build the monthly summary PDF of December 2025 for the town.

Each side is run once to warm up (statement caches, page cache), then ``--repeat`` times with
the stats layer and the hand-written SQL alternating, so that both see the same state of the
machine; the times printed are the medians (and the fastest run in brackets).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import text  # noqa: E402

from casetrack import create_app  # noqa: E402
from casetrack.cases.rules import OPEN_STATUSES  # noqa: E402
from casetrack.extensions import db  # noqa: E402
from casetrack.stats.metrics import METRIC_LIST  # noqa: E402

START = dt.date(2020, 1, 1)
DAYS = 6 * 365 + 1  # 2020-01-01 .. 2025-12-31
AS_OF = dt.date(2025, 12, 31)
YEAR = (dt.date(2025, 1, 1), dt.date(2025, 12, 31))
PETITION_SOURCES = ("assigned", "forwarded", "letter", "visit", "call", "online", "leader_visit")
CATEGORIES = ("城乡建设", "农村农业", "劳动和社会保障", "自然资源", "生态环境", "其他")
TS = "'%Y-%m-%d %H:%M:%f'"


def build(n_cases: int, n_towns: int) -> None:
    """Fill an empty schema with towns, villages, units and cases with their events."""
    conn = db.session.connection()
    t0 = time.perf_counter()
    for t in range(1, n_towns + 1):
        conn.execute(text(
            "INSERT INTO towns (id, name, county_code, county_name, created_at) "
            "VALUES (:id, :name, '440882', '雷州市', '2020-01-01 00:00:00.000000')"),
            {"id": t, "name": f"测试{t}镇"})
        conn.execute(text("INSERT INTO case_number_prefixes (town_id, kind, code) "
                          "VALUES (:t, 'petition', :p), (:t, 'dispute', :d)"),
                     {"t": t, "p": f"测{t}信", "d": f"测{t}调"})
        for v in range(10):
            conn.execute(text("INSERT INTO villages (id, town_id, name, kind, sort_order, is_active)"
                              " VALUES (:id, :t, :n, '行政村', :s, 1)"),
                         {"id": (t - 1) * 10 + v + 1, "t": t, "n": f"第{v + 1}村", "s": v})
        for u in range(5):
            conn.execute(text("INSERT INTO units (id, town_id, name, is_active) "
                              "VALUES (:id, :t, :n, 1)"),
                         {"id": (t - 1) * 5 + u + 1, "t": t, "n": f"第{u + 1}办"})
    # the generator: id, a hash h in 0..99, town, kind, received day, days to close
    conn.execute(text("DROP TABLE IF EXISTS bench_gen"))
    conn.execute(text(f"""
        CREATE TABLE bench_gen AS
        WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < {n_cases})
        SELECT i AS id, ((i * 2654435761) % 1000003) % 100 AS h, (i % {n_towns}) + 1 AS town_id,
               CASE WHEN i % 3 = 0 THEN 'dispute' ELSE 'petition' END AS kind,
               date('{START}', '+' || ((i * 7919) % {DAYS}) || ' days') AS received_on
        FROM seq"""))
    conn.execute(text("""
        ALTER TABLE bench_gen ADD COLUMN closed_on TEXT"""))
    # most cases are closed 5..64 days after receipt (if that is before the end of the data);
    # 3 in 100 stay open, 2 in 100 petitions are not accepted
    conn.execute(text(f"""
        UPDATE bench_gen SET closed_on = CASE
            WHEN h < 3 THEN NULL
            WHEN date(received_on, '+' || (5 + (id % 60)) || ' days') > '{AS_OF}' THEN NULL
            ELSE date(received_on, '+' || (5 + (id % 60)) || ' days') END"""))
    gen_s = time.perf_counter() - t0

    values = {
        "id": "g.id", "town_id": "g.town_id", "kind": "g.kind",
        "number": "'测' || g.id || '号'", "number_year": "CAST(substr(g.received_on, 1, 4) AS INT)",
        "number_seq": "g.id", "title": "'测试事项' || g.id", "summary": "''",
        "source": "CASE WHEN g.kind = 'dispute' THEN 'screening' ELSE "
                  + "CASE g.id % 7 " + " ".join(f"WHEN {i} THEN '{s}'" for i, s in
                                                 enumerate(PETITION_SOURCES)) + " END END",
        "petition_class": "CASE WHEN g.kind = 'petition' THEN '申诉求决' END",
        "category": "CASE g.id % 6 " + " ".join(f"WHEN {i} THEN '{c}'" for i, c in
                                                enumerate(CATEGORIES)) + " END",
        "village_id": "(g.town_id - 1) * 10 + (g.id % 10) + 1",
        "unit_id": "(g.town_id - 1) * 5 + (g.id % 5) + 1",
        "received_on": "g.received_on",
        "accepted_on": "CASE WHEN g.kind = 'petition' AND g.h >= 5 "
                       "THEN date(g.received_on, '+' || (g.id % 20) || ' days') END",
        "status": "CASE WHEN g.kind = 'petition' AND g.h IN (3, 4) THEN 'not_accepted' "
                  "WHEN g.closed_on IS NOT NULL THEN 'closed' "
                  "WHEN g.kind = 'dispute' THEN 'mediating' "
                  "WHEN g.h >= 5 THEN 'handling' ELSE 'registered' END",
        "due_on": "CASE WHEN g.kind = 'dispute' THEN date(g.received_on, '+30 days') "
                  "WHEN g.h >= 5 THEN date(g.received_on, '+60 days') "
                  "ELSE date(g.received_on, '+15 days') END",
        "closed_on": "g.closed_on",
        # the day the petitioner must be told (rule petition.notify: 15 days; the bench's
        # calendar ignores holidays) and the day of a dispute's agreement (the day before
        # its closure, as the resolve event below)
        "notify_due_on": "CASE WHEN g.kind = 'petition' THEN date(g.received_on, '+15 days') END",
        "mediated_on": "CASE WHEN g.kind = 'dispute' AND g.closed_on IS NOT NULL "
                       "THEN date(g.closed_on, '-1 days') END",
        "rating": "CASE WHEN g.kind = 'petition' AND g.closed_on IS NOT NULL AND g.h >= 5 THEN "
                  "CASE g.id % 4 WHEN 0 THEN '满意' WHEN 1 THEN '基本满意' WHEN 2 THEN '不满意' "
                  "ELSE '未评价' END END",
        "resolution_level": "CASE WHEN g.kind = 'dispute' AND g.closed_on IS NOT NULL THEN "
                            "CASE WHEN g.id % 4 = 0 THEN 'town' ELSE 'village' END END",
        "created_at": f"strftime({TS}, g.received_on, '+1 hours')",
        "updated_at": f"strftime({TS}, g.received_on, '+1 hours')",
        "version": "1",
    }
    names, exprs = [], []
    for col in db.metadata.tables["cases"].columns:
        name = col.name
        if name in values:
            expr = values[name]
        elif col.nullable or col.server_default is not None:
            continue
        elif col.default is not None and col.default.is_scalar:
            arg = col.default.arg
            # a StrEnum default (typed statuses) is written as its stored string
            expr = (str(int(arg)) if isinstance(arg, bool)
                    else repr(str(arg)) if isinstance(arg, str) else repr(arg))
        else:
            expr = _neutral(col.type.__class__.__name__)
        names.append(name)
        exprs.append(expr)
    conn.execute(text(f"INSERT INTO cases ({', '.join(names)}) "
                      f"SELECT {', '.join(exprs)} FROM bench_gen g"))
    ev = "INSERT INTO case_events (case_id, at, action, from_status, to_status, changes, note) "
    # registration: status and first due date
    conn.execute(text(ev + f"""
        SELECT g.id, strftime({TS}, g.received_on, '+1 hours'), 'register', NULL, 'registered',
               json_object('status', json_array(NULL, 'registered'),
                           'due_on', json_array(NULL, date(g.received_on,
                               CASE g.kind WHEN 'dispute' THEN '+30 days' ELSE '+15 days' END))),
               ''
        FROM bench_gen g"""))
    # acceptance of petitions (h >= 5): the handling due date
    conn.execute(text(ev + f"""
        SELECT g.id, strftime({TS}, date(g.received_on, '+' || (g.id % 20) || ' days'),
                              '+2 hours'),
               'accept', 'registered', 'accepted',
               json_object('accepted_on', json_array(NULL, date(g.received_on, '+' || (g.id % 20)
                                                         || ' days')),
                           'due_on', json_array(date(g.received_on, '+15 days'),
                                                date(g.received_on, '+60 days'))), ''
        FROM bench_gen g WHERE g.kind = 'petition' AND g.h >= 5"""))
    # not accepted
    conn.execute(text(ev + f"""
        SELECT g.id, strftime({TS}, g.received_on, '+3 hours'), 'reject', 'registered',
               'not_accepted', json_object('closed_on', json_array(NULL, g.received_on)), '不予受理'
        FROM bench_gen g WHERE g.kind = 'petition' AND g.h IN (3, 4)"""))
    # disputes: mediation
    conn.execute(text(ev + f"""
        SELECT g.id, strftime({TS}, g.received_on, '+4 hours'), 'start_mediation', 'registered',
               'mediating', json_object('mediation_level', json_array(NULL, 'village')), ''
        FROM bench_gen g WHERE g.kind = 'dispute'"""))
    # closure (petitions with their rating; disputes resolved first)
    conn.execute(text(ev + f"""
        SELECT c.id, strftime({TS}, date(c.closed_on, '-1 days'), '+5 hours'), 'resolve',
               'mediating', 'resolved',
               json_object('resolution_level', json_array(NULL, c.resolution_level)), ''
        FROM cases c WHERE c.kind = 'dispute' AND c.closed_on IS NOT NULL"""))
    conn.execute(text(ev + f"""
        SELECT c.id, strftime({TS}, c.closed_on, '+6 hours'), 'close',
               CASE c.kind WHEN 'dispute' THEN 'resolved' ELSE 'replied' END, 'closed',
               json_object('closed_on', json_array(NULL, c.closed_on),
                           'rating', json_array(NULL, c.rating)), ''
        FROM cases c WHERE c.status = 'closed'"""))
    # 复查 / 复核 (Arts. 35-36) on some closed petitions, 司法确认 on some resolved disputes: the
    # dates only (the figures compare them with the cut-off and the stage's own due date);
    # one in three reviews answered late, one in four re-examinations still open
    conn.execute(text("""
        UPDATE cases SET review_requested_on = date(closed_on, '+' || (id % 25) || ' days'),
                         review_due_on = date(closed_on, '+' || (id % 25 + 30) || ' days'),
                         review_decided_on = date(closed_on, '+' || (id % 25 + 20
                             + CASE WHEN id % 3 = 0 THEN 15 ELSE 0 END) || ' days')
        WHERE kind = 'petition' AND status = 'closed' AND id % 17 = 0"""))
    conn.execute(text("""
        UPDATE cases SET reexam_requested_on = date(review_decided_on, '+' || (id % 20) || ' days'),
                         reexam_due_on = date(review_decided_on, '+' || (id % 20 + 30) || ' days'),
                         reexam_decided_on = CASE WHEN id % 4 = 0 THEN NULL ELSE
                             date(review_decided_on, '+' || (id % 20 + 25) || ' days') END
        WHERE review_decided_on IS NOT NULL AND id % 2 = 0"""))
    conn.execute(text("""
        UPDATE cases SET judicial_applied_on = date(closed_on, '+' || (id % 30) || ' days'),
                         judicial_court = '测试法院'
        WHERE kind = 'dispute' AND resolution_level IS NOT NULL AND id % 5 = 0"""))
    conn.execute(text("DROP TABLE bench_gen"))
    db.session.commit()
    conn = db.session.connection()
    conn.execute(text("ANALYZE"))
    db.session.commit()
    n_events = db.session.scalar(text("SELECT count(*) FROM case_events"))
    print(f"built {n_cases:,} cases and {n_events:,} events over {n_towns} towns in "
          f"{time.perf_counter() - t0:.1f} s (generator {gen_s:.1f} s)")


def _neutral(type_name: str) -> str:
    """A value for a NOT NULL column the benchmark does not care about."""
    if type_name in ("Integer", "INTEGER", "BigInteger", "Boolean", "BOOLEAN"):
        return "0"
    if type_name in ("JSON",):
        return "'{}'"
    return "''"


def hand_sql(town_id: int | None) -> str:
    """The same figures as ``summary``, written by hand for SQLite: one statement."""
    open_list = ", ".join(f"'{s}'" for s in sorted(OPEN_STATUSES))
    town = "AND c.town_id = :town" if town_id is not None else ""
    return f"""
    WITH cohort AS (
      SELECT c.id, c.kind, c.source, c.received_on, c.accepted_on, c.resolution_level,
             c.due_on, c.closed_on, c.rating, c.notify_due_on, c.mediated_on, c.follow_up_on,
             c.follow_up_due_on, c.review_requested_on, c.review_due_on, c.review_decided_on,
             c.reexam_requested_on, c.reexam_due_on, c.reexam_decided_on,
             c.judicial_applied_on,
             (SELECT e.id FROM case_events e
               WHERE e.case_id = c.id AND e.at < :end AND e.to_status IS NOT NULL
                 AND (e.from_status IS NULL OR e.from_status != e.to_status)
               ORDER BY e.at DESC, e.id DESC LIMIT 1) AS ev_id,
             CASE WHEN EXISTS (SELECT 1 FROM case_events e
                                WHERE e.case_id = c.id AND e.at >= :end
                                  AND json_extract(e.changes, '$.due_on[1]') IS NOT NULL)
               THEN (SELECT json_extract(e.changes, '$.due_on[1]') FROM case_events e
                      WHERE e.case_id = c.id AND e.at < :end
                        AND json_extract(e.changes, '$.due_on[1]') IS NOT NULL
                      ORDER BY e.at DESC, e.id DESC LIMIT 1) END AS due_text
      FROM cases c WHERE c.received_on >= :from AND c.received_on <= :to {town}
      LIMIT -1 OFFSET 0
    ), r AS (
      SELECT x.kind, x.source, x.received_on, x.accepted_on, x.resolution_level,
             x.notify_due_on, x.mediated_on, x.follow_up_on, x.follow_up_due_on,
             x.review_requested_on,
             x.review_due_on, x.review_decided_on, x.reexam_requested_on, x.reexam_due_on,
             x.reexam_decided_on, x.judicial_applied_on,
             e.to_status AS st,
             COALESCE(json_extract(e.changes, '$.closed_on[1]'), x.closed_on) AS cl,
             COALESCE(json_extract(e.changes, '$.rating[1]'), x.rating) AS rt,
             COALESCE(x.due_text, x.due_on) AS due
      FROM cohort x JOIN case_events e ON e.id = x.ev_id
    )
    SELECT kind, source,
      COUNT(*) AS total,
      SUM(st = 'closed') AS closed,
      SUM(st IN ({open_list})) AS open,
      SUM(st IN ('not_accepted', 'returned')) AS ended,
      SUM(st IN ({open_list}) AND st != 'resolved' AND due < :cut) AS overdue,
      SUM(st = 'closed' AND CASE kind
            WHEN 'dispute' THEN mediated_on IS NOT NULL AND (due IS NULL OR mediated_on <= due)
            ELSE cl IS NOT NULL AND (due IS NULL OR cl <= due) END) AS closed_on_time,
      SUM(kind = 'petition' AND accepted_on IS NOT NULL AND st != 'registered') AS accepted,
      SUM(kind = 'petition' AND accepted_on IS NOT NULL AND st != 'registered'
          AND accepted_on <= notify_due_on) AS accepted_timely,
      SUM(st = 'closed' AND kind = 'petition') AS closed_petitions,
      SUM(st = 'closed' AND kind = 'petition' AND rt IN ('满意', '基本满意', '不满意')) AS rated,
      SUM(st = 'closed' AND kind = 'petition' AND rt IN ('满意', '基本满意')) AS satisfied,
      SUM(review_requested_on <= :cut) AS reviews,
      SUM(review_decided_on <= :cut AND review_decided_on <= review_due_on) AS reviews_on_time,
      SUM(reexam_requested_on <= :cut) AS reexaminations,
      SUM(reexam_decided_on <= :cut AND reexam_decided_on <= reexam_due_on)
        AS reexaminations_on_time,
      SUM(kind = 'dispute') AS disputes,
      SUM(kind = 'dispute' AND resolution_level IS NOT NULL AND st IN ('resolved', 'closed'))
        AS resolved,
      SUM(kind = 'dispute' AND resolution_level IS NOT NULL AND st IN ('resolved', 'closed')
          AND resolution_level = 'village') AS resolved_village,
      SUM(kind = 'dispute' AND follow_up_on IS NOT NULL) AS followed_up,
      SUM(kind = 'dispute' AND follow_up_on IS NOT NULL
          AND (follow_up_due_on IS NULL OR follow_up_on <= follow_up_due_on))
        AS followed_up_on_time,
      SUM(kind = 'dispute' AND judicial_applied_on <= :cut) AS judicial_confirmations
    FROM r GROUP BY kind, source"""


def timed(fn) -> tuple[float, object]:
    """Seconds one call of ``fn`` takes, and its result."""
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def medians(fns, repeat: int) -> list[tuple[float, float, object]]:
    """Warm each of ``fns`` up once, then run them in turn ``repeat`` times; for each, the
    median and the fastest time in seconds and the last result."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    results: list[object] = [None] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t, results[i] = timed(fn)
            times[i].append(t)
    return [(statistics.median(ts), min(ts), r) for ts, r in zip(times, results, strict=True)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--towns", type=int, default=100)
    ap.add_argument("--db", default=os.path.join(tempfile.gettempdir(), "casetrack-bench.sqlite3"))
    ap.add_argument("--rebuild", action="store_true")
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--cache-mb", type=int, default=0,
                    help="SQLite page cache per connection (PRAGMA cache_size); 0 = default 2 MB")
    args = ap.parse_args()
    if args.cache_mb:
        from sqlalchemy import event
        from sqlalchemy.engine import Engine

        @event.listens_for(Engine, "connect")
        def _cache(dbapi_connection, record) -> None:
            cur = dbapi_connection.cursor()
            cur.execute(f"PRAGMA cache_size=-{args.cache_mb * 1024}")
            cur.close()

    fresh = args.rebuild or not os.path.exists(args.db)
    if fresh and os.path.exists(args.db):
        os.remove(args.db)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{args.db}", "TESTING": True,
                      "FIXED_NOW": "2026-01-05T10:00:00+08:00"})
    from casetrack.core.time import end_of_local_day
    from casetrack.reports.fonts import cjk_font
    from casetrack.reports.pdf import monthly_summary_pdf
    from casetrack.stats.queries import StatsQuery, summary

    with app.app_context():
        if fresh:
            db.create_all()
            build(args.cases, args.towns)
        n = db.session.scalar(text("SELECT count(*) FROM cases"))
        print(f"database {args.db}: {n:,} cases; median of {args.repeat} runs (fastest); "
              f"page cache "
              f"{f'{args.cache_mb} MB' if args.cache_mb else 'SQLite default (2 MB)'}")
        cjk_font()  # registered once per process, as in the web app
        params = {"from": YEAR[0], "to": YEAR[1], "end": end_of_local_day(AS_OF)
                  .replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f"), "cut": AS_OF}
        keys = [m.key for m in METRIC_LIST]
        for label, town in (("one town, 2025", 1), ("whole county, 2025", None)):
            q = StatsQuery(YEAR[0], YEAR[1], AS_OF, town_id=town)
            sql = text(hand_sql(town))
            p = {**params, "town": town}
            (t_stats, min_stats, s), (t_hand, min_hand, rows) = medians(
                [lambda q=q: summary(db.session, None, q),
                 lambda sql=sql, p=p: db.session.execute(sql, p).all()], args.repeat)
            hand_totals = {k: 0 for k in keys}
            for row in rows:
                for k in keys:
                    hand_totals[k] += int(getattr(row, k) or 0)
            same = hand_totals == s.totals.counts
            print(f"{label:20s} cohort {s.totals.counts['total']:>7,}  "
                  f"stats layer {t_stats * 1000:8.1f} ms ({min_stats * 1000:.1f})  "
                  f"hand SQL {t_hand * 1000:8.1f} ms ({min_hand * 1000:.1f})  "
                  f"ratio {t_stats / t_hand:4.2f}  same counts: {'yes' if same else 'NO'}")
            if not same:
                print("  stats:", s.totals.counts, "\n  hand: ", hand_totals)
        [(t_pdf, _, data)] = medians([lambda: monthly_summary_pdf(db.session, None, "2025-12",
                                                                  AS_OF, town_id=1)],
                                     args.repeat)
        print(f"monthly summary PDF (one town, December 2025): median {t_pdf * 1000:.0f} ms, "
              f"{len(data) // 1024} KB")


if __name__ == "__main__":
    main()
