"""Case number prefixes (机关代字) per town and kind: the admin page, ``flask towns
set-prefix``, and the numbers registered afterwards."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from casetrack.cases import services as case_svc
from casetrack.extensions import db
from casetrack.org.models import CaseNumberPrefix
from casetrack.org.prefixes import prefix_problem, town_prefixes


def _html(resp) -> str:
    return resp.get_data(as_text=True)


def _register(world, now, actor=None, kind="petition"):
    actor = actor or world.supervisor
    village = world.other_town.villages[0] if actor is world.other_super else world.v1
    if kind == "petition":
        data = case_svc.CaseInput(
            kind="petition", title="反映村道破损", source="visit",
            received_on=dt.date(2026, 11, 20), petition_class="申诉求决", category="城乡建设",
            village_id=village.id, parties=[case_svc.PartyInput(name="李四（虚构）")])
    else:
        data = case_svc.CaseInput(
            kind="dispute", title="邻里排水纠纷", source="screening",
            received_on=dt.date(2026, 11, 20), category="邻里", village_id=village.id,
            parties=[case_svc.PartyInput(name="王五（虚构）", role="applicant"),
                     case_svc.PartyInput(name="赵六（虚构）", role="respondent")])
    case = case_svc.register_case(db.session, actor, now, data)
    db.session.commit()
    return case


@pytest.mark.parametrize("code, ok", [
    ("北和信", True), ("A" * 20, True), ("湛信交", True),
    ("", False), ("A" * 21, False), ("北和 信", False), ("北和\u3000信", False),
    ("北和\t信", False), ("北和\x07信", False), ("北和\u200b信", False), ("北\u2028和", False),
    # brackets of any form: 北和〔 would number 北和〔〔2026〕1号
    ("北和〔", False), ("北和[", False), ("【北和】", False), ("北和（", False), ("北和(", False),
    ("北和﹝", False), ("北和信号", True),
])
def test_prefix_rule(code, ok):
    assert (prefix_problem(code) is None) is ok


def test_admin_sets_the_prefix_and_the_next_number_uses_it(client, auth, world, now):
    old = _register(world, now)
    assert old.number == "北和信〔2026〕1号"
    auth.login("admin")
    html = _html(client.get("/admin/"))
    assert 'href="/admin/prefixes"' in html and "案件编号" in html
    html = _html(client.get("/admin/prefixes"))
    assert "信访事项" in html and "矛盾纠纷" in html
    assert 'value="北和信"' in html and 'value="北和调"' in html
    assert "南兴" not in html  # another town's prefixes are not shown

    resp = client.post("/admin/prefixes/petition", data={"code": " 北和镇信 "})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/admin/prefixes")
    assert "已保存：信访事项的机关代字" in _html(client.get("/admin/prefixes"))
    assert town_prefixes(db.session, world.town.id) == {"petition": "北和镇信", "dispute": "北和调"}
    assert town_prefixes(db.session, world.other_town.id) == {"petition": "南兴信",
                                                              "dispute": "南兴调"}
    assert _register(world, now).number == "北和镇信〔2026〕2号"
    db.session.refresh(old)
    assert old.number == "北和信〔2026〕1号"  # numbers issued keep their prefix
    assert _register(world, now, actor=world.other_super).number == "南兴信〔2026〕1号"


@pytest.mark.parametrize("code, message", [
    ("北和 信", "机关代字不能含有空格或控制字符"),
    ("北和\x1b信", "机关代字不能含有空格或控制字符"),
    ("信" * 21, "机关代字不能超过20个字"),
    ("", "请填写机关代字"),
    ("北和调", "两类案件的机关代字不能相同"),
    ("北和〔", "机关代字不能含有括号"),
    ("南兴信", "其他乡镇已使用这个机关代字"),
])
def test_page_refuses_a_bad_prefix_in_chinese(client, auth, world, code, message):
    auth.login("admin")
    resp = client.post("/admin/prefixes/petition", data={"code": code})
    assert resp.status_code == 422
    assert message in _html(resp)
    assert town_prefixes(db.session, world.town.id)["petition"] == "北和信"


def test_a_kind_without_a_row_gets_one_and_shows_its_default(client, auth, world):
    db.session.delete(db.session.scalar(select(CaseNumberPrefix).where(
        CaseNumberPrefix.town_id == world.town.id, CaseNumberPrefix.kind == "dispute")))
    db.session.commit()
    auth.login("admin")
    html = _html(client.get("/admin/prefixes"))
    assert "未设置，使用默认代字" in html
    assert client.post("/admin/prefixes/dispute", data={"code": "北和调解"}).status_code == 302
    assert town_prefixes(db.session, world.town.id)["dispute"] == "北和调解"


def test_unknown_kind_is_404_and_other_roles_403(client, auth, world):
    auth.login("admin")
    assert client.post("/admin/prefixes/lawsuit", data={"code": "北和诉"}).status_code == 404
    auth.logout()
    for username in ("super", "leader", "other_super"):
        auth.login(username)
        assert client.get("/admin/prefixes").status_code == 403
        assert client.post("/admin/prefixes/petition", data={"code": "乱改"}).status_code == 403
        auth.logout()
    assert town_prefixes(db.session, world.town.id)["petition"] == "北和信"


def test_cli_set_prefix(runner, world, now):
    result = runner.invoke(args=["towns", "set-prefix", "--town", "南兴镇", "--kind", "dispute",
                                 "--code", "南兴镇调"])
    assert result.exit_code == 0, result.output
    assert "南兴镇调〔" in result.output
    assert _register(world, now, actor=world.other_super, kind="dispute").number == (
        "南兴镇调〔2026〕1号")
    assert town_prefixes(db.session, world.town.id)["dispute"] == "北和调"

    bad = runner.invoke(args=["towns", "set-prefix", "--town", "南兴镇", "--kind", "petition",
                              "--code", "南兴\t信"])
    assert bad.exit_code != 0 and "机关代字不能含有空格或控制字符" in bad.output
    unknown = runner.invoke(args=["towns", "set-prefix", "--town", "无此镇", "--kind",
                                  "petition", "--code", "X"])
    assert unknown.exit_code != 0 and "没有名为“无此镇”的乡镇" in unknown.output


def test_cli_create_town_stores_both_prefixes(runner, app):
    result = runner.invoke(args=["towns", "create", "--name", "东山镇", "--petition-code",
                                 "东山信", "--dispute-code", "东山调", "--unit", "综治办"])
    assert result.exit_code == 0, result.output
    town_id = db.session.scalar(select(CaseNumberPrefix.town_id).where(
        CaseNumberPrefix.code == "东山信"))
    assert town_prefixes(db.session, town_id) == {"petition": "东山信", "dispute": "东山调"}
    same = runner.invoke(args=["towns", "create", "--name", "西山镇", "--petition-code",
                               "西山", "--dispute-code", "西山"])
    assert same.exit_code != 0 and "两类案件的机关代字不能相同" in same.output


@pytest.mark.parametrize("code, message", [
    ("北和 信", "The issuer code cannot contain spaces or control characters"),
    ("信" * 21, "The issuer code cannot be longer than 20 characters"),
    ("", "Enter the issuer code"),
    ("北和调", "The two kinds of case cannot share an issuer code"),
    ("北和〔", "The issuer code cannot contain brackets"),
    ("南兴调", "Another town already uses this issuer code"),
])
def test_page_refuses_a_bad_prefix_in_english(client, auth, world, code, message):
    auth.login("admin")
    client.post("/lang/en", data={"next": "/"})
    resp = client.post("/admin/prefixes/petition", data={"code": code})
    assert resp.status_code == 422
    html = _html(resp)
    assert message in html and "机关代字不" not in html and "两类案件" not in html
    assert town_prefixes(db.session, world.town.id)["petition"] == "北和信"


def test_cli_refuses_another_towns_prefix(runner, world):
    taken = runner.invoke(args=["towns", "set-prefix", "--town", "南兴镇", "--kind", "petition",
                                "--code", "北和调"])
    assert taken.exit_code != 0 and "其他乡镇已使用这个机关代字" in taken.output
    assert town_prefixes(db.session, world.other_town.id)["petition"] == "南兴信"
    # the town's own code may be set again (no change)
    same = runner.invoke(args=["towns", "set-prefix", "--town", "南兴镇", "--kind", "petition",
                               "--code", "南兴信"])
    assert same.exit_code == 0, same.output
    created = runner.invoke(args=["towns", "create", "--name", "东山镇", "--petition-code",
                                  "北和信", "--dispute-code", "东山调"])
    assert created.exit_code != 0 and "其他乡镇已使用这个机关代字" in created.output
    assert db.session.scalar(select(CaseNumberPrefix).where(
        CaseNumberPrefix.code == "东山调")) is None
