"""The case list through the client: each filter, colours in SQL, search, pagination, scope."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import select
from views_support import ID_LI, case_numbers, login_as, make_dispute, make_petition, text

from casetrack.cases import services as svc
from casetrack.cases.models import Case
from casetrack.cases.queries import CaseFilters, filter_cases
from casetrack.extensions import db

TODAY = dt.date(2026, 11, 23)  # local date of the suite's fixed now


def _set_due(case: Case, due: dt.date | None) -> None:
    """Test set-up: pin a due date so the colour is known."""
    case.due_on = due
    db.session.commit()


def test_list_shows_row_facts(client, world, now):
    p = make_petition(world, now)
    svc.accept_case(db.session, world.supervisor, now, p)
    svc.assign_case(db.session, world.supervisor, now, p, world.unit_xf.id, world.handler1.id)
    db.session.commit()
    login_as(client, "super")
    html = text(client.get("/cases"))
    assert p.number in html and p.title in html
    assert "信访事项" in html and "北和社区" in html and "办理中" in html
    assert "信访办" in html and "承办人甲" in html
    assert p.due_on.isoformat() in html
    left = (p.due_on - TODAY).days
    assert f"剩余{left}天" in html and "warn-green" in html
    assert "期限待定" not in html
    p.due_is_exact = False  # a due date running into a year with no holiday data
    db.session.commit()
    assert "期限待定" in text(client.get("/cases"))


def test_colour_filter_uses_due_date_ranges(client, world, now):
    red = make_petition(world, now, title="红色案件")
    yellow_today = make_petition(world, now, title="今日到期案件")
    yellow_edge = make_petition(world, now, title="三天后到期案件")
    green = make_petition(world, now, title="绿色案件")
    closed = make_petition(world, now, title="已办结逾期案件")
    _set_due(red, TODAY - dt.timedelta(days=2))
    _set_due(yellow_today, TODAY)
    _set_due(yellow_edge, TODAY + dt.timedelta(days=3))
    _set_due(green, TODAY + dt.timedelta(days=4))
    svc.reject_case(db.session, world.supervisor, now, closed, "不属于信访事项")
    _set_due(closed, TODAY - dt.timedelta(days=10))
    login_as(client, "super")

    def numbers(colour):
        return case_numbers(text(client.get(f"/cases?warning={colour}")))

    assert numbers("red") == {red.number}
    assert numbers("yellow") == {yellow_today.number, yellow_edge.number}
    assert numbers("green") == {green.number}
    page = text(client.get("/cases?warning=red"))
    assert "逾期2天" in page
    assert "今日到期" in text(client.get("/cases?warning=yellow"))


def test_town_yellow_threshold_applies_to_list_and_badges(client, world, now):
    """The reminder policy's yellow days (a town setting) colour the pages too."""
    from casetrack.org.settings import set_setting

    five = make_petition(world, now, title="五天后到期案件")
    _set_due(five, TODAY + dt.timedelta(days=5))
    login_as(client, "super")
    assert case_numbers(text(client.get("/cases?warning=yellow"))) == set()
    set_setting(db.session, world.town.id, "reminders.yellow_days", 5)
    db.session.commit()
    page = client.get("/cases?warning=yellow")
    assert case_numbers(text(page)) == {five.number}
    assert "warn-yellow" in page.get_data(as_text=True)
    assert "warn-yellow" in client.get(f"/cases/{five.id}").get_data(as_text=True)


def test_colour_filter_is_sql(app, world, now):
    """The filter is a WHERE clause on due_on, not a Python pass over loaded rows."""
    stmt = filter_cases(select(Case), CaseFilters(warning="yellow"), TODAY, 3)
    sql = str(stmt.compile(compile_kwargs={"literal_binds": True}))
    assert "cases.due_on >= '2026-11-23'" in sql and "cases.due_on <= '2026-11-26'" in sql


