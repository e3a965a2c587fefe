"""Drives demo cases through the real services, step by step, at historical instants.

A case is described as a ``CaseInput`` plus a list of ``Step``s (day, action, actor,
arguments); ``Builder.run`` registers it and replays each step through
``casetrack.cases.services`` with ``now`` set to an office-hours instant of that day, so
that every timeline entry carries a realistic time and the statistics computed "as of" a
past date from the timeline come out as they were on that date.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from casetrack.auth.models import Role, User
from casetrack.cases import services as svc
from casetrack.cases.kinds.petition import steps
from casetrack.cases.models import Case
from casetrack.core.errors import CalendarUnknown
from casetrack.core.time import TOWN_ZONE
from casetrack.deadlines.calendar import WorkCalendar
from casetrack.deadlines.town_rules import town_rule
from casetrack.demo.org import CATEGORY_UNITS, DemoOrg
from casetrack.demo.people import PeopleFactory, Person, party_address, party_name
from casetrack.org.models import Unit, Village

#: added to every demo case's summary
SUMMARY_MARK = "（演示数据，人物均为虚构）"


@dataclass
class Step:
    """One service call on a case: on ``day``, by ``actor``, with keyword ``args``."""

    day: dt.date
    action: str
    actor: User
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Plan:
    """A case to create: its registration, who registers it, and its later steps."""

    data: svc.CaseInput
    reporter: User
    steps: list[Step]


def _accept(s: Session, a: User, now: dt.datetime, c: Case, day: dt.date, **kw: Any) -> None:
    svc.accept_case(s, a, now, c, accepted_on=day)


def _reply(s: Session, a: User, now: dt.datetime, c: Case, day: dt.date, **kw: Any) -> None:
    """答复; where the town wants replies approved, the handler's draft and the leader's
    approval on the same day."""
    if not steps.reply_approval_on(s, c.town_id):
        svc.reply_case(s, a, now, c, kw["outcome"], kw["reply_text"], delivered_on=day)
        return
    svc.submit_reply(s, a, now, c, kw["outcome"], kw["reply_text"])
    leader = s.scalar(select(User).where(User.town_id == c.town_id, User.role == Role.LEADER,
                                         User.is_enabled).order_by(User.id).limit(1))
    svc.approve_reply(s, leader, now, c, delivered_on=day)


def _close(s: Session, a: User, now: dt.datetime, c: Case, day: dt.date, **kw: Any) -> None:
    svc.close_case(s, a, now, c, rating=kw.get("rating"), closed_on=day, note=kw.get("note", ""))


def _session(s: Session, a: User, now: dt.datetime, c: Case, day: dt.date, **kw: Any) -> None:
    svc.record_mediation_session(s, a, now, c, held_on=day, note=kw["note"])


def _follow_up(s: Session, a: User, now: dt.datetime, c: Case, day: dt.date, **kw: Any) -> None:
    svc.record_follow_up(s, a, now, c, visited_on=day, honoured=kw["honoured"],
                         note=kw.get("note", ""))


def _plain(func: Callable[..., Case]) -> Callable[..., None]:
    """A service whose arguments after the case are all keywords that do not need the day."""

    def call(s: Session, a: User, now: dt.datetime, c: Case, day: dt.date, **kw: Any) -> None:
        func(s, a, now, c, **kw)

    return call


ACTIONS: dict[str, Callable[..., None]] = {
    "accept": _accept,
    "reject": _plain(svc.reject_case),
    "return": _plain(svc.return_case),
    "assign": _plain(svc.assign_case),
    "progress": _plain(svc.record_progress),
    "extend_request": _plain(svc.request_extension),
    "extend_decide": _plain(svc.decide_extension),
    "authority_extend": _plain(svc.extend_authority_deadline),
    "reply": _reply,
    "close": _close,
    "rework": _plain(svc.rework_case),
    "start_mediation": _plain(svc.start_mediation),
    "mediation_session": _session,
    "escalate": _plain(svc.escalate_dispute),
    "resolve": _plain(svc.resolve_dispute),
    "terminate": _plain(svc.terminate_dispute),
    "follow_up": _follow_up,
    "flag_risk": _plain(svc.flag_risk),
}


class Clock:
    """Office-hours instants for the steps of one case, strictly increasing."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.last: dt.datetime | None = None

    def at(self, day: dt.date) -> dt.datetime:
        """An instant on ``day`` between 08:30 and 17:30 local time, after the last one."""
        local = dt.datetime.combine(day, dt.time(8, 30), tzinfo=TOWN_ZONE)
        instant = (local + dt.timedelta(minutes=self.rng.randint(0, 540))).astimezone(dt.UTC)
        if self.last is not None and instant <= self.last:
            instant = self.last + dt.timedelta(minutes=self.rng.randint(3, 25))
        self.last = instant
        return instant


