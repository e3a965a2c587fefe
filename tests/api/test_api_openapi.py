"""The OpenAPI document stays true: every route documented and vice versa, and real
responses validate against it."""

from __future__ import annotations

import re

import jsonschema_rs
import pytest
from api_support import Api, make_dispute, petition_body, token_for
from schemathesis.specs.openapi.definitions import OPENAPI_31

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def document(client) -> dict:
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    return resp.get_json()


def test_every_api_route_is_documented_and_vice_versa(app, client):
    doc = document(client)
    assert doc["openapi"].startswith("3.1")
    routed = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1"):
            continue
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
        for method in rule.methods & METHODS:
            routed.add((method.lower(), path))
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert routed == documented
    assert len(documented) >= 30
    ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))


def test_document_references_resolve_and_schemas_compile(client):
    doc = document(client)
    text = str(doc)
    for ref in set(re.findall(r"#/components/schemas/(\w+)", text)):
        assert ref in doc["components"]["schemas"], ref
    for schema in doc["components"]["schemas"].values():
        jsonschema_rs.validator_for({**schema, "components": doc["components"]})


def test_document_is_valid_openapi_3_1_by_the_official_schema(client):
    """Checked against the OpenAPI Initiative's 3.1 schema (the copy schemathesis ships)."""
    doc = document(client)
    validator = jsonschema_rs.validator_for(OPENAPI_31)
    assert [e.message for e in validator.iter_errors(doc)] == []
    # the check can fail: a document with a broken operation is refused
    broken = {**doc, "paths": {**doc["paths"], "/x": {"get": {"responses": "none"}}}}
    assert not validator.is_valid(broken)


class ResponseChecker:
    """Validates a response against the document's schema for its operation and status."""

    def __init__(self, doc: dict):
        self.doc = doc
        self.seen: set[tuple[str, str, int]] = set()

    def check(self, method: str, path_template: str, resp) -> None:
        op = self.doc["paths"][path_template][method.lower()]
        responses = op["responses"]
        entry = responses.get(str(resp.status_code)) or responses["default"]
        schema = entry["content"]["application/json"]["schema"]
        validator = jsonschema_rs.validator_for(
            {**schema, "components": self.doc["components"]}, validate_formats=True)
        errors = [e.message for e in validator.iter_errors(resp.get_json())]
        assert not errors, (method, path_template, resp.status_code, errors[:5])
        self.seen.add((method.lower(), path_template, resp.status_code))


@pytest.fixture
def checked(client, now, world):
    return ResponseChecker(document(client))


def test_responses_of_a_whole_working_day_validate_against_the_document(
        world, client, now, checked):
    sup = Api(client, token_for(world.supervisor, now))
    leader = Api(client, token_for(world.leader, now))
    grid = Api(client, token_for(world.grid1, now))
    handler = Api(client, token_for(world.handler1, now))

    def call(api, method, template, path, body=None, **kw):
        resp = api.get(path, **kw) if method == "GET" else api.post(path, json=body, **kw)
        checked.check(method, template, resp)
        return resp

    created = call(sup, "POST", "/api/v1/cases", "/cases", petition_body(world))
    cid = created.get_json()["data"]["id"]
    pid = created.get_json()["data"]["parties"][0]["id"]
    call(sup, "POST", "/api/v1/cases", "/cases", petition_body(world, title=""))
    call(sup, "POST", "/api/v1/cases", "/cases", {"x": 1})
    call(handler, "POST", "/api/v1/cases", "/cases", petition_body(world))
    call(sup, "GET", "/api/v1/cases", "/cases?status=open&per_page=2")
    call(sup, "GET", "/api/v1/cases", "/cases?page=0")
    call(sup, "GET", "/api/v1/cases/{case_id}", f"/cases/{cid}")
    call(sup, "GET", "/api/v1/cases/{case_id}", "/cases/999999")
    call(sup, "GET", "/api/v1/cases/{case_id}/timeline", f"/cases/{cid}/timeline")
    call(sup, "GET", "/api/v1/cases/{case_id}/parties/{party_id}/id-number",
         f"/cases/{cid}/parties/{pid}/id-number")
    call(grid, "GET", "/api/v1/cases/{case_id}/parties/{party_id}/id-number",
         f"/cases/{cid}/parties/{pid}/id-number")
    base = "/api/v1/cases/{case_id}/"
    for api, name, body in [
        (sup, "close", {"rating": "满意"}),  # 409
        (sup, "accept", {}),
        (sup, "assign", {"unit_id": world.unit_xf.id, "handler_id": world.handler1.id, "version": 1}),
        (sup, "assign", {"unit_id": world.unit_xf.id, "handler_id": world.handler1.id}),
        (handler, "progress", {"note": "进展"}),
        (handler, "extend-request", {"days": 10, "reason": "原因"}),
        (leader, "extend-decide", {"approve": False}),
        (handler, "reply", {"outcome": "解释说明", "reply_text": "答复", "delivered_on": "2026-11-23"}),
        (sup, "close", {"rating": "基本满意"}),
        (sup, "rework", {"reason": "退回"}),
    ]:
        call(api, "POST", base + name, f"/cases/{cid}/{name}", body)
    dispute = make_dispute(world, now)
    for api, name, body in [
        (grid, "start-mediation", {}),
        (grid, "mediation-session", {"held_on": "2026-11-23", "note": "记录"}),
        (grid, "flag-risk", {"note": "风险"}),
        (grid, "escalate", {"reason": "上交"}),
        (sup, "terminate", {"reason": "终止"}),
        (sup, "escalate", {"reason": "再调"}),
        (sup, "resolve", {"agreement_type": "oral", "agreement_text": "协议"}),
        (grid, "follow-up", {"visited_on": "2026-11-23", "honoured": False}),
        (grid, "close", {}),
    ]:
        call(api, "POST", base + name, f"/cases/{dispute.id}/{name}", body)
    other = make_dispute(world, now)
    call(sup, "POST", base + "reject", f"/cases/{other.id}/reject", {"reason": "x"})
    call(sup, "POST", base + "return", f"/cases/{other.id}/return", {"reason": "x"})
    for template in ("/villages", "/units", "/users", "/me", "/notifications"):
        call(grid, "GET", "/api/v1" + template, template)
    notes = call(handler, "GET", "/api/v1/notifications", "/notifications").get_json()["data"]
    call(handler, "POST", "/api/v1/notifications/{notification_id}/read",
         f"/notifications/{notes[0]['id']}/read")
    call(handler, "POST", "/api/v1/notifications/read-all", "/notifications/read-all")
    call(sup, "GET", "/api/v1/stats/summary", "/stats/summary?from=2026-01-01&to=2026-12-31")
    call(handler, "GET", "/api/v1/stats/summary", "/stats/summary?from=2026-01-01&to=2026-12-31")
    unauth = client.get("/api/v1/cases")
    checked.check("GET", "/api/v1/cases", unauth)
    statuses = {s for _m, _p, s in checked.seen}
    assert {200, 201, 400, 401, 403, 404, 409, 422} <= statuses
