"""A petition's work queues (我的待办) and what of it waits for a leader's approval."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_

from casetrack.auth.models import Role
from casetrack.cases.models import Case, CaseStatus
from casetrack.cases.queues import Approval, Queue
from casetrack.core.i18n import N_

S = CaseStatus
_SUPERVISING = frozenset({Role.SUPERVISOR, Role.ADMIN})
#: who is told when a review or re-examination is requested, and the town's leaders
_REVIEWING = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.LEADER})


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
    (Queue("reviews", N_("复查、复核待出具意见"),
           N_("信访人已申请复查或复核、尚未出具意见的信访事项，按复查期限、复核期限排列（第35、36条）"),
           lambda ctx: and_(Case.kind == "petition",
                            Case.status.in_([S.REVIEWING, S.REEXAMINING]))), _REVIEWING),
)

APPROVALS = (
    Approval("reply", N_("答复待审批"), lambda: Case.status == CaseStatus.REPLY_PENDING,
             lambda case: case.status == CaseStatus.REPLY_PENDING),
)
