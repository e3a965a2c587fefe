"""Figures as of a cut-off, reconstructed from the timeline, against the real database."""

import datetime as dt

import pytest
from stats.builder import CaseBuilder

from casetrack.extensions import db
from casetrack.stats import queries as sq

D = dt.date


@pytest.fixture
def build(world) -> CaseBuilder:
    """Case histories of the ``world`` town, built through the services."""
    return CaseBuilder(world)


@pytest.fixture
def history(world, build):
    """Petitions and disputes of 2022 (and one of 2021) with known histories."""
    c = {}
    c["p1"] = build.petition(D(2022, 3, 1), accept=D(2022, 3, 2), close=D(2022, 4, 10))
    # accepted 19 days after receipt (not timely), closed only in January 2023
    c["p2"] = build.petition(D(2022, 6, 1), accept=D(2022, 6, 20), close=D(2023, 1, 5),
                             category="农村农业", village=world.v2)
    # due 2022-11-30 (the city's date); a 30-day extension approved on 2022-12-10
    c["p3"] = build.petition(D(2022, 10, 1), accept=D(2022, 10, 2), extend=(D(2022, 12, 10), 30))
    c["p4"] = build.petition(D(2022, 12, 30))
    # received on 31 December but registered only on 3 January: not in the books at the cut-off
    c["p5"] = build.petition(D(2022, 12, 31), registered=D(2023, 1, 3))
    c["p6"] = build.petition(D(2021, 12, 20), accept=D(2021, 12, 21))
    c["p7"] = build.petition(D(2022, 5, 1), source="visit", accept=D(2022, 5, 2),
                             close=D(2022, 5, 20), rating="基本满意")
    # closed in March 2022, sent back for rework in February 2023
    c["p8"] = build.petition(D(2022, 2, 1), accept=D(2022, 2, 2), close=D(2022, 3, 1),
                             rework=D(2023, 2, 1))
    c["d1"] = build.dispute(D(2022, 4, 1), mediate=D(2022, 4, 2), resolve=D(2022, 4, 10),
                            follow_up=D(2022, 4, 20), close=D(2022, 4, 21))
    c["d2"] = build.dispute(D(2022, 5, 1), village=world.v2, mediate=D(2022, 5, 2),
                            escalate=D(2022, 5, 10), resolve=D(2022, 5, 20))
    c["d3"] = build.dispute(D(2022, 8, 1), village=world.v2, category="房屋宅基地")
    db.session.commit()
    return c


YEAR_END = D(2022, 12, 31)


def year(as_of=YEAR_END, **kw):
    return sq.StatsQuery(D(2022, 1, 1), D(2022, 12, 31), as_of, **kw)


def test_assigned_petitions_as_of_year_end(world, history):
    t = sq.totals(db.session, world.leader, year(kind="petition", source="assigned"))
    assert t.counts["total"] == 5  # p1 p2 p3 p4 p8; p5 registered after the cut-off
    assert t.counts["closed"] == 2  # p1, p8 (its rework came later)
    assert t.counts["open"] == 3  # p2 was closed only in 2023
    assert t.counts["overdue"] == 2  # p2, p3 (extended to 2022-12-30)
    assert t.rates["close_rate"].numerator == 2 and t.rates["close_rate"].denominator == 5
    assert t.rates["close_rate"].percent == "40.0%"


def test_all_figures_and_rates(world, history):
    t = sq.totals(db.session, world.supervisor, year())
    c = t.counts
    assert (c["total"], c["closed"], c["open"], c["overdue"]) == (9, 4, 5, 3)
    assert (c["accepted"], c["accepted_timely"]) == (5, 4)
    assert (c["closed_on_time"], c["closed_petitions"], c["rated"], c["satisfied"]) == (4, 3, 3, 3)
    assert (c["disputes"], c["resolved"], c["resolved_village"]) == (3, 2, 1)
    r = t.rates
    assert (r["timely_accept_rate"].numerator, r["timely_accept_rate"].denominator) == (4, 5)
    assert r["village_resolve_rate"].percent == "50.0%"


def test_a_later_print_gives_the_same_figures(world, history, build):
    before = sq.summary(db.session, world.leader, year()).to_dict()
    build.petition(D(2023, 3, 1), accept=D(2023, 3, 2), close=D(2023, 3, 20))
    db.session.commit()
    assert sq.summary(db.session, world.leader, year()).to_dict() == before
    # ...while today's status differs: p2 closed, p8 reopened
    today = sq.totals(db.session, world.leader, year(as_of=D(2026, 11, 23), kind="petition"))
    assert today.counts["closed"] == 3 and today.counts["total"] == 7


def test_due_date_as_of_cut_off_ignores_later_extension(world, history):
    t = sq.totals(db.session, world.leader, year(as_of=D(2022, 12, 5), kind="petition"))
    # p3 was due 2022-11-30 on 5 December (its extension came on the 10th): overdue then
    overdue = sq.overdue_cases(db.session, world.leader, year(as_of=D(2022, 12, 5)))
    ids = [o.case_id for o in overdue]
    assert history["p3"].id in ids and history["p2"].id in ids
    assert t.counts["overdue"] == 2
    p3 = next(o for o in overdue if o.case_id == history["p3"].id)
    assert p3.due_on == D(2022, 11, 30) and p3.days_overdue == 5 and p3.handler == "承办人甲"