def test_each_filter(client, world, now):
    p_v1 = make_petition(world, now, title="道路问题", category="城乡建设",
                         received_on=dt.date(2026, 11, 2))
    p_visit = make_petition(world, now, title="低保问题", category="民政与应急", source="visit",
                            village=world.v2, received_on=dt.date(2026, 11, 18))
    d_v1 = make_dispute(world, now, title="宅基地纠纷", category="房屋宅基地",
                        received_on=dt.date(2026, 11, 10))
    d_v2 = make_dispute(world, now, village=world.v2, title="邻里噪音", category="邻里",
                        received_on=dt.date(2026, 11, 21))
    svc.accept_case(db.session, world.supervisor, now, p_v1)
    svc.assign_case(db.session, world.supervisor, now, p_v1, world.unit_xf.id, None)
    db.session.commit()
    login_as(client, "super")

    def numbers(query):
        return case_numbers(text(client.get("/cases?" + query)))

    everything = {p_v1.number, p_visit.number, d_v1.number, d_v2.number}
    assert numbers("") == everything
    assert numbers("kind=dispute") == {d_v1.number, d_v2.number}
    assert numbers("kind=petition") == {p_v1.number, p_visit.number}
    assert numbers("status=handling") == {p_v1.number}
    assert numbers("status=registered") == {p_visit.number, d_v1.number, d_v2.number}
    assert numbers("status=open") == everything
    assert numbers(f"village_id={world.v2.id}") == {p_visit.number, d_v2.number}
    assert numbers(f"unit_id={world.unit_xf.id}") == {p_v1.number}
    assert numbers("category=邻里") == {d_v2.number}
    assert numbers("source=visit") == {p_visit.number}
    assert numbers("source=screening") == {d_v1.number, d_v2.number}
    assert numbers("received_from=2026-11-10&received_to=2026-11-18") == {
        d_v1.number, p_visit.number}
    assert numbers("received_from=2026-11-19") == {d_v2.number}
    # combined, and malformed choices are ignored rather than failing (a malformed date
    # is said on the page: test_invalid_date_filter_is_said_on_the_page)
    assert numbers(f"kind=dispute&village_id={world.v1.id}") == {d_v1.number}
    assert numbers("warning=purple&kind=x") == everything


def test_text_search(client, world, now):
    by_party = make_petition(world, now, title="反映问题甲",
                             parties=[svc.PartyInput(name="李四（虚构）", id_number=ID_LI)])
    by_title = make_dispute(world, now, title="果园灌溉用水纠纷")
    by_summary = make_petition(world, now, title="反映问题乙", summary="村口路灯长期不亮")
    login_as(client, "super")

    def numbers(q):
        return case_numbers(text(client.get("/cases", query_string={"q": q})))

    assert numbers("李四") == {by_party.number}
    assert numbers("灌溉") == {by_title.number}
    assert numbers("路灯") == {by_summary.number}
    assert numbers(by_summary.number) == {by_summary.number}
    assert numbers("雷信交〔2026〕101号") == {by_party.number, by_summary.number}
    assert numbers("%") == set()  # wildcards are matched literally
    assert numbers("不存在的内容") == set()


def test_pagination_keeps_filters(client, world, now, monkeypatch, app):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 5)
    cases = [make_dispute(world, now, title=f"纠纷{i}",
                          received_on=dt.date(2026, 11, 1) + dt.timedelta(days=i))
             for i in range(7)]
    make_petition(world, now, title="不应出现在纠纷列表")
    login_as(client, "super")
    html = client.get("/cases?kind=dispute").get_data(as_text=True)
    page1 = text(client.get("/cases?kind=dispute"))
    most_urgent_first = [c.number for c in cases]  # received earlier, due earlier
    assert case_numbers(page1) == set(most_urgent_first[:5])
    assert "共 7 件" in page1
    nxt = re.search(r'href="([^"]*)" rel="next"|rel="next" href="([^"]*)"', html)
    link = (nxt.group(1) or nxt.group(2)).replace("&amp;", "&")
    assert "kind=dispute" in link and "after=" in link
    page2 = text(client.get(link))
    assert case_numbers(page2) == set(most_urgent_first[5:])
    # numbered pages still work (offset); past the end is the last page, said (400)
    assert case_numbers(text(client.get("/cases?kind=dispute&page=2"))) == set(most_urgent_first[5:])
    past = client.get("/cases?kind=dispute&page=9")
    assert past.status_code == 400 and "第 9 页超出列表范围（共 2 页）" in text(past)
    assert case_numbers(text(past)) == set(most_urgent_first[5:])


