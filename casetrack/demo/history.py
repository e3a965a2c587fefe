"""The demo town's 2022: the petitions and disputes behind its annual report.

The report says: 88 petitions assigned by higher authorities (上级交办) in 2022, 77 closed
and 11 still in handling at the end of the year. Those figures are reproduced exactly, as
of 2022-12-31, from the case timelines; the 11 are finished in early 2023. Around them are
petitions from the other channels and the year's disputes.
"""

from __future__ import annotations

import datetime as dt

from casetrack.auth.models import User
from casetrack.cases import services as svc
from casetrack.cases.kinds.petition.rules import CLASSES as PETITION_CLASSES
from casetrack.cases.kinds.petition.rules import OUTCOMES
from casetrack.cases.rules import RATINGS
from casetrack.demo import texts
from casetrack.demo.builder import Builder, Plan, Step
from casetrack.demo.org import TOWN_MEDIATION_UNITS
from casetrack.org.models import Village

YEAR = 2022
#: last day on which a case that counts as closed in 2022 may be closed (a Friday)
LAST_OFFICE_DAY = dt.date(2022, 12, 30)
#: 上级交办 petitions received per month of 2022 (sums to 88)
ASSIGNED_PER_MONTH = (6, 7, 8, 7, 8, 7, 9, 8, 7, 8, 7, 6)
ASSIGNED_TOTAL = 88
ASSIGNED_OPEN_AT_YEAR_END = 11
#: content categories of assigned petitions and their weights
ASSIGNED_CATEGORIES = {
    "自然资源": 16, "城乡建设": 14, "农村农业": 13, "劳动和社会保障": 10, "政法": 9,
    "民政与应急": 7, "生态环境": 6, "交通运输": 4, "卫生健康": 2, "教育": 2, "市场监督": 2,
    "党务政务": 1, "经济管理": 1, "其他": 1,
}
#: other petition channels in 2022 and how many came in through each
OTHER_SOURCES = {"visit": 16, "call": 10, "online": 10, "letter": 8, "leader_visit": 4,
                 "forwarded": 5}
#: disputes registered per month of 2022 (sums to 140)
DISPUTES_PER_MONTH = (14, 16, 10, 12, 13, 10, 11, 10, 11, 10, 11, 12)
DISPUTE_CATEGORIES = {
    "邻里": 30, "婚姻家庭": 20, "房屋宅基地": 22, "山林土地": 18, "损害赔偿": 10, "合同": 8,
    "劳动争议": 8, "道路交通事故": 8, "生产经营": 5, "征地拆迁": 4, "环境污染": 3, "消费": 2,
    "医疗": 1, "其他": 1,
}
CLASS_WEIGHTS = (1, 2, 7)  # 建议意见, 检举控告, 申诉求决
OUTCOME_WEIGHTS = (35, 50, 15)  # 支持, 解释说明, 不予支持
RATING_WEIGHTS = (60, 25, 5, 10)  # 满意, 基本满意, 不满意, 未评价


def _workdays_of_month(b: Builder, year: int, month: int) -> list[dt.date]:
    day = dt.date(year, month, 1)
    days = []
    while day.month == month:
        if b.is_workday(day):
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def _pick(b: Builder, weights: dict[str, int]) -> str:
    return b.rng.choices(list(weights), weights=list(weights.values()))[0]


def petition_text(b: Builder, category: str, village: Village,
                  party: svc.PartyInput) -> tuple[str, str, str]:
    """(title, summary, reply) for a petition of ``category``."""
    title, summary, reply = b.rng.choice(texts.PETITION_TEXTS[category])
    name = party.name.removesuffix("（虚构）")
    return title.format(v=village.name), summary.format(v=village.name, n=name), reply


