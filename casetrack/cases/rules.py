"""Field rules of cases, as pure data and functions: labels, sources, categories, ID and
phone checks. The transitions are declared with their steps in ``cases.steps``."""

from __future__ import annotations

from casetrack.cases.models import CaseKind, CaseStatus
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

KIND_LABELS = {CaseKind.PETITION: N_("信访事项"), CaseKind.DISPUTE: N_("矛盾纠纷")}

PETITION_SOURCES = {
    "assigned": N_("上级交办"),
    "forwarded": N_("上级转送"),
    "letter": N_("来信"),
    "visit": N_("来访"),
    "call": N_("来电"),
    "online": N_("网上信访"),
    "leader_visit": N_("领导接访"),
}
DISPUTE_SOURCES = {
    "screening": N_("网格排查"),
    "application": N_("申请调解"),
    "transfer": N_("部门移送"),
}
SOURCES = {CaseKind.PETITION: PETITION_SOURCES, CaseKind.DISPUTE: DISPUTE_SOURCES}
SOURCE_LABELS = {**PETITION_SOURCES, **DISPUTE_SOURCES}
#: sources whose case comes from a higher authority with its own reference and deadline
EXTERNAL_SOURCES = frozenset({"assigned", "forwarded"})

PETITION_CLASSES = (N_("建议意见"), N_("检举控告"), N_("申诉求决"))
PETITION_CATEGORIES = (
    N_("城乡建设"), N_("农村农业"), N_("劳动和社会保障"), N_("自然资源"), N_("生态环境"), N_("交通运输"), N_("卫生健康"),
    N_("市场监督"), N_("经济管理"), N_("文体旅游"), N_("民政与应急"), N_("教育"), N_("政法"), N_("纪检监察"), N_("组织人事"),
    N_("党务政务"), N_("其他"),
)
DISPUTE_CATEGORIES = (
    N_("婚姻家庭"), N_("邻里"), N_("房屋宅基地"), N_("合同"), N_("生产经营"), N_("损害赔偿"), N_("山林土地"), N_("征地拆迁"),
    N_("环境污染"), N_("劳动争议"), N_("消费"), N_("医疗"), N_("道路交通事故"), N_("物业"), N_("其他"),
)
CATEGORIES = {CaseKind.PETITION: PETITION_CATEGORIES, CaseKind.DISPUTE: DISPUTE_CATEGORIES}


def known_category(value: str | None) -> str | None:
    """``value`` when it is one of the categories of either kind, else None: a filter by a
    category typed into a URL names only a real category (and is never echoed at length)."""
    return value if value in (*PETITION_CATEGORIES, *DISPUTE_CATEGORIES) else None
OUTCOMES = (N_("支持"), N_("解释说明"), N_("不予支持"))
#: what a review (复查) or re-examination (复核) decides about the earlier answer
REVIEW_OUTCOMES = (N_("维持"), N_("撤销"), N_("变更"))
RATINGS = (N_("满意"), N_("基本满意"), N_("不满意"), N_("未评价"))
MEDIATION_LEVELS = {"village": N_("村调委会"), "town": N_("镇综治中心/司法所")}
AGREEMENT_TYPES = {"written": N_("书面调解协议书"), "oral": N_("口头协议")}
PARTY_ROLES = {"petitioner": N_("信访人"), "applicant": N_("申请人"), "respondent": N_("被申请人"),
               "party": N_("当事人")}
#: at most this many representatives for a group visit (信访工作条例 Art. 20)
MAX_REPRESENTATIVES = 5


def is_open_status(status: str) -> bool:
    return status in OPEN_STATUSES


def format_number(issuer_code: str, year: int, seq: int) -> str:
    """GB/T 9704: issuer code, full year in 〔〕, sequence without leading zeros, 号."""
    return f"{issuer_code}〔{year}〕{seq}号"
