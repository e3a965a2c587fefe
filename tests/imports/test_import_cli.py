"""``flask cases import FILE [--dry-run]`` through the CLI runner, and a 10,000-row file."""

from __future__ import annotations

import pytest
from import_support import csv_bytes, row, xlsx_bytes
from sqlalchemy import func, select

from casetrack.cases.models import Case, CaseEvent, Party
from casetrack.extensions import db


def case_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Case))


def test_dry_run_checks_and_writes_nothing_then_import_then_reimport(world, runner, tmp_path):
    path = tmp_path / "交办清单.xlsx"
    path.write_bytes(xlsx_bytes([row(1), row(2, 承办单位="司法所")]))
    result = runner.invoke(args=["cases", "import", str(path), "--user", "super", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "新案件 2 件" in result.output and "未写入任何数据" in result.output
    assert case_count() == 0

    result = runner.invoke(args=["cases", "import", str(path), "--user", "super"])
    assert result.exit_code == 0, result.output
    assert "交办清单.xlsx：导入 2 件，0 件已存在" in result.output
    assert "北和信〔2026〕1号" in result.output
    assert case_count() == 2
    note = db.session.scalar(select(CaseEvent.note).where(CaseEvent.action == "register").limit(1))
    assert "交办清单.xlsx" in note

    result = runner.invoke(args=["cases", "import", str(path), "--user", "super"])
    assert result.exit_code == 0, result.output
    assert "导入 0 件，2 件已存在（未重复导入）" in result.output
    assert case_count() == 2


def test_errors_are_listed_by_row_and_column_and_nothing_is_written(world, runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([row(1), row(2, 收到日期="昨天"), row(3, 联系电话="abc")],
                               encoding="gb18030"))
    result = runner.invoke(args=["cases", "import", str(path), "--user", "super"])
    assert result.exit_code == 1
    assert "第3行「收到日期」列：无法识别的日期“昨天”" in result.output
    assert "第4行「联系电话」列：" in result.output
    assert "未导入任何数据" in result.output
    assert case_count() == 0


def test_map_option_and_refusals(world, runner, tmp_path):
    path = tmp_path / "other.csv"
    headers = ["交办文号", "事项名称", "信访类别", "收到日期", "上级办理期限", "信访人姓名"]
    path.write_bytes(csv_bytes([{"交办文号": "Z-1", "事项名称": "路灯不亮", "信访类别": "建议意见",
                                 "收到日期": "2026-11-20", "上级办理期限": "2026-12-20",
                                 "信访人姓名": "王五"}], headers=headers))
    result = runner.invoke(args=["cases", "import", str(path), "--user", "super"])
    assert result.exit_code == 1 and "必须指定“标题”对应的列" in result.output
    result = runner.invoke(args=["cases", "import", str(path), "--user", "super",
                                 "--map", "title=事项名称"])
    assert result.exit_code == 0, result.output
    assert case_count() == 1
    result = runner.invoke(args=["cases", "import", str(path), "--user", "grid1"])
    assert result.exit_code == 1 and "督办员和系统管理员" in result.output
    result = runner.invoke(args=["cases", "import", str(path), "--user", "nobody"])
    assert result.exit_code == 1 and "nobody" in result.output
    pdf = tmp_path / "x.xlsx"
    pdf.write_bytes(b"%PDF-1.4 not a sheet")
    result = runner.invoke(args=["cases", "import", str(pdf), "--user", "super"])
    assert result.exit_code == 1 and "不是电子表格" in result.output


@pytest.mark.slow
def test_ten_thousand_rows_import_in_one_go(world, runner, tmp_path):
    rows = [row(n, 身份证号="", 承办单位="信访办" if n % 2 else "") for n in range(1, 10_001)]
    path = tmp_path / "大清单.xlsx"
    path.write_bytes(xlsx_bytes(rows))
    result = runner.invoke(args=["cases", "import", str(path), "--user", "super"])
    assert result.exit_code == 0, result.output
    assert "导入 10000 件" in result.output
    assert case_count() == 10_000
    assert db.session.scalar(select(func.count()).select_from(Party)) == 10_000
    assert db.session.scalar(select(func.max(Case.number_seq))) == 10_000
    # and again: nothing changes
    result = runner.invoke(args=["cases", "import", str(path), "--user", "super"])
    assert result.exit_code == 0 and "导入 0 件，10000 件已存在" in result.output
    assert case_count() == 10_000
