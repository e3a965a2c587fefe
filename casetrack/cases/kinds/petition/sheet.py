"""A petition's rows on its case sheet (信访事项办理单)."""

from __future__ import annotations

from casetrack.cases.models import Case


def _d(value) -> str:
    return value.isoformat() if value else "—"


def sheet_facts(case: Case, place: str) -> list[tuple[str, str]]:
    if place == "received":
        return [("受理日期", _d(case.accepted_on))]
    if place == "outcome":
        return [("处理意见", case.outcome or "—"), ("信访人评价", case.rating or "—"),
                ("答复送达日期", _d(case.reply_delivered_on)), ("办结日期", _d(case.closed_on)),
                ("答复意见", case.reply_text or "—")]
    return []
