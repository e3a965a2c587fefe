"""``flask deadlines compute`` and ``flask deadlines load-year`` through the CLI runner."""

import datetime as dt

from sqlalchemy import func, select

from casetrack.cases.models import CaseEvent
from casetrack.deadlines.models import CalendarYear, HolidayOverride
from casetrack.extensions import db

from .calendar_support import open_cases_due_2027, schedule_csv


def test_compute_examples_of_the_issue(runner):
    result = runner.invoke(
        args=["deadlines", "compute", "--rule", "petition.handle", "--start", "2025-08-02"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2025-10-09"
    result = runner.invoke(
        args=["deadlines", "compute", "--rule", "petition.object", "--start", "2025-09-26"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2025-10-10"


def test_compute_with_extension(runner):
    # 60 + 30 days from 2025-08-02 = 2025-10-31 (Friday)
    result = runner.invoke(
        args=[
            "deadlines",
            "compute",
            "--rule",
            "petition.handle",
            "--start",
            "2025-08-02",
            "--extension",
            "30",
        ]
    )
    assert result.output.strip() == "2025-10-31"


def test_compute_in_unknown_year_refuses(runner):
    result = runner.invoke(
        args=["deadlines", "compute", "--rule", "petition.handle", "--start", "2026-12-01"]
    )
    assert result.exit_code != 0
    assert "2027 年的节假日安排尚未录入" in result.output
    assert "2027-" not in result.output


def test_compute_uses_an_entered_year(runner, tmp_path):
    path = tmp_path / "2027.csv"
    path.write_bytes(schedule_csv())
    assert (
        runner.invoke(
            args=["deadlines", "load-year", "--year", "2027", "--file", str(path)]
        ).exit_code
        == 0
    )
    # 2026-12-02 + 30 days = 2027-01-01 (元旦 01-01..01-03) → Monday 2027-01-04
    result = runner.invoke(
        args=["deadlines", "compute", "--rule", "dispute.mediate", "--start", "2026-12-02"]
    )
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2027-01-04"


def test_load_year_dry_run_saves_nothing(runner, world, now, tmp_path):
    _a, b, _c = open_cases_due_2027(world, now)
    path = tmp_path / "2027.csv"
    path.write_bytes(schedule_csv(encoding="gb18030"))
    result = runner.invoke(
        args=["deadlines", "load-year", "--year", "2027", "--file", str(path), "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "放假 10 天，调休上班 2 天" in result.output
    assert f"{b.number}: 2027-02-11 → 2027-02-15" in result.output
    assert "重新计算了 2 个案件的期限" in result.output and "试运行" in result.output
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(HolidayOverride)) == 0
    assert db.session.get(CalendarYear, 2027) is None
    assert b.due_on == dt.date(2027, 2, 11) and b.due_is_exact is False
    assert (
        db.session.scalar(
            select(func.count()).select_from(CaseEvent).where(CaseEvent.action == "recompute_due")
        )
        == 0
    )


def test_load_year_saves_and_recomputes(runner, world, now, tmp_path):
    a, b, _c = open_cases_due_2027(world, now)
    path = tmp_path / "2027.csv"
    path.write_bytes(schedule_csv(bom=True))
    result = runner.invoke(
        args=[
            "deadlines",
            "load-year",
            "--year",
            "2027",
            "--file",
            str(path),
            "--source",
            "国办发明电〔2026〕X号（示例）",
        ]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(CalendarYear, 2027).entered_by_id is None
    assert (a.due_on, a.due_is_exact) == (dt.date(2027, 1, 22), True)
    assert (b.due_on, b.due_is_exact) == (dt.date(2027, 2, 15), True)
    events = db.session.scalars(select(CaseEvent).where(CaseEvent.action == "recompute_due")).all()
    assert sorted(e.case_id for e in events) == sorted([a.id, b.id])
    assert all(e.actor_id is None for e in events)


def test_load_year_errors_exit_non_zero(runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(
        "date,type,name\n2027-01-01,holiday,元旦\n2027-02-30,holiday,坏\n", encoding="utf-8"
    )
    result = runner.invoke(args=["deadlines", "load-year", "--year", "2027", "--file", str(path)])
    assert result.exit_code == 1
    assert "第3行：日期“2027-02-30”无效" in result.output
    assert db.session.scalar(select(func.count()).select_from(HolidayOverride)) == 0
