"""``flask demo load``: the demo town of Beihe, through the CLI on the real database."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from casetrack.auth.models import Role, User
from casetrack.cases.models import Case, CaseEvent, Party
from casetrack.cases.rules import OPEN_STATUSES, validate_id_number
from casetrack.core.time import TOWN_ZONE, app_now, local_date
from casetrack.deadlines.rules import WarningLevel, warning_level
from casetrack.demo.org import (
    DEMO_PASSWORD,
    PACKAGED_CSV,
    demo_usernames,
    read_villages,
    villages_csv_path,
)
from casetrack.extensions import db
from casetrack.org.models import Town, Unit, Village
from casetrack.org.prefixes import town_prefixes

CUTOFF = dt.datetime(2022, 12, 31, 23, 59, 59, tzinfo=TOWN_ZONE)
SHARED_CSV = Path(__file__).resolve().parents[2] / "shared" / "demo" / "beihe_villages.csv"


def _status_as_of(events: list[CaseEvent], cutoff: dt.datetime) -> str | None:
    """The status a case had at ``cutoff``, replayed from its timeline."""
    status = None
    for ev in sorted(events, key=lambda e: (e.at, e.id)):
        if ev.at <= cutoff and ev.to_status is not None:
            status = ev.to_status
    return status


def _load(runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    return result


@pytest.mark.slow
def test_demo_load_builds_beihe_and_reproduces_the_2022_report(app, runner, client):
    result = _load(runner)
    out = result.output
    assert f"Demo password for every account: {DEMO_PASSWORD}" in out
    for username in ("admin", "supervisor", "leader", "handler01", "grid01", "grid75"):
        assert re.search(rf"^\s+{username}\s", out, re.M), username
    assert "88 received, 77 closed and 11 in handling as of 2022-12-31" in out

    town = db.session.scalar(select(Town).where(Town.name == "北和镇"))
    assert (town.county_code, town.county_name) == ("440882", "雷州市")
    assert town_prefixes(db.session, town.id) == {"petition": "北和信", "dispute": "北和调"}

    # 31 villages, as in the CSV, each with at least one of the 75 grid workers
    villages = db.session.scalars(select(Village).where(Village.town_id == town.id)).all()
    assert sorted(v.name for v in villages) == sorted(n for n, _ in read_villages(PACKAGED_CSV))
    assert len(villages) == 31
    grid = db.session.scalars(select(User).where(User.role == Role.GRID_WORKER)).all()
    assert sorted(u.username for u in grid) == [f"grid{i:02d}" for i in range(1, 76)]
    assert all(len(u.villages) == 1 and u.villages[0].town_id == town.id for u in grid)
    per_village = Counter(u.villages[0].id for u in grid)
    assert set(per_village) == {v.id for v in villages}
    assert max(per_village.values()) <= 3

    units = set(db.session.scalars(select(Unit.name).where(Unit.town_id == town.id)))
    assert {"综治办", "信访办", "司法所", "派出所", "自然资源所", "农业农村办"} <= units
    handlers = db.session.scalars(select(User).where(User.role == Role.HANDLER)).all()
    assert handlers and all(h.unit is not None for h in handlers)
    assert {h.unit.name for h in handlers} == units
    roles = Counter(u.role for u in db.session.scalars(select(User)))
    assert roles[Role.SUPERVISOR] == roles[Role.LEADER] == roles[Role.ADMIN] == 1
    admin = db.session.scalar(select(User).where(User.username == "admin"))
    assert admin.check_password(DEMO_PASSWORD) and admin.town_id == town.id

    # 88 assigned petitions received in 2022: 77 closed and 11 in handling on 2022-12-31
    assigned = db.session.scalars(select(Case).where(
        Case.town_id == town.id, Case.kind == "petition", Case.source == "assigned",
        Case.received_on.between(dt.date(2022, 1, 1), dt.date(2022, 12, 31)))).all()
    assert len(assigned) == 88
    assert {c.received_on.month for c in assigned} == set(range(1, 13))
    as_of = Counter()
    for case in assigned:
        assert re.fullmatch(r"雷信交〔2022〕\d+号", case.external_ref)
        assert case.external_due_on is not None and case.external_due_on > case.received_on
        assert case.unit is not None and case.handler is not None
        events = sorted(case.events, key=lambda e: (e.at, e.id))
        assert events[0].action == "register"
        assert local_date(events[0].at) == case.received_on
        assert all(a.at < b.at for a, b in zip(events, events[1:], strict=False))
        status = _status_as_of(events, CUTOFF)
        as_of[status] += 1
        if status == "closed":
            closing = [e for e in events if e.action == "close" and e.at <= CUTOFF]
            assert closing
            assert not [e for e in events if e.action == "rework"
                        and closing[-1].at < e.at <= CUTOFF]
    assert as_of["closed"] == 77
    assert as_of["accepted"] + as_of["handling"] + as_of["replied"] == 11
    assert sum(as_of.values()) == 88
    # the history went through extensions and rework like real cases do
    actions = Counter(e.action for c in assigned for e in c.events)
    assert actions["extend_decide"] >= 3 and actions["rework"] >= 1

    # every timeline step lies in the past; nothing from 2022 is still open
    now = app_now()
    assert db.session.scalar(select(func.max(CaseEvent.at))) < now
    cases = db.session.scalars(select(Case).where(Case.town_id == town.id)).all()
    assert not [c.number for c in cases if c.is_open and c.received_on.year == 2022]

    # 2022 disputes: mostly resolved in the village, some by the town, a few terminated
    disputes = [c for c in cases if c.kind == "dispute" and c.received_on.year == 2022]
    assert 120 <= len(disputes) <= 160
    levels = Counter(c.resolution_level for c in disputes)
    assert levels["village"] > levels["town"] > 0
    dispute_actions = Counter(e.action for c in disputes for e in c.events)
    assert dispute_actions["terminate"] >= 1 and dispute_actions["escalate"] >= 1
    assert dispute_actions["follow_up"] >= 100 and dispute_actions["flag_risk"] >= 2
    assert {c.source for c in cases if c.kind == "petition"} >= {
        "assigned", "visit", "letter", "call", "online"}

    # open cases today in all three colours, and some recently closed
    today = local_date(now)
    current_open = [c for c in cases if c.status in OPEN_STATUSES]
    colours = Counter(warning_level(c.due_on, today, True) for c in current_open)
    assert colours[WarningLevel.GREEN] >= 3
    assert colours[WarningLevel.YELLOW] >= 2
    assert colours[WarningLevel.RED] >= 3
    assert any(c.closed_on and (today - c.closed_on).days <= 30 for c in cases)

    # invented people, marked as such, with valid ID numbers
    parties = db.session.scalars(select(Party)).all()
    assert len(parties) >= len(cases)
    for party in parties:
        assert party.id_number.startswith("440882")
        assert validate_id_number(party.id_number) is None, party.id_number
        assert 1940 <= int(party.id_number[6:10]) <= 2005
        assert party.name.endswith("（虚构）") and "演示数据，虚构" in party.address
        assert re.fullmatch(r"138\d{8}", party.phone)
    assert all("演示数据" in c.summary for c in cases)

    # the logins the README lists work with the printed password and show cases
    for username in ("admin", "supervisor", "leader", "handler01", "grid01"):
        login = client.post("/login", data={"username": username, "password": DEMO_PASSWORD})
        assert login.status_code == 302, username
        page = client.get("/cases")
        assert page.status_code == 200, username
        assert re.search(r"北和[信调]〔\d{4}〕\d+号", page.get_data(as_text=True)), username
        client.post("/logout")

    # a second load changes nothing
    counts = (len(cases), len(parties), db.session.scalar(select(func.count(User.id))))
    db.session.remove()
    again = _load(runner)
    assert "already exists" in again.output
    assert (db.session.scalar(select(func.count(Case.id))),
            db.session.scalar(select(func.count(Party.id))),
            db.session.scalar(select(func.count(User.id)))) == counts


@pytest.mark.slow
def test_demo_load_is_deterministic(app, runner):
    def snapshot():
        rows = db.session.execute(
            select(Case.number, Case.title, Case.status, Case.due_on, Party.name, Party.id_number)
            .join(Party).order_by(Case.number, Party.id_number)).all()
        return [tuple(r) for r in rows]

    _load(runner)
    first = snapshot()
    db.session.remove()
    with db.engine.begin() as conn:
        for table in reversed(db.metadata.sorted_tables):
            conn.execute(table.delete())
    _load(runner)
    assert snapshot() == first


def test_demo_load_refuses_when_usernames_are_taken(app, runner, create_town, create_user):
    other = create_town("南兴镇", villages=("南兴社区",), units=("综治办",))
    create_user("admin", Role.ADMIN, other)
    db.session.commit()
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 1
    assert "admin" in result.output
    db.session.remove()
    assert db.session.scalar(select(Town.id).where(Town.name == "北和镇")) is None


def test_demo_load_reports_a_missing_villages_file(app, runner, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "DEMO_VILLAGES_CSV", str(tmp_path / "missing.csv"))
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 1
    assert "missing.csv" in result.output
    assert db.session.scalar(select(func.count(Town.id))) == 0


def test_villages_csv_location(app, monkeypatch, tmp_path):
    # configured path first
    custom = tmp_path / "villages.csv"
    custom.write_text("name,kind\n甲村,行政村\n", encoding="utf-8")
    monkeypatch.setitem(app.config, "DEMO_VILLAGES_CSV", str(custom))
    assert villages_csv_path(app) == custom
    assert read_villages(custom) == [("甲村", "行政村")]
    monkeypatch.setitem(app.config, "DEMO_VILLAGES_CSV", None)
    # then ../shared/demo beside the project, when it exists
    if SHARED_CSV.is_file():
        assert villages_csv_path(app) == SHARED_CSV
        assert read_villages(SHARED_CSV) == read_villages(PACKAGED_CSV)
    # a clone without ../shared falls back to the copy in the package
    monkeypatch.setattr(app, "root_path", str(tmp_path / "clone" / "casetrack"))
    assert villages_csv_path(app) == PACKAGED_CSV
    rows = read_villages(PACKAGED_CSV)
    assert len(rows) == 31 and Counter(k for _, k in rows) == {"社区": 3, "行政村": 28}


def test_demo_load_on_a_fresh_database_creates_the_tables_first(tmp_path):
    """`flask --app casetrack demo load` as the very first command of a clean clone."""
    from sqlalchemy import inspect

    from casetrack import create_app

    fresh = create_app({"TESTING": True, "SECRET_KEY": "t",
                        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.sqlite3'}",
                        # stop right after the tables exist (the full load is tested above)
                        "DEMO_VILLAGES_CSV": str(tmp_path / "missing.csv")})
    try:
        result = fresh.test_cli_runner().invoke(args=["demo", "load"])
        assert "creating them first" in result.output
        assert "missing.csv" in result.output and "no such table" not in result.output
        with fresh.app_context():
            tables = inspect(db.engine).get_table_names()
            assert "alembic_version" in tables and "towns" in tables
    finally:
        with fresh.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_demo_password_meets_the_password_policy(app):
    """Demo accounts are ordinary accounts: their password passes the policy any user's must
    (an administrator setting it, or its owner changing to it, would be accepted), and it is
    the one the README and scripts/run give."""
    from casetrack.core.passwords import password_problem

    with app.test_request_context("/"):
        for username in demo_usernames():
            assert password_problem(DEMO_PASSWORD, username=username) is None, username
    root = Path(__file__).resolve().parents[1]
    assert f"`{DEMO_PASSWORD}`" in (root / "README.md").read_text(encoding="utf-8")
    assert "DEMO_PASSWORD" in (root / "scripts" / "run").read_text(encoding="utf-8")
    assert "demo1234" not in (root / "README.md").read_text(encoding="utf-8")
