"""The monthly summary PDF: read back with pdftotext, fonts checked with pdffonts."""

import datetime as dt
import subprocess

import pytest
from stats.builder import CaseBuilder
from toolcheck import require_tool

from casetrack.extensions import db

D = dt.date


@pytest.fixture
def build(world) -> CaseBuilder:
    """Case histories of the ``world`` town, built through the services."""
    return CaseBuilder(world)


def pdf_text(path) -> str:
    exe = require_tool("pdftotext")
    return subprocess.run([exe, "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


def pdf_fonts(path) -> list[list[str]]:
    exe = require_tool("pdffonts")
    out = subprocess.run([exe, str(path)], capture_output=True, text=True, check=True).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]


@pytest.fixture
def december(world, build):
    """Assigned petitions of 2022: two closed, one closed only in January 2023."""
    build.petition(D(2022, 12, 1), accept=D(2022, 12, 2), close=D(2022, 12, 20))
    build.petition(D(2022, 12, 5), accept=D(2022, 12, 6), close=D(2023, 1, 10),
                   village=world.v2, category="农村农业")
    build.petition(D(2022, 6, 1), accept=D(2022, 6, 2), title="宅基地争议反映")
    build.dispute(D(2022, 12, 8), village=world.v2, mediate=D(2022, 12, 9),
                  resolve=D(2022, 12, 15))
    db.session.commit()


def test_monthly_pdf_from_cli(runner, world, december, tmp_path):
    out = tmp_path / "m.pdf"
    result = runner.invoke(args=["reports", "monthly", "--month", "2022-12", "--town", "北和镇",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = pdf_text(out)
    assert "北和镇信访与矛盾纠纷工作月度汇总" in text
    assert "统计期间：2022年12月1日至2022年12月31日" in text
    assert "截至：2022年12月31日" in text
    # month: 3 cases (2 petitions, 1 dispute), 1 closed, 2 open, none overdue
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("案件总数"))
    assert line.split()[1:] == ["3", "2", "1", "4", "3", "1"]
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("已办结"))
    assert line.split()[1:] == ["1", "1", "0", "1", "1", "0"]
    # the June case is overdue at the cut-off (due 2022-07-31, the city's date)
    assert "宅基地争议反映" in text
    assert "153天" in text and "承办人甲" in text
    assert "北和社区" in text and "鹅感村" in text
    for label in ("制表人", "审核人", "分管领导签字", "日期"):
        assert label in text
    flat = "".join(text.split())
    assert "第1页共2页" in flat and "第2页共2页" in flat
    assert "办结率" in text and "1/3" in text
    fonts = pdf_fonts(out)
    assert fonts, "no fonts in the PDF"
    for row in fonts:
        # name type encoding emb sub uni object ID: "emb" is the 4th column from the end - 2
        assert row[-5] == "yes", row


def test_month_printed_later_equals_figures_then(runner, world, december, build, tmp_path):
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    args = ["reports", "monthly", "--month", "2022-12", "--as-of", "2022-12-31", "--town", "北和镇",
            "--out"]
    assert runner.invoke(args=[*args, str(a)]).exit_code == 0
    build.petition(D(2023, 2, 1), accept=D(2023, 2, 2), close=D(2023, 2, 3))
    db.session.commit()
    assert runner.invoke(args=[*args, str(b)]).exit_code == 0
    assert pdf_text(a) == pdf_text(b)


def test_bad_month_is_refused(runner, world):
    result = runner.invoke(args=["reports", "monthly", "--month", "2022-13", "--out", "x.pdf"])
    assert result.exit_code != 0 and "YYYY-MM" in result.output
