"""The supervisor's dashboard on a 375-px phone in a real headless Chromium: no sideways
scrolling of the page, chart text large enough to read, figure tables still tables."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


def test_dashboard_is_legible_on_a_phone(live_server, chromium_path, chromium_args,
                                         artifacts_dir):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=chromium_args)
        try:
            context = browser.new_context(viewport=PHONE, device_scale_factor=2,
                                          is_mobile=True, has_touch=True, locale="zh-CN")
            page = context.new_page()
            page.goto(live_server.url + "/login")
            page.get_by_label("用户名").fill("super")
            page.get_by_label("密码").fill("pass-1234")
            page.get_by_role("button", name="登录").click()
            page.goto(live_server.url + "/dashboard?from=2026-01-01&to=2026-11-23")
            # the breakdowns are folded (action first): unfold them to read the charts
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            expect(page.get_by_role("heading", name="按村（居）")).to_be_visible()
            page.screenshot(path=str(artifacts_dir / "dashboard-375.png"), full_page=True)

            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"page is {width}px wide"
            # text of the month chart and of the village chart, as drawn on the screen
            month_px = page.evaluate(
                "Math.min(...[...document.querySelectorAll('svg.chart text')]"
                ".map(t => t.getBoundingClientRect().height))")
            assert month_px >= 9, f"month chart text is {month_px}px high"
            village = page.locator("svg.hchart").first
            expect(village).to_contain_text("北和社区")
            expect(village).to_contain_text("鹅感村")  # every village, zeros included
            village_px = page.evaluate(
                "Math.min(...[...document.querySelectorAll('svg.hchart text')]"
                ".map(t => t.getBoundingClientRect().height))")
            assert village_px >= 11, f"village chart text is {village_px}px high"
            # the figure tables keep their header row and one line per village
            head = page.locator("table.figures[data-dim=village] thead")
            expect(head).to_be_visible()
            rows = page.locator("table.figures[data-dim=village] tbody tr")
            assert rows.count() == 2
            boxes = [rows.nth(i).bounding_box() for i in range(2)]
            assert all(b["height"] < 60 for b in boxes), boxes  # a row, not a stacked card
        finally:
            browser.close()


def test_reminder_settings_boxes_line_up(live_server, chromium_path, chromium_args):
    """Each checkbox sits under its column heading on a desktop, and in one column at the
    right of the card on a phone."""
    from playwright.sync_api import sync_playwright

    from casetrack.auth.models import Role, User
    from casetrack.extensions import db
    from casetrack.org.models import Town

    with live_server.app.app_context():
        if db.session.scalar(db.select(User).where(User.username == "admin1")) is None:
            town = db.session.scalar(db.select(Town))
            admin = User(username="admin1", name="管理员", role=str(Role.ADMIN), town=town)
            admin.set_password("pass-1234")
            db.session.add(admin)
            db.session.commit()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=chromium_args)
        try:
            for viewport in ({"width": 1280, "height": 900}, PHONE):
                page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
                page.goto(live_server.url + "/login")
                page.get_by_label("用户名").fill("admin1")
                page.get_by_label("密码").fill("pass-1234")
                page.get_by_role("button", name="登录").click()
                page.goto(live_server.url + "/admin/reminders/")
                table = page.locator("table", has=page.locator("input[name^='level:']"))
                boxes = table.locator("input[type=checkbox]")
                xs = [boxes.nth(i).bounding_box() for i in range(boxes.count())]
                centres = [b["x"] + b["width"] / 2 for b in xs]
                if viewport is PHONE:
                    assert max(centres) - min(centres) < 2, centres
                else:
                    heads = table.locator("thead th")
                    for i in range(1, heads.count()):
                        h = heads.nth(i).bounding_box()
                        col = centres[i - 1::heads.count() - 1]
                        assert all(abs(c - (h["x"] + h["width"] / 2)) < 3 for c in col)
        finally:
            browser.close()
