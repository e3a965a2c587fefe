"""Each role's day in a real browser (issue 12, Must show): the work queue of every role at
375 px and 1366 px (screenshots for the release note), axe-core over every page reachable
from each role's menu with zero WCAG 2.1 A/AA violations, tap targets of at least 32 px on a
phone, and the list's sort and bulk actions (with CSRF on)."""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from casetrack.auth.models import Role, User
from casetrack.cases import services as svc
from casetrack.cases.models import Case
from casetrack.extensions import db
from casetrack.org.models import Town, Unit

pytestmark = pytest.mark.browser

NOW = dt.datetime(2026, 11, 23, 2, 0, tzinfo=dt.UTC)
TODAY = dt.date(2026, 11, 23)
PHONE = {"width": 375, "height": 812}
DESK = {"width": 1366, "height": 900}
AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
#: where the release note's screenshots go (override with CASETRACK_SCREENS)
SCREENS = Path(os.environ.get("CASETRACK_SCREENS", "/work/screens"))
PASSWORD = "pass-1234"


def _user(username, name, role, town, unit=None, villages=()):
    user = User(username=username, name=name, role=str(role), town=town, unit=unit)
    user.set_password(PASSWORD)
    user.villages = list(villages)
    db.session.add(user)
    return user


def _petition(actor, title, village, received=dt.date(2026, 11, 2), **kw):
    return svc.register_case(db.session, actor, NOW, svc.CaseInput(
        kind="petition", title=title, source="assigned", received_on=received,
        petition_class="申诉求决", category="城乡建设", village_id=village.id,
        external_ref="雷信交〔2026〕9号", external_due_on=kw.pop("external_due_on", dt.date(2027, 1, 20)),
        external_authority="雷州市信访局",
        parties=[svc.PartyInput(name="张三（虚构）")], **kw))


def _dispute(actor, title, village, received=dt.date(2026, 11, 10)):
    return svc.register_case(db.session, actor, NOW, svc.CaseInput(
        kind="dispute", title=title, source="screening", received_on=received,
        category="邻里", village_id=village.id,
        parties=[svc.PartyInput(name="王五（虚构）", role="applicant"),
                 svc.PartyInput(name="赵六（虚构）", role="respondent")]))


