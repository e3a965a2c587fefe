"""What the dashboard and its reports cannot or should not count is said (400 on the page,
a message before the download), never counted silently: a cut-off or an end still to come, a
cut-off before the period, a narrowing that is none of its values. Every narrowing in force
is named in the caption and kept by the form. Today is 2026-11-23 (the ``now`` fixture)."""

import re
from html import unescape

import pytest
from stats.builder import CaseBuilder
from stats.test_dashboard import YEAR, _history, figure_links

from casetrack.extensions import db


@pytest.fixture
def build(world) -> CaseBuilder:
    return CaseBuilder(world)


def _caption(html: str) -> str:
    found = re.search(r'<p class="muted dashboard-caption">(.*?)</p>', html, re.S)
    return unescape(re.sub(r"<[^>]+>", "", found.group(1)))


def _total(html: str) -> int:
    return next(c for m, c, _h in figure_links(html) if m == "total")


def test_a_cut_off_after_today_is_said_and_today_used(client, auth, world, build):
    _history(world, build)
    auth.login("leader")
    resp = client.get("/dashboard?as_of=2027-11-01")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "截至日期（2027-11-01）晚于今天（2026-11-23），本次按今天的状态统计" in html
    assert "状态截至2026-11-23日终" in _caption(html) and "2027-11-01日终" not in html
    # the drill-down and its ledger say it too
    resp = client.get("/dashboard/cases?metric=overdue&as_of=2027-11-01")
    assert resp.status_code == 400 and "晚于今天（2026-11-23）" in resp.get_data(as_text=True)
    resp = client.get("/reports/ledger.xlsx?metric=overdue&as_of=2027-11-01")
    assert resp.status_code == 303 and "/dashboard/cases?" in resp.location
    # today itself is no projection
    assert client.get("/dashboard?as_of=2026-11-23").status_code == 200


def test_a_cut_off_before_the_period_is_said(client, auth, world, build):
    _history(world, build)
    auth.login("leader")
    resp = client.get("/dashboard?from=2022-01-01&to=2022-12-31&as_of=2020-01-01")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "截至日期（2020-01-01）早于统计期间起（2022-01-01），本次按默认截至日期统计" in html
    assert "状态截至2022-12-31日终" in _caption(html)
    assert _total(html) == 6


def test_an_end_after_today_is_said_like_a_start(client, auth, world):
    auth.login("leader")
    resp = client.get("/dashboard?to=2027-06-01")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "统计期间止（2027-06-01）晚于今天（2026-11-23），本次统计至今天" in html
    assert 'name="to" value="2026-11-23"' in html
    # a start still to come with an end: said too, not a period of nothing
    resp = client.get("/dashboard?from=2026-12-15&to=2026-12-31")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "统计期间起（2026-12-15）晚于今天（2026-11-23），本次按默认期间统计" in html
    assert 'name="from" value="2026-01-01"' in html


def test_the_monthly_pdf_refuses_a_cut_off_after_today_or_before_the_month(client, auth,
                                                                          world):
    auth.login("leader")
    for args, said in (
            ("month=2026-11&as_of=2026-12-20", "截至日期（2026-12-20）晚于今天（2026-11-23），"
                                               "月度汇总只能截至今天或更早"),
            ("month=2026-11&as_of=2020-01-01", "截至日期（2020-01-01）早于2026-11月的第一天"
                                               "（2026-11-01），月度汇总将全为零，未打印"),
            ("month=2026-12", "月份“2026-12”尚未开始（今天是 2026-11-23），不能打印其月度汇总")):
        resp = client.get(f"/reports/monthly.pdf?{args}")
        assert resp.status_code == 302, args
        assert said in client.get(resp.location).get_data(as_text=True), args
    resp = client.get("/reports/monthly.pdf?month=2026-11&as_of=2026-11-23")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"


