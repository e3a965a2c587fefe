"""Field rules of cases, as pure data and functions: labels, sources, categories, ID and
phone checks. The transitions are declared with their steps in ``cases.steps``."""

from __future__ import annotations

import datetime as dt
import re

from casetrack.cases.models import CaseKind, CaseStatus
from casetrack.core.i18n import N_
from casetrack.core.normalize import normalize_id_number, normalize_phone

S = CaseStatus
OPEN_STATUSES = frozenset({S.REGISTERED, S.ACCEPTED, S.HANDLING, S.REPLIED, S.MEDIATING,
                           S.RESOLVED, S.TERMINATED})
CLOSED_STATUSES = frozenset({S.CLOSED, S.NOT_ACCEPTED, S.RETURNED})


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
}

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
OUTCOMES = (N_("支持"), N_("解释说明"), N_("不予支持"))
RATINGS = (N_("满意"), N_("基本满意"), N_("不满意"), N_("未评价"))
MEDIATION_LEVELS = {"village": N_("村调委会"), "town": N_("镇综治中心/司法所")}
AGREEMENT_TYPES = {"written": N_("书面调解协议书"), "oral": N_("口头协议")}
PARTY_ROLES = {"petitioner": N_("信访人"), "applicant": N_("申请人"), "respondent": N_("被申请人"),
               "party": N_("当事人")}
#: at most this many representatives for a group visit (信访工作条例 Art. 20)
MAX_REPRESENTATIVES = 5
#: an assigned case may be returned only within this many working days of receipt (Art. 23)
RETURN_WORKDAYS = 5
MAX_EXTENSION_DAYS = 30


def is_open_status(status: str) -> bool:
    return status in OPEN_STATUSES


def format_number(issuer_code: str, year: int, seq: int) -> str:
    """GB/T 9704: issuer code, full year in 〔〕, sequence without leading zeros, 号."""
    return f"{issuer_code}〔{year}〕{seq}号"


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^[0-9]{17}[0-9X]$")


def id_check_digit(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def validate_id_number(value: str) -> str | None:
    """An error message in Chinese, or None when ``value`` is a valid 18-character ID (after
    ``normalize_id_number``: full-width digits are digits, x is X)."""
    value = normalize_id_number(value)
    if not _ID_RE.match(value):
        return "身份证号码应为18位，前17位为数字，最后一位为数字或X"
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "身份证号码中的出生日期无效"
    if id_check_digit(value[:17]) != value[17]:
        return "身份证号码校验位不正确"
    return None


def mask_id_number(value: str | None) -> str:
    """440882********123X: first six and last four characters."""
    if not value:
        return ""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


_MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")
_LANDLINE_RE = re.compile(r"^0[0-9]{2,3}-?[0-9]{7,8}$")


def validate_phone(value: str) -> str | None:
    """11-digit mobile number or area code + number; None when valid."""
    v = normalize_phone(value)
    if _MOBILE_RE.match(v) or _LANDLINE_RE.match(v):
        return None
    return "电话号码应为11位手机号码，或区号加电话号码（如0759-8888888）"
