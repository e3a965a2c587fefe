"""Search through the case list and the API: brackets, widths, case numbers, references,
titles, summaries, party names, phones, several words (AND)."""

from __future__ import annotations

from sqlalchemy import select, update
from views_support import ID_LI, case_numbers, login_as, make_dispute, make_petition, text

from casetrack.auth.tokens import create_token
from casetrack.cases import services as svc
from casetrack.cases.models import Case
from casetrack.extensions import db


def _found(client, q: str) -> set[str]:
    return case_numbers(text(client.get("/cases", query_string={"q": q})))


def test_search_folds_brackets_widths_and_matches_every_field(client, world, now):
    raised = make_petition(world, now, title="反映调逻村养殖场污染（虚构）",
                           summary="养殖场排放污水",
                           parties=[svc.PartyInput(name="李四（虚构）", id_number=ID_LI,
                                                   phone="138 0013 8000")])
    roads = make_petition(world, now, title="反映调逻村道路破损（虚构）", summary="村道坑洼")
    other = make_dispute(world, now, title="邻里养殖纠纷（虚构）",
                         parties=[svc.PartyInput(name="王五（虚构）", role="applicant",
                                                 phone="0759-8888888")])
    login_as(client, "super")
    number = raised.number  # 北和信〔2026〕1号
    assert number == "北和信〔2026〕1号"
    # the case number however its brackets and digits are typed
    for typed in ("北和信[2026]1号", "北和信(2026)1号", "北和信（2026）1号", "北和信【2026】1号",
                  "北和信（２０２６）１号", "北和信 〔2026〕 1号"):
        assert _found(client, typed) == {number}, typed
    # "(2026)" alone finds every case numbered in 2026 and every 2026 reference
    assert _found(client, "（2026）") == {raised.number, roads.number, other.number}
    # the city's reference (stored 雷信交〔2026〕101号), typed with other brackets
    assert _found(client, "雷信交[2026]101号") == {raised.number, roads.number}
    assert _found(client, "雷信交（２０２６）１０１号") == {raised.number, roads.number}
    # party names, phones (typed with or without spaces or dashes), titles, summaries
    assert _found(client, "李四") == {number}
    assert _found(client, "13800138000") == {number}
    assert _found(client, "138-0013-8000") == {number}
    assert _found(client, "07598888888") == {other.number}
    assert _found(client, "0759-8888888") == {other.number}
    assert _found(client, "排放污水") == {number}
    # several words: all must match (AND), in any field, with full-width spaces too
    assert _found(client, "调逻村 养殖") == {number}
    assert _found(client, "调逻村\u3000养殖") == {number}
    assert _found(client, "调逻村") == {number, roads.number}
    assert _found(client, "养殖") == {number, other.number}
    assert _found(client, "调逻村 不存在") == set()
    assert _found(client, "%") == set()


def test_search_text_follows_changes_and_api_searches_the_same(client, world, now):
    case = make_petition(world, now, title="反映路灯不亮（虚构）")
    case.title = "反映路灯不亮（已更正）"
    db.session.commit()
    stored = db.session.scalar(select(Case.search_text).where(Case.id == case.id))
    assert "已更正" in stored and "路灯" in stored
    _row, token = create_token(db.session, world.supervisor, now, "search")
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}

    def api_numbers(q: str) -> set[str]:
        resp = client.get("/api/v1/cases", query_string={"q": q}, headers=headers)
        assert resp.status_code == 200, resp.get_json()
        return {c["number"] for c in resp.get_json()["data"]}

    assert api_numbers("北和信[2026]1号") == {case.number}
    assert api_numbers("路灯 已更正") == {case.number}
    assert api_numbers("路灯 未更正") == set()
    assert api_numbers("雷信交(2026)101号") == {case.number}


def test_reindex_search_rebuilds_keys_written_around_the_orm(client, world, now, runner):
    case = make_petition(world, now, title="反映路灯不亮（虚构）")
    # a bulk load or an old dump: rows without their keys
    db.session.execute(update(Case).values(search_text="", external_ref_key=None))
    db.session.commit()
    login_as(client, "super")
    assert _found(client, "路灯") == set()
    result = runner.invoke(args=["cases", "reindex-search"])
    assert result.exit_code == 0 and "已更新 1 件" in result.output, result.output
    assert _found(client, "路灯") == {case.number}
    db.session.rollback()
    assert db.session.scalar(select(Case.external_ref_key)) == "雷信交(2026)101号"
    result = runner.invoke(args=["cases", "reindex-search"])
    assert "已更新 0 件" in result.output
