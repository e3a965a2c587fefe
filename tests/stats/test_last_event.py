"""``cases.last_event_at`` is kept by the database for every writer, and the figures that
skip the cases whose latest event lies before the cut-off equal the full pass.

The full pass is the same statement with every ``last_event_at`` set to NULL (NULL means
"look for its later events"), run inside a savepoint that is rolled back.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from imports.import_support import csv_bytes, row
from sqlalchemy import delete, func, insert, select, text, update
from stats.builder import CaseBuilder, at

from casetrack.auth.models import User
from casetrack.cases import services as svc
from casetrack.cases.models import Case, CaseEvent
from casetrack.extensions import db
from casetrack.stats import cache
from casetrack.stats import queries as sq

D = dt.date
YEAR = {"from": "2025-01-01", "to": "2025-12-31", "as_of": "2025-12-31"}
Q = sq.StatsQuery(D(2025, 1, 1), D(2025, 12, 31), D(2025, 12, 31))
#: an instant after the cut-off's end (2025-12-31 in the town's zone)
AFTER = at(D(2026, 1, 6))


def _stored() -> dict[int, dt.datetime | None]:
    """Each case's ``last_event_at`` as stored."""
    return {cid: v for cid, v in db.session.execute(select(Case.id, Case.last_event_at))}


def _latest() -> dict[int, dt.datetime | None]:
    """Each case's latest event instant, from the events."""
    latest = dict(db.session.execute(select(CaseEvent.case_id, func.max(CaseEvent.at))
                                     .group_by(CaseEvent.case_id)).all())
    return {cid: latest.get(cid) for cid in db.session.scalars(select(Case.id))}


def _assert_kept() -> None:
    db.session.flush()
    assert _stored() == _latest()


def test_last_event_at_follows_every_writer(world):
    """Services (with past instants, in any order), Core and raw SQL inserts, updates of an
    event's instant or case, deletes of the latest event or of every event, and a deleted
    case: the column is always the instant of the case's latest event."""
    b = CaseBuilder(world)
    one = b.petition(D(2025, 3, 1), accept=D(2025, 3, 10))
    two = b.dispute(D(2025, 5, 1), mediate=D(2025, 5, 2))
    db.session.commit()
    _assert_kept()
    assert _stored()[one.id] == at(D(2025, 3, 10), 11)  # assigned after its acceptance

    # a step recorded with an instant before the case's latest event (back-dated) moves
    # nothing; one after it moves the column
    svc.record_progress(db.session, world.supervisor, at(D(2025, 3, 5)), one, "补记进展")
    _assert_kept()
    assert _stored()[one.id] == at(D(2025, 3, 10), 11)
    svc.record_progress(db.session, world.supervisor, AFTER, one, "后续进展")
    _assert_kept()
    assert _stored()[one.id] == AFTER

    # Core and raw SQL
    db.session.execute(insert(CaseEvent).values(case_id=two.id, at=at(D(2026, 2, 1)),
                                                action="progress", changes={}, note=""))
    _assert_kept()
    db.session.execute(text(
        "INSERT INTO case_events (case_id, at, action, changes, note) "
        "VALUES (:c, :at, 'progress', '{}', '')"),
        {"c": two.id, "at": CaseEvent.at.type.process_bind_param(
            at(D(2026, 3, 1)), db.engine.dialect)})
    _assert_kept()
    assert _stored()[two.id] == at(D(2026, 3, 1))

    # the latest event moved earlier, moved to another case, deleted; the other events too
    latest_two = db.session.scalar(select(CaseEvent.id).where(CaseEvent.case_id == two.id)
                                   .order_by(CaseEvent.at.desc()).limit(1))
    db.session.execute(update(CaseEvent).where(CaseEvent.id == latest_two)
                       .values(at=at(D(2025, 1, 1))))
    _assert_kept()
    assert _stored()[two.id] == at(D(2026, 2, 1))
    db.session.execute(update(CaseEvent).where(CaseEvent.id == latest_two)
                       .values(case_id=one.id, at=at(D(2026, 4, 1))))
    _assert_kept()
    assert _stored()[one.id] == at(D(2026, 4, 1))
    db.session.execute(delete(CaseEvent).where(CaseEvent.id == latest_two))
    _assert_kept()
    assert _stored()[one.id] == AFTER
    db.session.execute(delete(CaseEvent).where(CaseEvent.case_id == two.id))
    _assert_kept()
    assert _stored()[two.id] is None

    # a case deleted with its events (the foreign key's cascade)
    db.session.execute(delete(Case).where(Case.id == two.id))
    _assert_kept()
    db.session.commit()
    _assert_kept()


def _snapshot(client) -> tuple:
    """Every figure of the year, each figure's cases (ids, status and due date on the
    cut-off) and the leader's drill-down pages' case numbers, computed afresh."""
    cache.clear_memory()
    scope = db.session.scalars(select(User).where(User.username == "leader")).one()
    metrics = tuple(sq.METRICS)
    figures = sq._figures_rows(db.session, scope, Q, ("kind", "village"), metrics)
    lists = {m: [(c.id, s, str(d)) for c, s, d in db.session.execute(
        sq.metric_rows(scope, Q, m))] for m in metrics}
    # the drill-down's narrow rows are the same cases in the same order
    assert lists == {m: [(i, s, str(d)) for i, s, d in db.session.execute(
        sq.metric_ids(scope, Q, m))] for m in metrics}
    pages = {}
    for metric in ("total", "closed", "open", "overdue"):
        cache.clear_memory()
        html = client.get("/dashboard/cases", query_string={"metric": metric, **YEAR}
                          ).get_data(as_text=True)
        pages[metric] = re.findall(r"北和[信调]〔\d+〕\d+号", html)
    return sorted(figures, key=repr), lists, pages


