"""A town whose every named thing is hostile markup, and the GET routes of the app with the
values their URL arguments need (walked by the header, absurd-input, hostile-name and
session-revocation tests)."""

from __future__ import annotations

import io

from casetrack.auth.tokens import create_token
from casetrack.cases import services as svc
from casetrack.cases.models import Case
from casetrack.extensions import db
from casetrack.notify.services import notify_users
from casetrack.reports.sentences import save_template

#: markup that would run as script if any page emitted it unescaped
HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE2 = "\"'><script>alert(2)</script>"
#: the name of a village of the OTHER town: it must never appear on our pages
OTHER_SECRET = "南兴秘密村"

#: routes whose answer is a file, not a page (headers are checked, the body is not HTML)
FILE_ENDPOINTS = {"cases.attachment", "reports.case_sheet", "reports.ledger",
                  "reports.monthly", "imports.template", "static"}
#: PDFs: their escaping of case text is issue 9.6 (its own tests); left out of the
#: hostile-name walk, still walked for headers and absurd input
PDF_ENDPOINTS: set[str] = set()
#: pages anyone may open without logging in
PUBLIC_ENDPOINTS = {"auth.login", "static", "api.openapi_document"}


class Hostile:
    """Village, unit, town, users, case title, party, category and a report sentence template
    all named with markup; a second town with a village whose name must never leak."""

    def __init__(self, world, now, *, names: bool = True):
        self.world = world
        w = world
        H, H2 = (HOSTILE, HOSTILE2) if names else ("甲", "乙")  # noqa: N806
        self._rename(w, H, H2)
        self._fill(w, now, H, H2)

    def _rename(self, w, HOSTILE, HOSTILE2) -> None:  # noqa: N803
        w.v1.name = f"村{HOSTILE}"
        w.unit_xf.name = f"单位{HOSTILE2}"
        w.town.name = f"镇{HOSTILE2}"
        w.handler1.name = f"承办{HOSTILE}"
        w.supervisor.name = f"督办{HOSTILE2}"
        w.other_town.villages[0].name = OTHER_SECRET
        db.session.commit()

    def _fill(self, w, now, HOSTILE, HOSTILE2) -> None:  # noqa: N803
        data = svc.CaseInput(
            kind="petition", title=f"标题{HOSTILE}{HOSTILE2}", source="visit",
            received_on=now.date(), petition_class="申诉求决", category="城乡建设",
            village_id=w.v1.id, summary=f"摘要{HOSTILE}",
            parties=[svc.PartyInput(name=f"张{HOSTILE}", id_number="440882198001010013")])
        case = svc.register_case(db.session, w.supervisor, now, data)
        svc.accept_case(db.session, w.supervisor, now, case)
        svc.assign_case(db.session, w.supervisor, now, case, w.unit_xf.id, w.handler1.id,
                        note=f"备注{HOSTILE}")
        self.attachment = svc.add_attachment(db.session, w.supervisor, now, case,
                                             f"材料{HOSTILE}.pdf", "application/pdf",
                                             io.BytesIO(b"%PDF-1.4 test"))
        # a category from an older version or an import, outside today's list
        case.category = f"类别{HOSTILE}"
        save_template(db.session, w.admin, w.town.id, "petition", f"模板{HOSTILE}{{total}}件")
        notify_users(db.session, [w.admin, w.supervisor], now, kind="test",
                     dedupe_key="hostile", subject=f"主题{HOSTILE}", body=f"正文{HOSTILE2}",
                     link=f"/cases/{case.id}", town_id=w.town.id)
        _row, self.token = create_token(db.session, w.admin, now, f"令牌{HOSTILE}")
        db.session.commit()
        self.case = db.session.get(Case, case.id)
        self.party = self.case.parties[0]


def get_rules(app):
    """Every rule answering GET."""
    return [r for r in app.url_map.iter_rules() if "GET" in r.methods]


def url_for_rule(app, rule, h: Hostile) -> str:
    """The rule's URL with real ids of ``h``'s objects."""
    values = {"case_id": h.case.id, "party_id": h.party.id, "attachment_id": h.attachment.id,
              "user_id": h.world.handler1.id, "year": 2026, "fmt": "csv",
              "filename": "css/app.css", "key": "overdue", "kind": "petition"}
    missing = rule.arguments - values.keys()
    assert not missing, f"walk does not know how to fill {missing} of {rule.rule}"
    adapter = app.url_map.bind("localhost")
    return adapter.build(rule.endpoint, {k: values[k] for k in rule.arguments})


def login(client, username: str) -> None:
    client.post("/logout")
    resp = client.post("/login", data={"username": username, "password": "pass-1234"})
    assert resp.status_code == 302, resp.get_data(as_text=True)


def api_headers(h: Hostile, rule) -> dict[str, str]:
    return {"Authorization": f"Bearer {h.token}"} if rule.endpoint.startswith("api.") else {}
