"""The xlsx ledger is ready to print and file (issue 12 item 6): a title row with the town,
the filter, the period and the 截至 date; landscape A4 fitted to the width; the header row
repeated on every page; the columns 预警, 上级规定期限 and 交办机关."""

from __future__ import annotations

import datetime as dt
import io

from cases.views_support import login_as, make_dispute, make_petition
from openpyxl import load_workbook

from casetrack.extensions import db

TODAY = dt.date(2026, 11, 23)


def _sheet(data: bytes):
    return load_workbook(io.BytesIO(data)).active


def test_ledger_title_rows_and_print_setup(client, world, now):
    overdue = make_petition(world, now, title="逾期案件")
    overdue.due_on = TODAY - dt.timedelta(days=3)
    make_dispute(world, now, title="纠纷一件")
    db.session.commit()
    login_as(client, "super")
    ws = _sheet(client.get(
        f"/reports/ledger.xlsx?kind=petition&village_id={world.v1.id}"
        "&received_from=2026-11-01&received_to=2026-11-30").data)
    title, line = ws["A1"].value, ws["A2"].value
    assert title == "北和镇信访与矛盾纠纷台账"
    assert "类型：信访事项" in line and "状态：在办" in line and f"村（居）：{world.v1.name}" in line
    assert "期间：2026-11-01至2026-11-30收到" in line and "截至2026-11-23" in line
    # print set-up
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9  # A4
    assert ws.sheet_properties.pageSetUpPr.fitToPage is True
    assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
    assert ws.print_title_rows == "$3:$3"
    assert ws.freeze_panes == "A4"
    # the columns offices ask for, with values
    head = [c.value for c in ws[3]]
    for name in ("预警", "上级规定期限", "交办机关"):
        assert name in head
    row = [c.value for c in ws[4]]
    assert row[head.index("事项")] == "逾期案件"
    assert row[head.index("预警")] == "红（逾期）"
    assert row[head.index("交办机关")] == "雷州市信访局"
    assert row[head.index("上级规定期限")].date() == dt.date(2027, 1, 5)
    assert head.index("预警") == head.index("办理期限") + 1


def test_dashboard_figure_ledger_states_period_and_cut_off(client, world, now):
    make_petition(world, now)
    login_as(client, "leader")
    ws = _sheet(client.get("/reports/ledger.xlsx?metric=total&from=2026-01-01&to=2026-11-23"
                           "&as_of=2026-11-20").data)
    line = ws["A2"].value
    assert "期间：2026-01-01至2026-11-23" in line and "截至2026-11-20" in line
    assert ws["A1"].value.startswith("北和镇")


def test_csv_stays_a_plain_table_with_the_new_columns(client, world, now):
    make_petition(world, now)
    login_as(client, "super")
    data = client.get("/reports/ledger.csv").data.decode("utf-8-sig")
    head = data.splitlines()[0].split(",")
    assert head[0] == "序号" and "预警" in head and "交办机关" in head
