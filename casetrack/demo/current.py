"""Cases open "now": dated backwards from today so that every warning colour shows.

Green (due in more than three days), yellow (due within three days) and red (overdue) are
derived from the due dates the services compute; the anchors are chosen here so that the
colours come out whatever day the demo is loaded. Where the clock runs into a year with no
holiday data (2027 at the time of writing) the statutory date is provisional; an assigned
case whose city deadline is earlier is exact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from itertools import takewhile

from casetrack.auth.models import User
from casetrack.cases import services as svc
from casetrack.cases.kinds.petition.rules import CLASSES as PETITION_CLASSES
from casetrack.core.time import local_date
from casetrack.demo import texts
from casetrack.demo.builder import Builder, Plan, Step
from casetrack.demo.history import dispute_input, dispute_steps, handling_steps, petition_text
from casetrack.org.models import Village


class Today:
    """Dates relative to the day of the load."""

    def __init__(self, b: Builder, now: dt.datetime):
        self.b = b
        self.day = local_date(now)

    def ago(self, n: int) -> dt.date:
        """``n`` calendar days before today."""
        return self.day - dt.timedelta(days=n)

    def office(self, n: int) -> dt.date:
        """The working day ``n`` days ago, or the last one before it."""
        return self.b.workday_before(self.ago(n))

    def ahead(self, n: int) -> dt.date:
        """``n`` calendar days after today."""
        return self.day + dt.timedelta(days=n)

    def anchor(self, rule: str, candidates: Iterable[dt.date], lo: int,
               hi: int) -> dt.date | None:
        """The first candidate anchor whose due date under ``rule`` is ``lo``..``hi`` days
        from today (negative: overdue), or None."""
        for day in candidates:
            left = (self.b.due(rule, day) - self.day).days
            if lo <= left <= hi:
                return day
        return None

    def days_ago(self, first: int, last: int) -> list[dt.date]:
        """Days from ``first`` to ``last`` days ago."""
        step = 1 if last >= first else -1
        return [self.ago(n) for n in range(first, last + step, step)]


class CurrentCases:
    """Builds the plans of the current petitions and disputes."""

    def __init__(self, b: Builder, now: dt.datetime):
        self.b = b
        self.t = Today(b, now)
        self.ref = 200 + local_date(now).timetuple().tm_yday * 2
        self.plans: list[Plan] = []

    # ----------------------------------------------------------------- petitions

    def petition(self, *, source: str, category: str, received_on: dt.date,
                 external_due_on: dt.date | None = None, village: Village | None = None,
                 repeat_of: svc.PartyInput | None = None) -> tuple[svc.CaseInput, str]:
        """A petition's registration and its reply text."""
        b = self.b
        village = village or b.village()
        party = repeat_of or b.petitioner(village, repeat_chance=0)
        title, summary, reply = petition_text(b, category, village, party)
        ext: dict = {}
        if source == "assigned":
            self.ref += b.rng.randint(2, 9)
            ext = {"external_ref": f"雷信交〔{received_on.year}〕{self.ref}号",
                   "external_due_on": external_due_on, "external_authority": "雷州市信访局"}
        data = svc.CaseInput(kind="petition", title=title, summary=summary, source=source,
                             received_on=received_on, category=category,
                             village_id=village.id, petition_class=PETITION_CLASSES[2],
                             parties=[party], **ext)
        return data, reply

    def add_petition(self, data: svc.CaseInput, steps: list[Step]) -> None:
        self.plans.append(Plan(data, self.b.org.supervisor, steps))

    def handled(self, *, source: str, category: str, received_on: dt.date,
                accept_on: dt.date, external_due_on: dt.date | None = None,
                handler: User | None = None, reply_on: dt.date | None = None,
                close_on: dt.date | None = None, extension: tuple[dt.date, int] | None = None,
                repeat_of: svc.PartyInput | None = None,
                village: Village | None = None) -> list[Step]:
        """A petition accepted and assigned (to ``handler`` when given), maybe further."""
        data, reply = self.petition(source=source, category=category, received_on=received_on,
                                    external_due_on=external_due_on, repeat_of=repeat_of,
                                    village=village)
        steps = handling_steps(self.b, accept_on=accept_on, category=category,
                               reply_on=reply_on, close_on=close_on, extension=extension,
                               reply_text=reply, assign_on=accept_on)
        if handler is not None:
            steps[1].actor = self.b.org.supervisor
            steps[1].args = {"unit_id": handler.unit_id, "handler_id": handler.id}
            for s in steps:
                if s.action in ("progress", "extend_request", "reply"):
                    s.actor = handler
        self.add_petition(data, steps)
        return steps

    def petitions(self) -> None:
        """Open petitions in every colour, one awaiting an extension decision, a few closed."""
        b, t, org = self.b, self.t, self.b.org
        h01 = org.handlers["综治办"][0]
        # green
        r = t.office(10)
        self.handled(source="assigned", category="政法", received_on=r, accept_on=r,
                     external_due_on=t.ahead(20), handler=h01)
        r = t.office(6)
        self.handled(source="assigned", category="自然资源", received_on=r,
                     accept_on=t.office(5), external_due_on=t.ahead(24))
        r = t.office(20)
        self.handled(source="visit", category="城乡建设", received_on=r, accept_on=t.office(18))
        data, _ = self.petition(source="online", category="农村农业", received_on=t.office(3))
        self.add_petition(data, [])
        r = t.office(30)
        self.handled(source="letter", category="民政与应急", received_on=r,
                     accept_on=t.office(28), reply_on=t.office(2))
        r = t.office(50)
        self.handled(source="assigned", category="城乡建设", received_on=r,
                     accept_on=t.office(49), external_due_on=t.ago(10),
                     extension=(t.office(13), 30))
        # yellow: the city's deadline is within three days
        r = t.office(25)
        self.handled(source="assigned", category="其他", received_on=r,
                     accept_on=t.office(24), external_due_on=t.ahead(2), handler=h01)
        r = t.office(33)
        self.handled(source="assigned", category="城乡建设", received_on=r,
                     accept_on=t.office(31), external_due_on=t.ahead(3))
        r = t.office(28)
        steps = self.handled(source="assigned", category="自然资源", received_on=r,
                             accept_on=t.office(27), external_due_on=t.ahead(1))
        handler = steps[1].args["handler_id"]
        asker = next(u for hs in org.handlers.values() for u in hs if u.id == handler)
        steps.append(Step(t.office(1), "extend_request", asker,
                          {"days": 20, "reason": texts.EXTENSION_REASONS[0]}))
        # yellow: the statutory 60 days run out within three days
        accept_on = t.anchor("petition.handle", t.days_ago(58, 64), 1, 3)
        if accept_on is not None:
            self.handled(source="call", category="劳动和社会保障",
                         received_on=b.workday_before(accept_on - dt.timedelta(days=1)),
                         accept_on=accept_on)
        # red
        r = t.office(45)
        self.handled(source="assigned", category="政法", received_on=r,
                     accept_on=t.office(44), external_due_on=t.ago(5), handler=h01)
        r = t.office(40)
        self.handled(source="assigned", category="劳动和社会保障", received_on=r,
                     accept_on=t.office(39), external_due_on=t.ago(1))
        accept_on = t.anchor("petition.handle", t.days_ago(75, 95), -40, -5)
        if accept_on is not None:
            # someone who petitioned in 2022 comes back: 重信重访
            village = next((v for v in org.villages if b.petitioners.get(v.id)), org.villages[0])
            known = b.petitioners.get(village.id)
            self.handled(source="visit", category="自然资源",
                         received_on=b.workday_before(accept_on - dt.timedelta(days=1)),
                         accept_on=accept_on, village=village,
                         repeat_of=b.resident(village, person=known[0]) if known else None)
        # recently closed, and one not accepted
        r = t.office(70)
        self.handled(source="assigned", category="交通运输", received_on=r,
                     accept_on=t.office(69), external_due_on=b.workday(r + dt.timedelta(days=30)),
                     reply_on=t.office(22), close_on=t.office(16))
        self.handled(source="visit", category="城乡建设", received_on=t.office(60),
                     accept_on=t.office(58), reply_on=t.office(10), close_on=t.office(7))
        self.handled(source="online", category="卫生健康", received_on=t.office(45),
                     accept_on=t.office(44), reply_on=t.office(6), close_on=t.office(3))
        data, _ = self.petition(source="letter", category="其他", received_on=t.office(9))
        self.add_petition(data, [Step(t.office(7), "reject", org.supervisor,
                                      {"reason": texts.REJECT_REASONS[0]})])

    # ----------------------------------------------------------------- disputes

    def dispute(self, village: Village, category: str, received_on: dt.date, *,
                path: str = "village", stop_after: str | None = "mediating",
                grid: User | None = None, town_mediator: User | None = None,
                risk: bool = False, start: bool = True) -> None:
        """A dispute in ``village`` received on a given day, mediated as far as asked."""
        b = self.b
        grid = grid or b.grid_worker(village)
        data, agreement = dispute_input(b, category, village, "screening", received_on)
        steps: list[Step] = []
        if start:
            steps = dispute_steps(b, village, received_on, agreement, path=path, risk=risk,
                                  stop_after=stop_after, grid=grid, town_mediator=town_mediator)
        self.plans.append(Plan(data, grid, steps))

    def disputes(self) -> None:
        """Open disputes in every colour (several in grid01's community), a few closed."""
        t, org = self.t, self.b.org
        home = org.villages[0]
        grid01 = org.grid_workers[0]
        h01 = org.handlers["综治办"][0]
        others = org.villages[3:]
        self.dispute(home, "邻里", t.ago(4), grid=grid01)
        self.dispute(home, "婚姻家庭", t.ago(2), grid=grid01, start=False)
        self.dispute(others[2], "房屋宅基地", t.ago(12), risk=True)
        self.dispute(others[5], "劳动争议", t.ago(6))
        resolved = t.ago(20)
        self.dispute(others[8], "邻里", resolved, stop_after="resolved")
        yellow = [t.anchor("dispute.mediate", t.days_ago(first, 34), 1, 3)
                  or t.anchor("dispute.mediate", t.days_ago(first, 34), 0, 3) for first in (26, 28)]
        if yellow[0] is not None:
            self.dispute(home, "损害赔偿", yellow[0], grid=grid01)
        if yellow[1] is not None:
            self.dispute(others[1], "山林土地", yellow[1], path="town", town_mediator=h01)
        red = [t.anchor("dispute.mediate", t.days_ago(first, 60), -25, -3) for first in (40, 44)]
        if red[0] is not None:
            self.dispute(home, "合同", red[0], grid=grid01)
        if red[1] is not None:
            self.dispute(others[4], "征地拆迁", red[1], path="town",
                         town_mediator=org.handlers["司法所"][0])
        for n, (village, category, path) in enumerate([
            (home, "邻里", "village"), (others[3], "婚姻家庭", "village"),
            (others[6], "山林土地", "terminated"), (others[7], "损害赔偿", "village"),
            (others[9], "道路交通事故", "village"),
        ]):
            self.dispute(village, category, t.ago(62 - 4 * n), path=path, stop_after=None,
                         grid=grid01 if village is home else None)

    def build(self) -> list[Plan]:
        """Every current plan, petitions first, each kind in order of receipt."""
        self.petitions()
        self.disputes()
        return sorted(self.plans, key=lambda p: (p.data.kind != "petition", p.data.received_on))


def build_current(b: Builder, now: dt.datetime) -> None:
    """Create the current cases. Every step happens before today: a plan that would run
    into today (a long holiday stretched it) simply stops earlier."""
    today = local_date(now)
    for plan in CurrentCases(b, now).build():
        plan.steps = list(takewhile(lambda s: s.day < today, plan.steps))
        b.run(plan, not_after=now)
