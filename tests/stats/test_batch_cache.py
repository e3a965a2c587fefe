"""The dashboard's groupings in one statement, and the cache of past cut-offs: same figures
as one grouping at a time; the as-of rows built once per page; a past cut-off served from
the cache until something it depends on changes; today's too, by the towns' generations."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import delete, event, func
from stats.builder import CaseBuilder

from casetrack.cases.models import Case, CaseEvent, Party
from casetrack.deadlines.models import HolidayOverride
from casetrack.extensions import db
from casetrack.stats import batch, cache
from casetrack.stats import queries as sq

D = dt.date
YEAR = {"from": "2022-01-01", "to": "2022-12-31", "as_of": "2022-12-31"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear_memory()
    yield
    cache.clear_memory()


@pytest.fixture
def history(world):
    b = CaseBuilder(world)
    b.petition(D(2022, 3, 1), accept=D(2022, 3, 2), close=D(2022, 4, 1))
    b.petition(D(2022, 5, 10), accept=D(2022, 5, 11), close=D(2023, 1, 20), rating="不满意")
    b.petition(D(2022, 6, 1), source="visit", village=world.v2, accept=D(2022, 6, 3))
    b.petition(D(2022, 11, 1), source="letter", category="教育")
    b.dispute(D(2022, 2, 1), mediate=D(2022, 2, 2), resolve=D(2022, 2, 20),
              follow_up=D(2022, 3, 5), close=D(2022, 3, 5))
    b.dispute(D(2022, 9, 1), village=world.v2, mediate=D(2022, 9, 1), escalate=D(2022, 9, 10))
    db.session.commit()
    return b


def _page(client, **args) -> str:
    """The dashboard's HTML without its CSRF tokens (they carry the time)."""
    html = client.get("/dashboard", query_string=args).get_data(as_text=True)
    return re.sub(r'name="csrf_token"[^>]*>', "", html)


