"""Absurd dates and years on the command line are usage errors with a Chinese message
(exit 2), never a traceback from the day arithmetic."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("args", [
    ["deadlines", "compute", "--rule", "dispute.mediate", "--start", "9999-12-31"],
    ["deadlines", "compute", "--rule", "petition.handle", "--start", "0001-01-01"],
    ["deadlines", "compute", "--rule", "petition.handle", "--start", "2025-08-02",
     "--extension", "99999999"],
    ["reports", "sentences", "--year", "0"],
    ["reports", "sentences", "--year", "10000"],
    ["reports", "sentences", "--year", "2022", "--as-of", "9999-12-31"],
    ["stats", "summary", "--from", "2022-01-01", "--to", "9999-12-31"],
])
def test_absurd_dates_are_usage_errors(runner, args):
    result = runner.invoke(args=args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert "之间" in result.output or "range" in result.output


def test_a_date_in_range_still_computes(runner):
    result = runner.invoke(args=["deadlines", "compute", "--rule", "dispute.mediate",
                                 "--start", "2025-01-31"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2025-02-28"
