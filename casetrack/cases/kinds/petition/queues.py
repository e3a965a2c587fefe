"""A petition's work queues (我的待办) and what of it waits for a leader's approval."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_

from casetrack.auth.models import Role
from casetrack.cases.models import Case, CaseStatus
from casetrack.cases.queues import Approval, Queue
from casetrack.core.i18n import N_

S = CaseStatus
_SUPERVISING = frozenset({Role.SUPERVISOR, Role.ADMIN})


def _petition(status: CaseStatus) -> ColumnElement[bool]:
    return and_(Case.kind == "petition", Case.status == status)


#: (queue, the roles whose work page shows it), in reading order
QUEUES = (
    (Queue("to_accept", N_("待受理"), N_("已登记、尚未受理的信访事项（15日内告知信访人）"),
           lambda ctx: _petition(S.REGISTERED),
           lambda ctx: {"kind": "petition", "status": "registered"}), _SUPERVISING),
    (Queue("to_assign", N_("待交办"), N_("已受理、尚未交办承办单位的信访事项"),
           lambda ctx: _petition(S.ACCEPTED),
           lambda ctx: {"kind": "petition", "status": "accepted"}), _SUPERVISING),
    (Queue("replied", N_("已答复待办结"), N_("已答复信访人、等待办结（评价）的信访事项"),
           lambda ctx: _petition(S.REPLIED),
           lambda ctx: {"kind": "petition", "status": "replied"}), _SUPERVISING),
)

APPROVALS = (
    Approval("reply", N_("答复草稿"), lambda: Case.status == CaseStatus.REPLY_PENDING),
)
