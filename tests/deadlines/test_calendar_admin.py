"""The holiday calendar admin page: year status, a year entered by form or CSV, refusals,
single overrides, and the recomputation of due dates with its timeline events."""

import datetime as dt
import io
import re

import pytest
from sqlalchemy import func, select

from casetrack.cases.models import Case, CaseEvent
from casetrack.deadlines.models import CalendarYear, HolidayOverride, TownCalendarYear
from casetrack.extensions import db

from .calendar_support import SCHEDULE_2027, open_cases_due_2027, schedule_csv, schedule_text


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def _recompute_events(case: Case) -> list[CaseEvent]:
    return list(
        db.session.scalars(
            select(CaseEvent).where(
                CaseEvent.case_id == case.id, CaseEvent.action == "recompute_due"
            )
        )
    )


@pytest.fixture
def admin_client(client, auth, world):
    assert auth.login("admin").status_code == 302
    return client


def test_calendar_page_shows_year_status(admin_client):
    html = admin_client.get("/admin/calendar/").get_data(as_text=True)
    for year in (2024, 2025, 2026, 2027):
        assert f'<td data-label="年份">{year}</td>' in html
    assert html.count("chinesecalendar 已有") == 3
    assert "未知" in html and "/admin/calendar/year/2027" in html


def test_admin_is_asked_once_for_next_year(admin_client, world, now, client, auth):
    open_cases_due_2027(world, now)
    html = admin_client.get("/admin/").get_data(as_text=True)
    banners = re.findall(r'<div class="banner banner-warning">(.*?)</div>', html, re.S)
    assert len([b for b in banners if "2027" in b]) == 1
    assert "/admin/calendar/" in banners[0]
    page = admin_client.get("/admin/calendar/").get_data(as_text=True)
    assert "本镇有 2 个未办结案件的期限为暂定" in page
    admin_client.post("/admin/calendar/year/2027", data={"entries": schedule_text()})
    html = admin_client.get("/admin/calendar/").get_data(as_text=True)
    assert "期限为暂定" not in html
    assert not [b for b in re.findall(r'class="banner banner-warning">(.*?)</div>', html, re.S)
                if "2027" in b]
    auth.logout()
    auth.login("super")
    resp = client.get("/cases")
    assert resp.status_code == 200 and 'class="banner banner-warning"' not in resp.get_data(as_text=True)


def test_enter_year_by_form_recomputes_due_dates(admin_client, world, now):
    a, b, c = open_cases_due_2027(world, now)
    resp = admin_client.post(
        "/admin/calendar/year/2027",
        data={"entries": schedule_text(), "source": "国办发明电〔2026〕X号（示例）"},
    )
    assert resp.status_code == 302
    assert _count(HolidayOverride) == len(SCHEDULE_2027)
    # a town admin enters the year for the town (its own layer), not for the county
    assert _count(CalendarYear) == 0
    cy = db.session.get(TownCalendarYear, (world.town.id, 2027))
    assert cy.entered_by_id == world.admin.id and cy.source.startswith("国办发明电")
    db.session.expire_all()
    # A: same date, now exact; B: moved past the Spring Festival and the weekend
    assert (a.due_on, a.due_is_exact) == (dt.date(2027, 1, 22), True)
    assert (b.due_on, b.due_is_exact) == (dt.date(2027, 2, 15), True)
    (ev_a,) = _recompute_events(a)
    assert ev_a.changes == {"due_is_exact": [False, True]}
    assert ev_a.actor_id == world.admin.id and ev_a.at == now
    (ev_b,) = _recompute_events(b)
    assert ev_b.changes == {"due_on": ["2027-02-11", "2027-02-15"],
                            "statutory_due_on": ["2027-02-11", "2027-02-15"],
                            "due_is_exact": [False, True]}
    assert "2027年节假日安排" in ev_b.note
    assert _recompute_events(c) == []
    html = admin_client.get("/admin/calendar/").get_data(as_text=True)
    assert "管理员已录入" in html and "本镇 2 个案件的期限已重新计算" in html
    assert f"{b.number} 2027-02-11 → 2027-02-15" in html


def test_entering_again_replaces_and_only_changed_cases_get_events(admin_client, world, now):
    a, b, _c = open_cases_due_2027(world, now)
    assert (
        admin_client.post(
            "/admin/calendar/year/2027", data={"entries": schedule_text()}
        ).status_code
        == 302
    )
    # the form shows what was entered, for correction
    page = admin_client.get("/admin/calendar/year/2027").get_data(as_text=True)
    assert "2027-02-20,workday,春节调休" in page
    # second entry: 01-22 becomes a holiday as well; A moves, B stays
    rows = [*SCHEDULE_2027, ("2027-01-22", "holiday", "测试")]
    assert (
        admin_client.post(
            "/admin/calendar/year/2027", data={"entries": schedule_text(rows)}
        ).status_code
        == 302
    )
    assert _count(HolidayOverride) == len(rows)
    db.session.expire_all()
    assert a.due_on == dt.date(2027, 1, 25)
    assert [e.changes for e in _recompute_events(a)][-1] == {
        "due_on": ["2027-01-22", "2027-01-25"], "statutory_due_on": ["2027-01-22", "2027-01-25"]}
    assert len(_recompute_events(b)) == 1


