"""Bidirectional overrides, tabs and line breaks in one-line fields (title, party name,
authority, village and unit names) are normalised in one place, whatever the way in: the
registration page, the API, a correction; texts of several lines keep their line breaks
but lose the overrides."""

from __future__ import annotations

from sqlalchemy import select
from views_support import ID_ZHANG, login_as, make_petition

from casetrack.auth.models import Role
from casetrack.auth.tokens import create_token
from casetrack.cases.models import Case
from casetrack.extensions import db
from casetrack.org.models import Unit, Village

RLO, LRI, PDI = "\u202e", "\u2066", "\u2069"


def _newest() -> Case:
    db.session.rollback()
    return db.session.scalars(select(Case).order_by(Case.id.desc())).first()


def test_registration_page_and_api_normalise_text_controls(client, world, now):
    login_as(client, "super")
    resp = client.post("/cases/new?kind=petition", data={
        "kind": "petition", "title": f"反映\t村道{RLO}破损\n（虚构）", "source": "assigned",
        "petition_class": "申诉求决", "category": "城乡建设", "village_id": str(world.v1.id),
        "received_on": "2026-11-20", "external_ref": f"雷信交〔2026〕{LRI}102号{PDI}",
        "external_due_on": "2027-01-05", "external_authority": f"雷州市\r\n信访局{RLO}",
        "summary": f"第一行{RLO}\r\n第二行\t缩进", "group_size": "1",
        "parties-0-role": "petitioner", "parties-0-name": f"张三{RLO}\t（虚构）",
        "parties-0-id_number": ID_ZHANG, "parties-0-address": f"北和镇\n{RLO}一号",
        "submit": "1"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    case = _newest()
    assert case.title == "反映 村道破损 （虚构）"
    assert case.external_ref == "雷信交〔2026〕102号"
    assert case.external_authority == "雷州市 信访局"
    assert case.summary == "第一行\n第二行\t缩进"
    party = case.parties[0]
    assert party.name == "张三 （虚构）" and party.address == "北和镇 一号"

    _row, secret = create_token(db.session, world.supervisor, now, "测试")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}
    resp = client.post("/api/v1/cases", headers=headers, json={
        "kind": "petition", "title": f"{RLO}api\t标题\n", "source": "visit",
        "received_on": "2026-11-20", "petition_class": "申诉求决", "category": "城乡建设",
        "village_id": world.v1.id, "summary": f"甲\n乙{LRI}",
        "parties": [{"name": f"李四\n{RLO}（虚构）"}]})
    assert resp.status_code == 201, resp.json
    assert resp.json["data"]["title"] == "api 标题"
    case = _newest()
    assert case.title == "api 标题" and case.summary == "甲\n乙"
    assert case.parties[0].name == "李四 （虚构）"
    # a title of nothing but controls is no title
    resp = client.post("/api/v1/cases", headers=headers, json={
        "kind": "petition", "title": f"{RLO}\t\n", "source": "visit",
        "received_on": "2026-11-20", "petition_class": "申诉求决", "category": "城乡建设",
        "village_id": world.v1.id, "parties": [{"name": "王五（虚构）"}]})
    assert resp.status_code == 422 and "title" in resp.json["error"]["fields"]


def test_correction_normalises_text_controls(client, world, now):
    case = make_petition(world, now, title="更正前的标题（虚构）")
    login_as(client, "super")
    resp = client.post(f"/cases/{case.id}/correct", data={
        "title": f"更正后{RLO}的\t标题", "summary": f"新的{RLO}\n摘要",
        "party_id": str(case.parties[0].id), "party_name": f"张三丰{LRI}\n（虚构）",
        "reason": f"错字{RLO}"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    case = _newest()
    assert case.title == "更正后的 标题" and case.summary == "新的\n摘要"
    assert case.parties[0].name == "张三丰 （虚构）"


def test_village_and_unit_names_normalise_text_controls(client, world, create_user):
    create_user("admin2", Role.ADMIN, world.town)
    login_as(client, "admin2")
    resp = client.post("/admin/villages", data={"name": f"新{RLO}安\t村", "kind": "行政村"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert db.session.scalar(select(Village).where(Village.name == "新安 村")) is not None
    resp = client.post("/admin/units", data={"name": f"应急\n管理办{RLO}"})
    assert resp.status_code == 302, resp.get_data(as_text=True)
    assert db.session.scalar(select(Unit).where(Unit.name == "应急 管理办")) is not None