@pytest.fixture(scope="module")
def world(live_server):
    """A leader, a handler, an admin and cases in every queue of every role."""
    with live_server.app.app_context():
        town = db.session.scalar(select(Town))
        v1, v2 = sorted(town.villages, key=lambda v: v.sort_order)
        unit = db.session.scalar(select(Unit))
        sup = db.session.scalar(select(User).where(User.username == "super"))
        grid = db.session.scalar(select(User).where(User.username == "grid1"))
        leader = _user("leader", "镇领导甲", Role.LEADER, town)
        handler = _user("handler", "承办人甲", Role.HANDLER, town, unit=unit)
        _user("handler_b", "承办人乙", Role.HANDLER, town, unit=unit)
        _user("admin", "管理员", Role.ADMIN, town)
        db.session.flush()
        _petition(sup, "村道破损待受理（虚构）", v1, received=dt.date(2026, 10, 1))
        accepted = _petition(sup, "灌溉水渠待交办（虚构）", v2)
        svc.accept_case(db.session, sup, NOW, accepted, accepted_on=dt.date(2026, 11, 3))
        mine = _petition(sup, "路灯不亮办理中（虚构）", v1, external_due_on=dt.date(2026, 11, 25))
        svc.accept_case(db.session, sup, NOW, mine, accepted_on=dt.date(2026, 11, 3))
        svc.assign_case(db.session, sup, NOW, mine, unit.id, handler.id)
        svc.request_extension(db.session, handler, NOW, mine, 15, "需要现场勘查（虚构）")
        late = _petition(sup, "垃圾清运逾期（虚构）", v1, received=dt.date(2026, 8, 1))
        svc.accept_case(db.session, sup, NOW, late, accepted_on=dt.date(2026, 8, 3))
        svc.assign_case(db.session, sup, NOW, late, unit.id, None)
        replied = _petition(sup, "噪音扰民已答复（虚构）", v2)
        svc.accept_case(db.session, sup, NOW, replied, accepted_on=dt.date(2026, 11, 3))
        svc.assign_case(db.session, sup, NOW, replied, unit.id, handler.id)
        # the town approves replies: a draft, approved by the leader, then one left pending
        svc.submit_reply(db.session, handler, NOW, replied, "支持", "已协调处理（虚构）")
        svc.approve_reply(db.session, leader, NOW, replied, TODAY)
        draft = _petition(sup, "占道经营答复待审批（虚构）", v1)
        svc.accept_case(db.session, sup, NOW, draft, accepted_on=dt.date(2026, 11, 3))
        svc.assign_case(db.session, sup, NOW, draft, unit.id, handler.id)
        svc.submit_reply(db.session, handler, NOW, draft, "解释说明", "已向当事人说明（虚构）")
        _dispute(grid, "邻里排水沟纠纷（虚构）", v1)
        up = _dispute(grid, "宅基地纠纷上交（虚构）", v1)
        svc.start_mediation(db.session, grid, NOW, up, "village", "")
        svc.escalate_dispute(db.session, grid, NOW, up, "村级调解不成（虚构）")
        done = _dispute(grid, "鸡鸭糟蹋菜地已调解（虚构）", v1, received=dt.date(2026, 11, 1))
        svc.start_mediation(db.session, grid, NOW, done, "village", "")
        svc.resolve_dispute(db.session, grid, NOW, done, "written", "赔偿菜苗（虚构）")
        closed = _petition(sup, "已办结的旧事（虚构）", v2, received=dt.date(2026, 9, 1))
        svc.reject_case(db.session, sup, NOW, closed, "不属于信访事项（虚构）")
        svc.add_attachment(db.session, grid, NOW, done, "协议（虚构）.pdf", "application/pdf",
                           io.BytesIO(b"%PDF-1.4 fictional"))
        db.session.commit()
        ids = {"mine": mine.id, "accepted": accepted.id, "late": late.id}
        db.session.remove()
    return ids


def _browser(pw, chromium_path, chromium_args):
    return pw.chromium.launch(executable_path=chromium_path, args=chromium_args)


def _login(context, base: str, username: str):
    page = context.new_page()
    page.goto(base + "/login")
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    return page


def _context(browser, viewport):
    phone = viewport["width"] < 700
    # bypass_csp: axe is injected as a script the app's CSP would (rightly) refuse
    return browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone,
                               locale="zh-CN", bypass_csp=True)


QUEUE_HEADINGS = {
    "super": ["待受理", "待交办", "上交待接", "已答复待办结", "已逾期", "即将到期"],
    "handler": ["我承办的在办案件", "本单位待指定承办人"],
    "leader": ["待审批", "超期需督办"],
    "grid1": ["本村在办纠纷", "待回访"],
}


@pytest.mark.parametrize("viewport", [PHONE, DESK], ids=["375", "1366"])
def test_each_role_queue(live_server, world, chromium_path, chromium_args, artifacts_dir,
                         viewport):
    from playwright.sync_api import expect, sync_playwright

    SCREENS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = _browser(pw, chromium_path, chromium_args)
        try:
            for username, headings in QUEUE_HEADINGS.items():
                context = _context(browser, viewport)
                page = _login(context, live_server.url, username)
                expect(page.locator("h1")).to_contain_text("我的待办")
                for title in headings:
                    section = page.locator("section.queue", has=page.get_by_role(
                        "heading", name=re.compile("^" + title)))
                    expect(section).to_have_count(1)
                    count = int(section.locator("h2 .count").get_attribute("data-count"))
                    expect(section.locator("li.queue-item")).to_have_count(min(count, 8))
                width = page.evaluate("document.documentElement.scrollWidth")
                assert width <= viewport["width"], f"{username}: {width}px wide"
                name = f"queue-{username}-{viewport['width']}.png"
                page.screenshot(path=str(SCREENS / name), full_page=True)
                page.screenshot(path=str(artifacts_dir / name), full_page=True)
                # every item opens its case
                first = page.locator("li.queue-item a").first
                href = first.get_attribute("href")
                first.click()
                expect(page).to_have_url(re.compile(re.escape(href) + "$"))
                context.close()
        finally:
            browser.close()
    # the queues hold what they should
    assert world["mine"]