def test_breakdowns_include_zero_rows(world, history):
    rows = sq.breakdown(db.session, world.leader, year(), "village")
    assert [r.label for r in rows] == ["北和社区", "鹅感村"]
    assert [r.counts["total"] for r in rows] == [6, 3]
    months = sq.breakdown(db.session, world.leader, year(), "month")
    assert len(months) == 12 and months[0].label == "2022年1月"
    assert [m.counts["total"] for m in months] == [0, 1, 1, 1, 2, 1, 0, 1, 0, 1, 0, 1]
    kinds = sq.breakdown(db.session, world.leader, year(), "kind")
    assert [(k.label, k.counts["total"]) for k in kinds] == [("信访事项", 6), ("矛盾纠纷", 3)]
    cats = {r.label: r.counts["total"] for r in sq.breakdown(db.session, world.leader, year(),
                                                               "category")}
    assert cats == {"城乡建设": 5, "农村农业": 1, "邻里": 2, "房屋宅基地": 1}
    units = {r.label: r.counts["total"] for r in sq.breakdown(db.session, world.leader, year(),
                                                                "unit")}
    assert units == {"综治办": 0, "信访办": 5, "司法所": 0, "未交办": 4}


def test_scope_grid_worker_and_other_town(world, history):
    g = sq.totals(db.session, world.grid1, year())
    assert g.counts["total"] == 6
    rows = sq.breakdown(db.session, world.grid1, year(), "village")
    assert [r.label for r in rows] == ["北和社区"]
    assert sq.totals(db.session, world.other_super, year()).counts["total"] == 0


def test_drill_down_lists_exactly_the_counted_cases(world, history):
    q = year()
    t = sq.totals(db.session, world.leader, q)
    for key, count in t.counts.items():
        cases = db.session.scalars(sq.metric_cases(world.leader, q, key)).all()
        assert len(cases) == count, key
    overdue = {c.id for c in db.session.scalars(sq.metric_cases(world.leader, q, "overdue"))}
    assert overdue == {history["p2"].id, history["p3"].id, history["d3"].id}


def test_summary_dict_shape(world, history):
    d = sq.summary(db.session, world.leader, year()).to_dict()
    assert d["town"] == "北和镇" and d["as_of"] == "2022-12-31"
    kinds = {k["kind"]: k["counts"] for k in d["by_kind"]}
    assert kinds["petition"]["total"] == 6 and kinds["dispute"]["total"] == 3
    sources = {s["source"]: s["counts"]["total"] for s in d["by_source"]}
    assert sources["assigned"] == 5 and sources["visit"] == 1 and sources["letter"] == 0
    assert d["totals"]["rates"]["close_rate"] == {
        "label": "办结率", "numerator": 4, "denominator": 9, "value": 0.4444, "percent": "44.4%"}


def test_reused_statements_take_each_querys_values(world, history):
    """Queries of one shape share a built statement: each must still get its own figures,
    the same as the drill-down lists (built afresh with the values inlined as parameters)."""
    queries = [year(kind="petition"), year(kind="dispute"),
               year(as_of=D(2022, 6, 30), kind="petition"), year(as_of=D(2023, 2, 28),
                                                                  kind="petition"),
               year(village_id=world.v1.id), year(village_id=world.v2.id),
               year(village_id=sq.NONE_ID), year(month="2022-05"), year(month="2022-10")]
    seen = {}
    for scope in (world.leader, world.grid1, world.grid2, world.other_super):
        for q in queries * 2:  # the second round runs on cached statements only
            counts = sq.totals(db.session, scope, q).counts
            key = (scope.id, q)
            if key in seen:
                assert counts == seen[key]
                continue
            seen[key] = counts
            for metric in ("total", "closed", "open", "overdue"):
                listed = db.session.scalars(sq.metric_cases(scope, q, metric)).all()
                assert counts[metric] == len(listed), (scope.username, q, metric)
    # the values do reach the SQL: different periods, kinds and villages differ
    assert seen[(world.leader.id, year(kind="petition"))]["total"] == 6
    assert seen[(world.leader.id, year(kind="dispute"))]["total"] == 3
    assert seen[(world.leader.id, year(as_of=D(2022, 6, 30), kind="petition"))]["closed"] == 3
    assert seen[(world.leader.id, year(village_id=world.v2.id))]["total"] == 3
    assert seen[(world.grid2.id, year(village_id=world.v1.id))]["total"] == 0
    assert seen[(world.other_super.id, year(kind="petition"))]["total"] == 0
    limited = sq.overdue_cases(db.session, world.leader, year(), limit=1)
    every = sq.overdue_cases(db.session, world.leader, year())
    assert len(every) == 3 and [o.case_id for o in limited] == [every[0].case_id]