class Statements:
    """Counts the statements that rebuild the as-of rows (they read the timeline)."""

    def __init__(self):
        self.asof = 0
        event.listen(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        if "cohort" in statement:
            self.asof += 1

    def close(self):
        event.remove(db.engine, "before_cursor_execute", self._seen)


def test_one_statement_gives_every_grouping_exactly(app, world, history):
    q = sq.StatsQuery(D(2022, 1, 1), D(2022, 12, 31), D(2022, 12, 31))
    metrics = tuple(sq.METRICS)
    groupings = (*batch.DASHBOARD_GROUPINGS, ("town",), ("month", "village"))
    together = batch._compute(db.session, world.supervisor, q, groupings, metrics)
    for grouping, rows in zip(groupings, together, strict=True):
        alone = sq._figures_rows(db.session, world.supervisor, q, grouping, metrics)
        key = lambda r: sorted((k, str(v)) for k, v in r[0].items())  # noqa: E731
        assert sorted(rows, key=key) == sorted(alone, key=key), grouping
    assert together[0][0][1]["total"] == 6


def test_the_overdue_list_comes_with_the_groupings(app, world, history):
    """The dashboard's overdue list, fetched in the groupings' statement, is the list
    ``overdue_cases`` computes on its own, in the same order (most overdue first)."""
    q = sq.StatsQuery(D(2022, 1, 1), D(2022, 12, 31), D(2022, 12, 31))
    alone = sq.overdue_cases(db.session, world.supervisor, q, limit=200)
    assert alone
    with app.test_request_context("/dashboard"):
        batch.prefetch(db.session, world.supervisor, q, overdue_limit=200)
        assert batch.prefetched_overdue(world.supervisor, q, 200) is not None
        together = sq.overdue_cases(db.session, world.supervisor, q, limit=200)
    assert together == alone
    _, late = batch._fetch(db.session, world.supervisor, q, ((),), tuple(sq.METRICS), 1)
    assert [cid for cid, _ in late] == [alone[0].case_id]


def test_the_asof_rows_read_the_timeline_once(app, world):
    """The values on the cut-off come from one pass over the events after it: the statement
    names the events table once, whatever the filters (no subquery per case and field)."""
    q = sq.StatsQuery(D(2022, 1, 1), D(2022, 12, 31), D(2022, 6, 30), category="教育",
                      village_id=world.v1.id, unit_id=world.unit_xf.id)
    branches = batch._branches(batch.DASHBOARD_GROUPINGS)
    for stmt in (batch._batch_stmt(world.supervisor, q, branches, tuple(sq.METRICS)),
                 sq._overdue_stmt(world.supervisor, q, True)):
        sql = str(stmt.compile(dialect=db.engine.dialect))
        assert len(re.findall(r"\bcase_events\b", sql)) == 1, sql


def test_dashboard_builds_the_asof_rows_once_and_caches_a_past_cutoff(client, auth, world,
                                                                       history):
    auth.login("leader")
    seen = Statements()
    try:
        first = _page(client, **YEAR)
        # the groupings and the overdue list in one statement
        assert seen.asof == 1
        seen.asof = 0
        again = _page(client, **YEAR)
        assert seen.asof == 0  # the figures and the overdue list from the cache
        assert again == first

        # a correction of a case's registered facts changes the cached figures
        moved = db.session.scalars(db.select(Case).where(Case.category == "教育")).one()
        moved.category = "城乡建设"
        db.session.commit()
        seen.asof = 0
        after = _page(client, **YEAR)
        assert seen.asof == 1 and after != first

        # so does a holiday entered by the administrator (due dates move with it)
        client.get("/dashboard", query_string=YEAR)
        seen.asof = 0
        db.session.add(HolidayOverride(day=D(2022, 6, 6), is_workday=False, name="补录"))
        db.session.commit()
        client.get("/dashboard", query_string=YEAR)
        assert seen.asof == 1

        # today's cut-off is cached too, until a step of today is taken
        seen.asof = 0
        today = _page(client)
        assert _page(client) == today
        assert seen.asof == 1
        case = db.session.scalars(db.select(Case).where(Case.status == "registered")).first()
        case.title = "今日更正"
        db.session.commit()
        seen.asof = 0
        _page(client)
        assert seen.asof == 1
    finally:
        seen.close()


def test_a_deleted_or_back_dated_case_changes_the_cached_figures(client, auth, world, history):
    """Neither a deleted case nor one imported with its own past instants moves the latest
    ``updated_at``: the count of the period's cases and the highest id do."""
    auth.login("leader")
    latest = lambda: db.session.scalar(db.select(func.max(Case.updated_at)))  # noqa: E731
    before = latest()
    first = _page(client, **YEAR)
    seen = Statements()
    try:
        # a case of the period that is not the latest written, deleted with its rows
        gone = db.session.scalars(db.select(Case).where(Case.category == "教育")).one()
        assert gone.updated_at < before
        for table in (CaseEvent, Party):
            db.session.execute(delete(table).where(table.case_id == gone.id))
        db.session.execute(delete(Case).where(Case.id == gone.id))
        db.session.commit()
        assert latest() == before
        fewer = _page(client, **YEAR)
        assert seen.asof == 1 and fewer != first

        # a case imported with its own 2022 instants (its updated_at is in 2022)
        history.petition(D(2022, 7, 1), source="letter", category="教育")
        db.session.commit()
        assert latest() == before
        seen.asof = 0
        more = _page(client, **YEAR)
        assert seen.asof == 1 and more != fewer
    finally:
        seen.close()


def test_past_figures_are_shared_through_redis(client, auth, world, history, redis_cache):
    r = redis_cache
    auth.login("leader")
    first = _page(client, **YEAR)
    keys = r.keys(cache.PREFIX + "*")
    assert keys
    cache.clear_memory()
    seen = Statements()
    try:
        assert _page(client, **YEAR) == first
        assert seen.asof == 0
    finally:
        seen.close()


def test_county_dashboard_breaks_down_by_town_and_by_village_within_one(
        client, auth, world, history, create_user):
    from casetrack.auth.models import Role

    create_user("county1", Role.COUNTY, None, county_code="440882")
    db.session.commit()
    auth.login("county1")
    whole = _page(client, **YEAR)
    assert "<h2>按乡镇</h2>" in whole and world.town.name in whole
    assert "<h2>按村（居）</h2>" not in whole and "<h2>按承办单位</h2>" not in whole
    one = _page(client, **YEAR, town_id=world.town.id)
    assert "<h2>按村（居）</h2>" in one and "<h2>按承办单位</h2>" in one
    assert "北和社区" in one


def test_figures_get_their_work_mem_and_no_jit_on_postgresql(app, world, history, monkeypatch):
    """The figures' statement runs with ``STATS_WORK_MEM`` and without JIT for this
    transaction only; a value that is not a plain size is never put into the SQL."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("work_mem is PostgreSQL's")
    from sqlalchemy import text

    q = sq.StatsQuery(D(2022, 1, 1), D(2022, 12, 31), D(2022, 12, 31))
    db.session.rollback()
    default = db.session.scalar(text("SHOW work_mem"))
    jit = db.session.scalar(text("SHOW jit"))
    batch._compute(db.session, world.supervisor, q, ((),), ("total",))
    assert db.session.scalar(text("SHOW work_mem")) == "64MB"
    assert db.session.scalar(text("SHOW jit")) == "off"
    db.session.rollback()
    assert db.session.scalar(text("SHOW work_mem")) == default
    assert db.session.scalar(text("SHOW jit")) == jit
    monkeypatch.setitem(app.config, "STATS_WORK_MEM", "1GB'; DROP TABLE cases; --")
    batch._compute(db.session, world.supervisor, q, ((),), ("total",))
    assert db.session.scalar(text("SHOW work_mem")) == default
    db.session.rollback()


def test_a_cutoff_after_every_event_reads_no_event_and_gives_the_same_figures(app, world,
                                                                             history):
    """With no event after the cut-off (a cut-off of today, the dashboard's default) the
    statement skips the pass over later events, and every figure and the overdue list are
    those of the full statement; a cut-off with later events still reads them."""
    last = db.session.scalar(func.max(CaseEvent.at)).date()
    after = last + dt.timedelta(days=2)
    q = sq.StatsQuery(D(2022, 1, 1), D(2022, 12, 31), after)
    assert not sq.later_events(db.session, q)
    assert sq.later_events(db.session, sq.StatsQuery(D(2022, 1, 1), D(2022, 12, 31),
                                                     D(2022, 12, 31)))
    metrics = tuple(sq.METRICS)
    branches = batch._branches(batch.DASHBOARD_GROUPINGS)
    params = sq._values(q) | {"limit": 200}

    def rows(later: bool) -> list:
        stmt = batch._batch_stmt(world.supervisor, q, branches, metrics, True, later)
        sql = str(stmt.compile(dialect=db.engine.dialect))
        assert len(re.findall(r"\bcase_events\b", sql)) == (1 if later else 0)
        return sorted(tuple(str(v) for v in r) for r in db.session.execute(stmt, params))

    skipped = rows(False)
    assert skipped == rows(True)
    assert any(r[0] == "-1" for r in skipped)  # the overdue list is there too
    got = batch._compute(db.session, world.supervisor, q, ((),), metrics)[0][0][1]
    assert got == sq._figures_rows(db.session, world.supervisor, q, (), metrics)[0][1]
    assert got["total"] == 6
    for metric in sq.METRICS:  # the drill-down's cases too
        lists = [[(c.id, s, str(d)) for c, s, d in db.session.execute(
            sq.metric_rows(world.supervisor, q, metric, later))] for later in (False, True)]
        assert lists[0] == lists[1], metric


def test_a_drill_down_page_is_cached_until_its_cases_change(client, auth,
                                                                          world, history):
    """A figure's cases as of a past cut-off are served from the cache like the figure; a
    correction of a counted case rebuilds them; today's never come from the cache."""
    auth.login("leader")

    def drill(**args) -> str:
        html = client.get("/dashboard/cases", query_string=args).get_data(as_text=True)
        return re.sub(r'name="csrf_token"[^>]*>', "", html)

    seen = Statements()
    try:
        first = drill(metric="total", **YEAR)
        assert seen.asof == 1
        seen.asof = 0
        assert drill(metric="total", **YEAR) == first
        assert seen.asof == 0
        # another page and another figure are pages of their own
        drill(metric="closed", **YEAR)
        assert seen.asof == 1

        moved = db.session.scalars(db.select(Case).where(Case.category == "教育")).one()
        before = drill(metric="total", category="教育", **YEAR)
        assert moved.number in before
        moved.category = "城乡建设"
        db.session.commit()
        seen.asof = 0
        after = drill(metric="total", category="教育", **YEAR)
        assert seen.asof == 1 and moved.number not in after

        # today's cut-off: cached as well, rebuilt after a write
        recent = history.petition(D(2026, 11, 2), category="城乡建设")
        db.session.commit()
        seen.asof = 0
        assert recent.number not in drill(metric="total", category="教育")
        assert recent.number not in drill(metric="total", category="教育")
        assert seen.asof == 1
        recent.category = "教育"
        db.session.commit()
        assert recent.number in drill(metric="total", category="教育")
        assert seen.asof == 2
    finally:
        seen.close()