# --------------------------------------------------------------------------- axe

#: links never followed by the crawl (they change state, download or leave the page)
SKIP = re.compile(r"/logout|/lang/|\.pdf|\.xlsx|\.csv|/attachments/|/api/|openapi|#")
ROLES = ("super", "handler", "leader", "grid1", "admin")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def _pattern(url: str) -> str:
    """A page kind: the path with numbers replaced (query strings give the same page)."""
    return re.sub(r"\d+", "N", urlsplit(url).path)


#: pages whose content depends on the role: checked for every role, the rest once
PER_ROLE = ("/", "/cases", "/cases/N", "/dashboard", "/notifications/", "/work/N")


def _axe(page) -> list[dict]:
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", AXE_TAGS)
    return [{"id": v["id"], "help": v["help"],
             "nodes": [n["target"] for n in v["nodes"][:3]],
             "summary": v["nodes"][0].get("failureSummary", "")[:200]}
            for v in result["violations"]]


def _crawl(page, base: str, start: list[str], done: set[str], limit: int = 30) -> list[str]:
    """Same-site pages reachable from the start pages, one per page kind; kinds in ``done``
    (checked for an earlier role) are skipped unless their content depends on the role."""
    seen, queue, out = set(), list(start), []
    while queue and len(out) < limit:
        url = queue.pop(0)
        kind = _pattern(url)
        if kind in seen or (kind in done and kind not in PER_ROLE):
            continue
        seen.add(kind)
        resp = page.goto(base + url)
        if resp is None or resp.status >= 400 or "text/html" not in resp.headers.get(
                "content-type", ""):
            continue
        out.append(url)
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            if href and href.startswith("/") and not href.startswith("//") and not SKIP.search(href):
                queue.append(href)
    done.update(seen)
    return out


def test_axe_every_page_every_role(live_server, world, chromium_path, chromium_args):
    from playwright.sync_api import sync_playwright

    base = live_server.url
    failures: dict[str, list] = {}
    checked, done = 0, set()
    with sync_playwright() as pw:
        browser = _browser(pw, chromium_path, chromium_args)
        try:
            anon = _context(browser, PHONE).new_page()
            for viewport in (PHONE, DESK):
                anon.set_viewport_size(viewport)
                anon.goto(base + "/login")
                if v := _axe(anon):
                    failures[f"anon /login @{viewport['width']}"] = v
            for username in ROLES:
                context = _context(browser, DESK)
                page = _login(context, base, username)
                start = ["/", "/cases", "/cases?status=all", f"/cases/{world['mine']}",
                         "/cases/new?kind=petition", "/cases/new?kind=dispute",
                         "/dashboard", "/notifications/", "/no-such-page"]
                pages = _crawl(page, base, start, done)
                assert len(pages) >= 3, pages
                for viewport in (PHONE, DESK):
                    page.set_viewport_size(viewport)
                    for url in pages:
                        page.goto(base + url)
                        checked += 1
                        if v := _axe(page):
                            failures[f"{username} {url} @{viewport['width']}"] = v
                context.close()
        finally:
            browser.close()
    assert checked >= 60 and len(done) >= 25, sorted(done)
    assert not failures, "\n".join(f"{k}: {v}" for k, v in failures.items())


# --------------------------------------------------------------------------- phone targets