def handling_steps(b: Builder, *, accept_on: dt.date, category: str, reply_on: dt.date | None,
                   close_on: dt.date | None, extension: tuple[dt.date, int] | None = None,
                   reply_text: str, assign_on: dt.date | None = None,
                   authority: tuple[dt.date, str] | None = None) -> list[Step]:
    """accept → assign → progress → (extension) → reply → close, as far as the dates go.

    Every date given must be in order; ``None`` stops the case at that step. ``authority``
    (the authority's new date and its reference): the town's extension alone cannot move
    an assigned case past the city's deadline, so the city's consent (上级同意延期) is
    recorded after the leader's approval.
    """
    org = b.org
    unit, handler = b.handler_for(category)
    assign_on = assign_on or accept_on
    steps = [Step(accept_on, "accept", org.supervisor),
             Step(assign_on, "assign", org.supervisor,
                  {"unit_id": unit.id, "handler_id": handler.id})]
    last = assign_on
    if extension is not None:
        ask_on, days = extension
        steps.append(Step(ask_on, "progress", handler, {"note": b.rng.choice(texts.PROGRESS_NOTES)}))
        steps.append(Step(ask_on, "extend_request", handler,
                          {"days": days, "reason": b.rng.choice(texts.EXTENSION_REASONS)}))
        decide_on = b.after(ask_on, 1, 2)
        steps.append(Step(decide_on, "extend_decide", org.leader,
                          {"approve": True, "note": "情况属实，同意延期"}))
        last = decide_on
        if authority is not None:
            new_due, reference = authority
            steps.append(Step(decide_on, "authority_extend", org.supervisor,
                              {"due_on": new_due, "reference": reference,
                               "note": "雷州市信访局同意延期"}))
    if reply_on is None:
        return steps
    if extension is None and (reply_on - last).days > 6:
        mid = last + dt.timedelta(days=b.rng.randint(1, (reply_on - last).days - 1))
        steps.append(Step(mid, "progress", handler, {"note": b.rng.choice(texts.PROGRESS_NOTES)}))
    outcome = b.rng.choices(OUTCOMES, weights=OUTCOME_WEIGHTS)[0]
    steps.append(Step(reply_on, "reply", handler, {"outcome": outcome, "reply_text": reply_text}))
    if close_on is not None:
        rating = b.rng.choices(RATINGS, weights=RATING_WEIGHTS)[0]
        steps.append(Step(close_on, "close", org.supervisor, {"rating": rating}))
    return steps


# ------------------------------------------------------------------ assigned petitions


def assigned_petitions(b: Builder) -> list[Plan]:
    """The 88 上级交办 petitions of 2022: 77 closed by 2022-12-31, 11 in handling then."""
    rng = b.rng
    received: list[dt.date] = []
    for month, count in enumerate(ASSIGNED_PER_MONTH, start=1):
        received += sorted(rng.sample(_workdays_of_month(b, YEAR, month), count))
    assert len(received) == ASSIGNED_TOTAL
    # Still open at the year's end: the latest nine, and two from October held up by an
    # extension.
    october = [i for i, d in enumerate(received) if d.month == 10]
    open_idx = set(range(ASSIGNED_TOTAL - 9, ASSIGNED_TOTAL)) | set(rng.sample(october, 2))
    assert len(open_idx) == ASSIGNED_OPEN_AT_YEAR_END
    rework_idx = set(rng.sample(range(10, 50), 2))
    extension_idx = set(rng.sample([i for i in range(70) if i not in rework_idx], 5))
    late_idx = set(rng.sample([i for i in range(70) if i not in rework_idx | extension_idx], 3))
    ref = 0
    latest_open = sorted(i for i in open_idx if i >= ASSIGNED_TOTAL - 9)
    plans: list[Plan] = []
    for i, received_on in enumerate(received):
        ref += rng.randint(2, 9)
        category = _pick(b, ASSIGNED_CATEGORIES)
        village = b.village()
        party = b.petitioner(village)
        title, summary, reply = petition_text(b, category, village, party)
        group = rng.random() < 0.1
        external_due = b.workday(received_on + dt.timedelta(
            days=rng.choice((15, 30, 30, 30, 30, 45, 60))))
        data = svc.CaseInput(
            kind="petition", title=title, summary=summary, source="assigned",
            received_on=received_on, category=category, village_id=village.id,
            petition_class=rng.choices(PETITION_CLASSES, weights=CLASS_WEIGHTS)[0],
            external_ref=f"雷信交〔{YEAR}〕{ref}号", external_due_on=external_due,
            external_authority="雷州市信访局", group_size=rng.randint(3, 15) if group else 1,
            parties=[party] + ([b.resident(village)] if group else []),
        )
        accept_on = min(b.after(received_on, 0, 3), LAST_OFFICE_DAY)
        assign_on = min(b.after(accept_on, 0, 1), LAST_OFFICE_DAY)
        due = min(b.due("petition.handle", accept_on), external_due)
        if i in open_idx:
            steps = _open_at_year_end(b, i, latest_open, accept_on, assign_on, category, reply,
                                      (b.workday(external_due + dt.timedelta(days=30)),
                                       f"雷信延〔{YEAR}〕{ref}号"))
        else:
            extension = authority = None
            if i in extension_idx:
                extension = (b.after(assign_on, 8, 14), 30)
                authority = (b.workday(external_due + dt.timedelta(days=30)),
                             f"雷信延〔{YEAR}〕{ref}号")
                due = min(b.due("petition.handle", accept_on, 30), authority[0])
            first = extension[0] + dt.timedelta(days=3) if extension else assign_on
            if i in late_idx:
                reply_on = b.after(due, 1, 6)
            else:
                span = max((due - first).days - 1, 2)
                reply_on = b.workday_before(first + dt.timedelta(days=rng.randint(2, span)))
                reply_on = max(reply_on, first)
            reply_on = min(reply_on, dt.date(2022, 12, 26))
            close_on = min(b.after(reply_on, 1, 4), LAST_OFFICE_DAY)
            steps = handling_steps(b, accept_on=accept_on, assign_on=assign_on,
                                   category=category, reply_on=reply_on, close_on=close_on,
                                   extension=extension, reply_text=reply, authority=authority)
            if i in rework_idx:
                steps += _rework(b, steps, close_on, reply)
        plans.append(Plan(data, b.org.supervisor, steps))
    return plans


