"""Figures that follow the rules (issue 8.6, 8.8): disputes are on time when their mediation
is, the follow-up visit has its own figure, and the headline cards partition the cohort."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from stats.builder import CaseBuilder, at

from casetrack.cases import services as svc
from casetrack.extensions import db
from casetrack.stats import queries as sq
from casetrack.stats.metrics import PARTITION

D = dt.date


@pytest.fixture
def build(world) -> CaseBuilder:
    return CaseBuilder(world)


YEAR_END = D(2022, 12, 31)


def _q(as_of=YEAR_END):
    return sq.StatsQuery(D(2022, 1, 1), D(2022, 12, 31), as_of)


def test_dispute_on_time_compares_the_mediation_outcome_with_its_due_date(world, build):
    # found 2022-03-01: one month = 2022-04-01 (Friday)
    on_time = build.dispute(D(2022, 3, 1), mediate=D(2022, 3, 2), resolve=D(2022, 3, 30),
                            follow_up=D(2022, 4, 20), close=D(2022, 5, 10))
    late = build.dispute(D(2022, 3, 1), mediate=D(2022, 3, 2), resolve=D(2022, 4, 6),
                         follow_up=D(2022, 4, 20), close=D(2022, 4, 21))
    db.session.commit()
    assert on_time.mediation_due_on == D(2022, 4, 1) and on_time.mediated_on == D(2022, 3, 30)
    assert (on_time.due_rule, on_time.due_on) == ("dispute.follow_up", D(2022, 4, 29))
    assert late.mediated_on == D(2022, 4, 6)
    counts = sq.totals(db.session, world.leader, _q()).counts
    # the first closed long after its mediation due date, yet its mediation was on time
    assert (counts["closed"], counts["closed_on_time"]) == (2, 1)


def test_terminated_mediation_counts_by_its_termination_day(world, build):
    case = build.dispute(D(2022, 3, 1), mediate=D(2022, 3, 2))
    svc.terminate_dispute(db.session, world.supervisor, at(D(2022, 3, 20)), case,
                          "双方分歧较大，已告知可向法院起诉")
    svc.close_case(db.session, world.supervisor, at(D(2022, 4, 15)), case,
                   closed_on=D(2022, 4, 15))
    db.session.commit()
    counts = sq.totals(db.session, world.leader, _q()).counts
    assert (counts["closed"], counts["closed_on_time"]) == (1, 1)


def test_follow_up_has_its_own_rule_and_rate(world, build):
    # resolved 2022-03-10: follow-up due 30 days later, 2022-04-11 (Saturday 04-09 moved)
    a = build.dispute(D(2022, 3, 1), mediate=D(2022, 3, 2), resolve=D(2022, 3, 10),
                      follow_up=D(2022, 4, 8))
    build.dispute(D(2022, 3, 1), mediate=D(2022, 3, 2), resolve=D(2022, 3, 10),
                  follow_up=D(2022, 5, 20))
    build.dispute(D(2022, 3, 1), mediate=D(2022, 3, 2), resolve=D(2022, 3, 10))
    db.session.commit()
    assert a.follow_up_due_on == D(2022, 4, 11)
    row = sq.totals(db.session, world.leader, _q())
    assert (row.counts["followed_up"], row.counts["followed_up_on_time"]) == (2, 1)
    rate = row.rates["follow_up_on_time_rate"]
    assert (rate.label, rate.numerator, rate.denominator) == ("按期回访率", 1, 2)
    # before the second visit was made, only one had been visited
    row = sq.totals(db.session, world.leader, _q(D(2022, 4, 30)))
    assert (row.counts["followed_up"], row.counts["followed_up_on_time"]) == (1, 1)


def test_headline_cards_partition_the_cohort(world, build, client, auth):
    build.petition(D(2022, 3, 1), accept=D(2022, 3, 2), close=D(2022, 4, 10))
    build.petition(D(2022, 6, 1), accept=D(2022, 6, 2))
    rejected = build.petition(D(2022, 7, 1), source="visit")
    svc.reject_case(db.session, world.supervisor, at(D(2022, 7, 2)), rejected, "不属于信访事项")
    build.dispute(D(2022, 8, 1))
    db.session.commit()
    counts = sq.totals(db.session, world.leader, _q()).counts
    assert sum(counts[k] for k in PARTITION) == counts["total"] == 4
    auth.login("leader")
    page = client.get("/dashboard?from=2022-01-01&to=2022-12-31&as_of=2022-12-31")
    html = page.get_data(as_text=True)
    tiles: dict[str, str] = {}
    for metric, count in re.findall(
            r'class="tile figure[^"]*" data-metric="(\w+)" data-count="(\d+)"', html):
        tiles.setdefault(metric, count)  # the per-kind tiles come after the headline
    assert int(tiles["closed"]) + int(tiles["open"]) + int(tiles["ended"]) == int(tiles["total"])
    # the cards use the case list's status names
    assert "在办（未办结）" in html and "不予受理/已退回" in html
    assert "在办（未办结）" in client.get("/cases").get_data(as_text=True)
