"""Ledger export (xlsx, CSV), sentences (CLI and admin page), the case sheet PDF."""

import csv
import datetime as dt
import io
import json
import subprocess

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from stats.builder import CaseBuilder
from toolcheck import require_tool

from casetrack.extensions import db
from casetrack.org.settings import get_setting

D = dt.date


@pytest.fixture
def build(world) -> CaseBuilder:
    """Case histories of the ``world`` town, built through the services."""
    return CaseBuilder(world)


@pytest.fixture
def cases(world, build):
    a = build.petition(D(2022, 3, 1), accept=D(2022, 3, 2), close=D(2022, 4, 10),
                       title="道路破损反映")
    b = build.petition(D(2022, 6, 1), accept=D(2022, 6, 20), village=world.v2,
                       title="灌溉水渠堵塞")
    c = build.dispute(D(2022, 8, 1), village=world.v2, category="房屋宅基地")
    db.session.commit()
    return a, b, c


def _xlsx(data: bytes):
    """The rows from the header row on (the title rows above it are tested apart)."""
    wb = load_workbook(io.BytesIO(data))
    ws = wb.active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    rows = rows[next(i for i, r in enumerate(rows) if r[0] == "序号"):]
    frozen = ws.freeze_panes
    widths = {k: v.width for k, v in ws.column_dimensions.items()}
    wb.close()
    return rows, frozen, widths


def test_ledger_xlsx_of_the_case_list_filter(client, auth, world, cases):
    auth.login("super")
    resp = client.get("/reports/ledger.xlsx?kind=petition&status=all")
    assert resp.status_code == 200
    assert "filename*=UTF-8''%E5%8F%B0%E8%B4%A6" in resp.headers["Content-Disposition"]
    assert 'filename="ledger-' in resp.headers["Content-Disposition"]
    rows, frozen, widths = _xlsx(resp.data)
    head = rows[0]
    assert head[:3] == ["序号", "编号", "类型"] and "收到日期" in head and "办结日期" in head
    assert frozen == "A4"
    assert widths[get_column_letter(head.index("事项") + 1)] >= 30
    body = rows[1:]
    assert {r[head.index("事项")] for r in body} == {"道路破损反映", "灌溉水渠堵塞"}
    row = next(r for r in body if r[head.index("事项")] == "道路破损反映")
    received = row[head.index("收到日期")]
    assert isinstance(received, dt.datetime) and received.date() == D(2022, 3, 1)
    assert row[head.index("办结日期")].date() == D(2022, 4, 10)
    assert row[head.index("状态")] == "已办结"


def test_grid_worker_export_holds_their_village_only(client, auth, world, cases):
    auth.login("grid1")
    rows, _, _ = _xlsx(client.get("/reports/ledger.xlsx?status=all").data)
    villages = {r[rows[0].index("村（居）")] for r in rows[1:]}
    assert villages == {"北和社区"} and len(rows) == 2
    # asking for a village outside their scope is refused (issue 9.2), not its cases
    assert client.get(f"/reports/ledger.xlsx?status=all&village_id={world.v2.id}").status_code == 404
    text = client.get("/reports/ledger.csv?status=all").data.decode("utf-8-sig")
    assert "灌溉水渠堵塞" not in text and "道路破损反映" in text


def test_ledger_csv_has_bom_and_iso_dates(client, auth, world, cases):
    auth.login("leader")
    data = client.get("/reports/ledger.csv?kind=petition&status=all").data
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][1] == "编号" and len(rows) == 3
    assert "2022-03-01" in rows[1] or "2022-03-01" in rows[2]


def test_ledger_of_a_dashboard_figure(client, auth, world, cases):
    auth.login("leader")
    q = "metric=open&from=2022-01-01&to=2022-12-31&as_of=2022-12-31"
    data = client.get(f"/reports/ledger.xlsx?{q}").data
    rows, _, _ = _xlsx(data)
    # the header, the open petition and the open dispute; above them the period and 截至
    assert len(rows) == 3
    assert "截至2022-12-31" in load_workbook(io.BytesIO(data)).active["A2"].value


