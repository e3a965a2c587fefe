"""Field rules of cases, as pure data and functions: labels, sources, categories, ID and
phone checks. The transitions are declared with their steps in ``cases.steps``; what belongs
to one kind of case (sources, categories, ...) is in its folder (``cases.kinds``), and
``KIND_LABELS``, ``SOURCES``, ``SOURCE_LABELS`` and ``CATEGORIES`` here are views of the
registered kinds."""

from __future__ import annotations

from casetrack.cases.models import CaseStatus
from casetrack.core.i18n import N_
from casetrack.core.validators import (  # noqa: F401 (the checks moved to core; kept here)
    id_check_digit,
    mask_id_number,
    validate_id_number,
    validate_phone,
)

S = CaseStatus
OPEN_STATUSES = frozenset({S.REGISTERED, S.ACCEPTED, S.HANDLING, S.REPLY_PENDING, S.REPLIED,
                           S.REVIEWING, S.REEXAMINING, S.MEDIATING, S.RESOLVED,
                           S.TERMINATED})
CLOSED_STATUSES = frozenset({S.CLOSED, S.REVIEWED, S.REEXAMINED, S.NOT_ACCEPTED, S.RETURNED})
#: closed with the matter handled (办结), also after a review or re-examination
CONCLUDED_STATUSES = frozenset({S.CLOSED, S.REVIEWED, S.REEXAMINED})


STATUS_LABELS = {
    S.REGISTERED: N_("已登记"),
    S.ACCEPTED: N_("已受理"),
    S.HANDLING: N_("办理中"),
    S.REPLIED: N_("已答复"),
    S.NOT_ACCEPTED: N_("不予受理"),
    S.RETURNED: N_("已退回"),
    S.MEDIATING: N_("调解中"),
    S.RESOLVED: N_("调解成功"),
    S.TERMINATED: N_("调解终止"),
    S.CLOSED: N_("已办结"),
    S.REPLY_PENDING: N_("答复待审批"),
    S.REVIEWING: N_("复查中"),
    S.REVIEWED: N_("已复查"),
    S.REEXAMINING: N_("复核中"),
    S.REEXAMINED: N_("已复核"),
}

#: the name of "every open status" in the case list's filter and on the dashboard's card
OPEN_LABEL = N_("在办（未办结）")
#: the name of "not accepted or returned" on the dashboard's card (the list's two statuses)
ENDED_LABEL = N_("不予受理/已退回")

#: sources whose case comes from a higher authority with its own reference and deadline
EXTERNAL_SOURCES = frozenset({"assigned", "forwarded"})


def known_category(value: str | None) -> str | None:
    """``value`` when it is one of the categories of a kind, else None: a filter by a
    category typed into a URL names only a real category (and is never echoed at length)."""
    from casetrack.cases import kinds

    return value if value in kinds.all_categories() else None


#: what a case's closing records of the petitioner's view (信访人评价)
RATINGS = (N_("满意"), N_("基本满意"), N_("不满意"), N_("未评价"))
PARTY_ROLES = {"petitioner": N_("信访人"), "applicant": N_("申请人"), "respondent": N_("被申请人"),
               "party": N_("当事人")}


def is_open_status(status: str) -> bool:
    return status in OPEN_STATUSES


def format_number(issuer_code: str, year: int, seq: int) -> str:
    """GB/T 9704: issuer code, full year in 〔〕, sequence without leading zeros, 号."""
    return f"{issuer_code}〔{year}〕{seq}号"


def __getattr__(name: str):
    """Views of the registered kinds (computed on access: the kinds import this module)."""
    from casetrack.cases import kinds

    if name == "KIND_LABELS":
        return kinds.labels()
    if name == "SOURCES":
        return {k.code: k.sources for k in kinds.all_kinds()}
    if name == "SOURCE_LABELS":
        return kinds.sources()
    if name == "CATEGORIES":
        return {k.code: k.categories for k in kinds.all_kinds()}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
