"""Ticked boxes posted by hand: an id no 32-bit column can hold is no id (never a 500 from
the database driver), and the selected-cases ledger counts the cases it lists, not the ids
posted (another town's case, a duplicate or a word is no row)."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from views_support import login_as, make_petition

from casetrack.cases import services as svc
from casetrack.cases.models import Case
from casetrack.cases.services import CaseInput, PartyInput
from casetrack.extensions import db

HUGE = "9" * 30


def test_export_selected_ignores_ids_out_of_range_and_counts_the_rows(client, world, now):
    a = make_petition(world, now, title="导出甲")
    other = svc.register_case(db.session, world.other_super, now, CaseInput(
        kind="petition", title="他镇案件", source="visit", received_on=now.date(),
        petition_class="申诉求决", category="其他",
        parties=[PartyInput(name="外镇人（虚构）")]))
    db.session.commit()
    login_as(client, "super")
    resp = client.post("/reports/ledger-selected.xlsx", data={
        "case_id": [str(a.id), str(a.id), str(other.id), HUGE, "-1", "abc"]})
    assert resp.status_code == 200
    rows = [list(r) for r in load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True)]
    assert "所选案件1件" in rows[1][0]
    head = rows[2]
    assert [r[head.index("事项")] for r in rows[3:]] == ["导出甲"]
    resp = client.post("/reports/ledger-selected.xlsx", data={"case_id": [HUGE]})
    assert resp.status_code == 302  # nothing left: back to the list (请先勾选案件)


def test_bulk_assign_with_an_id_out_of_range_is_refused_not_a_500(client, world, now):
    case = make_petition(world, now)
    svc.accept_case(db.session, world.supervisor, now, case)
    db.session.commit()
    login_as(client, "super")
    resp = client.post("/cases/bulk-assign", data={
        "case_id": [str(case.id), HUGE], "unit_id": str(world.unit_xf.id), "next": "/cases"})
    assert resp.status_code == 302
    resp = client.post("/cases/bulk-assign", data={
        "case_id": [str(case.id)], "unit_id": HUGE, "handler_id": HUGE, "next": "/cases"})
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Case, case.id).unit_id == world.unit_xf.id


def test_step_forms_with_an_id_out_of_range_are_refused_not_a_500(client, world, now):
    case = make_petition(world, now)
    svc.accept_case(db.session, world.supervisor, now, case)
    db.session.commit()
    login_as(client, "super")
    resp = client.post(f"/cases/{case.id}/assign", data={"unit_id": HUGE})
    assert resp.status_code == 422
    resp = client.post(f"/cases/{case.id}/assign", data={
        "unit_id": str(world.unit_xf.id), "handler_id": HUGE})
    assert resp.status_code == 422
    resp = client.post(f"/cases/{case.id}/correct", data={"village_id": HUGE, "reason": "更正"})
    assert resp.status_code == 422
    db.session.expire_all()
    assert db.session.get(Case, case.id).unit_id is None


def test_admin_forms_with_numbers_out_of_range_are_refused_not_a_500(client, world):
    login_as(client, "admin")
    password = "Zq7#mervyn-blue-ox"
    resp = client.post("/admin/users/new", data={
        "username": "h9", "name": "承办人丙", "role": "handler", "unit_id": HUGE,
        "password": password})
    assert resp.status_code == 422 and "不能大于2147483647" in resp.get_data(as_text=True)
    resp = client.post("/admin/users/new", data={
        "username": "g9", "name": "网格员丙", "role": "grid_worker", "village_ids": HUGE,
        "password": password})
    assert resp.status_code == 422
    resp = client.post("/admin/villages", data={"name": "新村（虚构）", "kind": "行政村",
                                                "sort_order": HUGE})
    assert resp.status_code == 422
    resp = client.post(f"/admin/villages/{world.v1.id}", data={
        "name": world.v1.name, "kind": world.v1.kind, "sort_order": "-" + HUGE})
    assert resp.status_code == 422 and "不能小于-2147483648" in resp.get_data(as_text=True)
