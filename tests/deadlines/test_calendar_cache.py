"""The calendar is read once per transaction, and never stale: any write of an override or an
entered year in the session (added, changed in place, deleted, bulk-deleted), or the end of
the transaction, makes the next ``load_calendar`` read the database again."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, event

from casetrack.cases import due_updates as cal_svc
from casetrack.deadlines.calendar import load_calendar
from casetrack.deadlines.models import CalendarYear, HolidayOverride
from casetrack.extensions import db

#: a Saturday and a Monday of 2026 (years the package knows)
SATURDAY = dt.date(2026, 12, 5)
MONDAY = dt.date(2026, 12, 7)


class Statements:
    """Counts the SQL statements the session's engine runs."""

    def __init__(self):
        self.count = 0

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args):
        self.count += 1


def test_loaded_once_per_transaction(app):
    first = load_calendar(db.session)
    with Statements() as sql:
        again = load_calendar(db.session)
    assert again is first and sql.count == 0
    db.session.commit()
    assert load_calendar(db.session) is not first  # a new transaction reads it again


def test_an_override_added_but_not_yet_flushed_counts_at_once(app):
    assert load_calendar(db.session).is_workday(SATURDAY) is False
    db.session.add(HolidayOverride(day=SATURDAY, is_workday=True, name="调休"))
    assert load_calendar(db.session).is_workday(SATURDAY) is True
    db.session.flush()
    assert load_calendar(db.session).is_workday(SATURDAY) is True


def test_changed_in_place_deleted_and_bulk_deleted_overrides_count_at_once(app):
    override = HolidayOverride(day=MONDAY, is_workday=False, name="假日")
    db.session.add(override)
    db.session.commit()
    assert load_calendar(db.session).is_workday(MONDAY) is False

    override.is_workday = True  # changed in place, not flushed
    assert load_calendar(db.session).is_workday(MONDAY) is True

    db.session.delete(override)  # marked for deletion, not flushed
    assert load_calendar(db.session).is_workday(MONDAY) is True  # a plain Monday
    db.session.rollback()

    assert load_calendar(db.session).is_workday(MONDAY) is False
    db.session.execute(delete(HolidayOverride).where(HolidayOverride.day == MONDAY))
    assert load_calendar(db.session).is_workday(MONDAY) is True
    db.session.rollback()


def test_an_entered_year_counts_at_once(app):
    assert not load_calendar(db.session).knows(2031)
    db.session.add(CalendarYear(year=2031, source="国办发明电〔2030〕x号"))
    assert load_calendar(db.session).knows(2031)
    db.session.rollback()
    assert not load_calendar(db.session).knows(2031)


def test_a_change_committed_by_another_session_is_seen_by_the_next_transaction(app):
    assert load_calendar(db.session).is_workday(SATURDAY) is False
    db.session.commit()
    other = db.session.session_factory()
    try:
        other.add(HolidayOverride(day=SATURDAY, is_workday=True, name="调休"))
        other.commit()
    finally:
        other.close()
    assert load_calendar(db.session).is_workday(SATURDAY) is True


def test_the_calendar_service_writes_then_counts_with_what_it_wrote(world, now):
    """add_override flushes the new day and recomputes due dates in the same transaction:
    the recomputation must not use the calendar read before the write."""
    town = world.town.id  # the admin edits the town's own layer
    load_calendar(db.session, town)  # cached before the write
    override, _changes = cal_svc.add_override(db.session, world.admin, now, SATURDAY, True,
                                              "调休")
    assert load_calendar(db.session, town).is_workday(SATURDAY) is True
    _removed, _changes = cal_svc.remove_override(db.session, world.admin, now, override.id)
    assert load_calendar(db.session, town).is_workday(SATURDAY) is False
