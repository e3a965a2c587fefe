"""Printed and exported text is text (issue 9 item 6, issue 10 items 9–10): rare characters
print in a fallback font, markup typed into a case prints literally, long text flows across
pages, control characters do not break the xlsx and CSV ledgers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import subprocess

import pytest
from openpyxl import load_workbook
from PIL import Image
from stats.builder import CaseBuilder
from toolcheck import require_tool

from casetrack.cases.models import CaseEvent, Party
from casetrack.extensions import db
from casetrack.reports import fonts as report_fonts
from casetrack.reports.text import FontChain, markup, pieces

D = dt.date
RARE = "吉𠮷"  # 𠮷 U+20BB7, CJK Extension B
OTHERS = ("䶮", "𬀩", "㛃")  # Extension A, E, A
HOSTILE = '<font color="white">隐藏的字</font> A&B; <br> <img src="/etc/passwd"/> &amp;'
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                  r"(.*?)</word>")


@pytest.fixture
def build(world) -> CaseBuilder:
    return CaseBuilder(world)


def pdftotext(path, *args: str) -> str:
    return subprocess.run([require_tool("pdftotext"), *args, str(path), "-"],
                          capture_output=True, text=True, check=True).stdout


def sheet_pdf(client, case, tmp_path, name: str = "sheet.pdf"):
    resp = client.get(f"/reports/cases/{case.id}/sheet.pdf")
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    path = tmp_path / name
    path.write_bytes(resp.data)
    return path


# ------------------------------------------------------------------ pure rules


def test_markup_escapes_and_switches_font_per_run():
    chain = FontChain(main="Main", main_chars={ord(c) for c in "吉反映"},
                      fallbacks=[("ExtA", {ord("䶮")}), ("ExtB", {ord("𠮷"), ord("䶮")})])
    assert markup("吉𠮷反映䶮", chain) == ('吉<font name="ExtB">𠮷</font>反映'
                                         '<font name="ExtA">䶮</font>')
    assert markup('<b>&x</b>\n第二行\x00\x1b', chain) == "&lt;b&gt;&amp;x&lt;/b&gt;<br/>第二行"
    # escaping happens before the font markup: a typed tag never becomes one
    assert markup('<font name="ExtB">', chain) == '&lt;font name="ExtB"&gt;'


def test_pieces_cut_long_text_and_keep_every_character():
    text = ("甲" * 950 + "\n") * 3 + "乙" * 10
    parts = pieces(text, 400)
    assert all(len(p) <= 400 for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    assert pieces("短", 400) == ["短"]


# ------------------------------------------------------------------ fonts


def _ink(image: Image.Image, box: tuple[float, float, float, float], scale: float) -> float:
    """Share of dark pixels inside ``box`` (points) of a page rendered at ``scale`` px/pt."""
    x0, y0, x1, y1 = (round(v * scale) for v in box)
    histogram = image.crop((x0, y0, x1, y1)).convert("L").histogram()
    return sum(histogram[:200]) / max(1, sum(histogram))


def _glyph_boxes(path) -> dict[str, tuple[float, float, float, float]]:
    boxes = {}
    for x0, y0, x1, y1, text in WORD.findall(pdftotext(path, "-bbox", "-f", "1", "-l", "1")):
        boxes.setdefault(text, (float(x0), float(y0), float(x1), float(y1)))
    return boxes


def test_rare_characters_print_in_a_fallback_font(client, auth, world, build, tmp_path, app):
    if not report_fonts.find_fallback_fonts()[0]:
        pytest.skip("no fallback font installed (fonts-hanazono, fonts-babelstone-han)")
    case = build.petition(D(2022, 3, 1), accept=D(2022, 3, 2), title="反映" + "".join(OTHERS))
    party = db.session.get(Party, case.parties[0].id)
    party.name = RARE
    case.summary = "当事人" + RARE + "，邻居" + OTHERS[0]
    db.session.commit()
    auth.login("super")
    path = sheet_pdf(client, case, tmp_path)
    text = pdftotext(path)
    assert RARE in text
    for ch in OTHERS:
        assert ch in text
    fonts = subprocess.run([require_tool("pdffonts"), str(path)], capture_output=True,
                           text=True, check=True).stdout
    assert "HanaMin" in fonts or "BabelStone" in fonts  # the fallback font is embedded
    for line in fonts.splitlines()[2:]:
        assert line.split()[-5] == "yes", line

    # the rendered page: the box of 𠮷 (right half of the word 吉𠮷) has ink
    scale = 150 / 72
    prefix = tmp_path / "page"
    subprocess.run([require_tool("pdftoppm"), "-r", "150", "-f", "1", "-l", "1", "-png",
                    str(path), str(prefix)], check=True)
    image = Image.open(next(tmp_path.glob("page*.png")))
    text, (x0, y0, x1, y1) = next((t, box) for t, box in _glyph_boxes(path).items()
                                  if t.startswith(RARE))  # 吉𠮷（信访人）
    per_char = (x1 - x0) / len(text)  # every character of the word is full width
    start = x0 + per_char * text.index("𠮷")
    glyph = (start + 1, y0 + 1, start + per_char - 1, y1 - 1)
    blank = (x1 + 20, y0 + 1, x1 + 20 + per_char, y1 - 1)  # the empty rest of the cell
    assert _ink(image, blank, scale) < 0.01  # the measure sees no ink where there is none
    assert _ink(image, glyph, scale) > 0.05, _ink(image, glyph, scale)


def test_missing_fallback_font_is_said(client, auth, world, app, monkeypatch, build, runner,
                                       tmp_path):
    monkeypatch.setitem(app.config, "REPORT_FALLBACK_FONT_PATHS", ["/nonexistent/HanaMinB.ttf"])
    warning = report_fonts.fallback_font_warning()
    assert warning and "/nonexistent/HanaMinB.ttf" in warning and "fonts-hanazono" in warning
    auth.login("admin")
    page = client.get("/admin/").get_data(as_text=True)
    assert "报表备用字体缺失" in page
    build.petition(D(2022, 12, 1), accept=D(2022, 12, 2))
    db.session.commit()
    out = tmp_path / "m.pdf"
    result = runner.invoke(args=["reports", "monthly", "--month", "2022-12", "--as-of",
                                 "2022-12-31", "--town", "北和镇", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "报表备用字体缺失" in result.output  # printed, and the PDF still made
    monkeypatch.setitem(app.config, "REPORT_FALLBACK_FONT_PATHS", None)
    if report_fonts.find_fallback_fonts()[0] and not report_fonts.find_fallback_fonts()[1]:
        assert report_fonts.fallback_font_warning() is None
        assert "报表备用字体缺失" not in client.get("/admin/").get_data(as_text=True)


# ------------------------------------------------------------------ markup and long text


def test_typed_markup_prints_literally_on_the_case_sheet(client, auth, world, build, tmp_path):
    case = build.petition(D(2022, 3, 1), accept=D(2022, 3, 2), title="标题" + HOSTILE[:60])
    case.summary = HOSTILE
    db.session.get(Party, case.parties[0].id).name = "张<b>三"
    db.session.add(CaseEvent(case_id=case.id, actor_id=world.supervisor.id,
                             at=dt.datetime(2022, 3, 3, 2, tzinfo=dt.UTC), action="progress",
                             note="进展 <br/> A&B; <font size=40>大</font>"))
    db.session.commit()
    auth.login("super")
    text = "".join(pdftotext(sheet_pdf(client, case, tmp_path)).split())
    for literal in ('<fontcolor="white">隐藏的字</font>', "A&B;", "<br>", '<imgsrc="/etc/passwd"/>',
                    "&amp;", "张<b>三", "进展<br/>A&B;<fontsize=40>大</font>"):
        assert literal in text, literal


def test_long_summary_and_note_flow_across_pages(client, auth, world, build, tmp_path):
    case = build.petition(D(2022, 3, 1), accept=D(2022, 3, 2), title="长文本")
    summary = "".join(f"第{i}段反映的情况如下所述，" + "村道积水严重" * 40 + "\n"
                      for i in range(1, 71))
    summary += "补" * (20_000 - 4 - len(summary)) + "摘要结束"
    assert len(summary) == 20_000
    case.summary = summary
    note = ("走访了解情况，" * 430)[:2_996] + "记录结束"
    db.session.add(CaseEvent(case_id=case.id, actor_id=world.supervisor.id,
                             at=dt.datetime(2022, 3, 3, 2, tzinfo=dt.UTC), action="progress",
                             note=note))
    db.session.commit()
    auth.login("super")
    path = sheet_pdf(client, case, tmp_path)
    text = pdftotext(path)
    pages = text.count("\f")
    assert pages >= 5, pages
    flat = "".join(text.split())
    assert "摘要结束" in flat and "记录结束" in flat and "第70段" in flat
    assert f"第 {pages} 页 共 {pages} 页" in text or f"第{pages}页共{pages}页" in flat


def test_monthly_summary_with_hostile_and_long_text(runner, world, build, tmp_path):
    world.v1.name = "村<img src=x>&"
    late = build.petition(D(2022, 10, 1), accept=D(2022, 10, 2),
                          title=("<br>" + "很长的标题" * 60)[:200])
    build.petition(D(2022, 12, 1), accept=D(2022, 12, 2), close=D(2022, 12, 20))
    db.session.commit()
    out = tmp_path / "m.pdf"
    result = runner.invoke(args=["reports", "monthly", "--month", "2022-12", "--as-of",
                                 "2022-12-31", "--town", "北和镇", "--out", str(out)])
    assert result.exit_code == 0, result.output
    flat = "".join(pdftotext(out).split())
    assert "村<imgsrc=x>&" in flat and late.number in flat and "<br>很长的标题" in flat


# ------------------------------------------------------------------ exports


def test_control_characters_do_not_break_the_ledgers(client, auth, world, build):
    # (NUL itself never reaches the database: PostgreSQL text cannot hold it)
    case = build.petition(D(2022, 3, 1), title="标题\x08含\x07控制\x1b字符\x0b")
    db.session.get(Party, case.parties[0].id).name = "王\x01五"
    db.session.commit()
    auth.login("super")
    resp = client.get("/reports/ledger.xlsx")
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.data))
    values = [c.value for row in wb.active.iter_rows() for c in row]
    assert "标题含控制字符" in values and "王五" in values
    resp = client.get("/reports/ledger.csv")
    assert resp.status_code == 200
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    flat = [v for r in rows for v in r]
    assert "标题含控制字符" in flat and "王五" in flat


def test_case_sheet_prints_review_reexamination_and_judicial_confirmation(
        client, auth, world, build, tmp_path):
    """The 办理单 files what the new stages decided, not only their timeline lines."""
    case = build.petition(D(2022, 3, 1), accept=D(2022, 3, 2))
    case.review_requested_on, case.review_due_on = D(2022, 4, 1), D(2022, 5, 3)
    case.review_decided_on, case.review_outcome = D(2022, 4, 20), "维持"
    case.review_text = "复查认为原答复正确"
    case.reexam_requested_on, case.reexam_due_on = D(2022, 5, 10), D(2022, 6, 14)
    case.reexam_decided_on, case.reexam_outcome = D(2022, 6, 1), "变更"
    case.reexam_text, case.hearing_days = "复核变更原意见", 5
    dispute = build.dispute(D(2022, 3, 1), resolve=D(2022, 3, 10))
    dispute.judicial_applied_on, dispute.judicial_court = D(2022, 3, 20), "雷州市人民法院"
    plain = build.petition(D(2022, 3, 1), accept=D(2022, 3, 2), title="另一件事项")
    db.session.commit()
    auth.login("super")
    text = "".join(pdftotext(sheet_pdf(client, case, tmp_path)).split())
    for fact in ("申请复查日期2022-04-01", "复查期限2022-05-03", "复查结论维持",
                 "复查出具日期2022-04-20", "复查意见复查认为原答复正确", "申请复核日期2022-05-10",
                 "复核期限2022-06-14", "复核结论变更", "复核出具日期2022-06-01",
                 "听证用时5天（不计入复核期限）", "复核意见复核变更原意见"):
        assert fact in text, fact
    text = "".join(pdftotext(sheet_pdf(client, dispute, tmp_path, "d.pdf")).split())
    assert "司法确认申请2022-03-20" in text and "受理法院雷州市人民法院" in text
    text = "".join(pdftotext(sheet_pdf(client, plain, tmp_path, "p.pdf")).split())
    assert "复查" not in text and "复核" not in text