def test_grid_worker_sees_only_own_village(client, world, now):
    mine = make_dispute(world, now, title="本村纠纷")
    theirs = make_dispute(world, now, village=world.v2, title="他村纠纷")
    petition_v2 = make_petition(world, now, village=world.v2, title="他村信访")
    login_as(client, "grid1")
    html = text(client.get("/cases"))
    assert case_numbers(html) == {mine.number}
    # asking for the other village by filter does not widen the scope
    assert case_numbers(text(client.get(f"/cases?village_id={world.v2.id}"))) == set()
    assert case_numbers(text(client.get("/cases?q=他村"))) == set()
    # the village filter offers only the worker's villages
    assert "鹅感村" not in html
    login_as(client, "grid2")
    assert case_numbers(text(client.get("/cases"))) == {theirs.number, petition_v2.number}


def test_handler_sees_only_own_unit(client, world, now):
    ours = make_petition(world, now, title="信访办案件")
    other = make_petition(world, now, title="司法所案件")
    for case, unit in ((ours, world.unit_xf), (other, world.unit_sf)):
        svc.accept_case(db.session, world.supervisor, now, case)
        svc.assign_case(db.session, world.supervisor, now, case, unit.id, None)
    db.session.commit()
    login_as(client, "handler1")
    assert case_numbers(text(client.get("/cases"))) == {ours.number}
    login_as(client, "handler2")
    assert case_numbers(text(client.get("/cases"))) == {other.number}


def test_list_requires_login(client, world):
    resp = client.get("/cases")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_invalid_date_filter_is_said_on_the_page(client, world, now):
    early = make_dispute(world, now, title="宅基地纠纷", received_on=dt.date(2026, 11, 2))
    late = make_dispute(world, now, title="邻里噪音", received_on=dt.date(2026, 11, 21))
    petition = make_petition(world, now, received_on=dt.date(2026, 11, 21))
    login_as(client, "super")
    resp = client.get("/cases?kind=dispute&received_from=2026-02-30&received_to=2026-11-30")
    assert resp.status_code == 400
    page = text(resp)
    assert "收到日期自“2026-02-30”不是有效日期（应为 YYYY-MM-DD），本次未按该日期筛选" in page
    # the other filters still hold (kind, and the valid end date), and the form keeps them
    assert case_numbers(page) == {early.number, late.number}
    assert petition.number not in page
    html = resp.get_data(as_text=True)
    assert 'name="received_from" value="2026-02-30" aria-invalid="true"' in html
    assert 'name="received_to" value="2026-11-30">' in html
    assert '<option value="dispute" selected>' in html
    # no ledger link that would export a list without the date asked for
    assert "/reports/ledger.xlsx" not in html and "/reports/ledger.csv" not in html
    # the export refuses too: back to the list, with the same filters
    for fmt in ("xlsx", "csv"):
        resp = client.get(f"/reports/ledger.{fmt}?kind=dispute&received_from=2026/11/01")
        assert resp.status_code == 303
        assert "/cases?" in resp.location and "received_from=2026/11/01" in \
            resp.location.replace("%2F", "/") and "kind=dispute" in resp.location
    # a valid date still filters, and an empty one is no filter
    assert client.get("/cases?received_from=2026-11-10&received_to=").status_code == 200
    assert case_numbers(text(client.get("/cases?received_from=2026-11-10"))) == {
        late.number, petition.number}


