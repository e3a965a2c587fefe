"""Every page a grid worker reaches, on a 375-px phone screen in a real headless Chromium:
nothing sticks out sideways, the menu opens, and the top bar draws its icons as SVG (an emoji
bell rendered as an empty box on machines without an emoji font)."""

from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from sqlalchemy import select

from casetrack.auth.models import User
from casetrack.cases import services as svc
from casetrack.extensions import db
from casetrack.notify.services import notify_users

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}
NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
#: emoji and pictographs: they need a font most servers and many phones lack
EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF]")
#: elements sticking out to the right of the screen (none may), except inside a box that
#: scrolls or clips sideways on purpose (a wide chart in an ``overflow-x:auto`` wrapper)
OVERFLOW_JS = """() => {
  const clipped = e => { for (let a = e.parentElement; a && a !== document.body; a = a.parentElement)
    if (getComputedStyle(a).overflowX !== 'visible') return true; return false; };
  return [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
               && getComputedStyle(e).visibility !== 'hidden' && !clipped(e))
  .slice(0, 5).map(e => e.tagName.toLowerCase() + '.' + e.className + ' right='
                   + Math.round(e.getBoundingClientRect().right)); }"""


def _seed_case(app) -> int:
    """A dispute of grid1's village in mediation, with a file, and one unread message."""
    with app.app_context():
        grid1 = db.session.scalar(select(User).where(User.username == "grid1"))
        village = grid1.villages[0]
        case = svc.register_case(db.session, grid1, NOW, svc.CaseInput(
            kind="dispute", title="邻里排水沟堵塞纠纷（虚构）", source="screening",
            received_on=dt.date(2026, 11, 20), category="邻里", village_id=village.id,
            summary="两户因排水沟堵塞发生争执（虚构）",
            parties=[svc.PartyInput(name="王五（虚构）", role="applicant",
                                    phone="13800138000", address="北和社区东区1号（虚构）"),
                     svc.PartyInput(name="赵六（虚构）", role="respondent")]))
        svc.start_mediation(db.session, grid1, NOW, case, "village", "村调委会受理")
        svc.record_mediation_session(db.session, grid1, NOW, case, dt.date(2026, 11, 23),
                                     "组织双方协商，约定三日内疏通")
        svc.add_attachment(db.session, grid1, NOW, case, "调解记录（虚构）.pdf",
                           "application/pdf", io.BytesIO(b"%PDF-1.4 fictional"))
        notify_users(db.session, [grid1], NOW, kind="test", dedupe_key=f"phone:{case.id}",
                     subject="案件提醒（虚构）", body="请及时回访", link=f"/cases/{case.id}")
        db.session.commit()
        case_id = case.id
        db.session.remove()
        return case_id


def _check(page, name: str, artifacts_dir) -> None:
    """No sideways scrolling, nothing drawn past the right edge, no emoji; a screenshot."""
    page.wait_for_load_state()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{name}: page is {width}px wide"
    assert page.evaluate(OVERFLOW_JS) == [], name
    assert not EMOJI.search(page.locator("body").inner_text()), name
    page.screenshot(path=str(artifacts_dir / f"phone-page-{name}.png"), full_page=True)


