"""A dispute's work queues (我的待办): escalated disputes for the supervisor, the village's
disputes and follow-up visits for the grid worker."""

from __future__ import annotations

from sqlalchemy import and_, true

from casetrack.auth.models import Role
from casetrack.cases.models import Case, CaseStatus
from casetrack.cases.queues import Queue
from casetrack.core.i18n import N_

S = CaseStatus

#: (queue, the roles whose work page shows it), in reading order
QUEUES = (
    (Queue("escalated", N_("上交待接"), N_("村级调解不成、上交镇级，尚未指定承办单位的纠纷"),
           lambda ctx: and_(Case.kind == "dispute", Case.status == S.MEDIATING,
                            Case.mediation_level == "town", Case.unit_id.is_(None))),
     frozenset({Role.SUPERVISOR, Role.ADMIN})),
    (Queue("village_disputes", N_("本村在办纠纷"), N_("按到期日排列，最紧急的在前"),
           lambda ctx: and_(Case.is_open == true(), Case.kind == "dispute"),
           lambda ctx: {"kind": "dispute"}), frozenset({Role.GRID_WORKER})),
    (Queue("follow_up", N_("待回访"), N_("调解成功、尚未回访的纠纷"),
           lambda ctx: and_(Case.kind == "dispute", Case.status == S.RESOLVED,
                            Case.follow_up_on.is_(None)),
           lambda ctx: {"kind": "dispute", "status": "resolved"}), frozenset({Role.GRID_WORKER})),
)
