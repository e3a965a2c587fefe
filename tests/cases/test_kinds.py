"""Kinds of case are folders registered in one place (``cases/kinds``): the registry, each
kind's parts, and a throwaway third kind registered at test time that gets its buttons, its
routes, its API and its OpenAPI entries without any change to generic code."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from views_support import login_as, text

from casetrack.auth.permissions import ROLE_ACTIONS
from casetrack.auth.tokens import create_token
from casetrack.cases import kinds, steps
from casetrack.cases import services as svc
from casetrack.cases.kinds import Kind, move
from casetrack.cases.models import Case, CaseEvent, CaseStatus
from casetrack.deadlines.rules import DEFAULT_RULES, DayUnit, DeadlineRule
from casetrack.extensions import db
from casetrack.stats.metrics import METRICS

S = CaseStatus
KINDS_DIR = Path(kinds.__file__).parent
TEMPLATES = Path(kinds.__file__).parents[2] / "templates"
#: the modules every kind's folder provides
PARTS = ("__init__", "steps", "rules", "fields", "metrics", "services", "queues", "sheet")


def test_the_registry_lists_exactly_petition_and_dispute():
    assert kinds.codes() == ("petition", "dispute")
    assert [k.code for k in kinds.REGISTERED] == ["petition", "dispute"]
    assert kinds.labels() == {"petition": "信访事项", "dispute": "矛盾纠纷"}
    # every kind folder beside the registry is registered, and nothing else is
    folders = sorted(p.name for p in KINDS_DIR.iterdir()
                     if p.is_dir() and (p / "__init__.py").exists())
    assert folders == sorted(kinds.codes())


def _macros(path: Path) -> set[str]:
    return set(re.findall(r"{%\s*macro\s+(\w+)", path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("code", ["petition", "dispute"])
def test_each_kind_folder_provides_every_part(code):
    kind = kinds.kind_of(code)
    for part in PARTS:
        assert (KINDS_DIR / code / f"{part}.py").is_file(), part
    assert kind.label and kind.default_prefix and kind.sources and kind.categories
    assert kind.sheet_title and kind.parties_label and kind.party_roles
    # its moves are transitions of declared steps, each with a service, in button order
    assert kind.moves
    for name, mv in kind.moves.items():
        step = steps.STEPS[name]
        assert step.service is not None, name
        t = step.transition(code)
        assert t is not None and t.sources == mv.sources and t.target == mv.target
        assert step.right_for(code) == (mv.right or step.right)
    # some role may take each of its steps (the rights of its own steps it grants itself)
    granted = set().union(*ROLE_ACTIONS.values())
    assert all(steps.STEPS[name].right_for(code) in granted for name in kind.moves)
    assert {r for rights in kind.rights.values() for r in rights} <= granted
    # its deadline policy: its rules are in the table, and its first clock is one of them
    assert kind.deadline_rules
    for rule in kind.deadline_rules:
        assert DEFAULT_RULES[rule.code] is rule and rule.case_kind == code
    first = kind.first_clock(Case(kind=code, category=kind.categories[0]))
    assert first in {r.code for r in kind.deadline_rules}
    # its fields are columns of Case
    assert kind.fields and set(kind.fields) <= set(Case.__table__.columns.keys())
    # its template parts define every macro the pages call
    wanted = _macros(TEMPLATES / "cases/kinds/_none.html")
    own = TEMPLATES / kind.template()
    assert own.is_file() and own.parent.name == code
    assert _macros(own) == wanted
    # its figures are among the reported ones, and its rates divide known figures
    assert kind.metrics and all(METRICS[m.key] is m for m in kind.metrics)
    for rate in kind.rates:
        assert rate.numerator in METRICS and rate.denominator in METRICS
    # its services are reached through cases.services under their own names
    assert kind.services is not None
    for name in kind.moves:
        fn = steps.STEPS[name].service
        if fn.__module__ == kind.services.__name__:
            assert getattr(svc, fn.__name__) is fn


def test_steps_command_lists_each_step_with_its_kind(runner):
    result = runner.invoke(args=["cases", "steps"])
    assert result.exit_code == 0, result.output
    rows = {tuple(line.split()[:2]) for line in result.output.splitlines()[1:] if line.strip()}
    expected = {(name, k.code) for k in kinds.all_kinds() for name in k.moves}
    assert expected <= rows
    assert {kind for _step, kind in rows if kind in ("petition", "dispute", "*")} \
        == {"petition", "dispute"}
    only_dispute = runner.invoke(args=["cases", "steps", "--kind", "dispute"]).output
    assert "start_mediation " in only_dispute and "\naccept " not in only_dispute
    # a kind's own rule: the petition regulations are not cited for a dispute's extension,
    # and each kind's closing condition is its own
    rules = {tuple(line.split()[:2]): line.split()[-1]
             for line in result.output.splitlines()[1:] if line.strip()}
    assert rules["extend_request", "petition"].endswith("（信访工作条例第34条）")
    assert "条例" not in rules["extend_request", "dispute"]
    assert rules["close", "petition"] == "答复后记录信访人评价"
    assert rules["close", "dispute"].startswith("调解成功的须先回访")


# --------------------------------------------------------------------------- a third kind


HOTLINE = Kind(
    code="hotline",
    label="热线工单",
    default_prefix="热",
    sources={"hotline_12345": "12345热线"},
    categories=("咨询", "其他"),
    moves={
        "progress": move({S.REGISTERED}, label="记录回电"),
        "close": move({S.REGISTERED}, S.CLOSED, label="办结工单"),
    },
    deadline_rules=(DeadlineRule("hotline.answer", "hotline", "received", 5, DayUnit.WORKDAYS,
                                 label="热线工单办理期限"),),
    first_clock=lambda case: "hotline.answer",
)


@pytest.fixture
def hotline():
    """The throwaway kind, registered for one test (and forgotten after it)."""
    kinds.register(HOTLINE)
    try:
        yield HOTLINE
    finally:
        kinds.unregister("hotline")


def test_a_third_kind_registered_at_run_time_gets_pages_api_and_openapi(
        hotline, client, world, now, runner):
    _row, secret = create_token(db.session, world.supervisor, now, "测试")
    db.session.commit()
    headers = {"Authorization": f"Bearer {secret}"}

    # the API registers it (its kind, source and category are choices now) ...
    resp = client.post("/api/v1/cases", headers=headers, json={
        "kind": "hotline", "title": "咨询社保卡办理", "source": "hotline_12345",
        "category": "咨询", "received_on": "2026-11-23",
        "parties": [{"name": "王五", "role": "party"}]})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    data = resp.json["data"]
    assert data["kind"] == "hotline" and data["kind_label"] == "热线工单"
    # ... numbered with the kind's default prefix, due by its own rule (5 working days)
    assert data["number"].startswith("热〔2026〕")
    case = db.session.get(Case, data["id"])
    assert case.due_rule == "hotline.answer" and case.due_on == dt.date(2026, 11, 30)
    assert set(data["actions"]) == {"progress", "close"}

    # the case page shows exactly the kind's buttons, under the kind's labels
    login_as(client, "super")
    html = text(client.get(f"/cases/{case.id}"))
    assert "热线工单" in html and "记录回电" in html and "办结工单" in html
    assert set(re.findall(r'action="/cases/\d+/([a-z-]+)"', html)) - {"attachments"} \
        == {"progress", "close"}
    # the step routes take it: a page POST and an API POST
    resp = client.post(f"/cases/{case.id}/progress", data={"note": "已回电说明办理流程",
                                                           "version": case.version})
    assert resp.status_code == 302, text(resp)
    resp = client.post(f"/api/v1/cases/{case.id}/close", headers=headers,
                       json={"note": "已办结"})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.json["data"]["status"] == "closed"
    db.session.expire_all()
    assert [e.action for e in db.session.get(Case, case.id).events] == [
        "register", "progress", "close"]
    assert db.session.query(CaseEvent).filter_by(case_id=case.id, action="close").one()

    # the OpenAPI document names it wherever a kind or a source is chosen
    doc = client.get("/api/v1/openapi.json", headers=headers).json
    register = doc["components"]["schemas"]["RegisterCase"]["properties"]
    assert "hotline" in register["kind"]["enum"]
    assert "hotline_12345" in register["source"]["enum"]
    assert "/api/v1/cases/{case_id}/progress" in doc["paths"]

    # the step table lists its steps with its kind
    out = runner.invoke(args=["cases", "steps", "--kind", "hotline"]).output
    assert {tuple(line.split()[:2]) for line in out.splitlines()[1:] if line.strip()} == {
        ("progress", "hotline"), ("close", "hotline")}
    # the figures count it by kind
    from casetrack.stats.queries import StatsQuery, summary

    q = StatsQuery(dt.date(2026, 1, 1), dt.date(2026, 12, 31), dt.date(2026, 12, 31))
    by_kind = {row.key["kind"]: row for row in summary(db.session, world.supervisor, q).by_kind}
    assert by_kind["hotline"].counts["total"] == 1 and by_kind["hotline"].counts["closed"] == 1


def test_an_unregistered_kind_is_refused(world, now, hotline):
    kinds.unregister("hotline")
    try:
        with pytest.raises(Exception) as refused:
            svc.register_case(db.session, world.supervisor, now, svc.CaseInput(
                kind="hotline", title="x", source="hotline_12345",
                received_on=now.date(), category="咨询",
                parties=[svc.PartyInput(name="王五", role="party")]))
        assert "案件类型无效" in str(refused.value)
        assert "hotline" not in steps.STEPS["progress"].transitions
        assert "hotline.answer" not in DEFAULT_RULES
    finally:
        kinds.register(HOTLINE)
