"""English interface: a complete, compiled catalog and English pages through the client.

The msgids are Chinese; ``casetrack/translations/en`` holds the English. These tests fail when
a string is marked for translation but missing from the catalog, left without English, loses a
placeholder, when the committed .mo is older than the .po, or when an English page still shows
Chinese interface text (data such as names, titles and notes excepted).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from pathlib import Path

import flask_babel
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from casetrack.cases import services as svc
from casetrack.cases.models import Case, CaseEvent, Party
from casetrack.extensions import db
from casetrack.org.models import Town, Unit, Village

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "casetrack/translations/en/LC_MESSAGES/messages.po"
MO = ROOT / "casetrack/translations/en/LC_MESSAGES/messages.mo"
#: the keywords scripts/i18n extracts besides babel's defaults (``_``, ``gettext``, ``N_``...)
EXTRA_KEYWORDS = ("_l", "lazy_gettext", "N_")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|%[sd]")
HAN = re.compile(r"[\u4e00-\u9fff]+")
#: English entries that must quote a Chinese value the user types into a file
MAY_QUOTE_CHINESE = {"默认“其他”", "截至日期（如2022年12月31日）"}
#: fixture users renamed so that no name coincides with a role label (督办员, 镇领导)
NAMES = {"grid1": "甲一（虚构）", "grid2": "乙二（虚构）", "handler1": "丙三（虚构）",
         "handler2": "丁四（虚构）", "super": "戊五（虚构）", "leader": "己六（虚构）",
         "admin": "庚七（虚构）"}


def _catalog():
    with PO.open("rb") as f:
        return read_po(f)


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text))


# --------------------------------------------------------------------------- the catalog


def test_every_msgid_has_english_with_the_same_placeholders():
    catalog = _catalog()
    messages = [m for m in catalog if m.id]
    assert len(messages) > 500
    untranslated = [m.id for m in messages if not m.string or m.fuzzy]
    assert not untranslated, f"msgids without English (fill them in {PO}): {untranslated}"
    copied = [m.id for m in messages
              if HAN.search(m.string) and m.id not in MAY_QUOTE_CHINESE]
    assert not copied, f"English entries that still contain Chinese: {copied}"
    mismatched = [(m.id, m.string) for m in messages
                  if _placeholders(m.id) != _placeholders(m.string)]
    assert not mismatched, f"placeholders differ between msgid and msgstr: {mismatched}"


def test_compiled_catalog_matches_the_po():
    catalog = _catalog()
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    fresh = {m.id: m.string for m in read_mo(buf) if m.id}
    with MO.open("rb") as f:
        committed = {m.id: m.string for m in read_mo(f) if m.id}
    stale = sorted(k for k in fresh.keys() | committed.keys() if fresh.get(k) != committed.get(k))
    assert not stale, f"messages.mo is out of date (run scripts/i18n compile): {stale[:20]}"


def test_every_marked_string_is_in_the_catalog():
    """Extract the sources the way scripts/i18n does; every msgid must be in the .po."""
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f, str(ROOT / "babel.cfg"))
    keywords = dict(DEFAULT_KEYWORDS)
    keywords.update({k: None for k in EXTRA_KEYWORDS})
    extracted: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
            str(ROOT), method_map, options_map, keywords=keywords,
            directory_filter=lambda d: Path(d).name not in (".venv", "tests", "instance")):
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            extracted.setdefault(msgid, f"{filename}:{lineno}")
    assert len(extracted) > 500  # the extractor really ran over the templates and code
    known = {m.id for m in _catalog() if m.id}
    missing = {m: where for m, where in extracted.items() if m not in known}
    assert not missing, ("strings marked for translation but not in the English catalog; run "
                         f"scripts/i18n and translate them: {missing}")


# --------------------------------------------------------------------------- pages


def _text(resp) -> str:
    """The page with entities decoded (``Petitioner's``, not ``Petitioner&#39;s``)."""
    return html.unescape(resp.get_data(as_text=True))


def _data_strings() -> set[str]:
    """Everything users typed or the system stored as free text: shown as is in any language."""
    s = db.session
    out: set[str] = {"中文"}  # the language switch names the other language in that language
    for model, cols in ((Town, ("name",)), (Village, ("name",)), (Unit, ("name",)),
                        (Party, ("name", "address")), (CaseEvent, ("note",)),
                        (Case, ("title", "number", "summary", "external_ref",
                                "external_authority", "agreement_text", "reply_text"))):
        for row in s.scalars(select(model)):
            out.update(str(getattr(row, c)) for c in cols if getattr(row, c, None))
    out.update(NAMES.values())
    return out


def _chinese_ui(page: str) -> list[str]:
    """Chinese text left on a page once data and attribute values are removed."""
    page = re.sub(r'\s(value|href|action|name|placeholder)="[^"]*"', "", page)
    page = re.sub(r"<textarea[^>]*>.*?</textarea>", "", page, flags=re.S)
    for d in sorted(_data_strings(), key=len, reverse=True):
        page = page.replace(d, "")
    return sorted(set(HAN.findall(page)))


def _ok(resp) -> None:
    assert resp.status_code == 302, _text(resp)


def _login(client, username: str) -> None:
    with client.session_transaction() as session:
        logged_in = "_user_id" in session
    if logged_in:
        client.post("/logout")
    _ok(client.post("/login", data={"username": username, "password": "pass-1234"}))


@pytest.fixture
def renamed(world):
    """The fixture users, renamed so that no name hides an untranslated role label."""
    for username, name in NAMES.items():
        getattr(world, {"super": "supervisor"}.get(username, username)).name = name
    db.session.commit()
    return world


@pytest.fixture
def cases(renamed, now, client):
    """A closed petition and a followed-up dispute with full timelines, made through HTTP."""
    world = renamed
    petition = svc.register_case(db.session, world.supervisor, now, svc.CaseInput(
        kind="petition", title="反映村道破损（虚构）", source="assigned",
        received_on=now.date(), petition_class="申诉求决", category="城乡建设",
        village_id=world.v1.id, summary="村道多处坑洼（虚构）", external_ref="雷信交〔2026〕9号",
        external_due_on=dt.date(2027, 3, 1), external_authority="雷州市信访局（虚构）",
        parties=[svc.PartyInput(name="张三（虚构）")]))
    dispute = svc.register_case(db.session, world.grid1, now, svc.CaseInput(
        kind="dispute", title="邻里排水纠纷（虚构）", source="screening", received_on=now.date(),
        category="邻里", village_id=world.v1.id, summary="",
        parties=[svc.PartyInput(name="王五（虚构）", role="applicant"),
                 svc.PartyInput(name="赵六（虚构）", role="respondent")]))
    db.session.commit()
    p, d = f"/cases/{petition.id}", f"/cases/{dispute.id}"
    _login(client, "super")
    _ok(client.post(f"{p}/accept", data={}))
    _ok(client.post(f"{p}/assign", data={"unit_id": str(world.unit_xf.id),
                                         "handler_id": str(world.handler1.id)}))
    _login(client, "handler1")
    _ok(client.post(f"{p}/extend-request", data={"days": "10", "reason": "等待勘查（虚构）"}))
    _login(client, "leader")
    _ok(client.post(f"{p}/extend-decide", data={"decision": "approve"}))
    _login(client, "handler1")
    _ok(client.post(f"{p}/reply", data={"outcome": "支持", "reply_text": "已修复（虚构）",
                                        "delivered_on": "2026-11-23"}))
    _login(client, "super")
    _ok(client.post(f"{p}/close", data={"rating": "满意"}))
    _login(client, "grid1")
    _ok(client.post(f"{d}/start-mediation", data={"level": "village"}))
    _ok(client.post(f"{d}/mediation-session", data={"held_on": "2026-11-23",
                                                    "note": "双方协商（虚构）"}))
    _login(client, "super")
    _ok(client.post(f"{d}/resolve", data={"agreement_type": "written",
                                          "agreement_text": "三日内疏通（虚构）"}))
    _login(client, "grid1")
    _ok(client.post(f"{d}/follow-up", data={"visited_on": "2026-11-23", "honoured": "yes"}))
    client.post("/logout")
    client.get("/login")  # shows (and so drops) the messages flashed in Chinese so far
    return p, d


def test_default_language_is_chinese(client, world):
    page = _text(client.get("/login"))
    assert '<html lang="zh-CN">' in page
    assert "登录" in page and "用户名" in page and "密码" in page
    assert "Log in" not in page and "Username" not in page
    _login(client, "super")
    page = _text(client.get("/cases"))
    assert "案件列表" in page and "Cases" not in page


def test_login_page_in_english_after_switching(client, world):
    resp = client.post("/lang/en", data={"next": "/login"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    page = _text(client.get("/login"))
    assert '<html lang="en">' in page
    assert "Log in" in page and "Username" in page and "Password" in page
    assert not _chinese_ui(page), _chinese_ui(page)
    # and back
    client.post("/lang/zh_CN")
    assert "用户名" in _text(client.get("/login"))


def test_wrong_password_and_login_required_messages_in_english(client, world):
    client.post("/lang/en")
    page = _text(client.get("/cases", follow_redirects=True))
    assert "Please log in first" in page and "请先登录" not in page
    page = _text(client.post("/login", data={"username": "super", "password": "nope-0000"}))
    assert "Wrong username or password" in page and "用户名或密码错误" not in page


def test_case_pages_in_english_for_a_user_who_chose_english(client, world, cases):
    petition_url, dispute_url = cases
    world.supervisor.locale = "en"
    db.session.commit()
    _login(client, "super")  # no cookie: the user's own setting decides

    page = _text(client.get("/cases?kind="))
    for word in ("Cases", "Status", "Petition", "Dispute", "Closed",
                 "Mediation successful", "Handling unit", "Urban and rural construction"):
        assert word in page, word
    assert not _chinese_ui(page), _chinese_ui(page)

    page = _text(client.get(petition_url))
    assert "戊五（虚构） (Supervisor)" in page  # the header names the user and the role
    for word in ("(extended by 10 days)", ", delivered 2026-11-23", "Overview", "Assigned by higher authority", "Appeal or request",
                 "Urban and rural construction", "Handling and closure (Art. 34)",
                 "Registered → Accepted", "Accept", "Assign to handling unit",
                 "Request extension", "Extension status: Not requested → Pending approval",
                 "Petitioner's rating: — → Satisfied",
                 "Approved", "Supported", "Satisfied", "Petitioner's rating", "Close", "History"):
        assert word in page, word
    # option values are the stored (Chinese) values, e.g. the correction form's categories
    shown = re.sub(r'\svalue="[^"]*"', "", page)
    for chinese in ("基本情况", "上级交办", "已登记", "受理", "办理过程", "城乡建设", "满意"):
        assert chinese not in shown, chinese
    assert not _chinese_ui(page), _chinese_ui(page)

    page = _text(client.get(dispute_url))
    for word in ("Dispute", "Grid screening", "Neighbours", "Start mediation",
                 "Record mediation session", "Village mediation committee",
                 "Written mediation agreement", "Follow-up visit", "Agreement honoured: — → Yes",
                 "Applicant", "Respondent", "Mediation period (one month)"):
        assert word in page, word
    assert not _chinese_ui(page), _chinese_ui(page)


def test_admin_index_in_english(client, renamed):
    world = renamed
    world.admin.locale = "en"
    db.session.commit()
    _login(client, "admin")
    page = _text(client.get("/admin/"))
    for word in ("Administration", "Users by role", "Grid worker", "Handler", "Supervisor",
                 "Town leader", "Administrator", "Holiday schedule", "New user"):
        assert word in page, word
    for chinese in ("系统管理", "网格员", "督办员", "镇领导", "节假日安排"):
        assert chinese not in page, chinese
    assert not _chinese_ui(page), _chinese_ui(page)


def test_dashboard_and_reminder_settings_in_english(client, renamed, cases):
    world = renamed
    world.supervisor.locale = world.admin.locale = "en"
    db.session.commit()
    _login(client, "super")
    page = _text(client.get("/dashboard"))
    for word in ("Total cases", "Closed on time", "Village resolution rate", "By source",
                 "Closed ÷ Total cases", "Not assigned",
                 "Accepted in time ÷ Accepted", "Nov"):
        assert word in page, word
    assert not _chinese_ui(page), _chinese_ui(page)
    page = _text(client.get("/dashboard/cases?metric=closed&kind=petition"))
    assert "Type: Petition" in page and "Cases closed on the as-of date. " in page
    assert not _chinese_ui(page), _chinese_ui(page)
    _login(client, "admin")
    page = _text(client.get("/admin/reminders/"))
    for word in ("Due soon", "Overdue escalation", "E-mail", "WeCom group bot", "Town leader"):
        assert word in page, word
    assert not _chinese_ui(page), _chinese_ui(page)


def test_logout_message_in_the_users_language(client, renamed):
    renamed.supervisor.locale = "en"
    db.session.commit()
    _login(client, "super")
    page = _text(client.post("/logout", follow_redirects=True))
    assert "You have been logged out" in page and "您已退出登录" not in page


def test_definitions_state_no_day_count_of_their_own():
    """Timely acceptance follows each case's notify date (the town's rule): its definitions
    name the rule, never a number of days that could disagree with it."""
    from casetrack.stats.metrics import METRICS, RATES

    assert "书面告知期限" in METRICS["accepted_timely"].definition
    for text in (METRICS["accepted_timely"].definition, RATES["timely_accept_rate"].definition):
        assert not any(ch.isdigit() for ch in text), text


def test_timeline_labels_for_recomputed_deadlines(app):
    """The recompute step and its fields have English names (not raw keys)."""
    from casetrack.cases import display

    with app.test_request_context(headers={"Cookie": "lang=en"}):
        flask_babel.refresh()
        assert display.action_label("petition", "recompute_due") == "Deadline recalculated"
        assert display.action_label("dispute", "recompute_due") == "Deadline recalculated"
        assert display.label(display.FIELD_LABELS, "due_is_exact") == "Due date final"
        assert display.label(display.FIELD_LABELS, "due_basis") == "Deadline basis"
        assert display.label(display.DUE_BASIS_LABELS, "external") == \
            "Deadline set by higher authority"
    with app.test_request_context():
        flask_babel.refresh()
        assert display.action_label("petition", "recompute_due") == "重新计算期限"


#: ``_()`` called on a variable in a template: a label that may be data (a unit's or
#: village's name) would go through gettext; such labels use ``|tr`` (Msgid only)
_GETTEXT_ON_A_VARIABLE = re.compile(r"(^|[^A-Za-z_])_\(\s*[A-Za-z_][A-Za-z_0-9.]*(\[[^]]*\])?\s*\)")


def test_templates_never_call_gettext_on_a_variable():
    root = Path(__file__).resolve().parents[1] / "casetrack" / "templates"
    found = [f"{path.relative_to(root)}:{n}: {line.strip()[:120]}"
             for path in sorted(root.rglob("*.html"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if _GETTEXT_ON_A_VARIABLE.search(line)]
    assert found == [], "use |tr on a Msgid instead:\n" + "\n".join(found)


def test_labels_shown_through_tr_are_english_in_the_english_ui(client, world):
    """The labels that moved from ``_()`` on a variable to ``|tr`` still translate."""
    client.post("/login", data={"username": "super", "password": "pass-1234"})
    client.post("/lang/en", data={"next": "/"})
    home = client.get("/").get_data(as_text=True)
    assert "To accept" in home and "待受理" not in home
    assert "（Supervisor）" in home or "(Supervisor)" in home
    listing = client.get("/cases").get_data(as_text=True)
    assert "Due date (most urgent first)" in listing
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Closure rate" in dashboard and "办结率" not in dashboard