def test_every_grid_worker_page_fits_a_phone(live_server, chromium_path, chromium_args,
                                             artifacts_dir):
    from playwright.sync_api import expect, sync_playwright

    case_id = _seed_case(live_server.app)
    base = live_server.url
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=chromium_args)
        try:
            context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True,
                                          locale="zh-CN")
            page = context.new_page()
            page.goto(base + "/login")
            _check(page, "login", artifacts_dir)
            page.get_by_label("用户名").fill("grid1")
            page.get_by_label("密码").fill("wrong-password")
            page.get_by_role("button", name="登录").click()
            expect(page.get_by_role("alert")).to_contain_text("用户名或密码错误")
            _check(page, "login-failed", artifacts_dir)
            page.get_by_label("密码").fill("pass-1234")
            page.get_by_role("button", name="登录").click()
            expect(page.get_by_role("heading", name="我的待办 · 北和社区")).to_be_visible()
            _check(page, "home", artifacts_dir)
            page.goto(base + "/cases")
            _check(page, "list", artifacts_dir)

            # the folded menu: an SVG icon with the unread count, then the links
            toggle = page.locator("label.nav-toggle-label")
            expect(toggle.locator("svg")).to_have_count(1)
            expect(toggle.locator(".badge")).to_have_text("1")
            toggle.click()
            bell = page.locator("nav.nav a[href='/notifications/']")
            expect(bell).to_be_visible()
            expect(bell.locator("svg")).to_have_count(1)
            expect(bell).to_contain_text("消息")
            _check(page, "menu", artifacts_dir)
            links = page.eval_on_selector_all(
                "nav.nav a", "els => els.map(e => e.getAttribute('href'))")

            page.goto(base + "/cases")
            page.locator("details.more-filters summary").click()
            _check(page, "list-filters", artifacts_dir)
            page.goto(base + "/cases?q=" + "王五")
            expect(page.locator("table.case-list")).to_contain_text("邻里排水沟堵塞纠纷")
            _check(page, "list-search", artifacts_dir)

            for kind in ("dispute", "petition"):
                page.goto(f"{base}/cases/new?kind={kind}")
                _check(page, f"new-{kind}", artifacts_dir)
            page.get_by_role("button", name="登记", exact=True).click()
            expect(page.get_by_role("alert")).to_contain_text("请填写事项标题")
            _check(page, "new-errors", artifacts_dir)

            page.goto(f"{base}/cases/{case_id}")
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            expect(page.locator("#timeline")).to_contain_text("已登记 → 调解中")
            _check(page, "detail-all-forms", artifacts_dir)
            # a refused step shows its Chinese message on the same page
            form = page.locator("#action-escalate")
            form.get_by_role("button").click()
            expect(page.get_by_role("alert")).to_contain_text("请填写上交理由")
            _check(page, "detail-refused", artifacts_dir)

            for path in links:
                if path and path not in ("/", "/cases", "/cases/new"):
                    page.goto(base + path)
                    _check(page, path.strip("/").replace("/", "-") or "home", artifacts_dir)
            assert "/notifications/" in links and "/dashboard" in links
            page.goto(base + "/notifications/preferences")
            _check(page, "notification-preferences", artifacts_dir)
            page.goto(base + "/dashboard")
            page.locator("main a[href*='/dashboard/cases']").first.click()
            page.wait_for_url("**/dashboard/cases?**")
            _check(page, "dashboard-drilldown", artifacts_dir)
            page.goto(base + "/no-such-page")
            expect(page.locator("main")).to_contain_text("页面不存在或您无权查看")
            _check(page, "not-found", artifacts_dir)
            context.close()
        finally:
            browser.close()


#: form fields too small to hit with a finger (unstyled inputs are about 21 px tall)
SMALL_FIELDS_JS = """() => [...document.querySelectorAll('main input, main select, main button')]
  .filter(e => !['checkbox', 'radio', 'hidden', 'file'].includes(e.type) && e.offsetParent !== null
               && e.getBoundingClientRect().height < 32)
  .slice(0, 5).map(e => e.tagName.toLowerCase() + '[name=' + e.name + '] h='
                   + Math.round(e.getBoundingClientRect().height))"""


def test_admin_pages_fit_a_phone(live_server, chromium_path, chromium_args, artifacts_dir):
    """Villages, units, users and holidays on a phone: nothing sideways, fields big enough."""
    from playwright.sync_api import sync_playwright

    with live_server.app.app_context():
        town = db.session.scalar(select(User).where(User.username == "super")).town
        if db.session.scalar(select(User).where(User.username == "admin1")) is None:
            admin = User(username="admin1", name="管理员（虚构）", role="admin", town=town)
            admin.set_password("pass-1234")
            db.session.add(admin)
            db.session.commit()
        user_id = db.session.scalar(select(User.id).where(User.username == "grid1"))
        db.session.remove()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=chromium_args)
        try:
            page = browser.new_page(viewport=PHONE)
            page.goto(live_server.url + "/login")
            page.get_by_label("用户名").fill("admin1")
            page.get_by_label("密码").fill("pass-1234")
            page.get_by_role("button", name="登录").click()
            for path in ("/admin/", "/admin/villages", "/admin/units", "/admin/users",
                         "/admin/users/new", f"/admin/users/{user_id}", "/admin/calendar/",
                         "/admin/calendar/year/2027", "/admin/reminders/"):
                resp = page.goto(live_server.url + path)
                assert resp.status == 200, path
                name = "admin" + path.replace("/", "-").rstrip("-")
                _check(page, name, artifacts_dir)
                assert page.evaluate(SMALL_FIELDS_JS) == [], path
        finally:
            browser.close()
