"""Cases over the API: same scoping, same services, same refusals as the pages."""

from __future__ import annotations

from api_support import ID_ZHANG, Api, make_dispute, petition_body, token_for
from sqlalchemy import select

from casetrack.cases.models import Case, CaseEvent, IdNumberView
from casetrack.extensions import db


def api_for(client, user, now) -> Api:
    return Api(client, token_for(user, now, name=user.username))


def test_register_list_detail_and_timeline(world, client, now):
    sup = api_for(client, world.supervisor, now)
    resp = sup.post("/cases", json=petition_body(world, note="县平台同步"))
    assert resp.status_code == 201, resp.get_json()
    body = resp.get_json()
    assert set(body) == {"data", "meta"}
    case = body["data"]
    assert case["number"] == "北和信〔2026〕1号" and case["status"] == "registered"
    assert case["status_label"] == "已登记" and case["version"] == 1
    assert case["parties"][0]["id_number_masked"] == "440882********0013"
    assert ID_ZHANG not in resp.get_data(as_text=True)
    assert case["timeline"][0]["action"] == "register"
    assert case["timeline"][0]["note"].startswith("县平台同步")
    assert "accept" in case["actions"]

    listing = sup.get("/cases?status=open&kind=petition&per_page=5").get_json()
    assert [c["number"] for c in listing["data"]] == ["北和信〔2026〕1号"]
    assert listing["meta"] == {"page": 1, "per_page": 5, "total": 1, "pages": 1,
                               "total_capped": False, "has_next": False}
    assert sup.get("/cases?q=村道").get_json()["meta"]["total"] == 1
    assert sup.get("/cases?q=不存在").get_json()["meta"]["total"] == 0
    assert sup.get("/cases?kind=dispute").get_json()["data"] == []
    timeline = sup.get(f"/cases/{case['id']}/timeline").get_json()["data"]
    assert [e["action"] for e in timeline] == ["register"]


def test_scoping_is_the_same_as_the_pages(world, client, now):
    sup = api_for(client, world.supervisor, now)
    case_id = sup.post("/cases", json=petition_body(world)).get_json()["data"]["id"]
    grid1, grid2 = api_for(client, world.grid1, now), api_for(client, world.grid2, now)
    other = api_for(client, world.other_super, now)
    assert grid1.get("/cases").get_json()["meta"]["total"] == 1
    assert grid2.get("/cases").get_json()["meta"]["total"] == 0
    assert other.get("/cases").get_json()["meta"]["total"] == 0
    for api in (grid2, other):
        resp = api.get(f"/cases/{case_id}")
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
        resp = api.post(f"/cases/{case_id}/progress", json={"note": "x"})
        assert resp.status_code == 404


def test_list_count_stops_at_the_cap_and_says_so(world, client, now, monkeypatch):
    """The count reads at most cap + 1 rows (the page list's "1,000+"): beyond it
    ``total_capped`` is true, ``total``/``pages`` are lower bounds that grow with the pages
    seen (exact again on the last page), and ``has_next`` is exact at any depth."""
    import casetrack.api.core as api_core

    sup = api_for(client, world.supervisor, now)
    for _ in range(4):
        assert sup.post("/cases", json=petition_body(world)).status_code == 201
    meta = sup.get("/cases?per_page=1").get_json()["meta"]
    assert meta == {"page": 1, "per_page": 1, "total": 4, "pages": 4, "total_capped": False,
                    "has_next": True}

    monkeypatch.setattr(api_core, "COUNT_CAP", 2)
    seen = []
    for page in (1, 2, 3, 4, 5):
        body = sup.get(f"/cases?per_page=1&page={page}").get_json()
        seen += [c["id"] for c in body["data"]]
        meta = body["meta"]
        assert meta["has_next"] is (page < 4)
        # lower bounds while more follow; exact on the last page; the cap past the end
        assert (meta["total"], meta["pages"], meta["total_capped"]) == {
            1: (2, 2, True), 2: (3, 3, True), 3: (4, 4, True), 4: (4, 4, False),
            5: (2, 2, True)}[page]
    assert len(set(seen)) == 4
    meta = sup.get("/cases?per_page=5").get_json()["meta"]
    assert (meta["total"], meta["total_capped"], meta["has_next"]) == (4, False, False)


def test_full_id_number_only_through_the_logged_endpoint(world, client, now):
    sup = api_for(client, world.supervisor, now)
    case = sup.post("/cases", json=petition_body(world)).get_json()["data"]
    party = case["parties"][0]
    assert party["can_reveal_id"] is True
    grid1 = api_for(client, world.grid1, now)
    detail = grid1.get(f"/cases/{case['id']}").get_json()["data"]
    assert detail["parties"][0]["can_reveal_id"] is False
    url = f"/cases/{case['id']}/parties/{party['id']}/id-number"
    resp = grid1.get(url)
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
    resp = sup.get(url)
    assert resp.status_code == 200 and resp.get_json()["data"]["id_number"] == ID_ZHANG
    views = db.session.scalars(select(IdNumberView)).all()
    assert [(v.user_id, v.channel) for v in views] == [(world.supervisor.id, "api")]
    assert sup.get(f"/cases/{case['id']}/parties/{party['id'] + 99}/id-number").status_code == 404


