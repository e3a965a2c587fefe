"""A dispute's rows on its case sheet (矛盾纠纷调处单)."""

from __future__ import annotations

from casetrack.cases.kinds.dispute.rules import AGREEMENT_TYPES, MEDIATION_LEVELS
from casetrack.cases.models import Case


def _d(value) -> str:
    return value.isoformat() if value else "—"


def sheet_facts(case: Case, place: str) -> list[tuple[str, str]]:
    if place == "outcome":
        rows = [("调解层级", MEDIATION_LEVELS.get(case.mediation_level or "", "—")),
                ("化解层级", MEDIATION_LEVELS.get(case.resolution_level or "", "—")),
                ("协议形式", AGREEMENT_TYPES.get(case.agreement_type or "", "—")),
                ("协议内容", case.agreement_text or "—"),
                ("回访日期", _d(case.follow_up_on)), ("结案日期", _d(case.closed_on))]
        if case.judicial_applied_on:  # 司法确认 (人民调解法 Art. 33)
            rows += [("司法确认申请", _d(case.judicial_applied_on)),
                     ("受理法院", case.judicial_court or "—")]
        return rows
    return []