def _open_at_year_end(b: Builder, i: int, latest_open: list[int], accept_on: dt.date,
                      assign_on: dt.date, category: str, reply: str,
                      authority: tuple[dt.date, str]) -> list[Step]:
    """Steps of a case still in handling on 2022-12-31, finished early in 2023.

    The two latest are only accepted by the year's end; the October ones were replied to
    on the last days of December and closed in January; the rest are with their handler.
    """
    rng = b.rng
    if i in latest_open[-2:]:
        assign_on = b.after(dt.date(2023, 1, 3), 0, 2)
        reply_on = b.after(assign_on, 15, 30)
    elif i not in latest_open:
        ext_on = b.after(assign_on, 10, 20)
        steps = handling_steps(b, accept_on=accept_on, assign_on=assign_on, category=category,
                               reply_on=dt.date(2022, 12, rng.choice((28, 29))),
                               close_on=b.after(dt.date(2023, 1, 4), 0, 6),
                               extension=(ext_on, 30), reply_text=reply,
                               authority=authority)
        return steps
    else:
        reply_on = b.after(dt.date(2023, 1, 3), 5, 35)
    return handling_steps(b, accept_on=accept_on, assign_on=assign_on, category=category,
                          reply_on=reply_on, close_on=b.after(reply_on, 1, 5), reply_text=reply)


def _rework(b: Builder, steps: list[Step], closed_on: dt.date, reply: str) -> list[Step]:
    """退回重办: the city sends the closure back; the handler replies again, closed again."""
    org = b.org
    handler = next(s.actor for s in steps if s.action == "reply")
    rework_on = b.after(closed_on, 7, 15)
    reply_on = b.after(rework_on, 7, 15)
    close_on = b.after(reply_on, 1, 3)
    # rework sent back by the authority carries its new deadline
    return [
        Step(rework_on, "rework", org.supervisor,
             {"reason": "雷州市信访局审核认为答复意见未回应信访人全部诉求，退回重办",
              "due_on": b.workday(rework_on + dt.timedelta(days=30))}),
        Step(reply_on, "reply", handler,
             {"outcome": "支持", "reply_text": "经补充调查，" + reply}),
        Step(close_on, "close", org.supervisor, {"rating": "基本满意"}),
    ]


# ------------------------------------------------------------------ other petitions


