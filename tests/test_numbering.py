"""Case numbers (GB/T 9704): per town, kind and year, no gaps in normal use, never a duplicate,
also when eight users register at the same moment (real threads, real commits, on the
database the suite runs on: the SQLite file, or PostgreSQL in CI)."""

from __future__ import annotations

import datetime as dt
import re
import threading

import pytest
from sqlalchemy import delete, select

from casetrack.auth.models import User
from casetrack.cases import services as svc
from casetrack.cases.models import Case, CaseNumberCounter
from casetrack.cases.numbering import DEFAULT_PREFIXES
from casetrack.core.errors import ValidationError
from casetrack.extensions import db
from casetrack.org.models import CaseNumberPrefix
from casetrack.org.services import set_number_prefix

NUMBER_RE = re.compile(r"^(?P<code>\D+)〔(?P<year>\d{4})〕(?P<seq>[1-9]\d*)号$")


def _input(village_id: int, kind: str = "petition", received_on: dt.date = dt.date(2026, 11, 20),
           title: str = "反映村道破损") -> svc.CaseInput:
    if kind == "petition":
        return svc.CaseInput(
            kind="petition", title=title, source="visit", received_on=received_on,
            petition_class="申诉求决", category="城乡建设", village_id=village_id,
            parties=[svc.PartyInput(name="李四（虚构）", phone="13800138000")])
    return svc.CaseInput(
        kind="dispute", title=title, source="screening", received_on=received_on,
        category="邻里", village_id=village_id,
        parties=[svc.PartyInput(name="王五（虚构）", role="applicant"),
                 svc.PartyInput(name="赵六（虚构）", role="respondent")])


def _register(world, now, actor=None, **kw) -> Case:
    actor = actor or world.supervisor
    village = world.other_town.villages[0] if actor is world.other_super else world.v1
    case = svc.register_case(db.session, actor, now, _input(village.id, **kw))
    db.session.commit()
    return case


def test_numbers_per_town_kind_and_year(world, now):
    numbers = [_register(world, now).number for _ in range(3)]
    assert numbers == ["北和信〔2026〕1号", "北和信〔2026〕2号", "北和信〔2026〕3号"]

    # disputes have their own sequence and issuer code
    assert _register(world, now, kind="dispute").number == "北和调〔2026〕1号"
    # the year is the year the case was received, not the year it is registered in
    late = _register(world, now, received_on=dt.date(2025, 12, 31))
    assert late.number == "北和信〔2025〕1号"
    assert (late.number_year, late.number_seq) == (2025, 1)
    # another town counts on its own
    assert _register(world, now, actor=world.other_super).number == "南兴信〔2026〕1号"
    # and none of that disturbed Beihe's 2026 petition sequence
    fourth = _register(world, now)
    assert fourth.number == "北和信〔2026〕4号"
    assert (fourth.number_year, fourth.number_seq) == (2026, 4)
    assert _register(world, now, kind="dispute").number == "北和调〔2026〕2号"


def test_number_format_has_no_di_and_no_leading_zeros(world, now):
    for _ in range(10):
        case = _register(world, now)
    assert case.number == "北和信〔2026〕10号"
    m = NUMBER_RE.match(case.number)
    assert m and m["code"] == "北和信" and m["seq"] == "10"
    assert "第" not in case.number


def test_issuer_code_is_configurable_per_town(world, now):
    set_number_prefix(db.session, world.admin, now, "petition", "北和镇信",
                      kinds=DEFAULT_PREFIXES.keys(), defaults=DEFAULT_PREFIXES)
    db.session.commit()
    assert _register(world, now).number == "北和镇信〔2026〕1号"
    # the other kind and the other town keep theirs
    assert _register(world, now, kind="dispute").number == "北和调〔2026〕1号"
    assert _register(world, now, actor=world.other_super).number == "南兴信〔2026〕1号"


def test_a_town_without_a_prefix_numbers_with_the_kinds_default(world, now):
    db.session.execute(delete(CaseNumberPrefix).where(
        CaseNumberPrefix.town_id == world.town.id, CaseNumberPrefix.kind == "dispute"))
    db.session.commit()
    assert _register(world, now, kind="dispute").number == (
        f"{DEFAULT_PREFIXES['dispute']}〔2026〕1号")
    assert _register(world, now).number == "北和信〔2026〕1号"


def test_a_rolled_back_registration_leaves_no_gap(world, now):
    assert _register(world, now).number_seq == 1
    svc.register_case(db.session, world.supervisor, now, _input(world.v1.id))
    db.session.rollback()  # e.g. the request failed after the number was drawn
    assert _register(world, now).number_seq == 2


def test_a_refused_registration_draws_no_number(world, now):
    with pytest.raises(ValidationError):
        svc.register_case(db.session, world.supervisor, now, _input(world.v1.id, title=" "))
    db.session.rollback()
    assert _register(world, now).number == "北和信〔2026〕1号"


THREADS = 8
PETITIONS_PER_THREAD = 4
DISPUTES_PER_THREAD = 2


def test_eight_users_registering_at_once_get_no_duplicate_and_no_gap(app, world, now):
    """Each thread has its own app context, session and connection, and commits every case
    on its own; all start together at a barrier. The counter row does not exist yet, so the
    first registrations also race to create it."""
    actor_id, village_id, town_id = world.supervisor.id, world.v1.id, world.town.id
    db.session.remove()  # the world is committed; threads read it through their own sessions
    barrier = threading.Barrier(THREADS, timeout=60)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            kinds = ["petition"] * PETITIONS_PER_THREAD + ["dispute"] * DISPUTES_PER_THREAD
            kinds = kinds[i % 2:] + kinds[: i % 2]  # interleave the two counters
            with app.app_context():
                # wait before touching the database: on SQLite every transaction takes the
                # write lock at BEGIN, so a thread holding one at the barrier would stall all
                barrier.wait()
                actor = db.session.get(User, actor_id)
                for n, kind in enumerate(kinds):
                    svc.register_case(db.session, actor, now,
                                      _input(village_id, kind, title=f"线程{i}第{n}件"))
                    db.session.commit()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
            barrier.abort()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "registration threads hung"
    assert errors == [], errors

    for kind, code, per_thread in (("petition", "北和信", PETITIONS_PER_THREAD),
                                   ("dispute", "北和调", DISPUTES_PER_THREAD)):
        total = THREADS * per_thread
        rows = db.session.execute(
            select(Case.number, Case.number_seq, Case.title).where(Case.kind == kind)
        ).all()
        seqs = sorted(r.number_seq for r in rows)
        assert seqs == list(range(1, total + 1)), f"{kind}: duplicates or gaps: {seqs}"
        assert sorted(r.number for r in rows) == sorted(
            f"{code}〔2026〕{n}号" for n in range(1, total + 1))
        assert len({r.title for r in rows}) == total  # every registration made exactly one case
        counter = db.session.get(CaseNumberCounter, (town_id, kind, 2026))
        assert counter.last_value == total