def test_stats_summary_cli_json(runner, world, cases):
    result = runner.invoke(args=["stats", "summary", "--from", "2022-01-01", "--to",
                                 "2022-12-31", "--as-of", "2022-12-31", "--town", "北和镇",
                                 "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["totals"]["counts"]["total"] == 3
    kinds = {k["kind"]: k["counts"] for k in data["by_kind"]}
    assert (kinds["petition"]["total"], kinds["petition"]["closed"],
            kinds["petition"]["open"], kinds["petition"]["overdue"]) == (2, 1, 1, 1)
    sources = {s["source"]: s["counts"]["total"] for s in data["by_source"]}
    assert sources["assigned"] == 2 and sources["screening"] == 1
    assert data["totals"]["rates"]["close_rate"]["numerator"] == 1
    assert data["totals"]["rates"]["close_rate"]["denominator"] == 3


def test_sentences_cli_and_admin_template(runner, client, auth, world, cases):
    args = ["reports", "sentences", "--year", "2022", "--as-of", "2022-12-31", "--town", "北和镇"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[0] == "今年以来，上级交办信访案件2件，我镇已办结1件，剩余1件正在积极办理中。"
    assert lines[1].startswith("今年以来，我镇共排查调处矛盾纠纷1件，调解成功0件")
    auth.login("admin")
    resp = client.post("/reports/sentences?year=2022&as_of=2022-12-31", data={
        "key": "petition", "template": "{year}年{town}上级交办{total}件，办结{closed}件，办结率{close_rate}。"})
    assert resp.status_code == 302
    assert get_setting(db.session, world.town.id, "reports.sentence.petition")
    page = client.get("/reports/sentences?year=2022&as_of=2022-12-31").get_data(as_text=True)
    assert "2022年北和镇上级交办2件，办结1件，办结率50.0%。" in page
    lines = runner.invoke(args=args).output.strip().splitlines()
    assert lines[0] == "2022年北和镇上级交办2件，办结1件，办结率50.0%。"
    bad = client.post("/reports/sentences", data={"key": "petition", "template": "共{whatever}件"})
    assert bad.status_code == 422 and "未知的占位符" in bad.get_data(as_text=True)
    client.post("/reports/sentences", data={"key": "petition", "reset": "1", "template": ""})
    assert runner.invoke(args=args).output.startswith("今年以来，上级交办信访案件2件")
    auth.logout()
    auth.login("leader")
    assert client.post("/reports/sentences", data={"key": "petition",
                                                   "template": "x"}).status_code == 403


def test_case_sheet_pdf(client, auth, world, cases, tmp_path):
    a = cases[0]
    auth.login("super")
    resp = client.get(f"/reports/cases/{a.id}/sheet.pdf")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    path = tmp_path / "sheet.pdf"
    path.write_bytes(resp.data)
    text = subprocess.run([require_tool("pdftotext"), "-layout", str(path), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "北和镇信访事项办理单" in text and a.number in text and "道路破损反映" in text
    for step in ("受理", "交办承办单位", "答复", "办结"):
        assert step in text
    assert "承办人签字" in text
    fonts = subprocess.run([require_tool("pdffonts"), str(path)], capture_output=True,
                           text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)
    auth.logout()
    auth.login("grid2")  # not their village
    assert client.get(f"/reports/cases/{a.id}/sheet.pdf").status_code == 404


def test_pages_link_to_sheet_and_export(client, auth, world, cases):
    auth.login("super")
    detail = client.get(f"/cases/{cases[0].id}").get_data(as_text=True)
    assert f"/reports/cases/{cases[0].id}/sheet.pdf" in detail
    listing = client.get("/cases?kind=petition").get_data(as_text=True)
    assert "/reports/ledger.xlsx?kind=petition" in listing


def test_ledger_text_is_never_a_formula(client, auth, world, build):
    """A title or name typed as a formula stays text in Excel (no CSV/XLSX injection)."""
    evil = '=HYPERLINK("http://example.invalid/x","点此")'
    build.petition(D(2022, 5, 1), title=evil)
    db.session.commit()
    auth.login("super")
    data = client.get("/reports/ledger.xlsx?kind=petition").data
    wb = load_workbook(io.BytesIO(data))
    cells = [c for row in wb.active.iter_rows(min_row=2) for c in row if c.value == evil]
    wb.close()
    assert cells and all(c.data_type == "s" for c in cells)
    resp = client.get("/reports/ledger.csv?kind=petition")
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(resp.data.decode("utf-8-sig"))))
    assert rows[1][rows[0].index("事项")] == "'" + evil
