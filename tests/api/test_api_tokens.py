"""Personal API tokens: the page (create shown once, revoke), hashing, and 401s."""

from __future__ import annotations

import re

from api_support import bearer, petition_body, token_for
from sqlalchemy import select

from casetrack.auth.tokens import ApiToken, hash_token
from casetrack.extensions import db


def test_no_or_bad_authorization_is_401_in_the_envelope(world, client, now):
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer "},
                    {"Authorization": "Bearer ct_not-a-real-token"},
                    {"Authorization": "Bearer " + "x" * 5000}):
        resp = client.get("/api/v1/cases", headers=headers)
        assert resp.status_code == 401, headers
        body = resp.get_json()
        assert set(body) == {"error"}
        assert body["error"]["code"] in ("unauthorized", "invalid_token")
        assert body["error"]["message"] and body["error"]["fields"] == {}
        assert resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_token_is_stored_hashed_and_works_until_revoked(world, client, now):
    secret = token_for(world.supervisor, now)
    row = db.session.scalar(select(ApiToken))
    assert row.token_hash == hash_token(secret) and secret not in (row.token_hash, row.prefix)
    assert secret.startswith(row.prefix) and len(row.prefix) == 11
    resp = client.get("/api/v1/me", headers=bearer(secret))
    assert resp.status_code == 200
    assert resp.get_json()["data"]["user"]["username"] == "super"
    db.session.refresh(row)
    assert row.last_used_at == now
    row.revoked_at = now
    db.session.commit()
    resp = client.get("/api/v1/me", headers=bearer(secret))
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "invalid_token"


def test_token_of_a_disabled_user_is_refused(world, client, now):
    secret = token_for(world.grid1, now)
    world.grid1.is_enabled = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_page_creates_a_token_shown_once_and_revokes_it(world, client, auth, now):
    auth.login("grid1")
    resp = client.post("/account/api-tokens/", data={"name": "手机应用"})
    assert resp.status_code == 200
    page = resp.get_data(as_text=True)
    secret = re.search(r'value="(ct_[A-Za-z0-9_\-]+)"', page).group(1)
    assert "只显示这一次" in page
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 200
    listing = client.get("/account/api-tokens/").get_data(as_text=True)
    assert secret not in listing and secret[:11] in listing and "手机应用" in listing
    token = db.session.scalar(select(ApiToken))
    resp = client.post(f"/account/api-tokens/{token.id}/revoke")
    assert resp.status_code == 303
    assert "已吊销" in client.get("/account/api-tokens/").get_data(as_text=True)
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401


def test_page_refuses_empty_names_and_other_peoples_tokens(world, client, auth, now):
    other = token_for(world.supervisor, now)
    auth.login("grid1")
    resp = client.post("/account/api-tokens/", data={"name": "  "})
    assert resp.status_code == 422 and "请填写令牌名称" in resp.get_data(as_text=True)
    token = db.session.scalar(select(ApiToken))
    resp = client.post(f"/account/api-tokens/{token.id}/revoke", follow_redirects=True)
    assert "令牌不存在" in resp.get_data(as_text=True)
    db.session.refresh(token)
    assert token.revoked_at is None
    assert client.get("/api/v1/me", headers=bearer(other)).status_code == 200


def test_token_page_needs_login(client, world):
    resp = client.get("/account/api-tokens/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_api_needs_no_csrf_token_but_pages_do(world, client, app, now, auth):
    secret = token_for(world.supervisor, now)
    auth.login("super")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        resp = client.post("/api/v1/cases", json=petition_body(world), headers=bearer(secret))
        assert resp.status_code == 201, resp.get_json()
        assert client.post("/account/api-tokens/", data={"name": "x"}).status_code == 400
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert db.session.scalar(select(ApiToken.name).where(ApiToken.name == "x")) is None
