"""Shared data for the calendar tests: an illustrative 2027 schedule (fictional; the real one
comes from the State Council's notice) and open cases whose due dates fall in 2027."""

import datetime as dt

from casetrack.cases import services as case_svc
from casetrack.extensions import db

#: holidays 元旦 01-01..01-03, 春节 02-06..02-12 with adjusted workdays 01-31 (Sun) and 02-20 (Sat)
SCHEDULE_2027 = [
    ("2027-01-01", "holiday", "元旦"),
    ("2027-01-02", "holiday", "元旦"),
    ("2027-01-03", "holiday", "元旦"),
    ("2027-01-31", "workday", "春节调休"),
    *[(f"2027-02-{d:02d}", "holiday", "春节") for d in range(6, 13)],
    ("2027-02-20", "workday", "春节调休"),
]


def schedule_text(rows=SCHEDULE_2027) -> str:
    """The schedule as the form's text lines."""
    return "\n".join(",".join(r) for r in rows)


def schedule_csv(rows=SCHEDULE_2027, encoding: str = "utf-8", bom: bool = False) -> bytes:
    """The schedule as an uploaded CSV file with its header."""
    text = "date,type,name\r\n" + "\r\n".join(",".join(r) for r in rows) + "\r\n"
    data = text.encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def open_cases_due_2027(world, now):
    """Three open cases: A due 2027-01-22 (provisional), B extended to 2027-02-11
    (provisional, inside the Spring Festival), C a dispute due 2026-12-23 (exact)."""

    def petition(title):
        case = case_svc.register_case(
            db.session,
            world.supervisor,
            now,
            case_svc.CaseInput(
                kind="petition",
                title=title,
                source="visit",
                received_on=dt.date(2026, 11, 20),
                petition_class="申诉求决",
                category="城乡建设",
                village_id=world.v1.id,
                parties=[case_svc.PartyInput(name="李四（虚构）")],
            ),
        )
        case_svc.accept_case(db.session, world.supervisor, now, case)
        return case

    a = petition("反映村道积水")
    b = petition("反映路灯损坏")
    case_svc.assign_case(db.session, world.supervisor, now, b, world.unit_xf.id, world.handler1.id)
    case_svc.request_extension(db.session, world.handler1, now, b, 20, "需协调供电所")
    case_svc.decide_extension(db.session, world.leader, now, b, True)
    c = case_svc.register_case(
        db.session,
        world.grid1,
        now,
        case_svc.CaseInput(
            kind="dispute",
            title="邻里排水纠纷",
            source="screening",
            received_on=dt.date(2026, 11, 23),
            category="邻里",
            village_id=world.v1.id,
            parties=[case_svc.PartyInput(name="王五（虚构）", role="party")],
        ),
    )
    db.session.commit()
    assert (a.due_on, a.due_is_exact) == (dt.date(2027, 1, 22), False)
    assert (b.due_on, b.due_is_exact) == (dt.date(2027, 2, 11), False)
    assert (c.due_on, c.due_is_exact) == (dt.date(2026, 12, 23), True)
    return a, b, c
