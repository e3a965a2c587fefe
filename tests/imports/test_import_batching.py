"""What a big import does once per file instead of once per row, with the same outcome as
registering the rows one by one: the case numbers (reserved in one UPDATE, safe beside
registrations running at the same time), the earlier cases of each petitioner (重信重访), the
work calendar. The SQL an import runs per row stays small and does not grow with the file."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from import_support import ID_OK, row, xlsx_bytes
from sqlalchemy import event, select

from casetrack.auth.models import User
from casetrack.cases import importing
from casetrack.cases import services as svc
from casetrack.cases.models import Case
from casetrack.cases.repeats import EarlierCases, find_earlier_cases
from casetrack.extensions import db

ID_OTHER = "11010519491231002X"


def preview_of(world, now, data, actor=None):
    sheet = importing.read_sheet("清单.xlsx", data)
    return importing.preview_import(db.session, actor or world.supervisor, now, sheet,
                                    importing.auto_mapping(sheet.headers))


def register(actor, now, village, parties, received_on=dt.date(2026, 11, 2)) -> Case:
    data = svc.CaseInput(
        kind="petition", title="反映问题（虚构）", source="visit", received_on=received_on,
        petition_class="申诉求决", category="其他", village_id=village.id if village else None,
        parties=[svc.PartyInput(name=n, id_number=i) for n, i in parties])
    case = svc.register_case(db.session, actor, now, data)
    db.session.commit()
    return case


def test_earlier_cases_of_a_whole_file_match_one_registration_at_a_time(world, now):
    """``EarlierCases`` answers exactly what ``find_earlier_cases`` answers, for each actor's
    scope, for ID numbers (any case, spaces), names given without an ID, and mixtures."""
    register(world.supervisor, now, world.v1, [("张三", ID_OK)], dt.date(2026, 10, 1))
    register(world.supervisor, now, world.v1, [("张三", "")], dt.date(2026, 10, 5))
    register(world.supervisor, now, world.v2, [("张三", "")], dt.date(2026, 10, 5))
    register(world.supervisor, now, world.v2, [("李四", ""), ("王五", ID_OTHER)],
             dt.date(2026, 9, 1))
    register(world.supervisor, now, None, [("李四", ID_OK)], dt.date(2026, 11, 1))
    register(world.other_super, now, world.other_town.villages[0], [("张三", ID_OK)])
    asks = [
        (["张三"], [""]), (["张三"], [ID_OK]), ([" 张三 "], [" " + ID_OK.lower()]),
        (["李四"], [""]), (["王五", "赵六"], [ID_OTHER.lower(), ""]), (["无名"], [""]),
        (["李四", "张三"], ["", ""]), ([], []), ([""], [""]),
    ]
    for actor in (world.supervisor, world.grid1, world.grid2, world.handler1,
                  world.other_super):
        index = EarlierCases(db.session, actor, asks)
        for names, ids in asks:
            expected = find_earlier_cases(db.session, actor, names, ids)
            got = index.find(names, ids)
            assert {c.id for c in got} == {c.id for c in expected}, (actor.username, names)
            assert [c.received_on for c in got] == [c.received_on for c in expected]
            assert all(g.number == db.session.get(Case, g.id).number for g in got)


def test_a_petitioner_twice_in_the_file_is_a_repeat_the_second_time(world, now):
    earlier = register(world.supervisor, now, world.v1, [("龚堃（虚构）", ID_OK)])
    rows = [
        row(1, 信访人姓名="李喆（虚构）", 身份证号=""),
        row(2, 信访人姓名="李喆（虚构）", 身份证号="", 承办单位="信访办"),
        row(3, 信访人姓名="另一人（虚构）", 身份证号=ID_OK.lower()),  # the earlier case's ID
        row(4, 信访人姓名="新人（虚构）", 身份证号=""),
    ]
    result = importing.run_import(db.session, world.supervisor, now,
                                  preview_of(world, now, xlsx_bytes(rows)))
    db.session.commit()
    cases = {c.number: c for c in db.session.scalars(select(Case))}
    first, second, third, fourth = (cases[n] for n in result.imported)
    assert (first.is_repeat, second.is_repeat, third.is_repeat, fourth.is_repeat) == (
        False, True, True, False)
    assert f"重信重访：同一当事人此前有 {first.number}" in second.events[0].note
    assert f"重信重访：同一当事人此前有 {earlier.number}" in third.events[0].note
    assert "重信重访" not in fourth.events[0].note


def test_numbers_reserved_for_a_file_follow_the_rows_per_year(world, now):
    rows = [row(1, 收到日期="2026-01-05"), row(2, 收到日期="2025-12-30", 上级办理期限="2026-02-01"),
            row(3, 收到日期="2026-02-01"), row(4, 收到日期="2025-12-31", 上级办理期限="2026-02-01")]
    register(world.supervisor, now, world.v1, [("先登记（虚构）", "")])  # 北和信〔2026〕1号
    result = importing.run_import(db.session, world.supervisor, now,
                                  preview_of(world, now, xlsx_bytes(rows)))
    db.session.commit()
    assert result.imported == ["北和信〔2026〕2号", "北和信〔2025〕1号", "北和信〔2026〕3号",
                               "北和信〔2025〕2号"]
    assert register(world.supervisor, now, world.v1, [("后登记（虚构）", "")]).number == \
        "北和信〔2026〕4号"


@pytest.mark.slow
def test_an_import_beside_registrations_at_the_same_moment_no_duplicate_no_gap(app, world, now):
    """One thread imports 60 rows (its numbers reserved in one UPDATE) while three others
    register cases one by one, committing each: every number is used once, with no gap."""
    super_id, village_id = world.supervisor.id, world.v1.id
    data = xlsx_bytes([row(n, 承办单位="信访办" if n % 2 else "") for n in range(1, 61)])
    db.session.remove()
    barrier = threading.Barrier(4, timeout=60)
    errors: list[BaseException] = []

    def importer() -> None:
        try:
            with app.app_context():
                barrier.wait()
                actor = db.session.get(User, super_id)
                preview = preview_of(world, now, data, actor)
                importing.run_import(db.session, actor, now, preview)
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001  (reported below)
            errors.append(exc)

    def registrar(i: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                actor = db.session.get(User, super_id)
                for n in range(5):
                    data_in = svc.CaseInput(
                        kind="petition", title=f"线程{i}第{n}件", source="visit",
                        received_on=dt.date(2026, 11, 20), petition_class="申诉求决",
                        village_id=village_id, parties=[svc.PartyInput(name=f"人{i}{n}")])
                    svc.register_case(db.session, actor, now, data_in)
                    db.session.commit()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=importer)] + [
        threading.Thread(target=registrar, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    seqs = sorted(db.session.scalars(select(Case.number_seq).where(Case.number_year == 2026)))
    assert seqs == list(range(1, 76))


def test_the_sql_of_an_import_per_row_is_small_and_does_not_grow(world, now):
    """The calendar, the counters and the earlier cases are read once per file; what is left
    per row is writing it (and, for a row naming a unit, its handlers and their settings)."""

    def statements_for(n: int, first: int) -> list[str]:
        rows = [row(first + k, 承办单位="信访办" if k % 2 else "") for k in range(n)]
        preview = preview_of(world, now, xlsx_bytes(rows))
        seen: list[str] = []

        def log(_conn, _cursor, statement, *_args) -> None:
            seen.append(re.sub(r"\s+", " ", statement))

        event.listen(db.engine, "before_cursor_execute", log)
        try:
            importing.run_import(db.session, world.supervisor, now, preview)
        finally:
            event.remove(db.engine, "before_cursor_execute", log)
        db.session.commit()
        return seen

    small, big = statements_for(20, 1), statements_for(60, 1000)
    for seen in (small, big):
        assert sum("FROM holiday_overrides" in s for s in seen) == 1
        assert sum("FROM calendar_years" in s for s in seen) == 1
        assert sum(s.startswith("UPDATE case_number_counters") for s in seen) == 1
        assert sum("JOIN parties" in s for s in seen) <= 2  # by ID numbers, by names
        assert not any(s.startswith(("SELECT towns", "SELECT villages.", "SELECT units."))
                       and "WHERE towns.id = " in s for s in seen)
    # unassigned rows: 3 INSERTs (case, party, event); assigned ones: accept and assign too
    assert len(big) - len(small) <= 40 * 8