def test_unknown_status_filter_is_said_on_the_page(client, world, now):
    registered = make_dispute(world, now, title="宅基地纠纷", received_on=dt.date(2026, 11, 2))
    petition = make_petition(world, now, received_on=dt.date(2026, 11, 21))
    closed = make_dispute(world, now, title="已结的纠纷", received_on=dt.date(2026, 11, 3))
    db.session.get(Case, closed.id).status = "closed"
    db.session.get(Case, closed.id).is_open = False
    db.session.commit()
    login_as(client, "super")
    for bad in ("overdue", "xyz"):
        resp = client.get(f"/cases?status={bad}&kind=dispute")
        assert resp.status_code == 400, bad
        page = text(resp)
        assert f"状态“{bad}”无效，本次只列出在办案件" in page
        # the other filters still hold (kind), and the open cases only, not everything
        assert case_numbers(page) == {registered.number}
        assert '<option value="dispute" selected>' in page
        assert "/reports/ledger.xlsx" not in page
        resp = client.get(f"/reports/ledger.xlsx?status={bad}&kind=dispute")
        assert resp.status_code == 303 and f"status={bad}" in resp.location
    # every value the page offers still answers 200
    html = text(client.get("/cases"))
    offered = set(re.findall(r'<option value="([a-z_]*)"', html.split('name="status"', 1)[1]
                             .split("</select>", 1)[0]))
    assert {"", "open", "handling", "closed"} <= offered
    for value in offered | {"all"}:
        assert client.get(f"/cases?status={value}").status_code == 200, value
    assert case_numbers(text(client.get("/cases?status=all&kind=dispute"))) == {
        registered.number, closed.number}
    assert case_numbers(text(client.get("/cases?status=closed"))) == {closed.number}
    assert petition.number in text(client.get("/cases?status="))


def test_invalid_date_filter_in_english(client, world, now):
    login_as(client, "super")
    client.post("/lang/en", data={"next": "/cases"})
    page = text(client.get("/cases?received_to=11-30"))
    assert "Received to “11-30” is not a valid date" in page


def _menu(html: str, name: str) -> list[tuple[str, str]]:
    """``(value, text)`` of a select's options (the empty "all" option left out)."""
    body = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [(v, re.sub(r"<[^>]+>", "", t)) for v, t in
            re.findall(r'<option value="([^"]+)"[^>]*>(.*?)</option>', body, re.S)]


def test_list_menus_come_in_one_statement(app, client, world, now, create_user):
    """The village, unit and handler menus: the town's active villages in its order, its
    active units, its enabled handlers by unit with their unit's name; read in one
    statement. A grid worker's menu holds their own villages; a county user has none."""
    from sqlalchemy import event

    from casetrack.auth.models import Role

    world.v2.sort_order, world.v1.sort_order = 0, 1
    world.unit_sf.is_active = False
    create_user("handler3", Role.HANDLER, world.town, unit=None, name="无单位承办人")
    create_user("county", Role.SUPERVISOR, None, name="县督办员")
    make_petition(world, now)  # the bulk form (with the handler menu) comes with rows
    db.session.commit()
    statements = []

    def record(conn, cursor, statement, *args):
        statements.append(statement)

    login_as(client, "super")
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        html = client.get("/cases").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    assert _menu(html, "village_id") == [(str(world.v2.id), "鹅感村"), (str(world.v1.id), "北和社区")]
    assert _menu(html, "unit_id") == [(str(world.unit_zz.id), "综治办"), (str(world.unit_xf.id), "信访办")]
    handlers = _menu(html, "handler_id")
    assert (str(world.handler1.id), "承办人甲（信访办）") in handlers
    assert (str(world.handler2.id), "承办人乙（司法所）") in handlers  # an inactive unit's handler
    assert any(text == "无单位承办人" for _, text in handlers)
    assert [h for h in handlers if h[1] != "无单位承办人"] == [
        (str(world.handler1.id), "承办人甲（信访办）"), (str(world.handler2.id), "承办人乙（司法所）")]
    menus = [s for s in statements if "FROM villages" in s or "FROM units" in s]
    assert len(menus) == 1 and "UNION ALL" in menus[0]

    login_as(client, "grid1")
    assert _menu(client.get("/cases").get_data(as_text=True), "village_id") == [
        (str(world.v1.id), "北和社区")]
    login_as(client, "county")
    html = client.get("/cases").get_data(as_text=True)
    assert _menu(html, "village_id") == [] and 'name="unit_id"' not in html
