"""The demo town reproduces the 2022 annual report through the stats layer and the CLI."""

import datetime as dt
import json

import pytest
from sqlalchemy import select

from casetrack.auth.models import User
from casetrack.extensions import db
from casetrack.stats import queries as sq

ARGS = ["--from", "2022-01-01", "--to", "2022-12-31", "--as-of", "2022-12-31"]
SENTENCE = "今年以来，上级交办信访案件88件，我镇已办结77件，剩余11件正在积极办理中。"


@pytest.fixture
def demo(app, runner):
    if "demo" not in app.cli.commands or "load" not in getattr(
            app.cli.commands["demo"], "commands", {}):
        pytest.skip("flask demo load is not available")
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output + repr(result.exception)


def test_demo_88_77_11(demo, runner):
    result = runner.invoke(args=["stats", "summary", *ARGS, "--town", "北和镇", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assigned = next(s for s in data["by_source"] if s["source"] == "assigned")["counts"]
    assert (assigned["total"], assigned["closed"], assigned["open"]) == (88, 77, 11)
    only = json.loads(runner.invoke(args=["stats", "summary", *ARGS, "--town", "北和镇",
                                          "--source", "assigned", "--json"]).output)
    assert only["totals"]["counts"]["total"] == 88
    assert only["totals"]["rates"]["close_rate"]["percent"] == "87.5%"
    out = runner.invoke(args=["reports", "sentences", "--year", "2022", "--as-of", "2022-12-31",
                              "--town", "北和镇"]).output.splitlines()
    assert out[0] == SENTENCE
    assert out[1].startswith("今年以来，我镇共排查调处矛盾纠纷")

    # the table as printed: one heading per column, 上级交办 reads 88 / 77 / 11
    table = runner.invoke(args=["stats", "summary", *ARGS]).output.splitlines()
    heading = table[1].split("\t")
    assert heading == ["", "案件总数", "已办结", "在办（未办结）", "不予受理/已退回", "已超期"]
    row = next(line.split("\t") for line in table if line.startswith("上级交办\t"))
    assert len(row) == len(heading) and row[1:4] == ["88", "77", "11"]

    # the commands exactly as written: no --town, the demo is the only town
    data = json.loads(runner.invoke(args=["stats", "summary", *ARGS, "--json"]).output)
    assert data["town"] == "北和镇"
    assigned = next(s for s in data["by_source"] if s["source"] == "assigned")["counts"]
    assert (assigned["total"], assigned["closed"], assigned["open"]) == (88, 77, 11)
    out = runner.invoke(args=["reports", "sentences", "--year", "2022", "--as-of",
                              "2022-12-31"]).output.splitlines()
    assert out[0] == SENTENCE

    # the same figures through the stats layer in the leader's scope
    leader = db.session.scalar(select(User).where(User.role == "leader").limit(1))
    q = sq.StatsQuery(dt.date(2022, 1, 1), dt.date(2022, 12, 31), dt.date(2022, 12, 31),
                      kind="petition", source="assigned")
    t = sq.totals(db.session, leader, q)
    assert (t.counts["total"], t.counts["closed"], t.counts["open"]) == (88, 77, 11)
