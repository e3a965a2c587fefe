"""No script runs from a hostile name, and the Content-Security-Policy reports no violation
on the main pages (issue 9.1), in a real headless Chromium: the village, the user's full name,
the case title and party, and a message subject are all markup."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from casetrack.auth.models import User
from casetrack.cases import services as svc
from casetrack.extensions import db
from casetrack.notify.services import notify_users

pytestmark = pytest.mark.browser

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE2 = "\"'><script>alert(2)</script>"
#: runs before any page script (CDP, not subject to the page's CSP): counts alerts and
#: collects CSP violation reports
WATCH = """
window.__alerts = 0; window.alert = () => { window.__alerts += 1; };
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def _seed(app) -> int:
    with app.app_context():
        sup = db.session.scalar(select(User).where(User.username == "super"))
        sup.name = f"督办{HOSTILE2}"
        village = sup.town.villages[0]
        village.name = f"村{HOSTILE}"
        case = svc.register_case(db.session, sup, NOW, svc.CaseInput(
            kind="petition", title=f"标题{HOSTILE}{HOSTILE2}", source="visit",
            received_on=dt.date(2026, 11, 20), petition_class="申诉求决", category="其他",
            village_id=village.id, summary=f"摘要{HOSTILE}",
            parties=[svc.PartyInput(name=f"张{HOSTILE2}")]))
        notify_users(db.session, [sup], NOW, kind="test", dedupe_key="csp",
                     subject=f"主题{HOSTILE}", body=f"正文{HOSTILE2}", link=f"/cases/{case.id}")
        db.session.commit()
        case_id = case.id
        db.session.remove()
        return case_id


def test_no_script_from_names_and_no_csp_violation(live_server, chromium_path, chromium_args):
    from playwright.sync_api import sync_playwright

    case_id = _seed(live_server.app)
    base = live_server.url
    pages = ["/cases", f"/cases/{case_id}", f"/cases?q={HOSTILE}", "/dashboard",
             "/dashboard/cases?metric=total&from=2026-01-01&to=2026-11-23", "/notifications/",
             "/account/password", "/account/api-tokens/", "/cases/new?kind=petition"]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path, args=chromium_args)
        try:
            page = browser.new_page()
            dialogs: list[str] = []
            page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
            page.add_init_script(WATCH)
            page.goto(base + "/login")
            page.get_by_label("用户名").fill("super")
            page.get_by_label("密码").fill("pass-1234")
            page.get_by_role("button", name="登录").click()
            page.wait_for_url(base + "/")  # the home page is 我的待办
            for path in pages:
                response = page.goto(base + path)
                assert response is not None and response.status == 200, path
                csp = response.headers.get("content-security-policy", "")
                assert "script-src 'self'" in csp and "unsafe-inline" not in csp
                page.wait_for_load_state("load")
                assert page.evaluate("window.__alerts") == 0, path
                assert page.evaluate("window.__csp") == [], (path, page.evaluate("window.__csp"))
                # the markup is text: no element was made from it
                assert page.locator("img[src='x']").count() == 0, path
                assert page.evaluate(
                    "[...document.scripts].filter(s => !s.src).length") == 0, path
            # the detail page shows the title as text
            page.goto(f"{base}/cases/{case_id}")
            assert HOSTILE in page.locator("body").inner_text()
            # the confirm dialog of a revocation now comes from app.js (no inline handler)
            page.goto(base + "/account/api-tokens/")
            page.get_by_label("名称（用途）").fill("脚本")
            page.get_by_role("button", name="创建令牌").click()
            page.get_by_role("button", name="吊销").first.click()
            assert dialogs and "吊销" in dialogs[-1]
            assert page.evaluate("window.__csp") == []
            assert not [d for d in dialogs if d in ("1", "2")]
        finally:
            browser.close()