def test_the_year_sentences_say_a_cut_off_or_year_still_to_come(client, auth, world):
    auth.login("leader")
    resp = client.get("/reports/sentences?year=2026&as_of=2026-12-31")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "截至日期（2026-12-31）晚于今天（2026-11-23），本次按今天的状态统计" in html
    assert "状态截至2026-11-23" in html
    resp = client.get("/reports/sentences?year=2026&as_of=2025-06-30")
    assert resp.status_code == 400
    assert "截至日期（2025-06-30）早于2026年的第一天" in resp.get_data(as_text=True)
    resp = client.get("/reports/sentences?year=2027")
    assert resp.status_code == 400
    assert "2027年尚未开始，本次按今年（2026年）统计" in resp.get_data(as_text=True)
    resp = client.get("/reports/sentences?year=1950")
    assert resp.status_code == 400
    assert "1950年早于可统计的范围（2000年起），本次按今年（2026年）统计" in resp.get_data(as_text=True)
    assert client.get("/reports/sentences?year=2026&as_of=2026-11-23").status_code == 200


def test_every_narrowing_is_named_and_kept(client, auth, world, build):
    _history(world, build)
    auth.login("leader")
    resp = client.get(f"/dashboard?{YEAR}&month=2022-06&kind=petition&village_id={world.v2.id}"
                      "&category=农村农业&source=assigned")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200
    caption = _caption(html)
    assert "统计口径：2022-06-01至2022-06-30收到" in caption
    for said in ("类型：信访事项", "村（居）：鹅感村", "类别：农村农业", "来源："):
        assert said in caption, said
    assert "取消筛选" in caption
    # the form keeps every narrowing when the period is changed
    form = html.split('action="/dashboard"', 1)[1].split("</form>", 1)[0]
    for name, value in (("month", "2022-06"), ("kind", "petition"),
                        ("village_id", str(world.v2.id)), ("category", "农村农业"),
                        ("source", "assigned")):
        assert f'type="hidden" name="{name}" value="{value}"' in form, name
    assert _total(html) == 1
    # the tester's example: this year so far (the default period), October only
    resp = client.get("/dashboard?month=2026-10")
    assert resp.status_code == 200
    assert "统计口径：2026-10-01至2026-10-31收到" in _caption(resp.get_data(as_text=True))
    assert 'type="hidden" name="month" value="2026-10"' in resp.get_data(as_text=True)
    # a unit narrowing too
    html = client.get(f"/dashboard?{YEAR}&unit_id={world.unit_sf.id}").get_data(as_text=True)
    assert "承办单位：司法所" in _caption(html) and _total(html) == 1
    # unnarrowed: no narrowing named, nothing hidden kept
    html = client.get(f"/dashboard?{YEAR}").get_data(as_text=True)
    assert "取消筛选" not in html and 'type="hidden" name="kind"' not in html


def test_a_narrowing_that_is_none_of_its_values_is_said(client, auth, world, build):
    _history(world, build)
    auth.login("leader")
    for arg, said in (("kind=bogus", "类型“bogus”"), ("village_id=abc", "村（居）“abc”"),
                      ("unit_id=-1", "承办单位“-1”"), ("source=nowhere", "来源“nowhere”"),
                      ("category=不存在", "类别“不存在”"), ("town_id=x", "乡镇“x”")):
        resp = client.get(f"/dashboard?{YEAR}&{arg}")
        html = resp.get_data(as_text=True)
        assert resp.status_code == 400, arg
        assert f"{said}无效，本次未按该条件统计" in html, arg
        assert _total(html) == 6, arg  # the narrowing left out, said
        resp = client.get(f"/reports/ledger.xlsx?metric=total&{YEAR}&{arg}")
        assert resp.status_code == 303, arg
    # a month outside the period counts nothing: said, and left out
    resp = client.get(f"/dashboard?{YEAR}&month=2023-03")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "月份“2023-03”不在统计期间（2022-01-01至2022-12-31）内，本次未采用" in html
    assert _total(html) == 6
    # another town's village: refused, in words, without its name
    other = world.other_town.villages[0]
    resp = client.get(f"/dashboard?{YEAR}&village_id={other.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 404
    assert "筛选的乡镇、村（居）或承办单位不存在或不在您的查看范围内" in html
    assert other.name not in html
    db.session.rollback()
