"""Figures cached by the towns' write generations (``cases/generations.py``,
``stats/batch.py``): the database's triggers bump a town on every kind of write; a cached
county dashboard is exactly the one computed afresh after each kind of write; a write in one
town recomputes that town only; a county is the sum of its towns; nothing is recomputed when
nothing changed; the same through Redis."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import delete, event, select, text, update
from stats.builder import CaseBuilder, at

from casetrack.auth.models import Role, User
from casetrack.cases import generations
from casetrack.cases import services as svc
from casetrack.cases.models import Case, CaseEvent, Party
from casetrack.extensions import db
from casetrack.org.models import Town
from casetrack.stats import batch, cache
from casetrack.stats import queries as sq

D = dt.date
YEAR = {"from": "2026-01-01", "to": "2026-12-31", "as_of": "2026-11-23"}
PAST = {"from": "2026-01-01", "to": "2026-12-31", "as_of": "2026-09-30"}


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear_memory()
    yield
    cache.clear_memory()


def _other_petition(world, received: dt.date, *, accept: dt.date | None = None,
                    category: str = "城乡建设") -> Case:
    """A petition of the second town, registered (and accepted) by its supervisor."""
    case = svc.register_case(db.session, world.other_super, at(received, 9), svc.CaseInput(
        kind="petition", title="南兴反映问题（虚构）", source="visit", received_on=received,
        petition_class="申诉求决", category=category,
        village_id=world.other_town.villages[0].id,
        parties=[svc.PartyInput(name="南兴信访人（虚构）")]))
    if accept is not None:
        svc.accept_case(db.session, world.other_super, at(accept), case, accepted_on=accept)
    return case


@pytest.fixture
def county(world, create_user):
    """Cases of this year (and one past cut-off's worth) in both towns, and a county user."""
    b = CaseBuilder(world)
    b.petition(D(2026, 3, 1), accept=D(2026, 3, 2), close=D(2026, 4, 1))
    b.petition(D(2026, 5, 10), accept=D(2026, 5, 11), close=D(2026, 10, 20), rating="不满意")
    b.petition(D(2026, 6, 1), source="visit", village=world.v2, accept=D(2026, 6, 3))
    b.petition(D(2026, 11, 2), source="letter", category="教育")
    b.dispute(D(2026, 2, 1), mediate=D(2026, 2, 2), resolve=D(2026, 2, 20),
              follow_up=D(2026, 3, 5), close=D(2026, 3, 5))
    b.dispute(D(2026, 9, 1), village=world.v2, mediate=D(2026, 9, 1), escalate=D(2026, 9, 10))
    _other_petition(world, D(2026, 4, 1), accept=D(2026, 4, 2))
    _other_petition(world, D(2026, 11, 10), category="教育")
    create_user("county1", Role.COUNTY, None, county_code="440882")
    db.session.commit()
    return b


def _page(client, path: str = "/dashboard", **args) -> str:
    """A page's HTML without its CSRF tokens (they carry the time)."""
    html = client.get(path, query_string=args).get_data(as_text=True)
    return re.sub(r'name="csrf_token"[^>]*>', "", html)


class Seen:
    """Counts the statements that rebuild the as-of rows, and the towns computed."""

    def __init__(self, monkeypatch):
        self.asof = 0
        self.towns: list[list[int]] = []
        event.listen(db.engine, "before_cursor_execute", self._seen)
        real = batch._fetch_towns

        def fetch_towns(session, q, towns, *args):
            self.towns.append(list(towns))
            return real(session, q, towns, *args)
        monkeypatch.setattr(batch, "_fetch_towns", fetch_towns)

    def _seen(self, conn, cursor, statement, parameters, context, executemany):
        if "cohort" in statement:
            self.asof += 1

    def reset(self):
        self.asof = 0
        self.towns = []

    def close(self):
        event.remove(db.engine, "before_cursor_execute", self._seen)


@pytest.fixture
def seen(monkeypatch):
    s = Seen(monkeypatch)
    yield s
    s.close()


def _login(auth, username: str) -> None:
    """Log in as ``username`` (whoever was logged in before), its flashes consumed."""
    auth.logout()
    assert auth.login(username).status_code == 302
    auth._client.get("/")


def _gen(town_id: int) -> tuple[int, str]:
    db.session.rollback()
    return generations.read(db.session, [town_id])[town_id]


# --------------------------------------------------------------------------- the triggers


def test_every_kind_of_write_bumps_its_towns_generation_and_only_its(app, world):
    """ORM insert and update, an event, Core bulk update, raw SQL update, a case moved to
    another town (both bumped), a deletion; a new town gets its row from the trigger."""
    town, other = world.town.id, world.other_town.id
    assert set(generations.read(db.session, None)) >= {town, other}

    def bumped(write) -> set[int]:
        before = {t: _gen(t) for t in (town, other)}
        write()
        db.session.commit()
        after = {t: _gen(t) for t in (town, other)}
        for t in after:  # a new token with every bump
            assert (after[t][1] != before[t][1]) == (after[t][0] != before[t][0])
        return {t for t in after if after[t][0] > before[t][0]}

    made: list[Case] = []
    assert bumped(lambda: made.append(CaseBuilder(world).petition(D(2026, 11, 2)))) == {town}
    case = made[0]
    assert bumped(lambda: svc.accept_case(db.session, world.supervisor, at(D(2026, 11, 3)),
                                          case, accepted_on=D(2026, 11, 3))) == {town}
    assert bumped(lambda: db.session.execute(
        update(Case).where(Case.town_id == town).values(due_on=D(2026, 12, 1)))) == {town}
    assert bumped(lambda: db.session.execute(
        text("UPDATE cases SET title = 'x' WHERE id = :id"), {"id": case.id})) == {town}
    assert bumped(lambda: db.session.execute(text(
        "UPDATE case_events SET note = 'n' WHERE case_id = :id"), {"id": case.id})) == {town}
    assert bumped(lambda: db.session.execute(
        text("UPDATE cases SET town_id = :o WHERE id = :id"),
        {"o": other, "id": case.id})) == {town, other}
    assert bumped(lambda: db.session.execute(
        text("UPDATE cases SET town_id = :t WHERE id = :id"),
        {"t": town, "id": case.id})) == {town, other}

    def gone():
        for table in (CaseEvent, Party):
            db.session.execute(delete(table).where(table.case_id == case.id))
        db.session.execute(delete(Case).where(Case.id == case.id))
    assert bumped(gone) == {town}
    assert bumped(lambda: None) == set()

    new = Town(name="新城镇", county_code="440882")
    db.session.add(new)
    db.session.commit()
    assert new.id in generations.read(db.session, [new.id])


def test_a_town_without_a_generation_row_is_computed_never_cached(client, auth, world, county,
                                                                  seen):
    db.session.execute(delete(generations.TownDataGeneration)
                       .where(generations.TownDataGeneration.town_id == world.other_town.id))
    db.session.commit()
    _login(auth, "county1")
    seen.reset()
    first = _page(client)
    second = _page(client)
    assert first == second
    assert world.other_town.id in seen.towns[0] and world.other_town.id in seen.towns[1]
    assert world.town.id not in seen.towns[1]  # the other town's part was cached
    seen.reset()
    _page(client, **PAST)
    _page(client, **PAST)
    assert world.other_town.id in seen.towns[-1]


# --------------------------------------------------------------------------- exact figures


def _exact(client, **args) -> str:
    """The page as served (through the cache), checked against the page computed with no
    cache at all."""
    served = _page(client, **args)
    cache.clear_memory()
    fresh = _page(client, **args)
    assert served == fresh
    return served


@pytest.mark.parametrize("args", [{}, PAST], ids=["today", "past"])
def test_cached_county_dashboard_is_exact_after_every_kind_of_write(
        client, auth, world, county, runner, tmp_path, now, args):
    """After a step on the page, an API call, a Core bulk update, a calendar change on the
    admin page, a raw SQL update, a deletion and an import, the county dashboard served
    from the cache is the one computed afresh, and it changed."""
    from api.api_support import petition_body, token_for
    from imports.import_support import csv_bytes, row

    _login(auth, "county1")
    pages = [_exact(client, **args)]

    def changed(write) -> None:
        write()
        db.session.commit()
        _login(auth, "county1")
        pages.append(_exact(client, **args))
        assert pages[-1] != pages[-2]

    def step():
        _login(auth, "super")
        registered = db.session.scalars(select(Case).where(
            Case.status == "registered", Case.town_id == world.town.id)).first()
        resp = client.post(f"/cases/{registered.id}/accept", data={"accepted_on": "2026-11-23"})
        assert resp.status_code in (200, 302)

    def api():
        secret = token_for(world.other_super, now)
        body = petition_body(world, village_id=world.other_town.villages[0].id,
                             received_on="2026-09-20", external_ref="雷信交〔2026〕555号")
        resp = client.post("/api/v1/cases", json=body,
                           headers={"Authorization": f"Bearer {secret}"})
        assert resp.status_code == 201, resp.get_data(as_text=True)

    def bulk():
        db.session.execute(update(Case).where(Case.town_id == world.other_town.id,
                                              Case.closed_on.is_(None))
                           .values(due_on=D(2026, 9, 1)))

    def raw_sql():
        db.session.execute(text("UPDATE cases SET category = '教育' WHERE town_id = :t AND "
                                "category <> '教育' AND received_on <= '2026-09-01'"),
                           {"t": world.town.id})

    def deleted():
        gone = db.session.scalars(select(Case).where(
            Case.town_id == world.town.id, Case.received_on <= D(2026, 9, 1))
            .order_by(Case.id.desc())).first()
        for table in (CaseEvent, Party):
            db.session.execute(delete(table).where(table.case_id == gone.id))
        db.session.execute(delete(Case).where(Case.id == gone.id))

    def imported():
        path = tmp_path / "交办清单.csv"
        path.write_bytes(csv_bytes([row(71, 收到日期="2026-08-03"),
                                    row(72, 收到日期="2026-08-04")]))
        result = runner.invoke(args=["cases", "import", str(path), "--user", "super"])
        assert result.exit_code == 0, result.output

    for write in (step, api, bulk, raw_sql, deleted, imported):
        changed(write)


def test_a_calendar_change_on_the_admin_page_is_seen_by_the_cached_dashboard(
        client, auth, world, county):
    """A holiday entered by the administrator moves due dates (the recomputation writes
    the cases): the cached dashboard follows."""
    # due Friday 2026-11-20, overdue today until that day is a holiday (a cut-off still to
    # come is refused: the change is seen as of today)
    CaseBuilder(world).dispute(D(2026, 10, 20))
    db.session.commit()
    _login(auth, "county1")
    before = _exact(client, as_of="2026-11-23", to="2026-11-23")
    _login(auth, "admin")
    resp = client.post("/admin/calendar/overrides",
                       data={"day": "2026-11-20", "is_workday": "0", "name": "测试停工日"})
    assert resp.status_code == 302
    _login(auth, "county1")
    after = _exact(client, as_of="2026-11-23", to="2026-11-23")
    assert after != before


# --------------------------------------------------------------------------- town by town


def test_a_write_in_one_town_recomputes_that_town_only(client, auth, world, county, seen):
    _login(auth, "county1")
    seen.reset()
    first = _page(client)
    assert seen.towns == [[world.town.id, world.other_town.id]] and seen.asof == 1
    seen.reset()
    assert _page(client) == first
    assert seen.towns == [] and seen.asof == 0  # nothing changed: all from the cache

    case = db.session.scalars(select(Case).where(Case.town_id == world.other_town.id)).first()
    case.category = "教育"
    db.session.commit()
    seen.reset()
    after = _page(client)
    assert seen.towns == [[world.other_town.id]] and seen.asof == 1
    cache.clear_memory()
    assert _page(client) == after

    # the town's own dashboard (a supervisor's) is that town's part
    _login(auth, "super")
    seen.reset()
    _page(client)
    _page(client)
    assert seen.towns == [[world.town.id]]


def test_a_county_is_the_sum_of_its_towns_and_the_whole_statement(app, world, county):
    """For today's and a past cut-off, with and without narrowing: the county's rows of every
    dashboard grouping and its overdue list, summed from the towns, equal those of one
    statement over the county, and each town's part is that town's own figures."""
    user = db.session.scalars(select(User).where(User.username == "county1")).one()
    metrics = tuple(sq.METRICS)
    groupings = (*batch.DASHBOARD_GROUPINGS, ("town",))
    key = lambda r: sorted((k, str(v)) for k, v in r[0].items())  # noqa: E731
    for as_of in (D(2026, 11, 23), D(2026, 9, 30), D(2026, 4, 15)):
        for narrow in ({}, {"kind": "petition"}, {"category": "教育"}):
            q = sq.StatsQuery(D(2026, 1, 1), D(2026, 12, 31), as_of).narrowed(**narrow)
            with app.test_request_context("/dashboard"):
                towns = batch.whole_towns(db.session, user, q)
                assert towns == sorted([world.town.id, world.other_town.id])
                summed, late = batch._by_towns(db.session, q, towns, groupings, metrics, 50)
                again, late_again = batch._by_towns(db.session, q, towns, groupings, metrics,
                                                    50)
            whole, whole_late = batch._fetch(db.session, user, q, groupings, metrics, 50)
            for grouping, a, b, c in zip(groupings, summed, whole, again, strict=True):
                assert sorted(a, key=key) == sorted(_json(b), key=key) == sorted(c, key=key), \
                    (as_of, narrow, grouping)
            assert late == late_again == [(cid, str(due)) for cid, due in whole_late]
            parts = batch._fetch_towns(db.session, q, towns, groupings, metrics, 50)
            for town in towns:
                alone = sq._figures_rows(db.session, None, q.narrowed(town=town), (), metrics)
                assert parts[town]["rows"][0] == [[*alone[0][1].values()]] \
                    or alone[0][1]["total"] == 0


def _json(rows):
    return [({k: v if v is None or isinstance(v, int) else str(v) for k, v in key.items()},
             counts) for key, counts in rows]


# --------------------------------------------------------------------------- Redis


def test_county_parts_are_shared_through_redis(client, auth, world, county, seen,
                                               redis_cache):
    r = redis_cache
    _login(auth, "county1")
    first = _page(client)
    assert len(r.keys(cache.PREFIX + "*")) >= 3  # two towns' parts and the county's
    cache.clear_memory()
    seen.reset()
    assert _page(client) == first
    assert seen.asof == 0 and seen.towns == []

    case = db.session.scalars(select(Case).where(Case.town_id == world.town.id)).first()
    db.session.execute(text("UPDATE cases SET category = '教育' WHERE id = :id"),
                       {"id": case.id})
    db.session.commit()
    seen.reset()
    after = _page(client)
    assert seen.towns == [[world.town.id]]
    r.flushdb()
    assert _page(client) == after


# --------------------------------------------------------------------------- drill-downs


def test_a_county_drill_down_page_is_merged_from_its_towns(app, world, county):
    """Every metric, cut-off and page: the county's page merged from the towns' parts is the
    page of one statement over the county (same cases, order, status and due date on the
    cut-off, and total)."""
    user = db.session.scalars(select(User).where(User.username == "county1")).one()
    for as_of in (D(2026, 11, 23), D(2026, 9, 30), D(2026, 4, 15)):
        for narrow in ({}, {"kind": "petition"}):
            q = sq.StatsQuery(D(2026, 1, 1), D(2026, 12, 31), as_of).narrowed(**narrow)
            for metric in sq.METRICS:
                whole = db.session.execute(sq.metric_ids(user, q, metric)).all()
                for page in (1, 2, 3, 6):
                    with app.test_request_context("/dashboard/cases"):
                        found = batch.drill_down(db.session, user, q, metric, page, 2,
                                                 lambda: pytest.fail("not merged"))
                    expect = [[cid, str(st), None if due is None else str(due)[:10]]
                              for cid, st, due in whole[(page - 1) * 2:page * 2]]
                    assert found == {"rows": expect, "total": len(whole)}, \
                        (as_of, narrow, metric, page)


def test_a_write_in_one_town_recomputes_its_drill_down_part_only(client, auth, world, county,
                                                                monkeypatch):
    computed: list[list[int]] = []
    real = batch._drill_towns

    def drill_towns(session, q, metric, towns, need):
        computed.append(list(towns))
        return real(session, q, metric, towns, need)
    monkeypatch.setattr(batch, "_drill_towns", drill_towns)
    _login(auth, "county1")
    args = {**PAST, "metric": "total"}
    first = _page(client, "/dashboard/cases", **args)
    assert computed == [[world.town.id, world.other_town.id]]
    assert _page(client, "/dashboard/cases", **args) == first and len(computed) == 1

    case = db.session.scalars(select(Case).where(Case.town_id == world.other_town.id)).first()
    case.title = "南兴反映问题（已改，虚构）"
    db.session.commit()
    computed.clear()
    after = _page(client, "/dashboard/cases", **args)
    assert computed == [[world.other_town.id]]
    cache.clear_memory()
    assert _page(client, "/dashboard/cases", **args) == after
    assert "已改" in after


def test_a_county_computed_in_parallel_statements_is_the_same(client, auth, app, world,
                                                              county, monkeypatch):
    """On PostgreSQL two statements at once, one on a worker thread with its own connection:
    the county's dashboard and drill-down pages are those of one statement. SQLite keeps
    one statement."""
    import threading

    threads: set[int] = set()
    real = batch._fetch_towns

    def fetch_towns(session, q, towns, *args):
        threads.add(threading.get_ident())
        return real(session, q, towns, *args)
    monkeypatch.setattr(batch, "_fetch_towns", fetch_towns)
    _login(auth, "county1")
    pages = [("/dashboard", YEAR), ("/dashboard", PAST),
             ("/dashboard/cases", {**PAST, "metric": "closed"}),
             ("/dashboard/cases", {**YEAR, "metric": "overdue"})]
    monkeypatch.setitem(app.config, "STATS_PARALLEL_STATEMENTS", 1)
    alone = [_page(client, path, **args) for path, args in pages]
    assert len(threads) == 1
    cache.clear_memory()
    threads.clear()
    monkeypatch.setitem(app.config, "STATS_PARALLEL_STATEMENTS", 2)
    monkeypatch.setattr(batch, "PARALLEL_MIN_TOWNS", 1)
    together = [_page(client, path, **args) for path, args in pages]
    if db.engine.dialect.name == "postgresql":
        assert len(threads) == 2, "one share ran on a worker thread"
    else:
        assert len(threads) == 1
    assert together == alone
