"""Helpers for the API tests: tokens made through the service, requests with a Bearer header."""

from __future__ import annotations

import datetime as dt

from casetrack.auth.tokens import create_token
from casetrack.cases import services as svc
from casetrack.extensions import db

ID_ZHANG = "440882198001010013"


def token_for(user, now, name: str = "测试") -> str:
    """A fresh token of ``user`` (committed)."""
    _row, secret = create_token(db.session, user, now, name)
    db.session.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


class Api:
    """The test client with one user's token."""

    def __init__(self, client, secret: str):
        self.client = client
        self.headers = bearer(secret)

    def get(self, path: str, **kw):
        return self.client.get("/api/v1" + path, headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def post(self, path: str, json=None, **kw):
        return self.client.post("/api/v1" + path, json=json,
                                headers={**self.headers, **kw.pop("headers", {})}, **kw)


def petition_body(world, **over) -> dict:
    body = {
        "kind": "petition", "title": "反映村道破损（虚构）", "source": "assigned",
        "received_on": "2026-11-20", "petition_class": "申诉求决", "category": "城乡建设",
        "village_id": world.v1.id, "external_ref": "雷信交〔2026〕101号",
        "external_due_on": "2027-01-05", "external_authority": "雷州市信访局",
        "parties": [{"name": "张三（虚构）", "id_number": ID_ZHANG, "phone": "13800138000"}],
    }
    body.update(over)
    return body


def make_dispute(world, now, actor=None):
    """A dispute in village 1, registered by the supervisor (committed)."""
    data = svc.CaseInput(kind="dispute", title="邻里排水纠纷（虚构）", source="screening",
                         received_on=dt.date(2026, 11, 20), category="邻里",
                         village_id=world.v1.id,
                         parties=[svc.PartyInput(name="王五（虚构）", role="applicant"),
                                  svc.PartyInput(name="赵六（虚构）", role="respondent")])
    case = svc.register_case(db.session, actor or world.supervisor, now, data)
    db.session.commit()
    return case
