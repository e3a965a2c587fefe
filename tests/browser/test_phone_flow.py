"""A grid worker on a 375-px phone screen logs a neighbour dispute and records a mediation
session, in a real headless Chromium driven by Playwright against a live server."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from casetrack.cases.models import Case
from casetrack.extensions import db

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def _no_sideways_scroll(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide on a {PHONE['width']}px screen"


def test_grid_worker_logs_dispute_and_mediation_on_phone(live_server, chromium_path,
                                                        chromium_args, artifacts_dir):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=chromium_args)
        try:
            context = browser.new_context(viewport=PHONE, device_scale_factor=2,
                                          is_mobile=True, has_touch=True, locale="zh-CN")
            page = context.new_page()
            page.goto(live_server.url + "/login")
            page.get_by_label("用户名").fill("grid1")
            page.get_by_label("密码").fill("pass-1234")
            page.get_by_role("button", name="登录").click()
            expect(page.get_by_role("heading", name="我的待办 · 北和社区")).to_be_visible()

            # the menu is folded away on a phone: open it, then register
            page.locator("label.nav-toggle-label").click()
            page.locator("nav.nav").get_by_role("link", name="登记案件").click()
            expect(page.get_by_role("heading", name="登记案件")).to_be_visible()
            _no_sideways_scroll(page)
            page.get_by_label("事项标题").fill("邻里排水沟堵塞纠纷（虚构）")
            page.get_by_label("主要内容").fill("两户因排水沟堵塞发生争执，网格排查发现")
            page.get_by_label("内容分类").select_option("邻里")
            page.get_by_label("姓名").nth(0).fill("王五（虚构）")
            page.get_by_label("姓名").nth(1).fill("赵六（虚构）")
            _no_sideways_scroll(page)
            page.screenshot(path=str(artifacts_dir / "phone-register.png"), full_page=True)
            page.get_by_role("button", name="登记", exact=True).click()

            expect(page.get_by_role("alert")).to_contain_text("已登记，编号 北和调〔2026〕1号")
            page.locator("#action-start_mediation summary").click()
            page.locator("#action-start_mediation").get_by_role("button", name="开始调解").click()
            expect(page.get_by_role("alert")).to_contain_text("开始调解")

            page.locator("#action-mediation_session summary").click()
            session = page.locator("#action-mediation_session")
            session.get_by_label("调解情况").fill("村调委会组织双方协商，约定三日内疏通")
            _no_sideways_scroll(page)
            page.screenshot(path=str(artifacts_dir / "phone-action.png"))
            session.get_by_role("button", name="记录调解").click()
            expect(page.get_by_role("alert")).to_contain_text("记录调解")

            timeline = page.locator("#timeline")
            expect(timeline).to_contain_text("登记")
            expect(timeline).to_contain_text("开始调解")
            expect(timeline).to_contain_text("已登记 → 调解中")
            expect(timeline).to_contain_text("记录调解")
            expect(timeline).to_contain_text("村调委会组织双方协商，约定三日内疏通")
            expect(timeline).to_contain_text("网格员甲")
            _no_sideways_scroll(page)
            page.screenshot(path=str(artifacts_dir / "phone-detail.png"), full_page=True)

            page.goto(live_server.url + "/cases")
            expect(page.locator("table.case-list")).to_contain_text("北和调〔2026〕1号")
            _no_sideways_scroll(page)
            page.screenshot(path=str(artifacts_dir / "phone-list.png"), full_page=True)
            context.close()
        finally:
            browser.close()

    with live_server.app.app_context():
        case = db.session.scalar(select(Case))
        assert case.status == "mediating" and case.mediation_level == "village"
        assert [e.action for e in case.events] == ["register", "start_mediation",
                                                   "mediation_session"]
        db.session.remove()
