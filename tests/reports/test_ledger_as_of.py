"""The cut-off holds in every output (issue 8.5): a ledger exported from a figure "as of D"
lists each case as it stood on D, under a heading naming the period and 截至; breakdowns by
unit use the unit on D."""

from __future__ import annotations

import datetime as dt
import io

from openpyxl import load_workbook
from stats.builder import CaseBuilder, at

from casetrack.cases import services as svc
from casetrack.extensions import db
from casetrack.stats import queries as sq

D = dt.date
YEAR = "from=2022-01-01&to=2022-12-31&as_of=2022-12-31"


def _history(world):
    b = CaseBuilder(world)
    # open on 2022-12-31: replied and closed only in January 2023, and moved to another
    # unit and handler on 2023-01-03; an extension approved after the cut-off
    late = b.petition(D(2022, 10, 10), accept=D(2022, 10, 11), source="visit")
    svc.request_extension(db.session, world.handler1, at(D(2023, 1, 2)), late, 20, "需核查")
    svc.decide_extension(db.session, world.leader, at(D(2023, 1, 2), 15), late, True)
    svc.assign_case(db.session, world.supervisor, at(D(2023, 1, 3)), late,
                    world.unit_sf.id, world.handler2.id)
    svc.reply_case(db.session, world.handler2, at(D(2023, 1, 5), 9), late, "支持", "已处理",
                   D(2023, 1, 5))
    svc.close_case(db.session, world.supervisor, at(D(2023, 1, 5)), late, rating="满意",
                   closed_on=D(2023, 1, 5))
    done = b.petition(D(2022, 3, 1), accept=D(2022, 3, 2), close=D(2022, 4, 10))
    db.session.commit()
    return late, done


def _rows(data: bytes):
    wb = load_workbook(io.BytesIO(data))
    rows = [list(r) for r in wb.active.iter_rows(values_only=True)]
    wb.close()
    return rows


def test_ledger_of_a_figure_lists_each_case_as_on_the_cut_off(client, auth, world):
    late, _done = _history(world)
    assert late.status == "closed" and late.unit_id == world.unit_sf.id  # today
    auth.login("leader")
    resp = client.get(f"/reports/ledger.xlsx?metric=open&{YEAR}")
    assert resp.status_code == 200
    rows = _rows(resp.data)
    # title row (town), then the line naming the figure, the period and 截至, then the header
    assert rows[0][0] == "北和镇信访与矛盾纠纷台账"
    assert "期间：2022-01-01至2022-12-31收到的案件" in rows[1][0]
    assert "截至2022-12-31日终的状态" in rows[1][0]
    head, body = rows[2], rows[3:]
    assert len(body) == 1
    row = dict(zip(head, body[0], strict=True))
    assert row["编号"] == late.number
    assert row["状态"] == "办理中"
    assert row["承办单位"] == "信访办" and row["承办人"] == "承办人甲"
    assert row["办结日期"] is None and row["评价"] is None or row["评价"] == ""
    # due as on D: 60 days from 2022-10-11, before the extension of January
    assert row["办理期限"].date() == D(2022, 12, 12)

    csv_text = client.get(f"/reports/ledger.csv?metric=open&{YEAR}").data.decode("utf-8-sig")
    first, header = csv_text.splitlines()[:2]
    assert "截至2022-12-31" in first and header.startswith("序号,编号")
    assert "已办结" not in csv_text and "办理中" in csv_text


def test_closed_ledger_as_of_shows_closing_day_and_rating(client, auth, world):
    _late, done = _history(world)
    auth.login("leader")
    rows = _rows(client.get(f"/reports/ledger.xlsx?metric=closed&{YEAR}").data)
    head, body = rows[2], rows[3:]
    assert [r[head.index("编号")] for r in body] == [done.number]
    assert body[0][head.index("办结日期")].date() == D(2022, 4, 10)
    assert body[0][head.index("评价")] == "满意"


def test_breakdown_by_unit_uses_the_unit_on_the_cut_off(world):
    _history(world)
    q = sq.StatsQuery(D(2022, 1, 1), D(2022, 12, 31), D(2022, 12, 31))
    by_unit = {row.label: row.counts["total"] for row in
               sq.breakdown(db.session, world.leader, q, "unit")}
    assert by_unit["信访办"] == 2 and by_unit["司法所"] == 0
    # the drill-down by unit takes the same unit
    narrowed = q.narrowed(unit=world.unit_xf.id)
    assert sq.totals(db.session, world.leader, narrowed).counts["total"] == 2
    q_now = sq.StatsQuery(D(2022, 1, 1), D(2022, 12, 31), D(2023, 1, 31))
    by_unit = {row.label: row.counts["total"] for row in
               sq.breakdown(db.session, world.leader, q_now, "unit")}
    assert by_unit["信访办"] == 1 and by_unit["司法所"] == 1


def test_sentences_cli_prints_period_and_cut_off(runner, world):
    _history(world)
    lines = runner.invoke(args=["reports", "sentences", "--year", "2022", "--town",
                                world.town.name]).output.strip().splitlines()
    # no --as-of: the period's end (the suite's today is in 2026)
    assert lines[-1] == "（北和镇，统计期间：2022-01-01至2022-12-31，截至2022-12-31）"
    assert lines[0].startswith("今年以来，上级交办信访案件")


def test_dashboard_cut_off_defaults_to_the_period_end(client, auth, world):
    auth.login("leader")
    page = client.get("/dashboard?from=2022-01-01&to=2022-12-31").get_data(as_text=True)
    assert 'name="as_of" value="2022-12-31"' in page
    page = client.get("/dashboard").get_data(as_text=True)  # this year, still running
    assert 'name="as_of" value="2026-11-23"' in page
