"""The case list puts urgent work first (issue 12 item 2, issue 13 item 4): open cases only by
default, overdue → due soon → the rest by due date, ``sort=`` on page, export and API alike,
keyset pages, capped counts, an index that delivers the order, and bulk actions."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy import text as sql
from views_support import login_as, make_dispute, make_petition, text

from casetrack.auth.tokens import create_token
from casetrack.cases import queries
from casetrack.cases import services as svc
from casetrack.cases.models import Case, CaseEvent
from casetrack.cases.queries import CaseFilters, decode_cursor, encode_cursor, select_cases
from casetrack.extensions import db

TODAY = dt.date(2026, 11, 23)  # local date of the suite's fixed now


def _due(case: Case, due: dt.date) -> Case:
    case.due_on = due
    db.session.commit()
    return case


@pytest.fixture
def spread(world, now):
    """Five open petitions with known due dates and one closed (refused) one."""
    later = _due(make_petition(world, now, title="以后到期"), TODAY + dt.timedelta(days=20))
    soon = _due(make_petition(world, now, title="即将到期"), TODAY + dt.timedelta(days=2))
    overdue2 = _due(make_petition(world, now, title="逾期两天"), TODAY - dt.timedelta(days=2))
    today = _due(make_petition(world, now, title="今日到期"), TODAY)
    overdue9 = _due(make_petition(world, now, title="逾期九天"), TODAY - dt.timedelta(days=9))
    closed = make_petition(world, now, title="已不予受理")
    svc.reject_case(db.session, world.supervisor, now, closed, "不属于信访事项")
    db.session.commit()
    return [overdue9, overdue2, today, soon, later], closed


def _titles(html: str) -> list[str]:
    """Case titles in page order (the title cell's link)."""
    return re.findall(r'class="title-cell">.*?<a href="/cases/\d+">([^<]+)</a>', html, re.S)


def test_default_order_is_overdue_then_due_soon_then_the_rest_open_only(client, world, spread):
    urgent, closed = spread
    login_as(client, "super")
    html = client.get("/cases").get_data(as_text=True)
    assert _titles(html) == [c.title for c in urgent]
    assert closed.title not in html
    assert "共 5 件" in text(client.get("/cases"))
    # the switch shows closed cases too, after the open ones
    html_all = client.get("/cases?status=all").get_data(as_text=True)
    assert _titles(html_all) == [c.title for c in urgent] + [closed.title]
    assert 'href="/cases?status=all"' in html


def test_sort_on_page_export_and_api_alike(app, client, world, spread, now):
    urgent, _ = spread
    login_as(client, "super")
    expected = [c.title for c in reversed(urgent)]
    assert _titles(client.get("/cases?sort=-due").get_data(as_text=True)) == expected
    # the ledger export follows the same order
    data = client.get("/reports/ledger.csv?sort=-due").data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(data)))
    col = rows[0].index("事项")
    assert [r[col] for r in rows[1:]] == expected
    # and the API
    token = _api_token(world, now)
    got = client.get("/api/v1/cases?status=open&sort=-due",
                     headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [c["title"] for c in got["data"]] == expected
    got = client.get("/api/v1/cases?status=open",
                     headers={"Authorization": f"Bearer {token}"}).get_json()
    assert [c["title"] for c in got["data"]] == [c.title for c in urgent]
    # an unknown sort is refused by the API with its stable code, ignored by the page
    bad = client.get("/api/v1/cases?sort=title", headers={"Authorization": f"Bearer {token}"})
    assert bad.status_code in (400, 422)
    assert _titles(client.get("/cases?sort=title").get_data(as_text=True)) == [
        c.title for c in urgent]


def _api_token(world, now) -> str:
    _row, secret = create_token(db.session, world.supervisor, now, "测试")
    db.session.commit()
    return secret


def test_keyset_pages_walk_forward_and_back(client, world, spread, monkeypatch, app):
    urgent, _ = spread
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    login_as(client, "super")
    seen, link, pages = [], "/cases", []
    while link:
        html = client.get(link).get_data(as_text=True)
        pages.append(html)
        seen += _titles(html)
        m = re.search(r'rel="next" href="([^"]+)"', html)
        link = m.group(1).replace("&amp;", "&") if m else None
    assert seen == [c.title for c in urgent]
    assert len(pages) == 3 and "第 3 / 3 页" in text_of(pages[2])
    prev = re.search(r'rel="prev" href="([^"]+)"', pages[2]).group(1).replace("&amp;", "&")
    assert "before=" in prev
    assert _titles(client.get(prev).get_data(as_text=True)) == [c.title for c in urgent[2:4]]
    # a forged or broken cursor is the first page, never an error
    assert _titles(client.get("/cases?after=%%%").get_data(as_text=True)) == [
        c.title for c in urgent[:2]]
    assert client.get("/cases?after=WyJ4Il0").status_code == 200


def test_keyset_pages_with_closed_cases_cross_from_open_to_closed(client, world, spread, now,
                                                                   monkeypatch, app):
    """status=all: open cases first, then closed ones; cursors walk across the boundary
    both ways and every case appears once."""
    urgent, closed = spread
    more_closed = make_petition(world, now, title="也已不予受理")
    svc.reject_case(db.session, world.supervisor, now, more_closed, "不属于信访事项")
    db.session.commit()
    expected = [c.title for c in urgent] + sorted(
        [closed.title, more_closed.title],
        key=lambda t: [(c.due_on, c.id) for c in (closed, more_closed) if c.title == t][0])
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    login_as(client, "super")
    seen, link, pages = [], "/cases?status=all", []
    while link:
        html = client.get(link).get_data(as_text=True)
        pages.append(html)
        seen += _titles(html)
        m = re.search(r'rel="next" href="([^"]+)"', html)
        link = m.group(1).replace("&amp;", "&") if m else None
        assert link is None or ("after=" in link and "status=all" in link)
    assert seen == expected
    assert len(pages) == 4
    # back from the last page (closed run) to the page that holds the last open case
    back, link = [], re.search(r'rel="prev" href="([^"]+)"', pages[3]).group(1)
    while link:
        html = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
        back = _titles(html) + back
        m = re.search(r'rel="prev" href="([^"]+)"', html)
        link = m.group(1) if m else None
        assert link is None or "before=" in link
    assert back == expected[:6]


def test_page_numbers_with_closed_cases_count_across_the_runs(client, world, spread, now,
                                                               monkeypatch, app):
    """status=all with a page number typed (no cursor): the same rows as walking there; each
    run is ordered by the sort alone (is_open fixed), never by is_open."""
    from sqlalchemy import event

    urgent, closed = spread
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    login_as(client, "super")
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        pages = [_titles(client.get(f"/cases?status=all&page={n}").get_data(as_text=True))
                 for n in (1, 2, 3, 4)]
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert pages == [[c.title for c in urgent[:2]], [c.title for c in urgent[2:4]],
                     # past the end: the last page again (said, 400)
                     [urgent[4].title, closed.title], [urgent[4].title, closed.title]]
    assert not [s for s in statements if "ORDER BY cases.is_open" in s]


def text_of(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_cursor_round_trip_and_null_due_dates(app, world, now):
    sort = queries.SORTS["due"]
    case = make_petition(world, now)
    token = encode_cursor(case, sort)
    assert decode_cursor(token, sort) == [case.due_on, case.id]
    assert decode_cursor("not base64!", sort) is None
    # a forged id beyond any database integer is no cursor (never an overflow)
    import base64
    import json
    forged = base64.urlsafe_b64encode(json.dumps(["2026-01-01", 10**30]).encode()).decode()
    assert decode_cursor(forged, sort) is None
    assert decode_cursor(encode_cursor(case, queries.SORTS["number"]), sort) is None
    # open cases without a due date still appear exactly once across keyset pages
    others = [make_petition(world, now, title=f"无期限{i}") for i in range(3)]
    for c in others[:2]:
        c.due_on = None
    db.session.commit()
    user = world.supervisor
    filters = CaseFilters()
    stmt = select_cases(user, filters, TODAY, 3)
    ids, after = [], None
    for _ in range(10):
        page = queries.page_of(db.session, stmt, filters, per_page=1, after=after)
        ids += [c.id for c in page.items]
        after = page.next_cursor
        if not after:
            break
    assert sorted(ids) == sorted([case.id, *(c.id for c in others)])
    assert len(ids) == len(set(ids))


def test_count_is_capped(client, world, spread, monkeypatch, app):
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    monkeypatch.setattr(queries.count_capped, "__defaults__", (3,))
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    login_as(client, "super")
    page = text(client.get("/cases"))
    assert "共 3+ 件" in page


def test_a_list_that_fits_on_its_first_page_is_not_counted_again(app, client, world, spread,
                                                                 monkeypatch):
    """A search or filter whose cases fit on a page of twenty: the total is the page's
    length, exact, and no count statement runs; a longer one is still counted (capped), in
    a statement of its own. The unnarrowed list reads its capped count in the page's own
    statement (one round trip, no statement of its own)."""
    from sqlalchemy import event

    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    def counts():
        return [s for s in statements if "count(" in s and "FROM cases" in s]

    login_as(client, "super")
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        page = text(client.get("/cases?source=assigned"))
        short = counts()
        statements.clear()
        unnarrowed = text(client.get("/cases"))
        along = counts()
        statements.clear()
        monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
        longer = text(client.get("/cases?source=assigned"))
        counted = counts()
        statements.clear()
        longer_all = text(client.get("/cases?status=all"))
        counted_all = counts()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert "共 5 件" in page and not short
    assert "共 5 件" in unnarrowed and len(along) == 1 and along[0].lstrip().startswith(
        "SELECT cases.id")
    assert "共 5 件" in longer and len(counted) == 1 and counted[0].startswith("SELECT count(")
    assert "共 6 件" in longer_all and "第 1 / 3 页" in longer_all and len(counted_all) == 1 \
        and counted_all[0].lstrip().startswith("SELECT cases.id")


def test_the_default_order_is_read_from_an_index(app, world, spread):
    """No sort step: the plan walks ix_cases_town_open_due (SQLite) or an index scan without
    a Sort node (PostgreSQL)."""
    stmt = select_cases(world.supervisor, CaseFilters(), TODAY, 3).limit(20)
    compiled = stmt.compile(db.engine, compile_kwargs={"literal_binds": True})
    if db.engine.dialect.name == "sqlite":
        plan = " ".join(str(r[-1]) for r in db.session.execute(sql(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "ix_cases_town_open_due" in plan
        assert "TEMP B-TREE" not in plan
    else:
        db.session.execute(sql("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(r[0] for r in db.session.execute(sql(f"EXPLAIN {compiled}")))
        assert "ix_cases_town_open_due" in plan or "ix_cases_open_due" in plan
        assert "Sort" not in plan
        db.session.rollback()


def test_is_open_follows_every_status_change(world, now, spread):
    urgent, closed = spread
    assert all(c.is_open for c in urgent) and not closed.is_open
    stored = dict(db.session.execute(select(Case.id, Case.is_open)).all())
    assert stored[closed.id] is False or stored[closed.id] == 0


# --------------------------------------------------------------------------- bulk actions


def _bulk(client, ids, **form):
    data = {"case_id": [str(i) for i in ids], "next": "/cases", **form}
    return client.post("/cases/bulk-assign", data=data)


def test_supervisor_assigns_selected_cases(client, world, now):
    a, b = make_petition(world, now, title="甲"), make_petition(world, now, title="乙")
    for c in (a, b):
        svc.accept_case(db.session, world.supervisor, now, c)
    db.session.commit()
    login_as(client, "super")
    page = client.get("/cases").get_data(as_text=True)
    assert 'name="case_id"' in page and "交办所选" in page and "导出所选" in page
    resp = _bulk(client, [a.id, b.id], unit_id=world.unit_xf.id, handler_id=world.handler1.id,
                 note="请抓紧办理")
    assert resp.status_code == 302
    db.session.expire_all()
    for c in (a, b):
        case = db.session.get(Case, c.id)
        assert case.unit_id == world.unit_xf.id and case.handler_id == world.handler1.id
        assert case.status == "handling"
        assert db.session.scalar(select(CaseEvent).where(
            CaseEvent.case_id == c.id, CaseEvent.action == "assign")) is not None
    assert "已交办 2 件" in text(client.get("/cases"))


def test_bulk_assign_is_all_or_nothing(client, world, now):
    ok = make_petition(world, now, title="可交办")
    svc.accept_case(db.session, world.supervisor, now, ok)
    not_yet = make_petition(world, now, title="未受理")  # registered: cannot be assigned
    db.session.commit()
    login_as(client, "super")
    _bulk(client, [ok.id, not_yet.id], unit_id=world.unit_xf.id)
    db.session.expire_all()
    assert db.session.get(Case, ok.id).unit_id is None
    page = text(client.get("/cases"))
    assert "全部未执行" in page and not_yet.number in page
    # a handler of another unit is refused on the server (the script only narrows the list)
    _bulk(client, [ok.id], unit_id=world.unit_xf.id, handler_id=world.handler2.id)
    db.session.expire_all()
    assert db.session.get(Case, ok.id).handler_id is None
    assert "承办人不属于所选承办单位" in text(client.get("/cases"))


def test_bulk_actions_are_scoped_and_need_the_right(client, world, now, app, monkeypatch):
    mine = make_petition(world, now)
    svc.accept_case(db.session, world.supervisor, now, mine)
    db.session.commit()
    login_as(client, "other_super")  # another town's supervisor
    _bulk(client, [mine.id], unit_id=world.unit_xf.id)
    db.session.expire_all()
    assert db.session.get(Case, mine.id).unit_id is None
    resp = client.post("/reports/ledger-selected.xlsx", data={"case_id": [str(mine.id)]})
    wb = load_workbook(io.BytesIO(resp.data))
    assert mine.number not in [c.value for row in wb.active.iter_rows() for c in row]
    login_as(client, "handler1")  # no assign right: no boxes, and the POST is refused
    assert 'name="case_id"' not in client.get("/cases").get_data(as_text=True)
    assert _bulk(client, [mine.id], unit_id=world.unit_xf.id).status_code == 403
    # CSRF is required
    login_as(client, "super")
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    assert _bulk(client, [mine.id], unit_id=world.unit_xf.id).status_code == 400


def test_export_selected(client, world, now):
    a, b = make_petition(world, now, title="导出甲"), make_dispute(world, now, title="导出乙")
    make_petition(world, now, title="不导出")
    login_as(client, "super")
    resp = client.post("/reports/ledger-selected.xlsx", data={"case_id": [str(a.id), str(b.id)]})
    assert resp.status_code == 200
    ws = load_workbook(io.BytesIO(resp.data)).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert "所选案件2件" in rows[1][0] and "截至2026-11-23" in rows[1][0]
    head = rows[2]
    assert {r[head.index("事项")] for r in rows[3:]} == {"导出甲", "导出乙"}


def test_handlers_of_the_unit_are_marked_for_the_filter(client, world, now):
    case = make_petition(world, now)
    svc.accept_case(db.session, world.supervisor, now, case)
    db.session.commit()
    login_as(client, "super")
    html = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert 'data-handlers="assign-handler_id"' in html
    assert f'data-unit="{world.unit_xf.id}" value="{world.handler1.id}"' in html or \
        f'value="{world.handler1.id}" data-unit="{world.unit_xf.id}"' in html or \
        re.search(rf'<option[^>]*data-unit="{world.unit_xf.id}"[^>]*value="{world.handler1.id}"', html) \
        or re.search(rf'<option[^>]*value="{world.handler1.id}"[^>]*data-unit="{world.unit_xf.id}"', html)
    assert "js/handlers.js" in html and "<script>" not in html


def test_county_list_reads_each_towns_yellow_days_in_one_query(client, world, now, create_user):
    """A county page shows cases of several towns, each coloured by its own town's yellow
    days; the settings are read in one statement, not one per town on the page."""
    from sqlalchemy import event

    from casetrack.auth.models import Role
    from casetrack.cases.display import YELLOW_DAYS_KEY
    from casetrack.org.settings import set_setting

    create_user("county1", Role.COUNTY, None, county_code="440882")
    here = _due(make_petition(world, now, title="北和五日后到期"), TODAY + dt.timedelta(days=5))
    other_village = world.other_town.villages[0]
    there = make_petition(world, now, actor=world.other_super, village=other_village,
                          title="南兴五日后到期")
    _due(there, TODAY + dt.timedelta(days=5))
    set_setting(db.session, world.town.id, YELLOW_DAYS_KEY, 7)  # 5 days left: yellow here
    set_setting(db.session, world.other_town.id, YELLOW_DAYS_KEY, 2)  # green there
    db.session.commit()
    login_as(client, "county1")
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        html = client.get("/cases").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    colours = {title: level for level, title in re.findall(
        r'<tr class="row-(\w+)">.*?class="title-cell">.*?<a href="/cases/\d+">([^<]+)</a>',
        html, re.S)}
    assert colours[here.title] == "yellow" and colours[there.title] == "green"
    assert sum("town_settings" in s for s in statements) == 1


def test_county_list_checks_its_towns_per_row_on_sqlite(app, world, create_user, now):
    """The county's list must not be read town by town through the town indexes on SQLite
    (its figures cannot tell that open cases are few): the county's towns are a condition on
    each row (``+cases.town_id``) there; PostgreSQL plans from real figures and keeps the
    plain column. The statistics keep the town lookup."""
    from casetrack.auth.models import Role
    from casetrack.cases.scoping import scope_cases

    county = create_user("county2", Role.COUNTY, None, county_code="440882")
    listed = str(select_cases(county, CaseFilters(status="closed"), TODAY, 3)
                 .compile(db.engine))
    plain = str(scope_cases(select(Case), county).compile(db.engine))
    if db.engine.dialect.name == "sqlite":
        assert "+cases.town_id IN" in listed
    else:
        assert "+cases.town_id" not in listed and "cases.town_id IN" in listed
    assert "+cases.town_id" not in plain and "cases.town_id IN" in plain
    # the rows are still the county's cases
    mine = make_petition(world, now, title="县级可见")
    seen = [c.id for c in db.session.scalars(select_cases(county, CaseFilters(), TODAY, 3))]
    assert mine.id in seen


@pytest.mark.parametrize("status", ["all", "open"])
def test_keyset_pages_by_latest_change_walk_to_the_end(client, world, spread, now, monkeypatch,
                                                       app, status):
    """sort=-updated orders by an instant (cases.updated_at): its cursor holds an aware
    datetime, not the ISO string (page 2 of "最近变动" was a 500 on SQLite)."""
    urgent, closed = spread
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    login_as(client, "super")
    seen, link, pages = [], f"/cases?status={status}&sort=-updated", 0
    while link:
        response = client.get(link)
        assert response.status_code == 200
        html = response.get_data(as_text=True)
        pages += 1
        seen += _titles(html)
        m = re.search(r'rel="next" href="([^"]+)"', html)
        link = m.group(1).replace("&amp;", "&") if m else None
    expected = {c.title for c in urgent} | ({closed.title} if status == "all" else set())
    assert pages == -(-len(expected) // 2) and sorted(seen) == sorted(expected)
    # a cursor holding a naive instant is no cursor (the first page), never an error
    import base64
    import json
    sort = queries.SORTS["-updated"]
    naive = base64.urlsafe_b64encode(json.dumps(["2026-11-23T02:00:00", 1]).encode()).decode()
    assert decode_cursor(naive, sort) is None
    assert client.get(f"/cases?sort=-updated&after={naive}").status_code == 200
