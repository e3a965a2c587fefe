"""The dashboard through the test client: every figure is a link to exactly its cases."""

import datetime as dt
import re
from html import unescape
from html.parser import HTMLParser

import pytest
from stats.builder import CaseBuilder

from casetrack.extensions import db

D = dt.date
YEAR = "from=2022-01-01&to=2022-12-31&as_of=2022-12-31"


@pytest.fixture
def build(world) -> CaseBuilder:
    """Case histories of the ``world`` town, built through the services."""
    return CaseBuilder(world)


class Figures(HTMLParser):
    """Collects every ``<a class="figure" data-count href>`` of a page."""

    def __init__(self):
        super().__init__()
        self.links: list[tuple[str, int, str]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and "figure" in (a.get("class") or "").split():
            self.links.append((a["data-metric"], int(a["data-count"]), unescape(a["href"])))


def figure_links(html: str) -> list[tuple[str, int, str]]:
    p = Figures()
    p.feed(html)
    return p.links


def listed_ids(client, url: str) -> list[int]:
    """Case ids of a drill-down list, following its pages."""
    ids: list[int] = []
    while url:
        page = client.get(url)
        assert page.status_code == 200
        html = page.get_data(as_text=True)
        ids += [int(x) for x in re.findall(r'data-case-id="(\d+)"', html)]
        nxt = re.search(r'class="button next-page" href="([^"]+)"', html)
        url = unescape(nxt.group(1)) if nxt else None
    return ids


def _history(world, build):
    build.petition(D(2022, 3, 1), accept=D(2022, 3, 2), close=D(2022, 4, 10))
    build.petition(D(2022, 6, 1), accept=D(2022, 6, 20), close=D(2023, 1, 5), village=world.v2,
                   category="农村农业")
    build.petition(D(2022, 10, 1), accept=D(2022, 10, 2), unit=world.unit_sf,
                   handler=world.handler2)
    build.petition(D(2022, 5, 1), source="visit", accept=D(2022, 5, 2), close=D(2022, 5, 20),
                   rating="不满意")
    build.dispute(D(2022, 4, 1), mediate=D(2022, 4, 2), resolve=D(2022, 4, 10),
                  follow_up=D(2022, 4, 20), close=D(2022, 4, 21))
    build.dispute(D(2022, 8, 1), village=world.v2, category="房屋宅基地")
    db.session.commit()


def test_every_figure_links_to_exactly_its_cases(client, auth, world, build):
    _history(world, build)
    auth.login("leader")
    page = client.get(f"/dashboard?{YEAR}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<svg" in html and "北和社区" in html and "鹅感村" in html
    links = figure_links(html)
    assert len(links) > 60  # tiles, rates, chart-free tables by kind/source/village/...
    metrics = {m for m, _, _ in links}
    assert {"total", "closed", "open", "overdue", "rated", "resolved"} <= metrics
    seen = {}
    for metric, count, href in links:
        if href not in seen:
            seen[href] = listed_ids(client, href)
            total = re.search(r'data-total="(\d+)"', client.get(href).get_data(as_text=True))
            assert int(total.group(1)) == len(seen[href])
        assert len(seen[href]) == count, (metric, href)
        assert len(set(seen[href])) == count
    # the headline tiles
    tiles = {m: c for m, c, h in links if "kind=" not in h and "village_id" not in h
             and "source=" not in h and "month=" not in h and "category=" not in h
             and "unit_id" not in h}
    assert tiles["total"] == 6 and tiles["closed"] == 3 and tiles["overdue"] == 3


def test_chart_bars_are_links_too(client, auth, world, build):
    _history(world, build)
    auth.login("super")
    html = client.get(f"/dashboard?{YEAR}").get_data(as_text=True)
    bars = re.findall(r'<a href="([^"]+)"><title>([^<]+)</title><rect', html)
    assert len(bars) == 36  # 12 months x (received, closed, overdue)
    march = next(h for h, t in bars if t.startswith("3月") and "案件总数" in t)
    assert len(listed_ids(client, unescape(march))) == 1


def test_grid_worker_sees_own_village_only(client, auth, world, build):
    _history(world, build)
    auth.login("grid2")
    html = client.get(f"/dashboard?{YEAR}").get_data(as_text=True)
    assert "鹅感村" in html and "北和社区" not in html
    tiles = [(m, c) for m, c, h in figure_links(html) if m == "total" and "kind=" not in h
             and "=" not in h.split("as_of=2022-12-31", 1)[1]]
    assert tiles[0][1] == 2
    # a drill-down cannot be widened to another village by editing the link: refused (9.2)
    v1 = world.v1.id
    resp = client.get(f"/dashboard/cases?metric=total&{YEAR}&village_id={v1}")
    assert resp.status_code == 404 and "北和社区" not in resp.get_data(as_text=True)


def test_handler_has_no_dashboard_and_nav_link_shown(client, auth, world):
    auth.login("handler1")
    assert client.get("/dashboard").status_code == 403
    auth.logout()
    auth.login("leader")
    assert 'href="/dashboard"' in client.get("/dashboard").get_data(as_text=True)


def test_a_period_refused_is_said_on_the_dashboard(client, auth, world, build):
    _history(world, build)
    auth.login("leader")
    # a period that ends before it starts: said, and the default period counted instead
    resp = client.get("/dashboard?from=2022-12-31&to=2022-01-01&kind=petition")
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert "统计期间起（2022-12-31）晚于统计期间止（2022-01-01），本次按默认期间统计" in page
    # absurd days (a typo of the year) are refused, not counted as a period of nothing
    for args, field in (("as_of=1900-01-01", "截至日期“1900-01-01”"),
                        ("from=0001-01-01", "统计期间起“0001-01-01”"),
                        ("to=2099-01-01", "统计期间止“2099-01-01”"),
                        ("from=1999-12-31&to=2022-12-31", "统计期间起“1999-12-31”")):
        resp = client.get(f"/dashboard?{args}")
        assert resp.status_code == 400, args
        assert f"{field}超出可统计的范围（2000-01-01 至 " in resp.get_data(as_text=True)
    # the figure's drill-down list says so too, and its ledger goes back to it
    resp = client.get("/dashboard/cases?metric=total&from=2022-12-31&to=2022-01-01")
    assert resp.status_code == 400 and "晚于统计期间止" in resp.get_data(as_text=True)
    resp = client.get("/reports/ledger.xlsx?metric=total&as_of=1900-01-01")
    assert resp.status_code == 303 and "/dashboard/cases?" in resp.location
    # a sane period still answers 200 without a message
    resp = client.get(f"/dashboard?{YEAR}")
    assert resp.status_code == 200 and "超出可统计的范围" not in resp.get_data(as_text=True)
    assert client.get("/dashboard?from=2000-01-01&to=2022-12-31").status_code == 200


def test_the_monthly_pdf_refuses_absurd_months_and_days(client, auth, world):
    auth.login("leader")
    for args in ("month=0001-01", "month=1999-12", "month=2099-01",
                 "month=2022-12&as_of=1900-01-01", "month=2022-12&as_of=2099-01-01"):
        resp = client.get(f"/reports/monthly.pdf?{args}")
        assert resp.status_code == 302, args
        assert resp.headers.get("Content-Type", "").startswith("text/html"), args
        page = client.get(resp.location).get_data(as_text=True)
        assert "超出可统计的范围" in page, args


def test_bad_metric_is_404(client, auth, world):
    auth.login("leader")
    assert client.get("/dashboard/cases?metric=nope").status_code == 404


def test_village_and_category_charts_link_every_bar(client, auth, world, build):
    _history(world, build)
    auth.login("super")
    html = client.get(f"/dashboard?{YEAR}").get_data(as_text=True)
    charts = re.findall(r'<svg class="hchart".*?</svg>', html, re.S)
    assert len(charts) == 2  # by village, by category
    village, category = charts
    assert "北和社区" in village and "鹅感村" in village
    assert "城乡建设" in category and "房屋宅基地" in category
    bars = figure_links(village)
    assert sorted(c for m, c, _ in bars if m == "total") == [2, 4]
    assert sum(c for m, c, _ in bars if m == "closed") == 3
    for _metric, count, href in bars + figure_links(category):
        assert len(listed_ids(client, href)) == count


def test_an_unknown_category_in_the_url_is_not_echoed(client, auth, world, build):
    _history(world, build)
    auth.login("super")
    junk = "某" * 5000
    for url in (f"/dashboard?category={junk}", f"/cases?category={junk}"):
        resp = client.get(url)
        # said (400), in a few characters, never echoed at length
        assert resp.status_code == 400
        assert junk[:21] not in resp.get_data(as_text=True), url
        assert junk[:20] in resp.get_data(as_text=True), url


def test_figure_links_are_what_url_for_builds(app):
    """The dashboard builds its ~600 links without ``url_for`` per figure: each must be the
    very URL ``url_for`` gives (order and escaping), whatever the narrowing."""
    from flask import url_for

    from casetrack.stats import queries as sq
    from casetrack.stats.views import _linker

    q = sq.StatsQuery(dt.date(2025, 1, 1), dt.date(2025, 12, 31), dt.date(2025, 12, 31),
                      kind="dispute", category="房屋宅基地")
    with app.test_request_context("/dashboard"):
        link = _linker(q)
        for metric, dims in [("total", {}), ("closed", {"village": 0}),
                             ("overdue", {"category": "邻里 & 物业/其他?"}),
                             ("open", {"month": "2025-03", "unit": 7, "kind": None}),
                             ("ended", {"town": 3, "source": "leader_visit"})]:
            assert link(metric, **dims) == url_for(
                "stats.cases", metric=metric, **q.narrowed(**dims).params())


def test_drill_down_total_on_every_page_and_past_the_end(client, auth, world, build,
                                                         monkeypatch):
    """The page and its total come from one statement; a page past the end still says how
    many cases the figure counts."""
    from casetrack.stats import views

    _history(world, build)
    monkeypatch.setattr(views, "DRILL_PAGE_SIZE", 2)
    auth.login("leader")
    base = f"/dashboard/cases?metric=total&{YEAR}"
    ids = listed_ids(client, base)
    assert len(ids) > 2 and len(set(ids)) == len(ids)
    last = -(-len(ids) // 2)
    for page in (1, 2, 40):
        resp = client.get(f"{base}&page={page}")
        html = resp.get_data(as_text=True)
        assert re.search(r'data-total="(\d+)"', html).group(1) == str(len(ids))
        shown = re.findall(r'data-case-id="(\d+)"', html)
        # past the end: the last page, said (400)
        shown_page = min(page, last)
        assert len(shown) == min(2, len(ids) - 2 * (shown_page - 1))
        assert resp.status_code == (400 if page > last else 200)
        assert (f"第 {page} 页超出列表范围（共 {last} 页），本次显示最后一页" in html) == (page > last)


def test_a_month_or_lone_start_refused_is_said_not_turned_round(client, auth, world, build):
    _history(world, build)
    auth.login("leader")
    # a month that is no month: said, and the figures count the period without it
    for bad in ("2022-13", "2022-3", "abcd-ef", "1999-12"):
        resp = client.get(f"/dashboard/cases?metric=total&{YEAR}&month={bad}")
        assert resp.status_code == 400, bad
        assert f"月份“{bad}”不是有效月份（应为 YYYY-MM），本次未采用" in resp.get_data(as_text=True)
    ok = client.get(f"/dashboard/cases?metric=total&{YEAR}&month=2022-03")
    assert ok.status_code == 200 and "不是有效月份" not in ok.get_data(as_text=True)
    # its ledger goes back to the figure's cases, which say why
    resp = client.get(f"/reports/ledger.xlsx?metric=total&{YEAR}&month=2022-13")
    assert resp.status_code == 303 and "/dashboard/cases?" in resp.location
    # a start still to come, with the end left to default to today (2026-11-23): said, and
    # the default period (this year so far) counted, not the span turned round
    resp = client.get("/dashboard?from=2026-12-15")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "统计期间起（2026-12-15）晚于今天（2026-11-23），本次按默认期间统计" in page
    assert 'value="2026-01-01"' in page and 'value="2026-11-23"' in page
    # only an end given: that end's year so far (2022's first half), not from it to January
    resp = client.get("/dashboard?to=2022-06-30")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and 'value="2022-01-01"' in page
    # 2022's first half holds the cases of March, April, May and June (two came later)
    tiles = {m: c for m, c, h in figure_links(page)
             if "=" not in h.split("as_of=2022-06-30", 1)[-1]}
    assert tiles["total"] == 4
