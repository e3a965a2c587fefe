"""A dashboard a leader reads in a minute (issue 12 item 4): what needs action first
(overdue, due soon, pending approvals, as of today), each a link to exactly those cases;
breakdowns folded; a grid worker's page titled with their village."""

from __future__ import annotations

import datetime as dt
import re

from cases.views_support import login_as, make_dispute, make_petition

from casetrack.cases import services as svc
from casetrack.extensions import db

TODAY = dt.date(2026, 11, 23)


def _actions(html: str) -> dict[str, tuple[int, str]]:
    """The action tiles: key -> (count, link)."""
    return {m.group("k"): (int(m.group("c")), m.group("h")) for m in re.finditer(
        r'data-action="(?P<k>\w+)" data-count="(?P<c>\d+)" href="(?P<h>[^"]+)"', html)}


def test_action_panel_comes_first_and_links_to_its_cases(client, world, now):
    late = make_petition(world, now, title="逾期")
    late.due_on = TODAY - dt.timedelta(days=1)
    soon = make_petition(world, now, title="将到期")
    soon.due_on = TODAY + dt.timedelta(days=1)
    pending = make_petition(world, now, title="延期待批")
    svc.accept_case(db.session, world.supervisor, now, pending)
    svc.assign_case(db.session, world.supervisor, now, pending, world.unit_xf.id, world.handler1.id)
    svc.request_extension(db.session, world.handler1, now, pending, 10, "需要勘查")
    db.session.commit()
    login_as(client, "leader")
    html = client.get("/dashboard").get_data(as_text=True)
    actions = _actions(html)
    assert {k: c for k, (c, _) in actions.items()} == {"overdue": 1, "due_soon": 1,
                                                       "approvals": 1, "reviews": 0}
    # first on the page: before the period form and the headline tiles
    assert html.index('data-action="overdue"') < html.index('name="as_of"')
    for key, expected in (("overdue", late), ("due_soon", soon), ("approvals", pending)):
        page = client.get(actions[key][1]).get_data(as_text=True).split("<main", 1)[1]
        assert re.findall(r'href="/cases/(\d+)"', page) == [str(expected.id)], key
    # breakdowns are folded
    assert html.count('<details class="card fold">') >= 4
    assert '<details class="card fold" open' not in html


def test_grid_worker_dashboard_is_titled_with_the_village(client, world, now):
    make_dispute(world, now)
    login_as(client, "grid1")
    html = client.get("/dashboard").get_data(as_text=True)
    assert f"<h1>{world.v1.name} 统计</h1>" in html
    assert f"<h1>{world.town.name} 统计</h1>" not in html
