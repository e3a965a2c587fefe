"""Every route of the ``cases`` blueprint that shows or changes a case, an attachment or a
party, walked as users who may not see the case: each answers 403 or 404 and changes nothing.

The list of routes comes from ``app.url_map``, so a route added later is covered without
editing this test; a route that takes none of the known arguments and is not one of the
known case-independent pages makes the test fail until it is classified here.
"""

from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select
from views_support import ID_ZHANG, case_numbers, login_as, make_dispute, make_petition, text

from casetrack.cases import services as svc
from casetrack.cases.models import Attachment, Case, CaseEvent, IdNumberView, Party
from casetrack.extensions import db

#: pages that are not about one case; checked separately below
CASE_INDEPENDENT = {"cases.index", "cases.list_cases", "cases.new", "cases.settings",
                    "cases.bulk_assign"}
#: URL arguments naming a case, a party or an attachment
OBJECT_ARGS = {"case_id", "party_id", "attachment_id"}

#: a plausible value for every field any step form takes, so that a refusal is never
#: just a form error
POST_DATA = {
    "note": "测试", "reason": "测试", "days": "10", "decision": "approve", "held_on": "2026-11-23",
    "visited_on": "2026-11-23", "honoured": "yes", "level": "village",
    "agreement_type": "written", "agreement_text": "测试协议", "outcome": "支持",
    "reply_text": "测试答复", "delivered_on": "2026-11-23", "rating": "满意",
    "accepted_on": "2026-11-23", "closed_on": "2026-11-23", "requested_on": "2026-11-23",
    "decision_text": "测试", "decided_on": "2026-11-23", "applied_on": "2026-11-23",
    "court": "测试法院", "title": "测试",
}


def _case_rules(app):
    """The case blueprint's routes, plus every other page route (the API has its own walk)
    that names a case, a party or an attachment, such as the printed handling sheet."""
    rules = [r for r in app.url_map.iter_rules() if r.endpoint.startswith("cases.")
             or (not r.endpoint.startswith("api.") and r.arguments & OBJECT_ARGS)]
    object_rules, unclassified = [], []
    for rule in rules:
        if rule.arguments and rule.arguments <= OBJECT_ARGS:
            object_rules.append(rule)
        elif rule.endpoint not in CASE_INDEPENDENT:
            unclassified.append(rule.rule)
    assert not unclassified, f"case routes not covered by the scoping test: {unclassified}"
    return object_rules


def _setup(world, now):
    """A petition and a dispute in v1, both assigned to unit_xf, with a party and a file."""
    petition = make_petition(world, now)
    svc.accept_case(db.session, world.supervisor, now, petition)
    svc.assign_case(db.session, world.supervisor, now, petition, world.unit_xf.id,
                    world.handler1.id)
    dispute = make_dispute(world, now)
    svc.assign_case(db.session, world.supervisor, now, dispute, world.unit_xf.id, None)
    files = [svc.add_attachment(db.session, world.supervisor, now, c, "材料.pdf",
                                "application/pdf", io.BytesIO(b"%PDF-1.4 test"))
             for c in (petition, dispute)]
    db.session.commit()
    return [(petition, petition.parties[0], files[0]), (dispute, dispute.parties[0], files[1])]


def _url(app, rule, case, party, attachment) -> str:
    values = {"case_id": case.id, "party_id": party.id, "attachment_id": attachment.id}
    adapter = app.url_map.bind("localhost")
    return adapter.build(rule.endpoint, {k: values[k] for k in rule.arguments},
                         method=sorted(rule.methods - {"HEAD", "OPTIONS"})[0])


def _request(client, method, url):
    if method == "GET":
        return client.get(url)
    data = dict(POST_DATA)
    if url.endswith("/attachments"):
        data["file"] = (io.BytesIO(b"%PDF-1.4 x"), "x.pdf")
        return client.post(url, data=data, content_type="multipart/form-data")
    return client.post(url, data=data)


def _state():
    return (
        db.session.scalar(select(func.count()).select_from(CaseEvent)),
        db.session.scalar(select(func.count()).select_from(Attachment)),
        db.session.scalar(select(func.count()).select_from(IdNumberView)),
        tuple(db.session.scalars(select(Case.status).order_by(Case.id))),
    )


@pytest.mark.parametrize("username", ["grid2", "handler2"])
def test_every_case_route_refuses_outsiders(app, client, world, now, username):
    rules = _case_rules(app)
    assert len(rules) >= 21  # detail, 17 steps, ID view, upload, download, handling sheet
    assert "reports.case_sheet" in {r.endpoint for r in rules}
    cases = _setup(world, now)
    before = _state()
    login_as(client, username)
    checked = []
    for case, party, attachment in cases:
        for rule in rules:
            url = _url(app, rule, case, party, attachment)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                resp = _request(client, method, url)
                body = text(resp)
                assert resp.status_code in (403, 404), (username, method, url, resp.status_code)
                assert case.number not in body and party.name not in body, (method, url)
                resp.close()
                checked.append((method, rule.endpoint))
    assert {e for _, e in checked} == {r.endpoint for r in rules}
    db.session.expire_all()
    assert _state() == before

    # the case-independent pages neither show the case nor let an outsider register there
    listing = text(client.get("/cases"))
    for case, party, _ in cases:
        assert case.number not in listing
        found = text(client.get("/cases", query_string={"q": party.name}))
        assert case_numbers(found) == set()
    resp = client.post("/cases/new?kind=dispute", data={
        "kind": "dispute", "title": "越权登记", "source": "screening", "category": "邻里",
        "village_id": str(world.v1.id), "received_on": "2026-11-23",
        "parties-0-role": "applicant", "parties-0-name": "某人", "submit": "1"})
    assert resp.status_code == 403
    db.session.expire_all()
    assert _state() == before


def test_the_walk_reaches_real_routes(app, client, world, now):
    """The same URLs answer a user who may see the case (so 404 above is not a wrong URL)."""
    rules = _case_rules(app)
    cases = _setup(world, now)
    login_as(client, "super")
    for case, party, attachment in cases:
        for rule in rules:
            url = _url(app, rule, case, party, attachment)
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                resp = _request(client, method, url)
                assert resp.status_code != 404, (method, url)
                if method == "GET":
                    assert resp.status_code == 200, url
                resp.close()
    assert db.session.scalar(select(func.count()).select_from(IdNumberView)) == 2
    assert db.session.get(Party, cases[0][1].id).id_number == ID_ZHANG
