"""Provisional due dates say so everywhere and become final (issue 8.4)."""

from __future__ import annotations

import datetime as dt
import io
import subprocess

from api.api_support import Api, token_for
from openpyxl import load_workbook
from stats.builder import at
from toolcheck import require_tool

from casetrack.cases import due_updates as calendar_svc
from casetrack.cases import services as svc
from casetrack.deadlines.services import parse_entries
from casetrack.extensions import db
from casetrack.notify.models import Notification
from casetrack.stats import queries as sq

from .calendar_support import SCHEDULE_2027

D = dt.date


def _provisional(world):
    """A petition accepted 2026-11-23 and assigned: 60 days = 2027-01-22, a year nobody has
    entered, so the date is provisional."""
    case = svc.register_case(db.session, world.supervisor, at(D(2026, 11, 20)), svc.CaseInput(
        kind="petition", title="反映村道积水", source="visit", received_on=D(2026, 11, 20),
        petition_class="申诉求决", category="城乡建设", village_id=world.v1.id,
        parties=[svc.PartyInput(name="李四（虚构）")]))
    svc.accept_case(db.session, world.supervisor, at(D(2026, 11, 23)), case)
    svc.assign_case(db.session, world.supervisor, at(D(2026, 11, 23), 11), case,
                    world.unit_xf.id, world.handler1.id)
    db.session.commit()
    assert (case.due_on, case.due_is_exact) == (D(2027, 1, 22), False)
    return case


def test_every_output_marks_the_provisional_date(world, client, auth, now):
    case = _provisional(world)
    mail = db.session.scalar(db.select(Notification).where(Notification.kind == "case_assigned"))
    assert "到期日 2027-01-22（暂定）" in mail.body_text
    auth.login("super")
    assert "暂定" in client.get("/cases").get_data(as_text=True)
    assert "期限待定" in client.get(f"/cases/{case.id}").get_data(as_text=True)
    wb = load_workbook(io.BytesIO(client.get("/reports/ledger.xlsx").data))
    rows = [list(r) for r in wb.active.iter_rows(values_only=True)]
    head = rows[2]  # below the title row and the filter/period/截至 line
    assert rows[3][head.index("期限暂定")] == "暂定"
    assert "暂定" in client.get("/reports/ledger.csv").data.decode("utf-8-sig")
    pdf = client.get(f"/reports/cases/{case.id}/sheet.pdf")
    assert pdf.status_code == 200
    text = subprocess.run([require_tool("pdftotext"), "-", "-"], input=pdf.data,
                          capture_output=True, check=True).stdout.decode()
    assert "暂定" in text
    body = Api(client, token_for(world.supervisor, now)).get(f"/cases/{case.id}").get_json()
    assert body["data"]["due_is_exact"] is False


def test_entering_the_year_makes_closed_cases_final_and_figures_use_it(world):
    case = _provisional(world)
    later = at(D(2027, 1, 23))
    svc.reply_case(db.session, world.handler1, later, case, "支持", "已处理", D(2027, 1, 23))
    svc.close_case(db.session, world.supervisor, later, case, rating="满意",
                   closed_on=D(2027, 1, 23))
    db.session.commit()
    q = sq.StatsQuery(D(2026, 11, 1), D(2026, 11, 30), D(2027, 1, 31))
    assert sq.totals(db.session, None, q).counts["closed_on_time"] == 0  # 01-23 > 01-22
    # the year's schedule makes 2027-01-22 a holiday (fictional): the date moves to Monday
    rows = [*SCHEDULE_2027, ("2027-01-22", "holiday", "假设的休假日")]
    entries = parse_entries("\n".join(",".join(r) for r in rows), 2027)
    result = calendar_svc.enter_year(db.session, world.admin, at(D(2027, 1, 25)), 2027, entries)
    db.session.commit()
    assert case.id in {c.case_id for c in result.changes}
    assert (case.status, case.due_on, case.due_is_exact) == ("closed", D(2027, 1, 25), True)
    ev = case.events[-1]
    assert ev.action == "recompute_due"
    assert ev.changes["due_on"] == ["2027-01-22", "2027-01-25"]
    assert ev.changes["due_is_exact"] == [False, True]
    assert sq.totals(db.session, None, q).counts["closed_on_time"] == 1