@pytest.mark.parametrize(
    ("encoding", "bom"), [("utf-8", False), ("utf-8", True), ("gb18030", False)]
)
def test_enter_year_by_csv_upload(admin_client, world, now, encoding, bom):
    _a, b, _c = open_cases_due_2027(world, now)
    resp = admin_client.post(
        "/admin/calendar/year/2027",
        data={
            "entries": "",
            "file": (io.BytesIO(schedule_csv(encoding=encoding, bom=bom)), "2027.csv"),
        },
        content_type="multipart/form-data",
    )
    assert resp.status_code == 302
    names = set(db.session.scalars(select(HolidayOverride.name)))
    assert names == {"元旦", "春节", "春节调休"}
    db.session.expire_all()
    assert (b.due_on, b.due_is_exact) == (dt.date(2027, 2, 15), True)


def test_errors_are_numbered_and_nothing_is_saved(admin_client, world, now):
    a, _b, _c = open_cases_due_2027(world, now)
    text = "\n".join(
        [
            "2027-01-01,holiday,元旦",
            "",
            "2027-13-01,holiday,坏日期",
            "2026-12-31,holiday,去年",
            "2027-02-07,rest-ish,类型错",
            "2027-01-01,holiday,重复",
            "2027-03-01,workday,周一",
            "2027-03-02",
        ]
    )
    resp = admin_client.post("/admin/calendar/year/2027", data={"entries": text})
    assert resp.status_code == 422
    html = resp.get_data(as_text=True)
    for expected in [
        "第3行：日期“2027-13-01”无效",
        "第4行：日期 2026-12-31 不在 2027 年",
        "第5行：类型“rest-ish”无效",
        "第6行：日期 2027-01-01 与第1行重复",
        "第7行：2027-03-01 是星期一，本来就是工作日",
        "第8行：应为“日期,类型,名称”三列",
    ]:
        assert expected in html
    assert "有 6 处错误，未保存任何内容" in html
    assert _count(HolidayOverride) == 0 and _count(CalendarYear) == _count(TownCalendarYear) == 0
    db.session.expire_all()
    assert a.due_is_exact is False and _recompute_events(a) == []


def test_csv_errors(admin_client, world):
    no_header = "2027-01-01,holiday,元旦\n".encode()
    resp = admin_client.post(
        "/admin/calendar/year/2027",
        data={"file": (io.BytesIO(no_header), "x.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422
    assert "第1行：第一行应为表头" in resp.get_data(as_text=True)
    only_workdays = "date,type,name\n2027-01-31,workday,调休\n".encode()
    resp = admin_client.post(
        "/admin/calendar/year/2027",
        data={"file": (io.BytesIO(only_workdays), "x.csv")},
        content_type="multipart/form-data",
    )
    assert "没有任何放假日期" in resp.get_data(as_text=True)
    resp = admin_client.post(
        "/admin/calendar/year/2027",
        data={"file": (io.BytesIO(b"\xff\xfe\x00\xd8garbage\x81"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert resp.status_code == 422 and "无法识别文件编码" in resp.get_data(as_text=True)
    assert _count(HolidayOverride) == 0


def test_year_known_to_package_is_refused(admin_client, world):
    resp = admin_client.post(
        "/admin/calendar/year/2026", data={"entries": "2026-01-01,holiday,元旦"}
    )
    assert resp.status_code == 422
    assert "已由 chinesecalendar 提供" in resp.get_data(as_text=True)
    assert _count(CalendarYear) == _count(TownCalendarYear) == 0


def test_single_override_add_and_remove(admin_client, world, now):
    # a dispute received 2026-11-23 is due 2026-12-23; make that day a holiday
    _a, _b, c = open_cases_due_2027(world, now)
    resp = admin_client.post(
        "/admin/calendar/overrides",
        data={"day": "2026-12-23", "is_workday": "0", "name": "测试停工日"},
    )
    assert resp.status_code == 302
    db.session.expire_all()
    assert c.due_on == dt.date(2026, 12, 24)
    assert _recompute_events(c)[0].changes == {"due_on": ["2026-12-23", "2026-12-24"],
                                               "statutory_due_on": ["2026-12-23", "2026-12-24"]}
    # the same day again is refused; a weekday cannot be an adjusted workday
    resp = admin_client.post(
        "/admin/calendar/overrides", data={"day": "2026-12-23", "is_workday": "0"}
    )
    assert resp.status_code == 422 and "已有调整记录" in resp.get_data(as_text=True)
    resp = admin_client.post(
        "/admin/calendar/overrides", data={"day": "2026-12-22", "is_workday": "1"}
    )
    assert resp.status_code == 422 and "本来就是工作日" in resp.get_data(as_text=True)
    resp = admin_client.post(
        "/admin/calendar/overrides", data={"day": "2026-02-30", "is_workday": "0"}
    )
    assert resp.status_code == 422 and "日期无效" in resp.get_data(as_text=True)
    override = db.session.scalar(select(HolidayOverride))
    assert admin_client.post(f"/admin/calendar/overrides/{override.id}/delete").status_code == 302
    db.session.expire_all()
    assert _count(HolidayOverride) == 0
    assert c.due_on == dt.date(2026, 12, 23) and len(_recompute_events(c)) == 2
    assert admin_client.post(f"/admin/calendar/overrides/{override.id}/delete").status_code == 404


@pytest.mark.parametrize("username", ["super", "leader", "handler1", "grid1"])
def test_calendar_pages_forbidden_to_non_admins(client, auth, world, username):
    auth.login(username)
    assert client.get("/admin/calendar/").status_code == 403
    assert (
        client.post("/admin/calendar/year/2027", data={"entries": schedule_text()}).status_code
        == 403
    )
    assert client.post("/admin/calendar/overrides", data={"day": "2026-12-23"}).status_code == 403
    assert _count(HolidayOverride) == 0


def test_calendar_page_needs_login(client, world):
    resp = client.get("/admin/calendar/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
