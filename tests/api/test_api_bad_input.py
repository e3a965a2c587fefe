"""Bad input gets a clear 4xx in the error envelope, never a 500, never a partial write."""

from __future__ import annotations

import json

import pytest
from api_support import bearer, petition_body, token_for
from sqlalchemy import func, select

from casetrack.cases.models import Case, CaseEvent, Party
from casetrack.extensions import db


def counts() -> tuple[int, int, int]:
    db.session.rollback()
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Case, Party, CaseEvent))


@pytest.fixture
def headers(world, now):
    return bearer(token_for(world.supervisor, now))


def post_raw(client, headers, path, data: bytes | str, content_type="application/json"):
    return client.post("/api/v1" + path, data=data, content_type=content_type, headers=headers)


def assert_error(resp, status: int, code: str | None = None) -> dict:
    assert resp.status_code == status, resp.get_data(as_text=True)[:500]
    body = resp.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


@pytest.mark.parametrize("raw", [
    b"{", b"not json", b"", b"   ", b'{"kind": "petition",}', b"\xff\xfe{}", b"NaN",
    b'{"title": NaN}', b"[" * 100_000 + b"]" * 100_000,
])
def test_malformed_json_is_400(world, client, headers, raw):
    before = counts()
    err = assert_error(post_raw(client, headers, "/cases", raw), 400, "malformed_json")
    assert "JSON" in err["message"] or "请求体" in err["message"]
    assert counts() == before


@pytest.mark.parametrize("payload,field", [
    ([1, 2], "body"),
    ("petition", "body"),
    ({"group_size": "3"}, "group_size"),
    ({"group_size": True}, "group_size"),
    ({"group_size": 2.5}, "group_size"),
    ({"title": 12}, "title"),
    ({"village_id": "1"}, "village_id"),
    ({"parties": {"name": "x"}}, "parties"),
    ({"parties": [{"name": 5}]}, "parties.0.name"),
    ({"received_on": 20261120}, "received_on"),
    ({"title": None}, "title"),
])
def test_wrong_types_are_400_with_the_field(world, client, headers, payload, field):
    before = counts()
    body = payload if not isinstance(payload, dict) else {**petition_body(world), **payload}
    err = assert_error(post_raw(client, headers, "/cases", json.dumps(body)), 400, "invalid_type")
    assert field in err["fields"]
    assert counts() == before


def test_unknown_fields_are_400(world, client, headers):
    before = counts()
    body = {**petition_body(world), "status": "closed", "town_id": 2}
    err = assert_error(post_raw(client, headers, "/cases", json.dumps(body)), 400, "unknown_field")
    assert set(err["fields"]) == {"status", "town_id"}
    body = petition_body(world, parties=[{"name": "x", "secret": 1}])
    err = assert_error(post_raw(client, headers, "/cases", json.dumps(body)), 400, "unknown_field")
    assert set(err["fields"]) == {"parties.0.secret"}
    resp = client.get("/api/v1/cases?colour=red", headers=headers)
    assert assert_error(resp, 400, "unknown_field")["fields"] == {"colour": "未知字段"}
    assert_error(client.get("/api/v1/villages?x=1", headers=headers), 400, "unknown_field")
    assert counts() == before


@pytest.mark.parametrize("value", ["1899-12-31", "2100-01-01", "9999-12-31", "0001-01-01",
                                   "2026-02-30", "2026-13-01", "26-11-20", "2026-11-20T00:00",
                                   "二〇二六年"])
def test_dates_out_of_range_or_malformed_are_422(world, client, headers, value):
    before = counts()
    body = petition_body(world, received_on=value)
    err = assert_error(post_raw(client, headers, "/cases", json.dumps(body)), 422,
                       "validation_error")
    assert "received_on" in err["fields"]
    assert counts() == before


def test_dates_in_the_future_are_refused_by_the_service(world, client, headers):
    body = petition_body(world, received_on="2026-12-01", external_due_on="2027-01-05")
    err = assert_error(post_raw(client, headers, "/cases", json.dumps(body)), 422)
    assert err["fields"] == {"received_on": "收到日期不能晚于今天"}


