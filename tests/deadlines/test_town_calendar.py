"""Holiday and workday overrides belong to a town (issue 9.2): one town's admin adding a day
off never moves another town's due dates nor writes into its timelines; the county-wide layer
is edited only by a county-level user (or the command line) and applies to every town."""

from __future__ import annotations

import datetime as dt

import pytest
from stats.builder import at

from casetrack.auth.models import Role
from casetrack.cases import due_updates as calendar_svc
from casetrack.cases import services as svc
from casetrack.cases.models import CaseEvent
from casetrack.core.errors import NotFound, PermissionDenied
from casetrack.deadlines.calendar import load_calendar
from casetrack.extensions import db

D = dt.date
#: a Friday, a working day in the official calendar
FRIDAY = D(2026, 12, 4)


NOV_4 = D(2026, 11, 4)


def _dispute(user, village, received=NOV_4):
    """A dispute found on Wednesday 2026-11-04: one month = Friday 2026-12-04."""
    case = svc.register_case(db.session, user, at(received), svc.CaseInput(
        kind="dispute", title="邻里纠纷", source="screening", received_on=received,
        category="邻里", village_id=village.id,
        parties=[svc.PartyInput(name="甲（虚构）", role="applicant")]))
    db.session.commit()
    assert case.due_on == FRIDAY
    return case


@pytest.fixture
def two_towns(world, create_user):
    other_grid = create_user("other_grid", Role.GRID_WORKER, world.other_town,
                             villages=[world.other_town.villages[0]])
    other_admin = create_user("other_admin", Role.ADMIN, world.other_town)
    county = create_user("county", Role.COUNTY, None)
    county.county_code = world.town.county_code
    db.session.commit()
    mine = _dispute(world.grid1, world.v1)
    theirs = _dispute(other_grid, world.other_town.villages[0])
    return mine, theirs, other_admin, county


def _events(case):
    return db.session.scalars(db.select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.action == "recompute_due")).all()


def test_a_towns_day_off_moves_only_its_own_cases(world, two_towns, now):
    mine, theirs, _other_admin, _county = two_towns
    override, changes = calendar_svc.add_override(db.session, world.admin, now, FRIDAY, False,
                                                  "镇庆放假")
    db.session.commit()
    assert override.town_id == world.town.id
    assert [c.case_id for c in changes] == [mine.id]
    assert mine.due_on == D(2026, 12, 7)  # moved to Monday
    assert theirs.due_on == FRIDAY and _events(theirs) == []
    assert len(_events(mine)) == 1
    # the calendars differ by town; the county-wide calendar is untouched
    assert load_calendar(db.session, world.town.id).is_workday(FRIDAY) is False
    assert load_calendar(db.session, world.other_town.id).is_workday(FRIDAY) is True
    assert load_calendar(db.session).is_workday(FRIDAY) is True
    # a new case of the other town is counted without it
    again = _dispute(world.other_super, world.other_town.villages[0])
    assert again.due_on == FRIDAY


def test_a_town_admin_cannot_touch_another_layer(world, two_towns, now):
    _mine, _theirs, other_admin, county = two_towns
    county_wide, _ = calendar_svc.add_override(db.session, county, now, D(2026, 12, 11), False,
                                               "全县放假")
    theirs, _ = calendar_svc.add_override(db.session, other_admin, now, D(2026, 12, 18), False,
                                          "南兴放假")
    db.session.commit()
    for override in (county_wide, theirs):
        with pytest.raises(NotFound):
            calendar_svc.remove_override(db.session, world.admin, now, override.id)
        db.session.rollback()
    with pytest.raises(PermissionDenied):
        calendar_svc.add_override(db.session, world.admin, now, D(2026, 12, 25), False,
                                  town_id=world.other_town.id)
    with pytest.raises(PermissionDenied):
        calendar_svc.add_override(db.session, world.supervisor, now, D(2026, 12, 25), False)


def test_the_county_layer_applies_to_every_town(world, two_towns, now):
    mine, theirs, _other_admin, county = two_towns
    override, changes = calendar_svc.add_override(db.session, county, now, FRIDAY, False,
                                                  "全县放假")
    db.session.commit()
    assert override.town_id is None
    assert {c.case_id for c in changes} == {mine.id, theirs.id}
    assert mine.due_on == theirs.due_on == D(2026, 12, 7)


def test_admin_page_adds_to_the_own_town_only(world, two_towns, client, auth):
    mine, theirs, _other_admin, _county = two_towns
    auth.login("admin")
    resp = client.post("/admin/calendar/overrides",
                       data={"day": FRIDAY.isoformat(), "is_workday": "0", "name": "镇庆"})
    assert resp.status_code in (200, 302), resp.get_data(as_text=True)[:500]
    db.session.expire_all()
    assert mine.due_on == D(2026, 12, 7) and theirs.due_on == FRIDAY
    assert _events(theirs) == []
