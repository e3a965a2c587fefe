"""The stages added through the step list, end to end on pages and over the API: reply
approval, review and re-examination (with 不再受理), judicial confirmation, corrections and
the escalation notice."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select
from views_support import ID_ZHANG, login_as, make_dispute, make_petition, text, valid_id

from casetrack.auth.tokens import create_token
from casetrack.cases import services as svc
from casetrack.cases.kinds.petition import steps
from casetrack.cases.models import Case, CaseEvent
from casetrack.extensions import db
from casetrack.notify.models import Channel, Notification
from casetrack.org.settings import set_setting


def _actions(html: str) -> set[str]:
    return set(re.findall(r'action="/cases/\d+/([a-z-]+)"', html)) - {"attachments"}


def _ok(resp) -> None:
    assert resp.status_code == 302, text(resp)


def _case(case_id: int) -> Case:
    db.session.expire_all()
    return db.session.get(Case, case_id)


def _in_app(kind: str) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(
        Notification.kind == kind, Notification.channel == Channel.IN_APP)))


class Api:
    def __init__(self, client, user, now):
        _row, secret = create_token(db.session, user, now, "测试")
        db.session.commit()
        self.client, self.headers = client, {"Authorization": f"Bearer {secret}"}

    def post(self, path: str, body: dict, **headers):
        return self.client.post("/api/v1" + path, json=body,
                                headers={**self.headers, **headers})

    def get(self, path: str):
        return self.client.get("/api/v1" + path, headers=self.headers)


def _handling(world, now, **kw) -> Case:
    """A petition accepted and given to handler1 (committed)."""
    case = make_petition(world, now, **kw)
    svc.accept_case(db.session, world.supervisor, now, case,
                    accepted_on=kw.get("received_on", dt.date(2026, 11, 20)))
    svc.assign_case(db.session, world.supervisor, now, case, world.unit_xf.id,
                    world.handler1.id)
    db.session.commit()
    return case


def _replied(world, now, delivered_on=dt.date(2026, 11, 23), **kw) -> Case:
    case = _handling(world, now, **kw)
    svc.reply_case(db.session, world.handler1, now, case, "解释说明", "已解释政策", delivered_on)
    db.session.commit()
    return case


# --------------------------------------------------------------------------- reply approval


def test_reply_approval_on_pages(client, world, now):
    login_as(client, "admin")
    assert "答复须经镇领导审批" in text(client.get("/cases/settings"))
    _ok(client.post("/cases/settings", data={"reply_approval": "y"}))
    assert steps.reply_approval_on(db.session, world.town.id)
    case = _handling(world, now)
    url = f"/cases/{case.id}"

    login_as(client, "handler1")
    acts = _actions(text(client.get(url)))
    assert "submit-reply" in acts and "reply" not in acts
    # the direct reply is refused by the same guard that hides its button
    resp = client.post(f"{url}/reply", data={"outcome": "支持", "reply_text": "同意",
                                             "delivered_on": "2026-11-23"})
    assert resp.status_code == 409 and "须经领导审批" in text(resp)
    _ok(client.post(f"{url}/submit-reply", data={"outcome": "支持", "reply_text": "同意修路"}))
    assert _case(case.id).status == "reply_pending"
    assert [n.recipient_id for n in _in_app("reply_submitted")] == [world.leader.id]

    login_as(client, "leader")
    page = text(client.get(url))
    assert {"approve-reply", "return-reply"} <= _actions(page) and "答复待审批" in page
    _ok(client.post(f"{url}/return-reply", data={"reason": "请写明修路时间"}))
    assert _case(case.id).status == "handling"
    assert [n.recipient_id for n in _in_app("reply_returned")] == [world.handler1.id]

    login_as(client, "handler1")
    _ok(client.post(f"{url}/submit-reply",
                    data={"outcome": "支持", "reply_text": "同意修路，12月底前完成"}))
    login_as(client, "leader")
    _ok(client.post(f"{url}/approve-reply", data={"delivered_on": "2026-11-23",
                                                  "note": "同意"}))
    case = _case(case.id)
    assert case.status == "replied" and case.reply_delivered_on == dt.date(2026, 11, 23)
    assert case.reply_text == "同意修路，12月底前完成"
    page = text(client.get(url))
    timeline = page.split('id="timeline"', 1)[1]
    for snippet in ("提交答复审批", "退回修改答复", "请写明修路时间", "审批通过答复",
                    "答复待审批 → 已答复"):
        assert snippet in timeline, snippet

    # switched off, the handler answers directly again
    login_as(client, "admin")
    _ok(client.post("/cases/settings", data={}))
    other = _handling(world, now, title="另一件（虚构）")
    login_as(client, "handler1")
    acts = _actions(text(client.get(f"/cases/{other.id}")))
    assert "reply" in acts and "submit-reply" not in acts


def test_reply_approval_over_the_api(client, world, now):
    set_setting(db.session, world.town.id, steps.REPLY_APPROVAL_KEY, True)
    db.session.commit()
    case = _handling(world, now)
    handler, leader = Api(client, world.handler1, now), Api(client, world.leader, now)
    resp = handler.post(f"/cases/{case.id}/submit-reply",
                        {"outcome": "支持", "reply_text": "同意"})
    assert resp.status_code == 200 and resp.json["data"]["status"] == "reply_pending"
    # a handler may not approve their own reply
    assert handler.post(f"/cases/{case.id}/approve-reply",
                        {"delivered_on": "2026-11-23"}).status_code == 403
    resp = leader.post(f"/cases/{case.id}/approve-reply", {"delivered_on": "2026-11-23"})
    assert resp.status_code == 200, resp.json
    assert resp.json["data"]["status"] == "replied"


# --------------------------------------------------------------------------- review stages


def test_review_and_reexamination_over_the_api(client, world, now):
    case = _replied(world, now)
    api = Api(client, world.supervisor, now)
    resp = api.post(f"/cases/{case.id}/request-review",
                    {"requested_on": "2026-11-23", "reason": "对答复不服"})
    assert resp.status_code == 200, resp.json
    data = resp.json["data"]
    assert data["status"] == "reviewing"
    case = _case(case.id)
    # 30 days from the request (Art. 35): 2026-12-23 is a Wednesday
    assert case.due_on == dt.date(2026, 12, 23) and case.due_rule == "petition.review_answer"
    assert case.review_due_on == dt.date(2026, 12, 23)
    assert [n.recipient_id for n in _in_app("review_requested")] == []  # the actor is told nothing

    resp = api.post(f"/cases/{case.id}/decide-review",
                    {"outcome": "维持", "decision_text": "维持原答复", "decided_on": "2026-11-23"})
    assert resp.status_code == 200 and resp.json["data"]["status"] == "reviewed"
    resp = api.post(f"/cases/{case.id}/request-reexamination",
                    {"requested_on": "2026-11-23", "reason": "仍不服"})
    assert resp.status_code == 200 and resp.json["data"]["status"] == "reexamining"
    assert _case(case.id).due_on == dt.date(2026, 12, 23)
    # a hearing before the re-examination was requested is not one of it
    resp = api.post(f"/cases/{case.id}/hearing", {"held_on": "2026-11-22", "days": 5})
    assert resp.status_code == 422 and "held_on" in resp.json["error"]["fields"]
    assert _case(case.id).hearing_days == 0
    # a hearing's days do not count: the clock moves by them
    resp = api.post(f"/cases/{case.id}/hearing",
                    {"held_on": "2026-11-23", "days": 5, "note": "公开听证"})
    assert resp.status_code == 200, resp.json
    case = _case(case.id)
    assert case.hearing_days == 5 and case.due_on == dt.date(2026, 12, 28)
    resp = api.post(f"/cases/{case.id}/decide-reexamination",
                    {"outcome": "维持", "decision_text": "维持复查意见", "decided_on": "2026-11-23"})
    assert resp.status_code == 200 and resp.json["data"]["status"] == "reexamined"
    assert not _case(case.id).is_open
    # an API reader sees both stages: requests, clocks, outcomes, texts, hearing days
    got = api.get(f"/cases/{case.id}").json["data"]
    assert {k: got[k] for k in (
        "review_requested_on", "review_due_on", "review_decided_on", "review_outcome",
        "review_text", "reexam_requested_on", "reexam_due_on", "reexam_decided_on",
        "reexam_outcome", "reexam_text", "hearing_days")} == {
        "review_requested_on": "2026-11-23", "review_due_on": "2026-12-23",
        "review_decided_on": "2026-11-23", "review_outcome": "维持",
        "review_text": "维持原答复", "reexam_requested_on": "2026-11-23",
        "reexam_due_on": "2026-12-28", "reexam_decided_on": "2026-11-23",
        "reexam_outcome": "维持", "reexam_text": "维持复查意见", "hearing_days": 5}

    # the same matter of the same petitioner is not accepted again (Art. 36)
    body = {"kind": "petition", "title": "再次反映村道破损（虚构）", "source": "visit",
            "received_on": "2026-11-23", "petition_class": "申诉求决", "category": "城乡建设",
            "village_id": world.v1.id,
            "parties": [{"name": "张三（虚构）", "id_number": ID_ZHANG}]}
    resp = api.post("/cases", body)
    assert resp.status_code == 422
    assert resp.json["error"]["code"] == "not_accepted_again"
    assert case.number in resp.json["error"]["message"]
    # another matter (another category) of the same person is accepted
    assert api.post("/cases", {**body, "category": "劳动和社会保障"}).status_code == 201
    # the same name without the ID number is not known to be the same person: accepted
    # (the earlier cases are listed as 重信重访; refusing by hand stays possible)
    resp = api.post("/cases", {**body, "title": "同名的人反映路灯（虚构）",
                               "parties": [{"name": "张三（虚构）"}]})
    assert resp.status_code == 201, resp.json
    assert resp.json["data"]["is_repeat"] is True
    # another ID number under the same name: another person
    other_id = valid_id("44088219850505001")
    resp = api.post("/cases", {**body, "title": "另一个张三（虚构）",
                               "parties": [{"name": "张三（虚构）", "id_number": other_id}]})
    assert resp.status_code == 201, resp.json


def _reexamined(client, world, now, **kw) -> Case:
    """A petition replied, reviewed and re-examined over the API (final)."""
    case = _replied(world, now, **kw)
    api = Api(client, world.supervisor, now)
    for step, body in (
            ("request-review", {"requested_on": "2026-11-23", "reason": "对答复不服"}),
            ("decide-review", {"outcome": "维持", "decision_text": "维持",
                               "decided_on": "2026-11-23"}),
            ("request-reexamination", {"requested_on": "2026-11-23", "reason": "仍不服"}),
            ("decide-reexamination", {"outcome": "维持", "decision_text": "维持",
                                      "decided_on": "2026-11-23"})):
        assert api.post(f"/cases/{case.id}/{step}", body).status_code == 200, step
    return _case(case.id)


def test_an_old_reexamined_case_still_refuses_behind_many_newer_ones(client, world, now):
    final = _reexamined(client, world, now, received_on=dt.date(2026, 1, 5),
                        title="很早以前复核终结的事项（虚构）")
    assert final.status == "reexamined"
    # 25 newer cases of the same person on other matters: more than any "latest few"
    for i in range(25):
        make_petition(world, now, source="visit", category="劳动和社会保障",
                      received_on=dt.date(2026, 2, 1) + dt.timedelta(days=i),
                      title=f"其他事项{i}（虚构）")
    body = {"kind": "petition", "title": "再次反映同一事项（虚构）", "source": "visit",
            "received_on": "2026-11-23", "petition_class": "申诉求决", "category": "城乡建设",
            "village_id": world.v1.id,
            "parties": [{"name": "张三（虚构）", "id_number": ID_ZHANG}]}
    resp = Api(client, world.supervisor, now).post("/cases", body)
    assert resp.status_code == 422, resp.json
    assert resp.json["error"]["code"] == "not_accepted_again"
    assert final.number in resp.json["error"]["message"]


def test_review_on_pages_and_its_window(client, world, now):
    late = _replied(world, now, delivered_on=dt.date(2026, 9, 1),
                    received_on=dt.date(2026, 8, 20), title="早已答复的事项（虚构）")
    login_as(client, "super")
    page = text(client.get(f"/cases/{late.id}"))
    assert "request-review" in _actions(page) and "2026-10-08" in page  # the window's end
    resp = client.post(f"/cases/{late.id}/request-review",
                       data={"requested_on": "2026-11-23", "reason": "不服"})
    assert resp.status_code == 422 and "已超过" in text(resp)
    assert _case(late.id).status == "replied"

    case = _replied(world, now)
    url = f"/cases/{case.id}"
    _ok(client.post(f"{url}/request-review", data={"requested_on": "2026-11-23",
                                                   "reason": "对答复不服"}))
    page = text(client.get(url))
    assert "复查中" in page and "2026-12-23" in page and "decide-review" in _actions(page)
    _ok(client.post(f"{url}/decide-review", data={"outcome": "变更", "decision_text": "改为支持",
                                                  "decided_on": "2026-11-23"}))
    _ok(client.post(f"{url}/request-reexamination", data={"requested_on": "2026-11-23",
                                                          "reason": "仍不服"}))
    _ok(client.post(f"{url}/hearing", data={"held_on": "2026-11-23", "days": "3"}))
    _ok(client.post(f"{url}/decide-reexamination",
                    data={"outcome": "维持", "decision_text": "维持", "decided_on": "2026-11-23"}))
    page = text(client.get(url))
    assert "已复核" in page and "不再受理" in page and "（听证3天不计入）" in page

    # registering the same matter again shows the earlier case and the refusal
    resp = client.post("/cases/new?kind=petition", data={
        "kind": "petition", "title": "又来反映（虚构）", "source": "visit",
        "petition_class": "申诉求决", "category": "城乡建设", "village_id": str(world.v1.id),
        "received_on": "2026-11-23", "parties-0-role": "petitioner",
        "parties-0-name": "张三（虚构）", "parties-0-id_number": ID_ZHANG, "submit": "1"})
    page = text(resp)
    assert resp.status_code == 422 and "不再受理" in page and case.number in page
    assert db.session.scalar(select(Case).where(Case.title == "又来反映（虚构）")) is None


def test_review_clock_is_on_the_warnings_and_figures(client, world, now, runner):
    case = _replied(world, now)
    svc.request_review(db.session, world.supervisor, now, case, dt.date(2026, 11, 23), "不服")
    db.session.commit()
    login_as(client, "super")
    rows = text(client.get("/cases?status=reviewing"))
    assert case.number in rows and "剩余30天" in rows
    result = runner.invoke(args=["stats", "summary", "--from", "2026-01-01", "--to",
                                 "2026-12-31", "--as-of", "2026-11-23", "--json"])
    assert result.exit_code == 0, result.output
    assert '"reviews": 1' in result.output


# --------------------------------------------------------------------------- disputes


def _resolved(world, now) -> Case:
    case = make_dispute(world, now)
    svc.start_mediation(db.session, world.grid1, now, case)
    svc.resolve_dispute(db.session, world.grid1, now, case, "written", "赵六疏通排水沟")
    db.session.commit()
    return case


def test_judicial_confirmation_on_pages_and_api(client, world, now):
    case = _resolved(world, now)
    login_as(client, "grid1")
    url = f"/cases/{case.id}"
    page = text(client.get(url))
    assert "judicial-confirmation" in _actions(page) and "2026-12-23" in page
    resp = client.post(f"{url}/judicial-confirmation", data={"applied_on": "2026-11-23"})
    assert resp.status_code == 422 and "请填写受理法院" in text(resp)
    _ok(client.post(f"{url}/judicial-confirmation",
                    data={"applied_on": "2026-11-23", "court": "雷州市人民法院"}))
    case = _case(case.id)
    assert case.judicial_applied_on == dt.date(2026, 11, 23)
    page = text(client.get(url))
    assert "雷州市人民法院" in page and "judicial-confirmation" not in _actions(page)

    other = make_dispute(world, now, title="未调解的纠纷（虚构）")
    api = Api(client, world.supervisor, now)
    resp = api.post(f"/cases/{other.id}/judicial-confirmation",
                    {"applied_on": "2026-11-23", "court": "雷州市人民法院"})
    assert resp.status_code == 409 and resp.json["error"]["code"] == "invalid_transition"
    got = api.get(f"/cases/{case.id}").json["data"]
    assert (got["judicial_applied_on"], got["judicial_court"]) == ("2026-11-23", "雷州市人民法院")
    assert api.get(f"/cases/{other.id}").json["data"]["judicial_applied_on"] is None


def test_escalation_notifies_the_town_supervisors(client, world, now):
    case = make_dispute(world, now)
    svc.start_mediation(db.session, world.grid1, now, case)
    db.session.commit()
    login_as(client, "grid1")
    _ok(client.post(f"/cases/{case.id}/escalate", data={"reason": "村级调解未果"}))
    rows = _in_app("case_escalated")
    assert [n.recipient_id for n in rows] == [world.supervisor.id]
    assert "上交镇级调解" in rows[0].body_text and case.number in rows[0].subject


# --------------------------------------------------------------------------- corrections


def test_correct_on_pages_with_before_and_after(client, world, now):
    case = make_petition(world, now, title="反映村道破损（错字）")
    party = case.parties[0]
    login_as(client, "grid2")
    assert client.post(f"/cases/{case.id}/correct",
                       data={"title": "x", "reason": "y"}).status_code == 404  # not in scope
    login_as(client, "grid1")
    assert client.post(f"/cases/{case.id}/correct",
                       data={"title": "x", "reason": "y"}).status_code == 403  # no right
    login_as(client, "handler1")
    case2 = _handling(world, now, title="承办中的事项（虚构）")
    assert client.post(f"/cases/{case2.id}/correct",
                       data={"title": "x", "reason": "y"}).status_code == 403
    login_as(client, "super")
    url = f"/cases/{case.id}"
    resp = client.post(f"{url}/correct", data={"title": "反映村道破损（虚构）"})
    assert resp.status_code == 422 and "更正须说明理由" in text(resp)
    _ok(client.post(f"{url}/correct", data={
        "title": "反映村道破损（虚构）", "category": "交通运输", "village_id": str(world.v2.id),
        "party_id": str(party.id), "party_phone": "13800138001", "reason": "登记时录错"}))
    case = _case(case.id)
    assert (case.title, case.category, case.village_id) == (
        "反映村道破损（虚构）", "交通运输", world.v2.id)
    assert case.parties[0].phone == "13800138001"
    timeline = text(client.get(url)).split('id="timeline"', 1)[1]
    for snippet in ("更正", "登记时录错", "标题：反映村道破损（错字） → 反映村道破损（虚构）",
                    "内容分类：城乡建设 → 交通运输",
                    f"村（居）：{world.v1.name} → {world.v2.name}",
                    "当事人电话：— → 13800138001"):
        assert snippet in timeline, snippet
    resp = client.post(f"{url}/correct", data={"title": "反映村道破损（虚构）", "reason": "再改"})
    assert resp.status_code == 422 and "没有需要更正的内容" in text(resp)


def test_correct_over_the_api(client, world, now):
    case = make_petition(world, now)
    api = Api(client, world.supervisor, now)
    resp = api.post(f"/cases/{case.id}/correct", {"summary": "补充：村道长约200米",
                                                  "reason": "补充内容"})
    assert resp.status_code == 200, resp.json
    ev = db.session.scalar(select(CaseEvent).where(CaseEvent.action == "correct"))
    assert ev.changes == {"summary": ["", "补充：村道长约200米"]}
    resp = api.post(f"/cases/{case.id}/correct", {"category": "不存在的分类", "reason": "x"})
    assert resp.status_code == 422
    assert resp.json["error"]["fields"] == {"category": "内容分类无效"}
    # a dispute's category is no petition's
    resp = api.post(f"/cases/{case.id}/correct", {"category": "邻里", "reason": "x"})
    assert resp.status_code == 422 and "category" in resp.json["error"]["fields"]
    # a category of the case's kind is corrected (the schema once had an empty enum for it,
    # which refused every value)
    resp = api.post(f"/cases/{case.id}/correct", {"category": "交通运输", "reason": "分类有误"})
    assert resp.status_code == 200, resp.json
    assert _case(case.id).category == "交通运输"
    doc = client.get("/api/v1/openapi.json").get_json()
    assert doc["components"]["schemas"]["CorrectInput"]["properties"]["category"].get(
        "enum") is None


# --------------------------------------------------------------------------- stale pages


def test_a_stale_step_form_is_refused_with_what_changed(client, world, now):
    case = _handling(world, now)
    login_as(client, "handler1")
    url = f"/cases/{case.id}"
    page = text(client.get(url))
    version = re.search(r'id="progress-version" name="version" type="hidden" value="(\d+)"',
                        page).group(1)
    seen = re.search(r'id="progress-seen-event" name="seen_event" type="hidden" value="(\d+)"',
                     page).group(1)
    # someone else records progress after the page was loaded
    svc.record_progress(db.session, world.supervisor, now, _case(case.id), "督办：请加快")
    db.session.commit()
    resp = client.post(f"{url}/progress", data={"note": "已联系公路站", "version": version,
                                                "seen_event": seen})
    page = text(resp)
    assert resp.status_code == 409 and "已被他人修改" in page
    changed = page.split('id="changed-since"', 1)[1].split("</div>", 1)[0]
    assert "督办：请加快" in changed and "督办员" in changed
    assert "已联系公路站" not in page.split('id="timeline"', 1)[1]
    # the form comes back with the current version: submitting again works
    version = re.search(r'id="progress-version" name="version" type="hidden" value="(\d+)"',
                        page).group(1)
    _ok(client.post(f"{url}/progress", data={"note": "已联系公路站", "version": version}))



@pytest.mark.parametrize("bad", ["abc", "-1", "1234567890", "99999999999999999999999", "４"])
def test_a_malformed_step_form_version_is_refused_as_stale(client, world, now, bad):
    case = _handling(world, now)
    login_as(client, "handler1")
    resp = client.post(f"/cases/{case.id}/progress", data={"note": "绕过版本", "version": bad})
    assert resp.status_code == 409 and "已被他人修改" in text(resp)
    assert "绕过版本" not in text(client.get(f"/cases/{case.id}")).split('id="timeline"', 1)[1]

def test_openapi_documents_the_new_steps_and_the_version(client):
    doc = client.get("/api/v1/openapi.json").json
    for slug in ("approve-reply", "request-review", "decide-review", "request-reexamination",
                 "decide-reexamination", "judicial-confirmation", "correct"):
        op = doc["paths"][f"/api/v1/cases/{{case_id}}/{slug}"]["post"]
        assert "If-Match" in op["description"] and "version" in op["description"]
        assert any(p["name"] == "If-Match" and p["in"] == "header" for p in op["parameters"])
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        name = schema["$ref"].rsplit("/", 1)[1] if "$ref" in schema else None
        props = doc["components"]["schemas"][name]["properties"] if name else schema["properties"]
        assert "version" in props


def test_steps_command_prints_the_table(runner):
    result = runner.invoke(args=["cases", "steps"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:6] == ["step", "kind", "from", "to", "right", "rule"]
    row = next(line for line in lines if line.startswith("approve_reply "))
    assert row.split()[1:5] == ["petition", "reply_pending", "replied", "approve_reply"]
    assert any(line.startswith("decide_reexamination ") for line in lines)


def test_a_correction_leaves_figures_as_of_earlier_dates_unchanged(world, now):
    from casetrack.stats.queries import StatsQuery, figures

    case = make_petition(world, now - dt.timedelta(days=2))  # registered on 11-21
    svc.correct_case(db.session, world.supervisor, now, case, "登记时录错",
                     category="交通运输", village_id=world.v2.id)
    db.session.commit()

    def counts(as_of: dt.date, dim: str, **narrow) -> dict:
        q = StatsQuery(dt.date(2026, 1, 1), dt.date(2026, 12, 31), as_of, **narrow)
        return {key[dim]: row["total"] for key, row in figures(db.session, None, q, (dim,))}

    before, after = dt.date(2026, 11, 22), dt.date(2026, 11, 23)  # corrected on 11-23
    assert counts(before, "category") == {"城乡建设": 1}
    assert counts(after, "category") == {"交通运输": 1}
    assert counts(before, "village") == {world.v1.id: 1}
    assert counts(after, "village") == {world.v2.id: 1}
    # the drill-down filters read the same values
    assert counts(before, "category", category="城乡建设") == {"城乡建设": 1}
    assert counts(before, "category", village_id=world.v2.id) == {}


def test_a_step_the_kind_does_not_have_is_refused_before_its_inputs(client, world, now):
    dispute = make_dispute(world, now)
    # page: not "请检查填写的内容" about inputs that can never be right
    login_as(client, "super")
    for data in ({}, {"requested_on": "2026-11-23", "reason": "不服"}):
        resp = client.post(f"/cases/{dispute.id}/request-review", data=data)
        assert resp.status_code == 409, resp.status_code
        page = text(resp)
        assert "该类案件没有此步骤" in page and "请检查填写的内容" not in page
    # API: the same answer before the body is validated (an empty body too)
    api = Api(client, world.supervisor, now)
    for body in ({}, {"requested_on": "2026-11-23", "reason": "不服"}):
        resp = api.post(f"/cases/{dispute.id}/request-review", body)
        assert resp.status_code == 409, resp.json
        assert resp.json["error"]["code"] == "no_such_step"
        assert "该类案件没有此步骤" in resp.json["error"]["message"]
    assert _case(dispute.id).status == "registered"
    # the petition's own step is still there
    petition = _replied(world, now)
    resp = api.post(f"/cases/{petition.id}/request-review",
                    {"requested_on": "2026-11-23", "reason": "不服"})
    assert resp.status_code == 200, resp.json