def test_petition_lifecycle_through_the_api(world, client, now):
    sup = api_for(client, world.supervisor, now)
    leader = api_for(client, world.leader, now)
    handler = api_for(client, world.handler1, now)
    case = sup.post("/cases", json=petition_body(world)).get_json()["data"]
    cid = case["id"]

    def step(api, name, body, status=200):
        resp = api.post(f"/cases/{cid}/{name}", json=body)
        assert resp.status_code == status, (name, resp.get_json())
        return resp.get_json()["data"] if status == 200 else resp.get_json()["error"]

    c = step(sup, "accept", {"accepted_on": "2026-11-21"})
    assert c["status"] == "accepted" and c["accepted_on"] == "2026-11-21"
    c = step(sup, "assign", {"unit_id": world.unit_xf.id, "handler_id": world.handler1.id})
    assert c["status"] == "handling" and c["handler_name"] == "承办人甲"
    assert handler.get(f"/cases/{cid}").status_code == 200  # now in the handler's scope
    c = step(handler, "progress", {"note": "已实地查看"})
    c = step(handler, "extend-request", {"days": 20, "reason": "需协调多部门"})
    assert c["extension_state"] == "pending"
    err = step(handler, "extend-decide", {"approve": True}, status=403)
    assert err["code"] == "forbidden"
    c = step(leader, "extend-decide", {"approve": True, "note": "同意"})
    assert c["extension_state"] == "approved" and c["extension_days"] == 20
    c = step(handler, "reply", {"outcome": "支持", "reply_text": "已修复", "delivered_on": "2026-11-23"})
    assert c["status"] == "replied"
    c = step(sup, "close", {"rating": "满意"})
    assert c["status"] == "closed" and c["rating"] == "满意"
    c = step(sup, "rework", {"reason": "上级退回重办", "due_on": "2026-12-20"})
    assert c["status"] == "handling" and c["due_on"] == "2026-12-20"
    actions = [e["action"] for e in sup.get(f"/cases/{cid}/timeline").get_json()["data"]]
    assert actions == ["register", "accept", "assign", "progress", "extend_request",
                       "extend_decide", "reply", "close", "rework"]


def test_reject_and_return(world, client, now):
    sup = api_for(client, world.supervisor, now)
    a = sup.post("/cases", json=petition_body(world)).get_json()["data"]
    b = sup.post("/cases", json=petition_body(world, external_ref="B-2")).get_json()["data"]
    resp = sup.post(f"/cases/{a['id']}/reject", json={"reason": "不属于信访事项"})
    assert resp.get_json()["data"]["status"] == "not_accepted"
    resp = sup.post(f"/cases/{b['id']}/return", json={"reason": "不属本镇职责"})
    assert resp.status_code == 200 and resp.get_json()["data"]["status"] == "returned"


def test_dispute_lifecycle_through_the_api(world, client, now):
    case = make_dispute(world, now)
    grid = api_for(client, world.grid1, now)
    sup = api_for(client, world.supervisor, now)

    def step(api, name, body):
        resp = api.post(f"/cases/{case.id}/{name}", json=body)
        assert resp.status_code == 200, (name, resp.get_json())
        return resp.get_json()["data"]

    assert step(grid, "start-mediation", {"level": "village"})["status"] == "mediating"
    step(grid, "mediation-session", {"held_on": "2026-11-22", "note": "双方到场"})
    assert step(grid, "flag-risk", {"note": "一方情绪激动，已报警"})["is_risk"] is True
    step(grid, "escalate", {"reason": "村级调解未果"})
    c = step(sup, "terminate", {"reason": "一方拒绝调解，已告知诉讼途径"})
    assert c["status"] == "terminated"
    c = step(sup, "escalate", {"reason": "转镇级再调"})
    c = step(sup, "resolve", {"agreement_type": "written", "agreement_text": "疏通排水沟"})
    assert c["status"] == "resolved" and c["resolution_level"] == "town"
    step(grid, "follow-up", {"visited_on": "2026-11-23", "honoured": True})
    c = step(grid, "close", {})
    assert c["status"] == "closed"


