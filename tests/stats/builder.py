"""Builds case histories through the real services, each step at its own (past) instant, so
that the timeline is what the figures are reconstructed from."""

from __future__ import annotations

import datetime as dt
import itertools

from casetrack.cases import services as svc
from casetrack.cases.models import Case
from casetrack.core.time import TOWN_ZONE
from casetrack.extensions import db

_ids = itertools.count(1)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    """``day`` at ``hour`` o'clock in the town, as aware UTC."""
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TOWN_ZONE).astimezone(dt.UTC)


class CaseBuilder:
    """Petitions and disputes of the ``world`` town with a given history."""

    def __init__(self, world):
        self.w = world

    def petition(self, received: dt.date, *, source: str = "assigned", village=None,
                 category: str = "城乡建设", accept: dt.date | None = None,
                 close: dt.date | None = None, rating: str = "满意",
                 extend: tuple[dt.date, int] | None = None, rework: dt.date | None = None,
                 unit=None, handler=None, title: str | None = None,
                 registered: dt.date | None = None) -> Case:
        """A petition received on ``received``; accepted, assigned, replied and closed on the
        given days (each step at 10:00 of its day)."""
        w = self.w
        n = next(_ids)
        external = source in ("assigned", "forwarded")
        case = svc.register_case(db.session, w.supervisor, at(registered or received, 9),
                                 svc.CaseInput(
            kind="petition", title=title or f"反映问题{n}", source=source, received_on=received,
            petition_class="申诉求决", category=category,
            village_id=(village or w.v1).id,
            external_ref=f"雷信交〔{received.year}〕{n}号" if external else None,
            external_due_on=received + dt.timedelta(days=60) if source == "assigned" else None,
            external_authority="雷州市信访局" if external else "",
            parties=[svc.PartyInput(name=f"信访人{n}（虚构）")]))
        if accept is None:
            return case
        svc.accept_case(db.session, w.supervisor, at(accept), case, accepted_on=accept)
        svc.assign_case(db.session, w.supervisor, at(accept, 11), case,
                        (unit or w.unit_xf).id, (handler or w.handler1).id)
        if extend is not None:
            day, days = extend
            svc.request_extension(db.session, w.handler1, at(day), case, days, "需现场核查")
            svc.decide_extension(db.session, w.leader, at(day, 15), case, True)
        if close is None:
            return case
        svc.reply_case(db.session, w.handler1, at(close, 9), case, "支持", "已处理", close)
        svc.close_case(db.session, w.supervisor, at(close), case, rating=rating, closed_on=close)
        if rework is not None:
            svc.rework_case(db.session, w.supervisor, at(rework), case, "上级退回重办")
        return case

    def dispute(self, received: dt.date, *, village=None, category: str = "邻里",
                mediate: dt.date | None = None, escalate: dt.date | None = None,
                resolve: dt.date | None = None, follow_up: dt.date | None = None,
                close: dt.date | None = None) -> Case:
        """A dispute found on ``received``, mediated at village level (town level after
        ``escalate``), resolved, followed up and closed on the given days."""
        w = self.w
        village = village or w.v1
        grid = w.grid1 if village.id == w.v1.id else w.grid2
        n = next(_ids)
        case = svc.register_case(db.session, grid, at(received, 9), svc.CaseInput(
            kind="dispute", title=f"纠纷{n}", source="screening", received_on=received,
            category=category, village_id=village.id,
            parties=[svc.PartyInput(name=f"当事人{n}（虚构）", role="applicant")]))
        if mediate is None:
            return case
        svc.start_mediation(db.session, grid, at(mediate), case, "village")
        if escalate is not None:
            svc.escalate_dispute(db.session, w.supervisor, at(escalate), case, "村级调解未果")
        if resolve is None:
            return case
        svc.resolve_dispute(db.session, w.supervisor, at(resolve), case, "written", "双方达成协议")
        if follow_up is None:
            return case
        svc.record_follow_up(db.session, w.supervisor, at(follow_up), case, follow_up, True)
        if close is not None:
            svc.close_case(db.session, w.supervisor, at(close), case, closed_on=close)
        return case

