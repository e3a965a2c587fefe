"""Layout of the printed PDFs, read back with ``pdftotext -bbox``: no text runs over into the
next cell or off the page, case numbers stay on one line, a case sheet fits on one page."""

import datetime as dt
import re
import subprocess
from html import unescape

import pytest
from stats.builder import CaseBuilder
from toolcheck import require_tool

from casetrack.extensions import db

D = dt.date
#: A4 in points and the report margins (18 mm left and right)
PAGE_W, MARGIN = 595.28, 18 * 72 / 25.4
WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">'
                  r"(.*?)</word>")


@pytest.fixture
def build(world) -> CaseBuilder:
    """Case histories of the ``world`` town, built through the services."""
    return CaseBuilder(world)


def words_by_page(path) -> list[list[tuple[float, float, float, float, str]]]:
    """The words of each page with their boxes (points, origin top left)."""
    out = subprocess.run([require_tool("pdftotext"), "-bbox", str(path), "-"],
                         capture_output=True, text=True, check=True).stdout
    pages = out.split("<page ")[1:]
    return [[(float(a), float(b), float(c), float(d), unescape(t))
             for a, b, c, d, t in WORD.findall(page)] for page in pages]


def overlaps(words) -> list[tuple[str, str]]:
    """Pairs of words on the same line whose boxes overlap (text run over into a neighbour)."""
    found = []
    for i, (x0, y0, x1, y1, t) in enumerate(words):
        for u0, v0, u1, v1, s in words[i + 1:]:
            same_line = min(y1, v1) - max(y0, v0) > 0.5 * min(y1 - y0, v1 - v0)
            if same_line and min(x1, u1) - max(x0, u0) > 1.0:
                found.append((t, s))
    return found


def layout_text(path) -> str:
    return subprocess.run([require_tool("pdftotext"), "-layout", str(path), "-"],
                          capture_output=True, text=True, check=True).stdout


def test_monthly_tables_stay_in_their_cells_and_on_the_page(runner, world, build, tmp_path):
    world.unit_xf.name = "社会治安综合治理办公室"  # 11 characters: wider than its column
    db.session.flush()
    late = build.petition(D(2022, 10, 1), accept=D(2022, 10, 2), title="反映排水沟堵塞")
    build.petition(D(2022, 12, 1), accept=D(2022, 12, 2), close=D(2022, 12, 20))
    db.session.commit()
    out = tmp_path / "m.pdf"
    result = runner.invoke(args=["reports", "monthly", "--month", "2022-12", "--as-of",
                                 "2022-12-31", "--town", "北和镇", "--out", str(out)])
    assert result.exit_code == 0, result.output
    pages = words_by_page(out)
    for words in pages:
        assert words
        assert not overlaps(words)
        for x0, _y0, x1, _y1, text in words:
            assert MARGIN - 1 <= x0 and x1 <= PAGE_W - MARGIN + 1, (text, x0, x1)
    text = layout_text(out)
    assert late.number in text  # the number of the overdue case is not broken over two lines
    # the long unit name wraps inside its cell, whole: read its column top to bottom
    words = next(w for w in pages if any(t.startswith("社会治安") for *_, t in w))
    x = next(x0 for x0, _y0, _x1, _y1, t in words if t.startswith("社会治安"))
    column = sorted((y0, t) for x0, y0, _x1, _y1, t in words if abs(x0 - x) < 1)
    assert "".join(t for _y, t in column).startswith("社会治安综合治理办公室")
    # the definition column reads left to right like text, the rate columns are numbers
    rate = next(ln for ln in text.splitlines() if ln.strip().startswith("办结率"))
    assert rate.rstrip().endswith("已办结 ÷ 案件总数")
    # every rate's name is on one line (司法确认申请率 wrapped as 司法确认申 / 请率)
    for label in ("司法确认申请率", "按期回访率", "村级化解率"):
        assert any(ln.strip().startswith(label) for ln in text.splitlines()), label


def test_case_sheet_fits_one_page_with_its_signatures(client, auth, world, build, tmp_path):
    case = build.petition(D(2022, 3, 1), accept=D(2022, 3, 2), close=D(2022, 4, 10),
                          extend=(D(2022, 3, 20), 30), title="道路破损反映")
    db.session.commit()
    auth.login("super")
    resp = client.get(f"/reports/cases/{case.id}/sheet.pdf")
    assert resp.status_code == 200
    path = tmp_path / "sheet.pdf"
    path.write_bytes(resp.data)
    pages = words_by_page(path)
    assert len(pages) == 1
    assert not overlaps(pages[0])
    text = layout_text(path)
    assert "第 1 页 共 1 页" in text or "第1页共1页" in "".join(text.split())
    for label in ("承办人签字", "承办单位负责人", "分管领导签字", "日期", "办理过程"):
        assert label in text
    # two facts a row: the number and the kind share a line
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("编号 "))
    assert case.number in line and "信访事项" in line
