"""Shared set-up for the case view tests: cases made through the services, and logins."""

from __future__ import annotations

import datetime as dt
import re

from casetrack.cases import services as svc
from casetrack.cases.models import Case
from casetrack.extensions import db

#: valid fictional resident ID numbers (check digits correct)
ID_ZHANG = "440882198001010013"
ID_LI = "440882199002020023"


def valid_id(first17: str) -> str:
    """Complete 17 digits with their check digit."""
    from casetrack.cases.rules import id_check_digit

    return first17 + id_check_digit(first17)


def make_petition(world, now, *, actor=None, village=None, title="反映村道破损（虚构）",
                  source="assigned", received_on=dt.date(2026, 11, 20), category="城乡建设",
                  parties=None, summary="", external_due_on=dt.date(2027, 1, 5)) -> Case:
    """A petition registered by the supervisor (committed)."""
    external = source in ("assigned", "forwarded")
    data = svc.CaseInput(
        kind="petition", title=title, source=source, received_on=received_on,
        petition_class="申诉求决", category=category,
        village_id=(village or world.v1).id, summary=summary,
        external_ref="雷信交〔2026〕101号" if external else None,
        external_due_on=external_due_on if source == "assigned" else None,
        external_authority="雷州市信访局" if external else "",
        parties=parties or [svc.PartyInput(name="张三（虚构）", id_number=ID_ZHANG)])
    case = svc.register_case(db.session, actor or world.supervisor, now, data)
    db.session.commit()
    return case


def make_dispute(world, now, *, actor=None, village=None, title="邻里排水纠纷（虚构）",
                 category="邻里", received_on=dt.date(2026, 11, 21), parties=None,
                 summary="") -> Case:
    """A dispute logged by a grid worker of ``village`` (committed)."""
    village = village or world.v1
    if actor is None:
        actor = world.grid1 if village.id == world.v1.id else world.grid2
    data = svc.CaseInput(
        kind="dispute", title=title, source="screening", received_on=received_on,
        category=category, village_id=village.id, summary=summary,
        parties=parties or [svc.PartyInput(name="王五（虚构）", role="applicant"),
                            svc.PartyInput(name="赵六（虚构）", role="respondent")])
    case = svc.register_case(db.session, actor, now, data)
    db.session.commit()
    return case


def dispute_form(world, **over) -> dict:
    """The registration form of a dispute with two parties, as a browser posts it; ``over``
    replaces fields."""
    data = {
        "kind": "dispute", "title": "邻里排水纠纷（虚构）", "summary": "两户因排水沟堵塞发生争执",
        "source": "screening", "category": "邻里", "village_id": str(world.v1.id),
        "received_on": "2026-11-23",
        "parties-0-role": "applicant", "parties-0-name": "王五（虚构）",
        "parties-0-phone": "13800138000",
        "parties-1-role": "respondent", "parties-1-name": "赵六（虚构）",
        "submit": "1",
    }
    data.update(over)
    return data


def login_as(client, username: str) -> None:
    """Log ``client`` in (after logging out whoever was logged in)."""
    client.post("/logout")
    resp = client.post("/login", data={"username": username, "password": "pass-1234"})
    assert resp.status_code == 302, resp.get_data(as_text=True)


def text(resp) -> str:
    """The response body as text."""
    return resp.get_data(as_text=True)


def case_numbers(html: str) -> set[str]:
    """Every case number shown on a page."""
    return set(re.findall(r"北和[信调]〔\d{4}〕\d+号", html))
