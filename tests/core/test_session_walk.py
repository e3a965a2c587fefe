"""Session revocation on every route (issue 9.3): a session cookie copied before logout,
replayed on each route of ``app.url_map`` with each of its methods, gets the login page
(pages) or 401 (API), never the page itself, and changes nothing."""

from __future__ import annotations

from sqlalchemy import func, select
from walk_support import PUBLIC_ENDPOINTS, Hostile, login

from casetrack.cases.models import CaseEvent
from casetrack.extensions import db
from casetrack.notify.models import Notification

#: reachable without a session on purpose
OPEN_ENDPOINTS = PUBLIC_ENDPOINTS | {"auth.set_language"}


def _values(h: Hostile) -> dict:
    w = h.world
    return {"case_id": h.case.id, "party_id": h.party.id, "attachment_id": h.attachment.id,
            "user_id": w.handler1.id, "year": 2026, "fmt": "csv", "filename": "css/app.css",
            "unit_id": w.unit_xf.id, "village_id": w.v1.id, "token_id": 1,
            "override_id": 1, "notification_id": 1, "code": "en", "key": "overdue",
            "kind": "petition"}


def test_a_cookie_copied_before_logout_opens_no_route(app, client, world, now):
    h = Hostile(world, now, names=False)
    login(client, "admin")
    stolen = app.test_client()
    stolen.set_cookie("session", client.get_cookie("session").value)
    assert stolen.get("/admin/").status_code == 200  # the copy works while logged in
    client.post("/logout")
    before = (db.session.scalar(select(func.count()).select_from(CaseEvent)),
              db.session.scalar(select(func.count()).select_from(Notification)))
    adapter = app.url_map.bind("localhost")
    values = _values(h)
    walked = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in OPEN_ENDPOINTS:
            continue
        url = adapter.build(rule.endpoint, {k: values[k] for k in rule.arguments})
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            resp = stolen.open(url, method=method, data={"note": "x", "reason": "x"})
            if rule.endpoint.startswith("api."):
                assert resp.status_code == 401, (method, url, resp.status_code)
            else:
                assert resp.status_code == 302, (method, url, resp.status_code)
                assert resp.headers["Location"].startswith("/login"), (method, url)
            resp.close()
            walked.add(rule.endpoint)
    assert len(walked) > 60
    db.session.expire_all()
    assert before == (db.session.scalar(select(func.count()).select_from(CaseEvent)),
                      db.session.scalar(select(func.count()).select_from(Notification)))