def _full_pass(client) -> tuple:
    """``_snapshot`` with every case's later events looked for (``last_event_at`` NULL)."""
    nested = db.session.begin_nested()
    db.session.execute(update(Case).values(last_event_at=None))
    try:
        return _snapshot(client)
    finally:
        nested.rollback()


def _closed(snapshot) -> int:
    return sum(counts["closed"] for _key, counts in snapshot[0])


@pytest.fixture
def year(world):
    """Cases of 2025: closed in the year, open at its end and closed later, still open."""
    b = CaseBuilder(world)
    b.petition(D(2025, 3, 1), accept=D(2025, 3, 2), close=D(2025, 4, 1))
    b.petition(D(2025, 11, 10), accept=D(2025, 11, 11), close=D(2026, 1, 20))
    b.petition(D(2025, 6, 1), source="visit", village=world.v2, accept=D(2025, 6, 3))
    b.dispute(D(2025, 2, 1), mediate=D(2025, 2, 2), resolve=D(2025, 2, 20),
              follow_up=D(2025, 3, 5), close=D(2025, 3, 5))
    b.dispute(D(2025, 9, 1), village=world.v2, mediate=D(2025, 9, 1))
    db.session.commit()
    return b


def _closed_in_2025(world, b) -> Case:
    """A petition of 2025 closed in 2025, no event after the year."""
    case = b.petition(D(2025, 4, 1), accept=D(2025, 4, 2), close=D(2025, 5, 1))
    db.session.commit()
    return case


@pytest.mark.parametrize("writer", ["service", "core", "raw", "moved"])
def test_a_later_step_however_written_counts_as_in_the_full_pass(client, auth, world, year,
                                                                 writer):
    """A closed case reopened (sent back for rework) after the cut-off, its only later event
    written back-dated through the service, by Core, by raw SQL, or moved there from before
    the cut-off: the figures and the drill-down count it closed on the cut-off (its current
    status is open), exactly as the full pass does."""
    auth.login("leader")
    case = _closed_in_2025(world, year)
    before = _snapshot(client)
    assert before == _full_pass(client)
    changes = {"status": ["closed", "handling"]}
    if writer == "service":  # recorded now with the instant it happened (after the cut-off)
        from casetrack.cases.kinds.petition.services import rework_case
        rework_case(db.session, world.supervisor, AFTER, case, "上级退回重办")
    else:
        db.session.execute(update(Case).where(Case.id == case.id)
                           .values(status="handling", is_open=True, closed_on=None))
        changes["closed_on"] = ["2025-05-01", None]
        values = dict(case_id=case.id, at=AFTER, action="rework", from_status="closed",
                      to_status="handling", changes=changes, note="")
        if writer == "core":
            db.session.execute(insert(CaseEvent).values(**values))
        elif writer == "raw":
            db.session.execute(text(
                "INSERT INTO case_events (case_id, at, action, from_status, to_status, "
                "changes, note) VALUES (:c, :at, 'rework', 'closed', 'handling', :ch, '')"),
                {"c": case.id, "ch": '{"status": ["closed", "handling"], '
                                     '"closed_on": ["2025-05-01", null]}',
                 "at": CaseEvent.at.type.process_bind_param(AFTER, db.engine.dialect)})
        else:  # an event first recorded in 2025, then its instant corrected to 2026
            values["at"] = at(D(2025, 5, 2))
            event_id = db.session.execute(insert(CaseEvent).values(**values)
                                          .returning(CaseEvent.id)).scalar_one()
            db.session.execute(update(CaseEvent).where(CaseEvent.id == event_id)
                               .values(at=AFTER))
    db.session.commit()
    assert db.session.scalar(select(Case.last_event_at).where(Case.id == case.id)) == AFTER
    after = _snapshot(client)
    assert after == _full_pass(client)
    assert _closed(after) == _closed(before)  # still closed on the cut-off
    # read from its later event: its current status (open) would list it under 未办结
    assert case.number in after[2]["closed"] and case.number not in after[2]["open"]


def test_a_deleted_later_event_and_an_imported_case_count_as_in_the_full_pass(
        client, auth, world, year, runner, tmp_path):
    """The only later event of a case deleted (its latest event is then before the cut-off
    again: its current values count), and a case of 2025 imported today (its registration
    is after the cut-off: not in the cohort): the same figures and lists as the full pass."""
    auth.login("leader")
    case = _closed_in_2025(world, year)
    later = db.session.execute(insert(CaseEvent).values(
        case_id=case.id, at=AFTER, action="progress", changes={"category": ["教育", "城乡建设"]},
        note="")).inserted_primary_key[0]
    db.session.commit()
    moved = _snapshot(client)
    assert moved == _full_pass(client)
    assert any(key.get("kind") == "petition" for key, _ in moved[0])
    db.session.execute(delete(CaseEvent).where(CaseEvent.id == later))
    db.session.commit()
    assert db.session.scalar(select(Case.last_event_at).where(Case.id == case.id)) == \
        at(D(2025, 5, 1))
    gone = _snapshot(client)
    assert gone == _full_pass(client)

    path = tmp_path / "交办.csv"
    path.write_bytes(csv_bytes([row(1, 收到日期="2025-06-01", 上级办理期限="2025-07-01")]))
    result = runner.invoke(args=["cases", "import", str(path), "--user", "super"])
    assert result.exit_code == 0, result.output
    db.session.rollback()
    imported = db.session.scalars(select(Case).where(Case.received_on == D(2025, 6, 1),
                                                     Case.source == "assigned")).one()
    assert imported.last_event_at > AFTER  # registered today
    with_import = _snapshot(client)
    assert with_import == _full_pass(client)
    assert with_import == gone  # not registered on the cut-off: in no figure
