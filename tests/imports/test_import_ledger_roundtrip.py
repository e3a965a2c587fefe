"""A ledger the app exported imports back with every column recognised (through the client):
its headers and the registration form's labels come from ``cases/labels.py``."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from sqlalchemy import select

from casetrack.auth.models import Role
from casetrack.cases import services as svc
from casetrack.cases.importing import auto_mapping, derived_headers, unmapped_headers
from casetrack.cases.labels import FORM_LABELS
from casetrack.cases.models import Case
from casetrack.extensions import db


def _assigned(world, now, ref: str, title: str, village, unit=None) -> Case:
    data = svc.CaseInput(
        kind="petition", title=title, source="assigned", received_on=dt.date(2026, 11, 2),
        petition_class="申诉求决", category="城乡建设", village_id=village.id,
        external_ref=ref, external_due_on=dt.date(2026, 12, 20),
        external_authority="雷州市信访局", parties=[svc.PartyInput(name="王五（虚构）")])
    case = svc.register_case(db.session, world.supervisor, now, data)
    if unit is not None:
        svc.accept_case(db.session, world.supervisor, now, case, accepted_on=dt.date(2026, 11, 3))
        svc.assign_case(db.session, world.supervisor, now, case, unit.id, None)
    return case


@pytest.fixture
def exported(world, now):
    _assigned(world, now, "湛信交〔2026〕214号", "村道破损（虚构）", world.v1, world.unit_xf)
    _assigned(world, now, "湛信交〔2026〕215号", "排水沟堵塞（虚构）", world.v2)
    db.session.commit()


def _upload(client, data: bytes, filename: str):
    return client.post("/imports/", data={"file": (io.BytesIO(data), filename)},
                       content_type="multipart/form-data")


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_exported_ledger_imports_back_into_another_town(world, now, client, auth, create_town,
                                                       create_user, exported, fmt):
    auth.login("super")
    ledger = client.get(f"/reports/ledger.{fmt}?kind=petition&status=all")
    assert ledger.status_code == 200
    town = create_town("南山镇")
    create_user("nanshan", Role.SUPERVISOR, town)
    db.session.commit()
    auth.logout()
    auth.login("nanshan")
    resp = _upload(client, ledger.data, f"台账.{fmt}")
    # every column is recognised: the mapping step has nothing to ask
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/imports/preview")
    page = client.get("/imports/mapping").get_data(as_text=True)
    assert 'id="unmapped-columns"' not in page
    assert 'id="derived-columns"' in page and "办结日期" in page
    preview = client.get("/imports/preview").get_data(as_text=True)
    assert "确认导入 2 件" in preview and "列未对应任何字段" not in preview
    resp = client.post("/imports/run")
    assert "导入 2 件" in resp.get_data(as_text=True)
    db.session.rollback()
    imported = {c.external_ref: c for c in db.session.scalars(
        select(Case).where(Case.town_id == town.id))}
    first = imported["湛信交〔2026〕214号"]
    assert (first.title, first.petition_class, first.category, first.external_authority,
            first.external_due_on, first.received_on, first.village.name, first.unit.name) == (
        "村道破损（虚构）", "申诉求决", "城乡建设", "雷州市信访局", dt.date(2026, 12, 20),
        dt.date(2026, 11, 2), "北和社区", "信访办")
    assert [p.name for p in first.parties] == ["王五（虚构）"]
    assert imported["湛信交〔2026〕215号"].unit is None


def test_the_registration_forms_labels_are_headers(app):
    """A list laid out with the form's labels (上级交办文号, 上级规定办理期限, 所在村（居）)."""
    headers = [str(FORM_LABELS[k]) for k in FORM_LABELS]
    mapping = auto_mapping(headers)
    assert unmapped_headers(headers, mapping) == []
    assert {headers[i]: k for k, i in mapping.items()}["上级规定办理期限"] == "external_due_on"
    assert mapping["village"] == headers.index("所在村（居）")


def test_own_labels_beat_synonyms_and_synonyms_still_work(app):
    ledger_like = ["编号", "上级交办文号", "办理期限", "上级规定期限", "类别", "信访类别"]
    mapping = auto_mapping(ledger_like)
    assert mapping["external_ref"] == 1 and mapping["external_due_on"] == 3
    assert mapping["category"] == 4 and mapping["petition_class"] == 5
    assert derived_headers(ledger_like, mapping) == ["编号", "办理期限"]
    # another office's list: its 编号 and 办理期限 are the authority's
    other = ["编号", "标题", "办理期限"]
    assert auto_mapping(other) == {"external_ref": 0, "title": 1, "external_due_on": 2}


def test_cli_imports_an_exported_ledger(world, now, client, auth, runner, tmp_path,
                                        create_town, create_user, exported):
    """`cases import` reads the exported ledger the same way (into another town)."""
    auth.login("super")
    path = tmp_path / "台账.xlsx"
    path.write_bytes(client.get("/reports/ledger.xlsx?kind=petition&status=all").data)
    town = create_town("南山镇")
    create_user("nanshan", Role.SUPERVISOR, town)
    db.session.commit()
    result = runner.invoke(args=["cases", "import", str(path), "--user", "nanshan"])
    assert result.exit_code == 0, result.output
    assert "列未对应任何字段" not in result.output
    assert "本系统台账中由办理过程得出的列（序号、编号、类型、受理日期" in result.output
    assert "新案件 2 件" in result.output
    db.session.rollback()
    assert {c.external_ref for c in db.session.scalars(
        select(Case).where(Case.town_id == town.id))} == {"湛信交〔2026〕214号", "湛信交〔2026〕215号"}