@pytest.mark.parametrize("over,field", [
    ({"group_size": 10**30}, "group_size"),
    ({"group_size": 0}, "group_size"),
    ({"village_id": 2**40}, "village_id"),
    ({"title": "长" * 201}, "title"),
    ({"title": "a\x00b"}, "title"),
    ({"title": "\ud800"}, "title"),
    ({"kind": "complaint"}, "kind"),
    ({"parties": []}, "parties"),
    ({"parties": [{"name": "x"}] * 51}, "parties"),
    ({"parties": [{"name": "x", "phone": "1" * 21}]}, "parties.0.phone"),
])
def test_values_out_of_range_are_422(world, client, headers, over, field):
    before = counts()
    body = petition_body(world, **over)
    err = assert_error(post_raw(client, headers, "/cases", json.dumps(body)), 422)
    assert field in err["fields"]
    assert counts() == before


def test_huge_bodies_are_413(world, client, headers, app):
    before = counts()
    body = petition_body(world, summary="长" * 600_000)  # ~1.8 MB of UTF-8
    err = assert_error(post_raw(client, headers, "/cases", json.dumps(body, ensure_ascii=False)),
                       413, "payload_too_large")
    assert "过大" in err["message"]
    assert counts() == before


def test_query_strings_are_checked(world, client, headers):
    assert_error(client.get("/api/v1/cases?page=abc", headers=headers), 400, "invalid_type")
    assert_error(client.get("/api/v1/cases?page=0", headers=headers), 422)
    assert_error(client.get("/api/v1/cases?per_page=1000", headers=headers), 422)
    assert_error(client.get("/api/v1/cases?page=99999999999999999999999", headers=headers), 400)
    # a status that is no status: 400 invalid_status, never another list
    for bad in ("lost", "overdue", "xyz", ""):
        err = assert_error(client.get(f"/api/v1/cases?status={bad}&kind=dispute",
                                      headers=headers), 400, "invalid_status")
        assert set(err["fields"]) == {"status"} and f"“{bad}”" in err["message"]
    for good in ("open", "all", "handling", "reexamined"):
        assert client.get(f"/api/v1/cases?status={good}", headers=headers).status_code == 200
    err = assert_error(client.get("/api/v1/cases?received_from=2026-02-30", headers=headers),
                       400, "invalid_date")
    assert set(err["fields"]) == {"received_from"}
    err = assert_error(client.get("/api/v1/cases?received_from=2026-11-01&received_to=11-30"
                                  "&kind=dispute", headers=headers), 400, "invalid_date")
    assert set(err["fields"]) == {"received_to"}
    assert_error(client.get("/api/v1/cases?received_to=1800-01-01", headers=headers), 400,
                 "invalid_date")
    # a bad date among other bad arguments: the general code
    assert_error(client.get("/api/v1/cases?received_to=x&page=abc", headers=headers), 400,
                 "invalid_type")
    assert_error(client.get("/api/v1/cases?page=1&page=2", headers=headers), 400)
    resp = client.get("/api/v1/cases?page=50&q=%00", headers=headers)
    assert resp.status_code == 422


def test_routing_errors_use_the_envelope(world, client, headers):
    assert_error(client.get("/api/v1/nothing-here", headers=headers), 404, "not_found")
    assert_error(client.get("/api/v1/cases/99999999999999999999", headers=headers), 404)
    assert_error(client.get("/api/v1/cases/2147483648", headers=headers), 404)
    assert_error(client.get("/api/v1/cases/0", headers=headers), 404)
    assert_error(client.get("/api/v1/cases/-1", headers=headers), 404)
    resp = client.delete("/api/v1/cases", headers=headers)
    assert_error(resp, 405, "method_not_allowed")
    assert "POST" in resp.headers["Allow"]
    assert_error(client.put("/api/v1/cases/1/accept", headers=headers), 405)
    # lifecycle endpoints need a JSON body
    assert_error(client.post("/api/v1/cases/1/accept", headers=headers), 400, "malformed_json")


def test_form_encoded_body_is_not_json(world, client, headers):
    resp = client.post("/api/v1/cases", data={"kind": "petition"}, headers=headers)
    assert_error(resp, 400, "malformed_json")


def test_received_dates_the_wrong_way_round_are_refused(world, client, headers):
    """Not an empty list that looks like "no cases": 400 invalid_period naming the field."""
    err = assert_error(client.get("/api/v1/cases?received_from=2026-11-20&received_to=2026-11-01",
                                  headers=headers), 400, "invalid_period")
    assert set(err["fields"]) == {"received_from"}
    resp = client.get("/api/v1/cases?received_from=2026-11-01&received_to=2026-11-01",
                      headers=headers)
    assert resp.status_code == 200