def test_409_for_invalid_transition_and_stale_write(world, client, now):
    sup = api_for(client, world.supervisor, now)
    case = sup.post("/cases", json=petition_body(world)).get_json()["data"]
    cid, version = case["id"], case["version"]
    resp = sup.post(f"/cases/{cid}/close", json={"rating": "满意"})
    assert resp.status_code == 409
    err = resp.get_json()["error"]
    assert err["code"] == "invalid_transition" and "已登记" in err["message"]

    # someone else accepts it meanwhile: the version read before is stale
    assert sup.post(f"/cases/{cid}/accept", json={"version": version}).status_code == 200
    events_before = db.session.scalar(select(CaseEvent.id).order_by(CaseEvent.id.desc()).limit(1))
    resp = sup.post(f"/cases/{cid}/assign", json={"unit_id": world.unit_xf.id, "version": version})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "stale_write"
    resp = sup.post(f"/cases/{cid}/assign", json={"unit_id": world.unit_xf.id},
                    headers={"If-Match": f'"{version}"'})
    assert resp.status_code == 409 and resp.get_json()["error"]["code"] == "stale_write"
    db.session.rollback()
    assert db.session.scalar(select(CaseEvent.id).order_by(CaseEvent.id.desc()).limit(1)) == events_before
    current = sup.get(f"/cases/{cid}").get_json()["data"]["version"]
    assert current > version
    resp = sup.post(f"/cases/{cid}/assign", json={"unit_id": world.unit_xf.id},
                    headers={"If-Match": str(current)})
    assert resp.status_code == 200
    resp = sup.post(f"/cases/{cid}/progress", json={"note": "x"}, headers={"If-Match": "abc"})
    assert resp.status_code == 400
    # "*" (RFC 9110: any current representation) is no version check
    resp = sup.post(f"/cases/{cid}/progress", json={"note": "y"}, headers={"If-Match": "*"})
    assert resp.status_code == 200, resp.get_json()


def test_403_and_422_with_field_errors(world, client, now):
    handler = api_for(client, world.handler1, now)
    resp = handler.post("/cases", json=petition_body(world))
    assert resp.status_code == 403 and resp.get_json()["error"]["code"] == "forbidden"
    sup = api_for(client, world.supervisor, now)
    bad = petition_body(world, title=" ", parties=[{"name": "张三", "id_number": "440882198001010014",
                                                    "phone": "123"}])
    resp = sup.post("/cases", json=bad)
    assert resp.status_code == 422
    err = resp.get_json()["error"]
    assert err["code"] == "validation_error"
    assert set(err["fields"]) == {"title"}  # blank title caught by the schema first
    resp = sup.post("/cases", json=petition_body(world, parties=[
        {"name": "张三", "id_number": "440882198001010014", "phone": "123"}]))
    err = resp.get_json()["error"]
    assert resp.status_code == 422
    assert err["fields"] == {"parties-0-id_number": "身份证号码校验位不正确",
                             "parties-0-phone": err["fields"]["parties-0-phone"]}
    assert "电话号码" in err["fields"]["parties-0-phone"]
    resp = sup.post("/cases", json=petition_body(world, external_due_on=None))
    assert resp.status_code == 422 and "external_due_on" in resp.get_json()["error"]["fields"]
    assert db.session.scalar(select(Case.id)) is None


def test_org_endpoints_are_scoped_to_the_town(world, client, now):
    grid = api_for(client, world.grid1, now)
    villages = grid.get("/villages").get_json()["data"]
    assert [v["name"] for v in villages] == ["北和社区", "鹅感村"]
    units = grid.get("/units").get_json()["data"]
    assert [u["name"] for u in units] == ["综治办", "信访办", "司法所"]
    users = grid.get("/users").get_json()["data"]
    assert "other_super" not in {u["username"] for u in users}
    handlers = grid.get(f"/users?role=handler&unit_id={world.unit_xf.id}").get_json()["data"]
    assert [u["username"] for u in handlers] == ["handler1"]
    me = grid.get("/me").get_json()["data"]
    assert me["town_name"] == "北和镇" and "register" in me["rights"] and "accept" not in me["rights"]
    other = api_for(client, world.other_super, now)
    assert [v["name"] for v in other.get("/villages").get_json()["data"]] == ["南兴社区"]


def test_notifications_list_and_mark_read(world, client, now):
    sup = api_for(client, world.supervisor, now)
    handler = api_for(client, world.handler1, now)
    cid = sup.post("/cases", json=petition_body(world)).get_json()["data"]["id"]
    sup.post(f"/cases/{cid}/accept", json={})
    sup.post(f"/cases/{cid}/assign", json={"unit_id": world.unit_xf.id,
                                           "handler_id": world.handler1.id})
    body = handler.get("/notifications").get_json()
    assert body["meta"]["unread"] >= 1 and body["data"]
    first = body["data"][0]
    assert first["is_read"] is False and first["link"]
    resp = handler.post(f"/notifications/{first['id']}/read")
    assert resp.status_code == 200 and resp.get_json()["data"]["is_read"] is True
    assert sup.post(f"/notifications/{first['id']}/read").status_code == 404  # not theirs
    marked = handler.post("/notifications/read-all").get_json()["data"]["marked"]
    assert handler.get("/notifications?unread_only=true").get_json()["data"] == []
    assert marked == body["meta"]["unread"] - 1