#: chart bars (inside <svg>) are extra ways to the same figures: each has a table link too

SMALL_TARGETS_JS = """() => [...document.querySelectorAll(
    'main a, main button, main select, main input:not([type=hidden]), main summary')]
  .filter(e => e.offsetParent !== null && !e.closest('p, li.muted, td.muted, svg')
               && !['checkbox', 'radio'].includes(e.type))
  .filter(e => { const r = e.getBoundingClientRect(); return r.height < 32 || r.width < 32; })
  .slice(0, 8).map(e => e.tagName.toLowerCase() + ' "' + (e.innerText || e.name || '').slice(0, 20)
                  + '" ' + Math.round(e.getBoundingClientRect().width) + 'x'
                  + Math.round(e.getBoundingClientRect().height))"""


def test_tap_targets_on_a_phone(live_server, world, chromium_path, chromium_args):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = _browser(pw, chromium_path, chromium_args)
        try:
            for username in ("leader", "grid1", "super"):
                context = _context(browser, PHONE)
                page = _login(context, live_server.url, username)
                for path in ("/", "/dashboard", "/cases"):
                    page.goto(live_server.url + path)
                    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
                    small = page.evaluate(SMALL_TARGETS_JS)
                    assert small == [], f"{username} {path}: {small}"
                context.close()
        finally:
            browser.close()


# --------------------------------------------------------------------------- list


def test_sort_and_bulk_actions_in_the_browser(live_server, world, chromium_path, chromium_args,
                                              artifacts_dir):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = _browser(pw, chromium_path, chromium_args)
        try:
            context = _context(browser, DESK)
            page = _login(context, live_server.url, "super")
            page.goto(live_server.url + "/cases")
            titles = page.locator("td.title-cell > a").all_inner_texts()
            assert titles[0] == "垃圾清运逾期（虚构）"  # the most overdue first
            assert "已办结的旧事（虚构）" not in titles  # open only by default
            # sort by the 期限 column header: latest due first
            page.locator("th a", has_text="期限").click()
            expect(page).to_have_url(re.compile(r"sort=-due"))
            assert page.locator("td.title-cell > a").all_inner_texts() == list(reversed(titles))
            page.get_by_role("link", name="全部（含已办结）").click()
            expect(page.locator("table.case-list")).to_contain_text("已办结的旧事（虚构）")

            # bulk assign: the unit narrows the handlers (static JS), CSRF is on
            page.goto(live_server.url + "/cases?kind=petition&status=accepted")
            page.locator(f"#sel-{world['accepted']}").check()
            unit = page.locator("#bulk-unit")
            unit.select_option(label="综治办")
            options = page.locator("#bulk-handler option:not([hidden])").all_inner_texts()
            assert options == ["（暂不指定）", "承办人甲（综治办）", "承办人乙（综治办）"]
            page.locator("#bulk-handler").select_option(label="承办人乙（综治办）")
            page.screenshot(path=str(artifacts_dir / "list-bulk.png"), full_page=True)
            page.get_by_role("button", name="交办所选").click()
            expect(page.get_by_role("alert")).to_contain_text("已交办 1 件")

            # export selected downloads a workbook of exactly the ticked cases
            page.goto(live_server.url + "/cases")
            page.locator(f"#sel-{world['late']}").check()
            with page.expect_download() as dl:
                page.get_by_role("button", name="导出所选").click()
            from openpyxl import load_workbook

            ws = load_workbook(io.BytesIO(Path(dl.value.path()).read_bytes())).active
            values = [c.value for row in ws.iter_rows(min_row=4) for c in row]
            assert "垃圾清运逾期（虚构）" in values and "路灯不亮办理中（虚构）" not in values
            context.close()
        finally:
            browser.close()
    with live_server.app.app_context():
        case = db.session.get(Case, world["accepted"])
        assert case.handler.name == "承办人乙" and case.status == "handling"
        db.session.remove()
