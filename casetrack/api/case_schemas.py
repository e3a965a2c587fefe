"""Schemas of the case resources (input and output) and the functions that fill the output
ones. The same objects validate requests and describe them in the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from casetrack.api.core import PAGE_QUERY
from casetrack.api.schema import (
    Any_,
    Boolean,
    Date,
    DateTime,
    Id,
    Integer,
    ListOf,
    MapOf,
    Schema,
    String,
)
from casetrack.auth.models import User
from casetrack.auth.permissions import has_right
from casetrack.cases import display, kinds, rules, steps
from casetrack.cases.kinds.petition import rules as prules
from casetrack.cases.models import Case, CaseEvent, CaseStatus, Party
from casetrack.cases.queries import ALL, OPEN, SORTS, WARNING_COLOURS

#: the kinds, their sources and categories: functions, so the choices follow the registry
ALL_CATEGORIES = kinds.all_categories
STATUSES = tuple(s.value for s in CaseStatus)
KINDS = kinds.codes


def SOURCES() -> tuple[str, ...]:  # noqa: N802  (a constant's name: it stands for the list)
    return tuple(kinds.sources())
WARNING_LEVELS = (*WARNING_COLOURS, "none")

# --------------------------------------------------------------------------- output

PARTY_OUT = Schema("Party", {
    "id": Id(required=True),
    "role": String(required=True, choices=tuple(rules.PARTY_ROLES)),
    "role_label": String(required=True),
    "name": String(required=True),
    "id_number_masked": String(required=True, description="身份证号（脱敏），完整号码须调用查看接口"),
    "has_id_number": Boolean(required=True),
    "can_reveal_id": Boolean(required=True, description="当前用户是否有权查看完整身份证号"),
    "phone": String(required=True),
    "address": String(required=True),
})

EVENT_OUT = Schema("CaseEvent", {
    "id": Id(required=True),
    "at": DateTime(required=True),
    "action": String(required=True, max_length=40),
    "action_label": String(required=True),
    "actor_id": Id(required=True, nullable=True),
    "actor_name": String(required=True),
    "from_status": String(required=True, nullable=True, max_length=20),
    "to_status": String(required=True, nullable=True, max_length=20),
    "changes": MapOf(ListOf(Any_(), max_items=2), required=True,
                     description="{字段: [变更前, 变更后]}"),
    "note": String(required=True, max_length=1_000_000),
})


def _case_fields() -> dict[str, Any]:
    return {
        "id": Id(required=True),
        "number": String(required=True, description="GB/T 9704 文号，如 北和信〔2026〕18号"),
        "kind": String(required=True, choices=KINDS),
        "kind_label": String(required=True),
        "title": String(required=True),
        "source": String(required=True, choices=SOURCES),
        "source_label": String(required=True),
        "petition_class": String(required=True, nullable=True),
        "category": String(required=True),
        "status": String(required=True, choices=STATUSES),
        "status_label": String(required=True),
        "village_id": Id(required=True, nullable=True),
        "village_name": String(required=True, nullable=True),
        "unit_id": Id(required=True, nullable=True),
        "unit_name": String(required=True, nullable=True),
        "handler_id": Id(required=True, nullable=True),
        "handler_name": String(required=True, nullable=True),
        "received_on": Date(required=True),
        "accepted_on": Date(required=True, nullable=True),
        "external_ref": String(required=True, nullable=True),
        "external_due_on": Date(required=True, nullable=True),
        "external_authority": String(required=True),
        "group_size": Integer(required=True),
        "is_repeat": Boolean(required=True),
        "due_on": Date(required=True, nullable=True),
        "due_rule": String(required=True, nullable=True),
        "due_basis": String(required=True, nullable=True,
                            description="statutory（法定期限为准）或 external（上级期限为准）"),
        "due_basis_label": String(required=True, nullable=True,
                                  description="以哪一期限为准：法定期限 / 上级期限"),
        "statutory_due_on": Date(required=True, nullable=True,
                                 description="法定期限（含本镇批准的延期）"),
        "external_extension_ref": String(required=True, nullable=True,
                                         description="上级同意延期的文号"),
        "due_is_exact": Boolean(required=True,
                                description="false：期限落在尚未录入节假日安排的年份，为暂定日期"),
        "notify_due_on": Date(required=True, nullable=True,
                              description="书面告知期限（及时受理以此为准）"),
        "mediated_on": Date(required=True, nullable=True, description="调解结果（协议或终止）日期"),
        "mediation_due_on": Date(required=True, nullable=True,
                                 description="调解结果时的调解期限（按期以此为准）"),
        "follow_up_due_on": Date(required=True, nullable=True, description="回访期限"),
        "due_clock": String(required=True, nullable=True,
                            description="正在计算的期限（办理期限、复查期限、回访期限…），已办结为 null"),
        "warning": String(required=True, choices=WARNING_LEVELS,
                          description="由期限与当前日期计算得出，从不存储"),
        "days_left": Integer(required=True, nullable=True),
        "extension_state": String(required=True),
        "extension_days": Integer(required=True),
        "outcome": String(required=True, nullable=True),
        "reply_delivered_on": Date(required=True, nullable=True),
        "rating": String(required=True, nullable=True),
        "closed_on": Date(required=True, nullable=True),
        "mediation_level": String(required=True, nullable=True),
        "resolution_level": String(required=True, nullable=True),
        "is_risk": Boolean(required=True),
        "version": Integer(required=True, minimum=1,
                           description="乐观锁版本号：提交操作时回传（version 字段或 If-Match 头）"),
        "created_at": DateTime(required=True),
        "updated_at": DateTime(required=True),
    }


CASE_OUT = Schema("CaseSummary", _case_fields())
CASE_DETAIL_OUT = Schema("CaseDetail", {
    **_case_fields(),
    "summary": String(required=True, max_length=1_000_000),
    "exit_reason": String(required=True, max_length=1_000_000),
    "reply_text": String(required=True, max_length=1_000_000),
    "extension_requested_days": Integer(required=True, nullable=True),
    "extension_reason": String(required=True, max_length=1_000_000),
    "agreement_type": String(required=True, nullable=True),
    "agreement_text": String(required=True, max_length=1_000_000),
    "follow_up_on": Date(required=True, nullable=True),
    "follow_up_honoured": Boolean(required=True, nullable=True),
    # petition: 复查 and 复核 (信访工作条例 Arts. 35–36); dispute: 司法确认 (人民调解法 Art. 33)
    "review_requested_on": Date(required=True, nullable=True, description="申请复查日期"),
    "review_due_on": Date(required=True, nullable=True, description="复查期限"),
    "review_decided_on": Date(required=True, nullable=True, description="复查意见出具日期"),
    "review_outcome": String(required=True, nullable=True, description="维持 / 撤销 / 变更"),
    "review_text": String(required=True, max_length=1_000_000),
    "reexam_requested_on": Date(required=True, nullable=True, description="申请复核日期"),
    "reexam_due_on": Date(required=True, nullable=True, description="复核期限（含听证天数）"),
    "reexam_decided_on": Date(required=True, nullable=True, description="复核意见出具日期"),
    "reexam_outcome": String(required=True, nullable=True, description="维持 / 撤销 / 变更"),
    "reexam_text": String(required=True, max_length=1_000_000),
    "hearing_days": Integer(required=True, description="听证用时（天），不计入复核期限"),
    "judicial_applied_on": Date(required=True, nullable=True, description="申请司法确认日期"),
    "judicial_court": String(required=True, max_length=100, description="受理司法确认的法院"),
    "parties": ListOf(PARTY_OUT, required=True, max_items=10_000),
    "actions": ListOf(String(), required=True, max_items=50,
                      description="当前用户此刻可执行的操作"),
    "timeline": ListOf(EVENT_OUT, required=True, max_items=1_000_000),
})
REVEALED_ID_OUT = Schema("RevealedIdNumber", {
    "party_id": Id(required=True),
    "id_number": String(required=True, max_length=18),
})


def _d(value: dt.date | None) -> str | None:
    return value.isoformat() if value else None


def case_summary(case: Case, today: dt.date) -> dict[str, Any]:
    """A case as the list shows it."""
    warning = display.warning_for(case, today)
    facts = display.due_facts(case)
    return {
        "id": case.id,
        "number": case.number,
        "kind": case.kind,
        "kind_label": _(kinds.kind_of(case.kind).label),
        "title": case.title,
        "source": case.source,
        "source_label": display.label(kinds.sources(), case.source),
        "petition_class": case.petition_class,
        "category": case.category,
        "status": case.status,
        "status_label": display.label(rules.STATUS_LABELS, case.status),
        "village_id": case.village_id,
        "village_name": case.village.name if case.village else None,
        "unit_id": case.unit_id,
        "unit_name": case.unit.name if case.unit else None,
        "handler_id": case.handler_id,
        "handler_name": case.handler.name if case.handler else None,
        "received_on": case.received_on.isoformat(),
        "accepted_on": _d(case.accepted_on),
        "external_ref": case.external_ref,
        "external_due_on": _d(case.external_due_on),
        "external_authority": case.external_authority,
        "group_size": case.group_size,
        "is_repeat": case.is_repeat,
        "due_on": _d(case.due_on),
        "due_rule": case.due_rule,
        "due_basis": case.due_basis,
        "due_basis_label": facts.governs or None,
        "statutory_due_on": _d(facts.statutory_due_on),
        "external_extension_ref": case.external_extension_ref,
        "due_is_exact": case.due_is_exact,
        "notify_due_on": _d(case.notify_due_on),
        "mediated_on": _d(case.mediated_on),
        "mediation_due_on": _d(case.mediation_due_on),
        "follow_up_due_on": _d(case.follow_up_due_on),
        "due_clock": warning.clock or None,
        "warning": warning.level,
        "days_left": warning.days_left,
        "extension_state": case.extension_state,
        "extension_days": case.extension_days,
        "outcome": case.outcome,
        "reply_delivered_on": _d(case.reply_delivered_on),
        "rating": case.rating,
        "closed_on": _d(case.closed_on),
        "mediation_level": case.mediation_level,
        "resolution_level": case.resolution_level,
        "is_risk": case.is_risk,
        "version": case.version,
        "created_at": case.created_at.isoformat(),
        "updated_at": case.updated_at.isoformat(),
    }


def party_out(party: Party, user: User) -> dict[str, Any]:
    """A party with the ID number masked (everyone; the full one has its own endpoint)."""
    from casetrack.cases.rules import mask_id_number

    return {
        "id": party.id,
        "role": party.role,
        "role_label": display.label(rules.PARTY_ROLES, party.role),
        "name": party.name,
        "id_number_masked": mask_id_number(party.id_number),
        "has_id_number": bool(party.id_number),
        "can_reveal_id": bool(party.id_number) and has_right(user, "view_id"),
        "phone": party.phone,
        "address": party.address,
    }


def event_out(case: Case, ev: CaseEvent) -> dict[str, Any]:
    """One timeline entry (values as stored: codes and ISO dates)."""
    return {
        "id": ev.id,
        "at": ev.at.isoformat(),
        "action": ev.action,
        "action_label": display.action_label(case.kind, ev.action),
        "actor_id": ev.actor_id,
        "actor_name": ev.actor.name if ev.actor else _("系统"),
        "from_status": ev.from_status,
        "to_status": ev.to_status,
        "changes": {k: list(v)[:2] for k, v in (ev.changes or {}).items()},
        "note": ev.note,
    }


def case_detail(session: Session, case: Case, user: User, today: dt.date) -> dict[str, Any]:
    """A case with its parties (masked), the steps open to ``user`` and the timeline."""
    out = case_summary(case, today)
    out.update({
        "summary": case.summary,
        "exit_reason": case.exit_reason,
        "reply_text": case.reply_text,
        "extension_requested_days": case.extension_requested_days,
        "extension_reason": case.extension_reason,
        "agreement_type": case.agreement_type,
        "agreement_text": case.agreement_text,
        "follow_up_on": _d(case.follow_up_on),
        "follow_up_honoured": case.follow_up_honoured,
        "review_requested_on": _d(case.review_requested_on),
        "review_due_on": _d(case.review_due_on),
        "review_decided_on": _d(case.review_decided_on),
        "review_outcome": case.review_outcome,
        "review_text": case.review_text or "",
        "reexam_requested_on": _d(case.reexam_requested_on),
        "reexam_due_on": _d(case.reexam_due_on),
        "reexam_decided_on": _d(case.reexam_decided_on),
        "reexam_outcome": case.reexam_outcome,
        "reexam_text": case.reexam_text or "",
        "hearing_days": case.hearing_days or 0,
        "judicial_applied_on": _d(case.judicial_applied_on),
        "judicial_court": case.judicial_court or "",
        "parties": [party_out(p, user) for p in case.parties],
        "actions": steps.available(session, user, case, today),
        "timeline": [event_out(case, ev) for ev in case.events],
    })
    return out


# --------------------------------------------------------------------------- input

PARTY_IN = Schema("PartyInput", {
    "name": String(required=True, max_length=64, min_length=1),
    "role": String(choices=tuple(rules.PARTY_ROLES), default="petitioner"),
    "id_number": String(max_length=18, default=""),
    "phone": String(max_length=20, default=""),
    "address": String(max_length=200, default=""),
})

REGISTER_IN = Schema("RegisterCase", {
    "kind": String(required=True, choices=KINDS),
    "title": String(required=True, max_length=200, min_length=1),
    "source": String(required=True, choices=SOURCES),
    "received_on": Date(required=True),
    "summary": String(max_length=20_000, default=""),
    "category": String(choices=ALL_CATEGORIES, default="其他"),
    "petition_class": String(choices=prules.CLASSES, nullable=True),
    "village_id": Id(nullable=True),
    "external_ref": String(max_length=100, nullable=True),
    "external_due_on": Date(nullable=True),
    "external_authority": String(max_length=100, default=""),
    "group_size": Integer(minimum=1, maximum=10_000, default=1),
    "parties": ListOf(PARTY_IN, required=True, min_items=1, max_items=50),
    "note": String(max_length=2000, default="", description="登记记录的备注"),
})

CASE_LIST_QUERY = Schema("CaseListQuery", {
    "kind": String(choices=KINDS),
    "status": String(choices=(OPEN, ALL, *STATUSES), default=ALL,
                     description="状态；open 表示所有未办结状态，all（默认）表示全部"),
    "village_id": Id(),
    "unit_id": Id(),
    "category": String(choices=ALL_CATEGORIES),
    "source": String(choices=SOURCES),
    "warning": String(choices=WARNING_COLOURS),
    "received_from": Date(description="收到日期起（含）；不是有效日期时返回 400 invalid_date"),
    "received_to": Date(description="收到日期止（含）；不是有效日期时返回 400 invalid_date"),
    "q": String(max_length=100, default="", description="在编号、交办文号、标题、摘要、当事人姓名和电话中搜索；括号与全角半角不限；多个词以空格分隔，须全部匹配"),
    "sort": String(choices=tuple(SORTS), default="",
                   description="排序，与案件列表页相同：due（默认，期限紧急优先）、-due、received、"
                               "-received、number、-updated"),
    **PAGE_QUERY,
})