def other_petitions(b: Builder) -> list[Plan]:
    """Petitions of 2022 from the other channels: visits, letters, calls, online, forwarded."""
    rng = b.rng
    arrivals: list[tuple[dt.date, str]] = []
    for source, count in OTHER_SOURCES.items():
        for _ in range(count):
            month = rng.randint(1, 12)
            arrivals.append((rng.choice(_workdays_of_month(b, YEAR, month)), source))
    arrivals.sort()
    reject_at = set(rng.sample(range(len(arrivals)), 3))
    late_accept = set(rng.sample(range(len(arrivals)), 2))
    returned = False
    forwarded_ref = 40
    plans: list[Plan] = []
    for i, (received_on, source) in enumerate(arrivals):
        category = _pick(b, ASSIGNED_CATEGORIES)
        village = b.village()
        party = b.petitioner(village)
        title, summary, reply = petition_text(b, category, village, party)
        ext = {}
        if source == "forwarded":
            forwarded_ref += rng.randint(5, 40)
            ext = {"external_ref": f"雷信转〔{YEAR}〕{forwarded_ref}号",
                   "external_authority": "雷州市信访局"}
        data = svc.CaseInput(
            kind="petition", title=title, summary=summary, source=source,
            received_on=received_on, category=category, village_id=village.id,
            petition_class=rng.choices(PETITION_CLASSES, weights=CLASS_WEIGHTS)[0],
            group_size=rng.randint(3, 20) if source == "visit" and rng.random() < 0.2 else 1,
            parties=[party], **ext,
        )
        sup = b.org.supervisor
        if source == "forwarded" and not returned:
            returned = True
            steps = [Step(b.after(received_on, 1, 3), "return", sup,
                          {"reason": "所反映事项属雷州市人力资源和社会保障局职权，不属本镇职责范围，退回转送机关"})]
        elif i in reject_at and source != "forwarded":
            steps = [Step(b.after(received_on, 1, 5), "reject", sup,
                          {"reason": rng.choice(texts.REJECT_REASONS)})]
        else:
            accept_on = b.after(received_on, 17, 22) if i in late_accept else b.after(received_on, 0, 6)
            reply_on = b.after(accept_on, 12, 50)
            steps = handling_steps(b, accept_on=accept_on, category=category, reply_on=reply_on,
                                   close_on=b.after(reply_on, 1, 5), reply_text=reply,
                                   assign_on=b.after(accept_on, 0, 1))
        plans.append(Plan(data, sup, steps))
    return plans


# ------------------------------------------------------------------ disputes


def dispute_text(b: Builder, category: str, village: Village, a: svc.PartyInput,
                 r: svc.PartyInput) -> tuple[str, str, str]:
    """(title, summary, agreement) for a dispute of ``category``."""
    title, summary, agreement = b.rng.choice(texts.DISPUTE_TEXTS[category])
    names = {"v": village.name, "n": a.name.removesuffix("（虚构）"),
             "r": r.name.removesuffix("（虚构）")}
    return title.format(**names), summary.format(**names), agreement.format(**names)


def dispute_input(b: Builder, category: str, village: Village, source: str,
                  received_on: dt.date) -> tuple[svc.CaseInput, str]:
    """The registration of a dispute and its agreement text."""
    role_a, role_r = ("applicant", "respondent") if source == "application" else ("party", "party")
    a, r = b.resident(village, role_a), b.resident(village, role_r)
    title, summary, agreement = dispute_text(b, category, village, a, r)
    note = "由北和派出所移送" if source == "transfer" else ""
    return svc.CaseInput(kind="dispute", title=title, summary=summary, source=source,
                         received_on=received_on, category=category, village_id=village.id,
                         parties=[a, r], note=note), agreement


