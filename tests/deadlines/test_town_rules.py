"""One source for every clock (issue 8.2, 8.3): the town's rules decide due dates, refusals,
page wordings and figures together; months are counted as the Civil Code counts them."""

from __future__ import annotations

import datetime as dt

import pytest
from stats.builder import CaseBuilder, at

from casetrack.cases import services as svc
from casetrack.cases.due_updates import change_town_rule
from casetrack.core.errors import InvalidTransition, PermissionDenied, ValidationError
from casetrack.deadlines.rules import DEFAULT_RULES, DayUnit, add_months, month_end
from casetrack.deadlines.town_rules import town_rule
from casetrack.extensions import db
from casetrack.stats import queries as sq

D = dt.date


def weekdays(day: dt.date) -> bool:
    return day.weekday() < 5


# --------------------------------------------------------------------------- months (8.3)


@pytest.mark.parametrize(("start", "months", "end"), [
    (D(2025, 1, 31), 1, D(2025, 2, 28)),  # February has no 31st: its last day
    (D(2024, 1, 31), 1, D(2024, 2, 29)),  # leap year
    (D(2025, 1, 15), 1, D(2025, 2, 15)),
    (D(2025, 12, 31), 2, D(2026, 2, 28)),  # across the year
    (D(2025, 3, 31), 1, D(2025, 4, 30)),
])
def test_month_end_follows_civil_code_art_202(start, months, end):
    assert month_end(start, months) == end


def test_a_month_ending_on_a_rest_day_moves_to_the_next_working_day():
    # 2025-07-31 + one month = Sunday 2025-08-31 -> Monday 2025-09-01
    assert add_months(D(2025, 7, 31), 1, weekdays) == D(2025, 9, 1)
    # an extension of 10 days counts on from the month's end
    assert add_months(D(2025, 1, 31), 1, weekdays, extra_days=10) == D(2025, 3, 10)


def test_mediation_rule_is_one_month():
    rule = DEFAULT_RULES["dispute.mediate"]
    assert (rule.amount, rule.unit) == (1, DayUnit.MONTHS)


