"""A petition's rows on its case sheet (信访事项办理单)."""

from __future__ import annotations

from casetrack.cases.models import Case


def _d(value) -> str:
    return value.isoformat() if value else "—"


def sheet_facts(case: Case, place: str) -> list[tuple[str, str]]:
    if place == "received":
        return [("受理日期", _d(case.accepted_on))]
    if place == "outcome":
        rows = [("处理意见", case.outcome or "—"), ("信访人评价", case.rating or "—"),
                ("答复送达日期", _d(case.reply_delivered_on)), ("办结日期", _d(case.closed_on)),
                ("答复意见", case.reply_text or "—")]
        if case.review_requested_on:  # 复查 (信访工作条例 Art. 35)
            rows += [("申请复查日期", _d(case.review_requested_on)),
                     ("复查期限", _d(case.review_due_on)),
                     ("复查结论", case.review_outcome or "—"),
                     ("复查出具日期", _d(case.review_decided_on)),
                     ("复查意见", case.review_text or "—")]
        if case.reexam_requested_on:  # 复核 (Art. 36), hearing days outside its clock
            rows += [("申请复核日期", _d(case.reexam_requested_on)),
                     ("复核期限", _d(case.reexam_due_on)),
                     ("复核结论", case.reexam_outcome or "—"),
                     ("复核出具日期", _d(case.reexam_decided_on))]
            if case.hearing_days:
                rows.append(("听证用时", f"{case.hearing_days}天（不计入复核期限）"))
            rows.append(("复核意见", case.reexam_text or "—"))
        return rows
    return []