class Builder:
    """Shared state of one demo load: session, seeded randomness, people, organisation."""

    def __init__(self, session: Session, rng: random.Random, org: DemoOrg,
                 calendar: WorkCalendar, people: PeopleFactory):
        self.session = session
        self.rng = rng
        self.org = org
        self.calendar = calendar
        self.people = people
        #: petitioners seen so far, by village id (some petition again: 重信重访)
        self.petitioners: dict[int, list[Person]] = {}
        self.counts: Counter[str] = Counter()
        self.cases: list[Case] = []

    # ----------------------------------------------------------------- calendar helpers

    def is_workday(self, day: dt.date) -> bool:
        """The town's calendar; days of a year nobody has entered count as Mon–Fri."""
        try:
            return self.calendar.is_workday(day)
        except CalendarUnknown:
            return day.weekday() < 5

    def workday(self, day: dt.date) -> dt.date:
        """``day`` or the next working day after it."""
        while not self.is_workday(day):
            day += dt.timedelta(days=1)
        return day

    def workday_before(self, day: dt.date) -> dt.date:
        """``day`` or the last working day before it."""
        while not self.is_workday(day):
            day -= dt.timedelta(days=1)
        return day

    def after(self, day: dt.date, lo: int, hi: int) -> dt.date:
        """A working day ``lo``..``hi`` calendar days after ``day``."""
        return self.workday(day + dt.timedelta(days=self.rng.randint(lo, hi)))

    def due(self, rule_code: str, anchor: dt.date, extra_days: int = 0) -> dt.date:
        """The statutory due date of ``rule_code`` from ``anchor``, as the services count it."""
        rule = town_rule(self.session, self.org.town.id, rule_code)
        due, _exact = svc.due_for(self.calendar, anchor, rule.amount, rule.unit, extra_days)
        return due

    # ----------------------------------------------------------------- people

    def resident(self, village: Village, role: str = "petitioner",
                 person: Person | None = None) -> svc.PartyInput:
        """A party living in ``village`` (a new invented person unless one is given)."""
        person = person or self.people.person()
        return svc.PartyInput(
            name=party_name(person), role=role, id_number=person.id_number,
            phone=person.phone,
            address=party_address(self.org.town.name, village.name, self.rng),
        )

    def petitioner(self, village: Village, repeat_chance: float = 0.08) -> svc.PartyInput:
        """A petitioner from ``village``; now and then one who has petitioned before."""
        seen = self.petitioners.setdefault(village.id, [])
        if seen and self.rng.random() < repeat_chance:
            person = self.rng.choice(seen)
        else:
            person = self.people.person()
            seen.append(person)
        return self.resident(village, "petitioner", person)

    def handler_for(self, category: str) -> tuple[Unit, User]:
        """The unit that handles a petition category and one of its handlers."""
        unit_name = self.rng.choice(CATEGORY_UNITS.get(category, ("信访办",)))
        return self.org.units[unit_name], self.rng.choice(self.org.handlers[unit_name])

    def grid_worker(self, village: Village) -> User:
        """One of the village's grid workers."""
        return self.rng.choice(self.org.grid_by_village[village.id])

    def village(self) -> Village:
        """A village, communities and large villages a little more often."""
        weights = [3 if v.kind == "社区" else 2 if i % 3 == 0 else 1
                   for i, v in enumerate(self.org.villages)]
        return self.rng.choices(self.org.villages, weights=weights)[0]

    # ----------------------------------------------------------------- running

    def run(self, plan: Plan, not_after: dt.datetime | None = None) -> Case:
        """Register the case and replay its steps through the services.

        A step dated before the one it follows is moved to that one's day, so the dates
        that the services record (accepted, delivered, closed...) never run backwards.
        """
        clock = Clock(self.rng)
        data = plan.data
        data.summary = (data.summary + SUMMARY_MARK) if data.summary else SUMMARY_MARK
        case = svc.register_case(self.session, plan.reporter, clock.at(data.received_on), data)
        day = data.received_on
        for step in plan.steps:
            day = max(day, step.day)
            now = clock.at(day)
            ACTIONS[step.action](self.session, step.actor, now, case, day, **step.args)
        if not_after is not None and clock.last is not None and clock.last >= not_after:
            raise RuntimeError(f"demo case {case.number} has a step after {not_after}")
        self.counts[f"{case.kind}:{case.status}"] += 1
        self.cases.append(case)
        return case