def test_cli_computes_a_month_from_31_january(runner):
    result = runner.invoke(args=["deadlines", "compute", "--rule", "dispute.mediate",
                                 "--start", "2025-01-31"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "2025-02-28"


def test_dispute_registered_on_31_january_is_due_28_february(world):
    now = at(D(2025, 2, 3))
    case = svc.register_case(db.session, world.grid1, now, svc.CaseInput(
        kind="dispute", title="邻里纠纷", source="screening", received_on=D(2025, 1, 31),
        category="邻里", village_id=world.v1.id,
        parties=[svc.PartyInput(name="甲（虚构）", role="applicant")]))
    assert case.due_on == D(2025, 2, 28) and case.due_rule == "dispute.mediate"


# --------------------------------------------------------------------------- town rules (8.2)


def test_only_the_towns_admin_changes_its_rules(world, now):
    with pytest.raises(PermissionDenied):
        change_town_rule(db.session, world.supervisor, now, world.town.id, "petition.handle",
                         amount=30)
    with pytest.raises(PermissionDenied):
        change_town_rule(db.session, world.admin, now, world.other_town.id, "petition.handle",
                         amount=30)
    with pytest.raises(ValidationError):
        change_town_rule(db.session, world.admin, now, world.town.id, "petition.handle",
                         amount=0)


def test_changed_extension_maximum_changes_refusal_and_page_together(world, now, client, auth):
    b = CaseBuilder(world)
    case = b.petition(D(2026, 11, 2), source="visit", accept=D(2026, 11, 2))
    db.session.commit()
    auth.login("handler1")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "最多30天" in page

    change_town_rule(db.session, world.admin, now, world.town.id, "petition.handle",
                     amount=60, max_extension_days=15)
    db.session.commit()
    with pytest.raises(ValidationError) as refused:
        svc.request_extension(db.session, world.handler1, now, case, 20, "需现场核查")
    assert "1至15天" in refused.value.message
    db.session.rollback()
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "最多15天" in page and "最多30天" not in page
    # the other town keeps the default
    assert town_rule(db.session, world.other_town.id, "petition.handle").max_extension_days == 30


def test_changed_return_limit_changes_refusal_and_page(world, now, client, auth):
    b = CaseBuilder(world)
    case = b.petition(D(2026, 11, 16))  # Monday; 5 working days: 2026-11-23 (today)
    db.session.commit()
    auth.login("super")
    assert "收到后5个工作日内" in client.get(f"/cases/{case.id}").get_data(as_text=True)
    change_town_rule(db.session, world.admin, now, world.town.id, "petition.object", amount=2)
    db.session.commit()
    with pytest.raises(InvalidTransition) as refused:
        svc.return_case(db.session, world.supervisor, now, case, "不属于本镇职责")
    assert "2个工作日" in refused.value.message and "2026-11-18" in refused.value.message
    db.session.rollback()
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "action-return" not in page  # no button for a step the rule refuses


def test_timely_acceptance_uses_each_cases_notify_date(world, now):
    b = CaseBuilder(world)
    # received Friday 2025-09-26: 15 days = 2025-10-11, in the National Day holiday week's
    # adjusted calendar a working Saturday (调休上班), so the notify date is 2025-10-11
    first = b.petition(D(2025, 9, 26), source="visit", accept=D(2025, 10, 11))
    # received 2025-09-20: 15 days = Sunday 2025-10-05, in the holiday: moved to 2025-10-09
    second = b.petition(D(2025, 9, 20), source="visit", accept=D(2025, 10, 9))
    db.session.commit()
    assert first.notify_due_on == D(2025, 10, 11)
    assert second.notify_due_on == D(2025, 10, 9)
    q = sq.StatsQuery(D(2025, 9, 1), D(2025, 9, 30), D(2025, 12, 31))
    counts = sq.totals(db.session, world.leader, q).counts
    # plain received + 15 days would count the second (accepted 19 days after) as late
    assert (counts["accepted"], counts["accepted_timely"]) == (2, 2)


def test_changed_notify_rule_changes_the_figure(world, now):
    b = CaseBuilder(world)
    change_town_rule(db.session, world.admin, now, world.town.id, "petition.notify", amount=5)
    db.session.commit()
    # received Monday 2026-11-02: 5 days = Saturday 11-07 -> Monday 11-09
    late = b.petition(D(2026, 11, 2), source="visit", accept=D(2026, 11, 10))
    ok = b.petition(D(2026, 11, 2), source="visit", accept=D(2026, 11, 9))
    db.session.commit()
    assert (late.notify_due_on, ok.notify_due_on) == (D(2026, 11, 9), D(2026, 11, 9))
    q = sq.StatsQuery(D(2026, 11, 1), D(2026, 11, 30), D(2026, 11, 23))
    counts = sq.totals(db.session, world.leader, q).counts
    assert (counts["accepted"], counts["accepted_timely"]) == (2, 1)


def test_changing_a_rule_recomputes_open_cases_with_a_timeline_entry(world, now):
    b = CaseBuilder(world)
    case = b.petition(D(2026, 6, 1), source="visit", accept=D(2026, 6, 1))
    db.session.commit()
    assert case.due_on == D(2026, 7, 31)  # 60 days
    rule, changes = change_town_rule(db.session, world.admin, now, world.town.id,
                                     "petition.handle", amount=30)
    assert rule.amount == 30 and [c.case_id for c in changes] == [case.id]
    assert case.due_on == D(2026, 7, 1)
    ev = case.events[-1]
    assert ev.action == "recompute_due" and ev.changes["due_on"] == ["2026-07-31", "2026-07-01"]


def test_cli_sets_a_towns_rule(world, runner):
    result = runner.invoke(args=["deadlines", "set-rule", "--town", world.town.name,
                                 "--rule", "dispute.mediate", "--amount", "20",
                                 "--unit", "days"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["deadlines", "compute", "--rule", "dispute.mediate",
                                 "--start", "2025-01-31", "--town", world.town.name])
    assert result.output.strip() == "2025-02-20"
    result = runner.invoke(args=["deadlines", "rules", "--town", world.other_town.name])
    assert "dispute.mediate: 1 months" in result.output


def test_admin_page_changes_a_rule_and_the_case_page_follows(world, now, client, auth):
    b = CaseBuilder(world)
    case = b.petition(D(2026, 11, 2), source="visit", accept=D(2026, 11, 2))
    db.session.commit()
    auth.login("admin")
    page = client.get("/admin/calendar/rules").get_data(as_text=True)
    assert "petition.handle" in page and "办理办结（第34条）" in page
    resp = client.post("/admin/calendar/rules", data={
        "rule": "petition.handle", "amount": "60", "unit": "days", "max_extension_days": "0"})
    assert resp.status_code == 422 and "最长延期天数应在1至366之间" in resp.get_data(as_text=True)
    resp = client.post("/admin/calendar/rules", data={
        "rule": "petition.handle", "amount": "60", "unit": "days", "max_extension_days": "10"})
    assert resp.status_code == 302
    assert town_rule(db.session, world.town.id, "petition.handle").max_extension_days == 10
    auth.logout()
    auth.login("handler1")
    assert "最多10天" in client.get(f"/cases/{case.id}").get_data(as_text=True)
    auth.logout()
    auth.login("super")  # not an admin: no rules page
    assert client.get("/admin/calendar/rules").status_code in (302, 403, 404)