def dispute_steps(b: Builder, village: Village, received_on: dt.date, agreement: str, *,
                  path: str, risk: bool = False, honoured: bool = True,
                  extension: bool = False, stop_after: str | None = None,
                  grid: User | None = None, town_mediator: User | None = None) -> list[Step]:
    """The mediation of one dispute.

    ``path``: "village" (resolved by the village committee), "town" (village failed,
    escalated, resolved by the town), "terminated" (mediation ended, parties told their
    other routes), "town_terminated" (escalated, then ended at town level), or
    "terminated_then_town" (ended at village level, then taken up by the town and resolved).
    ``stop_after`` ("mediating" or "resolved") leaves the case open there (current cases);
    ``grid`` and ``town_mediator`` pick the grid worker and the town handler.
    """
    rng, org = b.rng, b.org
    grid = grid or b.grid_worker(village)
    day = received_on + dt.timedelta(days=rng.randint(0, 2))
    steps = [Step(day, "start_mediation", grid, {"level": "village", "note": "村调委会受理调解"})]

    def add(step: Step) -> None:
        steps.append(step)

    def session(actor, lo=1, hi=6) -> None:
        nonlocal day
        day = day + dt.timedelta(days=rng.randint(lo, hi))
        add(Step(day, "mediation_session", actor, {"note": rng.choice(texts.MEDIATION_NOTES)}))

    session(grid, 0, 3)
    if risk:
        add(Step(day, "flag_risk", grid, {"note": rng.choice(texts.RISK_NOTES)}))
    if extension:
        day = day + dt.timedelta(days=rng.randint(3, 8))
        add(Step(day, "extend_request", grid,
                 {"days": 15, "reason": "当事人外出务工，需待其返乡后继续调解"}))
        day = day + dt.timedelta(days=1)
        add(Step(day, "extend_decide", org.leader, {"approve": True}))
    mediator = grid
    if path in ("town", "town_terminated", "terminated_then_town"):
        session(grid)
        if path == "terminated_then_town":
            add(Step(day, "terminate", grid, {"reason": rng.choice(texts.TERMINATE_REASONS)}))
            day = day + dt.timedelta(days=rng.randint(1, 4))
        add(Step(day, "escalate", grid, {"reason": rng.choice(texts.FAILED_NOTES)}))
        if town_mediator is None:
            town_mediator = rng.choice(org.handlers[rng.choice(TOWN_MEDIATION_UNITS)])
        mediator = town_mediator
        day = b.after(day, 0, 2)
        add(Step(day, "assign", org.supervisor,
                 {"unit_id": mediator.unit_id, "handler_id": mediator.id,
                  "note": "镇综治中心组织调解"}))
        session(mediator, 2, 7)
    elif rng.random() < 0.4:
        session(grid)
    if stop_after == "mediating":
        return steps
    if path in ("terminated", "town_terminated"):
        add(Step(day, "terminate", mediator, {"reason": rng.choice(texts.TERMINATE_REASONS)}))
        add(Step(b.after(day, 1, 5), "close", mediator, {"note": "调解终止，已告知当事人其他救济途径"}))
        return steps
    agreement_type = "written" if rng.random() < 0.7 else "oral"
    add(Step(day, "resolve", mediator, {"agreement_type": agreement_type,
                                       "agreement_text": agreement}))
    if stop_after == "resolved":
        return steps
    visit_on = day + dt.timedelta(days=rng.randint(5, 15))
    visit_note = "协议已履行，双方无异议" if honoured else "一方未按期履行，已督促并告知可申请司法确认"
    add(Step(visit_on, "follow_up", grid, {"honoured": honoured, "note": visit_note}))
    add(Step(visit_on + dt.timedelta(days=rng.randint(0, 3)), "close", grid, {}))
    return steps


def disputes(b: Builder) -> list[Plan]:
    """The disputes of 2022: most resolved in the village, some by the town, a few ended."""
    rng = b.rng
    days: list[dt.date] = []
    for month, count in enumerate(DISPUTES_PER_MONTH, start=1):
        first = dt.date(YEAR, month, 1)
        last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        days += [first + dt.timedelta(days=rng.randrange((last - first).days))
                 for _ in range(count)]
    days.sort()
    risky = set(rng.sample(range(len(days)), 2))
    unhonoured = set(rng.sample(range(len(days)), 3))
    extended = set(rng.sample(range(len(days)), 2))
    plans: list[Plan] = []
    for i, received_on in enumerate(days):
        category = _pick(b, DISPUTE_CATEGORIES)
        village = b.village()
        source = rng.choices(("screening", "application", "transfer"), weights=(55, 35, 10))[0]
        data, agreement = dispute_input(b, category, village, source, received_on)
        reporter = b.org.supervisor if source == "transfer" else b.grid_worker(village)
        path = rng.choices(("village", "town", "terminated", "town_terminated",
                            "terminated_then_town"), weights=(78, 12, 4, 3, 3))[0]
        steps = dispute_steps(b, village, received_on, agreement, path=path, risk=i in risky,
                              honoured=i not in unhonoured,
                              extension=i in extended and category != "劳动争议")
        plans.append(Plan(data, reporter, steps))
    return plans


def build_2022(b: Builder) -> None:
    """Every 2022 case, registered in order of receipt within each kind, so that case
    numbers follow the dates (北和信〔2022〕1号 came in first)."""
    petitions = assigned_petitions(b) + other_petitions(b)
    petitions.sort(key=lambda p: p.data.received_on)
    for plan in petitions + disputes(b):
        b.run(plan)
