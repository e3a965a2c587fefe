"""The registration form through the client: success, Chinese field errors, repeat petitions."""

from __future__ import annotations

from sqlalchemy import func, select
from views_support import ID_LI, ID_ZHANG, dispute_form, login_as, make_petition, text

from casetrack.cases.models import Case, CaseEvent
from casetrack.extensions import db


def _petition_form(world, **over):
    data = {
        "kind": "petition", "title": "反映村道破损（虚构）", "source": "assigned",
        "petition_class": "申诉求决", "category": "城乡建设", "village_id": str(world.v1.id),
        "received_on": "2026-11-20", "external_ref": "雷信交〔2026〕101号",
        "external_due_on": "2027-01-05", "external_authority": "雷州市信访局",
        "group_size": "1",
        "parties-0-role": "petitioner", "parties-0-name": "张三（虚构）",
        "parties-0-id_number": ID_ZHANG,
        "submit": "1",
    }
    data.update(over)
    return data


def test_grid_worker_registers_dispute(client, world):
    login_as(client, "grid1")
    form = text(client.get("/cases/new"))
    assert "矛盾纠纷" in form and "网格排查" in form and "邻里" in form
    assert "鹅感村" not in form  # only the worker's own village is offered
    resp = client.post("/cases/new?kind=dispute", data=dispute_form(world))
    assert resp.status_code == 302
    case = db.session.scalar(select(Case))
    assert resp.headers["Location"].endswith(f"/cases/{case.id}")
    page = text(client.get(resp.headers["Location"]))
    assert "已登记，编号 北和调〔2026〕1号" in page
    assert case.kind == "dispute" and case.village_id == world.v1.id
    assert [p.name for p in case.parties] == ["王五（虚构）", "赵六（虚构）"]
    assert [p.role for p in case.parties] == ["applicant", "respondent"]
    assert case.reported_by_id == world.grid1.id


def test_supervisor_registers_assigned_petition(client, world):
    login_as(client, "super")
    form = text(client.get("/cases/new?kind=petition"))
    assert "信访类别" in form and "上级交办文号" in form and "上级交办" in form
    resp = client.post("/cases/new?kind=petition", data=_petition_form(world))
    assert resp.status_code == 302
    case = db.session.scalar(select(Case))
    assert case.number == "北和信〔2026〕1号"
    assert case.external_ref == "雷信交〔2026〕101号"
    assert str(case.external_due_on) == "2027-01-05"
    assert case.parties[0].id_number == ID_ZHANG


def test_kind_switch_without_js(client, world):
    login_as(client, "super")
    petition = text(client.get("/cases/new?kind=petition"))
    dispute = text(client.get("/cases/new?kind=dispute"))
    assert "来访" in petition and "网格排查" not in petition
    assert "网格排查" in dispute and "来访" not in dispute
    assert "婚姻家庭" in dispute and "婚姻家庭" not in petition


def test_bad_id_check_digit_shows_chinese_error_and_keeps_input(client, world):
    login_as(client, "super")
    bad = ID_ZHANG[:-1] + ("4" if ID_ZHANG[-1] != "4" else "5")
    resp = client.post("/cases/new?kind=petition",
                       data=_petition_form(world, **{"parties-0-id_number": bad,
                                                    "title": "保留的标题文字"}))
    assert resp.status_code == 422
    html = text(resp)
    assert "身份证号码校验位不正确" in html
    assert 'value="保留的标题文字"' in html and f'value="{bad}"' in html
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0


def test_missing_fields_show_chinese_errors(client, world):
    login_as(client, "super")
    resp = client.post("/cases/new?kind=petition", data=_petition_form(
        world, title="", petition_class="", received_on="", external_ref="",
        **{"parties-0-name": "", "parties-0-id_number": ""}))
    assert resp.status_code == 422
    html = text(resp)
    assert "请填写收到日期" in html
    resp = client.post("/cases/new?kind=petition", data=_petition_form(
        world, title="", petition_class="", external_ref="",
        **{"parties-0-name": "", "parties-0-id_number": ""}))
    assert resp.status_code == 422
    html = text(resp)
    for message in ("请填写事项标题", "请选择信访类别", "上级交办、转送的事项须填写上级交办文号",
                    "请至少填写一名当事人"):
        assert message in html
    resp = client.post("/cases/new?kind=dispute", data=dispute_form(
        world, received_on="2026-13-40", **{"parties-0-phone": "12345"}))
    html = text(resp)
    assert resp.status_code == 422 and "日期格式不正确" in html
    resp = client.post("/cases/new?kind=dispute", data=dispute_form(
        world, **{"parties-1-name": "", "parties-1-phone": "12345"}))
    html = text(resp)
    assert resp.status_code == 422
    assert "请填写当事人姓名" in html and "电话号码应为11位手机号码" in html


def test_repeat_petition_shown_and_flagged(client, world, now):
    earlier = make_petition(world, now, title="第一次反映道路问题")
    login_as(client, "super")
    data = _petition_form(world, title="再次反映道路问题")
    data.pop("submit")
    resp = client.post("/cases/new?kind=petition", data={**data, "check": "1"})
    assert resp.status_code == 200
    html = text(resp)
    assert "同一当事人的既往案件" in html and earlier.number in html
    assert "重信重访" in html
    # a new person: nothing earlier
    fresh = {**data, "check": "1", "parties-0-name": "李四（虚构）", "parties-0-id_number": ID_LI}
    assert "初信初访" in text(client.post("/cases/new?kind=petition", data=fresh))
    # registering marks the case as a repeat petition and says so on the timeline
    resp = client.post("/cases/new?kind=petition", data={**data, "submit": "1"})
    assert resp.status_code == 302
    case = db.session.scalars(select(Case).order_by(Case.id.desc())).first()
    assert case.is_repeat
    page = text(client.get(resp.headers["Location"]))
    assert "（重信重访）" in page and earlier.number in page


def test_grid_worker_cannot_register_in_other_village(client, world):
    login_as(client, "grid1")
    resp = client.post("/cases/new?kind=dispute",
                       data=dispute_form(world, village_id=str(world.v2.id)))
    assert resp.status_code == 403
    assert "网格员只能登记本人负责村（居）的案件" in text(resp)
    assert db.session.scalar(select(func.count()).select_from(CaseEvent)) == 0


def test_roles_without_register_right_get_403(client, world):
    for user in ("handler1", "leader"):
        login_as(client, user)
        assert client.get("/cases/new").status_code == 403
        assert client.post("/cases/new", data=dispute_form(world)).status_code == 403


def test_a_group_of_no_people_is_refused_not_counted_as_one(client, world):
    login_as(client, "super")
    for size in ("0", "-3"):
        resp = client.post("/cases/new?kind=petition", data=_petition_form(world, group_size=size))
        assert resp.status_code == 422, size
        assert "人数应在1至10000之间" in text(resp)
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
    # left empty it is one person
    resp = client.post("/cases/new?kind=petition", data=_petition_form(world, group_size=""))
    assert resp.status_code == 302
    assert db.session.scalar(select(Case.group_size)) == 1


def test_an_unknown_kind_is_said_and_nothing_registered(client, world):
    login_as(client, "super")
    resp = client.get("/cases/new?kind=bogus")
    assert resp.status_code == 400
    assert "类型“bogus”无效，本次显示信访事项登记表，未登记任何案件" in text(resp)
    resp = client.post("/cases/new?kind=bogus", data=_petition_form(world, kind="bogus"))
    assert resp.status_code == 400 and "未登记任何案件" in text(resp)
    assert db.session.scalar(select(func.count()).select_from(Case)) == 0
