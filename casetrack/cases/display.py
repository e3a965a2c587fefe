"""How cases look on the pages: labels, warning badges and the readable timeline (the steps
a user may take now are ``steps.available``). Read-only: nothing here changes a case.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, g
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from casetrack.auth.models import User
from casetrack.cases import kinds, rules, steps
from casetrack.cases.models import Case, CaseEvent
from casetrack.core.i18n import N_, tr
from casetrack.core.i18n import gettext as _
from casetrack.deadlines.rules import DEFAULT_RULES, days_left, warning_level
from casetrack.extensions import db
from casetrack.org.models import Unit, Village
from casetrack.org.settings import get_setting, get_setting_of_towns

#: labels of timeline steps that are not transitions of the state machine
EXTRA_ACTION_LABELS = {
    "register": N_("登记"),
    "attach": N_("上传附件"),
    "import": N_("导入"),
    "recompute_due": N_("重新计算期限"),
}

#: labels of the fields a timeline step can change
FIELD_LABELS = {
    "number": N_("编号"),
    "status": N_("状态"),
    "title": N_("标题"),
    "source": N_("来源"),
    "accepted_on": N_("受理日期"),
    "due_on": N_("办理期限"),
    "due_rule": N_("期限规则"),
    "due_basis": N_("期限依据"),
    "due_is_exact": N_("到期日已确定"),
    "statutory_due_on": N_("法定期限"),
    "external_due_on": N_("上级规定期限"),
    "external_extension_ref": N_("上级同意延期文号"),
    "mediated_on": N_("调解结果日期"),
    "mediation_due_on": N_("调解期限"),
    "review_due_on": N_("复查期限"),
    "reexam_due_on": N_("复核期限"),
    "follow_up_due_on": N_("回访期限"),
    "unit_id": N_("承办单位"),
    "handler_id": N_("承办人"),
    "exit_reason": N_("理由"),
    "closed_on": N_("办结日期"),
    "extension_state": N_("延期状态"),
    "extension_requested_days": N_("申请延期天数"),
    "extension_reason": N_("延期理由"),
    "extension_days": N_("已批准延期天数"),
    "outcome": N_("处理意见"),
    "reply_delivered_on": N_("答复送达日期"),
    "rating": N_("信访人评价"),
    "mediation_level": N_("调解层级"),
    "resolution_level": N_("化解层级"),
    "agreement_type": N_("协议形式"),
    "follow_up_on": N_("回访日期"),
    "follow_up_honoured": N_("协议履行"),
    "is_risk": N_("风险标记"),
    "held_on": N_("调解日期"),
    "attachment": N_("附件"),
    "summary": N_("主要内容"),
    "category": N_("内容分类"),
    "village_id": N_("村（居）"),
    "party_name": N_("当事人姓名"),
    "party_phone": N_("当事人电话"),
    "review_requested_on": N_("申请复查日期"),
    "review_outcome": N_("复查结论"),
    "review_decided_on": N_("复查意见出具日期"),
    "reexam_requested_on": N_("申请复核日期"),
    "reexam_outcome": N_("复核结论"),
    "reexam_decided_on": N_("复核意见出具日期"),
    "hearing_days": N_("听证天数"),
    "judicial_applied_on": N_("申请司法确认日期"),
    "judicial_court": N_("受理法院"),
}

EXTENSION_LABELS = {
    "none": N_("未申请"),
    "pending": N_("待审批"),
    "approved": N_("已批准"),
    "rejected": N_("未批准"),
}
DUE_BASIS_LABELS = {"statutory": N_("法定期限"), "external": N_("上级期限")}

#: the town setting the reminder-policy page edits; pages, lists, the API and the reminder
#: run all read the same threshold
YELLOW_DAYS_KEY = "reminders.yellow_days"


def yellow_days(town_id: int | None = None) -> int:
    """How many days before the due date a case turns yellow: the town's setting, else
    REMINDER_YELLOW_DAYS, else WARNING_YELLOW_DAYS. Read once per request and town."""
    config = current_app.config
    default = config.get("REMINDER_YELLOW_DAYS")
    default = int(default if default is not None else config["WARNING_YELLOW_DAYS"])
    if town_id is None and current_user.is_authenticated:
        town_id = current_user.town_id
    if town_id is None:
        return default
    cache = g.setdefault("casetrack_yellow_days", {})
    if town_id not in cache:
        cache[town_id] = int(get_setting(db.session, town_id, YELLOW_DAYS_KEY, default))
    return cache[town_id]


def _prefetch_yellow_days(town_ids) -> None:
    """Read the yellow days of every town in ``town_ids`` not read yet in this request, in
    one query (a county list shows cases of up to twenty towns)."""
    cache = g.setdefault("casetrack_yellow_days", {})
    missing = {t for t in town_ids if t is not None and t not in cache}
    if len(missing) < 2:
        return  # ``yellow_days`` reads a single town as cheaply
    config = current_app.config
    default = config.get("REMINDER_YELLOW_DAYS")
    default = int(default if default is not None else config["WARNING_YELLOW_DAYS"])
    for town_id, value in get_setting_of_towns(db.session, missing, YELLOW_DAYS_KEY,
                                               default).items():
        cache[town_id] = int(value)


def warnings_for(cases, today: dt.date) -> list[tuple[Case, DeadlineWarning]]:
    """``(case, warning_for(case, today))`` of each case of a page, the towns' yellow days
    read in one query."""
    cases = list(cases)
    _prefetch_yellow_days({c.town_id for c in cases})
    return [(c, warning_for(c, today)) for c in cases]


@dataclass
class DeadlineWarning:
    """The derived deadline state of a case on a given day."""

    level: str
    days_left: int | None
    text: str
    #: which clock is running (办理期限, 复查期限, ...): empty for a finished case
    clock: str = ""


def warning_for(case: Case, today: dt.date) -> DeadlineWarning:
    """Colour, "N days left / N days overdue" and the running clock's name of ``case`` on
    ``today``."""
    level = warning_level(case.due_on, today, case.is_open, yellow_days(case.town_id)).value
    left = days_left(case.due_on, today) if case.is_open else None
    if left is None:
        text = _("已办结") if not case.is_open else _("无期限")
    elif left > 0:
        text = _("剩余%(n)s天", n=left)
    elif left == 0:
        text = _("今日到期")
    else:
        text = _("逾期%(n)s天", n=-left)
    clock = clock_label(case.due_rule) if left is not None else ""
    return DeadlineWarning(level, left, text, clock)


def rule_label(code: str | None) -> str:
    """The deadline rule's name, e.g. 办理办结（第34条）."""
    if not code or code not in DEFAULT_RULES:
        return code or ""
    return _(DEFAULT_RULES[code].label)


def clock_label(code: str | None) -> str:
    """The running clock's short name, e.g. 复查期限 (the rule's name when it has none;
    ``办理期限`` for a case without a rule)."""
    rule = DEFAULT_RULES.get(code or "")
    if rule is None:
        return _("办理期限")
    return _(rule.clock or rule.label)


@dataclass
class DueFacts:
    """Both dates of a case and which one governs (an assigned case)."""

    due_on: dt.date | None
    statutory_due_on: dt.date | None
    external_due_on: dt.date | None
    basis: str | None
    is_exact: bool

    @property
    def governs(self) -> str:
        """``上级期限`` / ``法定期限`` (translated), or empty."""
        return _(DUE_BASIS_LABELS[self.basis]) if self.basis in DUE_BASIS_LABELS else ""


def due_facts(case: Case) -> DueFacts:
    """The effective, statutory and authority dates of ``case`` and which governs."""
    statutory = case.statutory_due_on
    if statutory is None and case.due_basis == "statutory":
        statutory = case.due_on
    return DueFacts(case.due_on, statutory, case.external_due_on, case.due_basis,
                    case.due_is_exact)


def label(mapping: dict, key: Any) -> str:
    """A translated label from one of the rules' label maps, or the key itself."""
    if key is None or key == "":
        return "—"
    value = mapping.get(key)
    return _(value) if value else str(key)


def _known_values() -> dict[str, str]:
    """Every fixed value a case field may hold that is also a label (N_-marked lists of the
    kinds and of ``rules``), for the kinds registered now."""
    key = kinds.codes()
    if _KNOWN_CACHE.get("key") != key:
        _KNOWN_CACHE["key"] = key
        _KNOWN_CACHE["values"] = {str(v): v for v in (*rules.RATINGS, *kinds.known_values())}
    return _KNOWN_CACHE["values"]


_KNOWN_CACHE: dict[str, Any] = {}


def known_label(value: Any) -> str:
    """A field value from one of the fixed lists, translated; anything else (data) as is."""
    return str(tr(_known_values().get(str(value), str(value))))


def action_label(kind: str, action: str) -> str:
    """The name of a timeline step for a case of ``kind``."""
    step_label = steps.label_of(kind, action)
    if step_label is not None:
        return _(step_label)
    return _(EXTRA_ACTION_LABELS[action]) if action in EXTRA_ACTION_LABELS else action


# --------------------------------------------------------------------------- timeline


#: steps whose recorded values are facts of the step, not changes of the case
FACT_ACTIONS = frozenset({"register", "mediation_session", "attach"})


@dataclass
class Change:
    label: str
    before: str
    after: str
    #: True when the value is a fact of the step (shown without "before →")
    is_fact: bool = False


@dataclass
class TimelineEntry:
    event: CaseEvent
    label: str
    actor: str
    from_status: str | None
    to_status: str | None
    changes: list[Change] = field(default_factory=list)


def timeline(session: Session, case: Case) -> list[TimelineEntry]:
    """The case's events, oldest first, with every value in words."""
    events = list(case.events)
    unit_ids, user_ids, village_ids = set(), set(), set()
    for ev in events:
        for key, pair in (ev.changes or {}).items():
            target = {"unit_id": unit_ids, "handler_id": user_ids,
                      "village_id": village_ids}.get(key)
            if target is not None:
                target.update(v for v in pair if v is not None)
    # the actors come with the users the changes name: ``ev.actor`` is then found in the
    # session, not loaded one by one; a case whose changes name no unit or user asks nothing
    user_ids.update(ev.actor_id for ev in events if ev.actor_id is not None)
    units = ({u.id: u.name for u in session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))}
             if unit_ids else {})
    # held until the loop below has read ``ev.actor`` (the session keeps them weakly)
    people = list(session.scalars(select(User).where(User.id.in_(user_ids)))) if user_ids else []
    users = {u.id: u.name for u in people}
    if village_ids:
        units.update({("village", v.id): v.name for v in session.scalars(
            select(Village).where(Village.id.in_(village_ids)))})
    out = []
    for ev in events:
        changed = ev.from_status != ev.to_status
        entry = TimelineEntry(
            event=ev,
            label=action_label(case.kind, ev.action),
            actor=ev.actor.name if ev.actor else _("系统"),
            from_status=label(rules.STATUS_LABELS, ev.from_status) if changed and ev.from_status else None,
            to_status=label(rules.STATUS_LABELS, ev.to_status) if changed else None,
        )
        for key, pair in (ev.changes or {}).items():
            before, after = (list(pair) + [None, None])[:2]
            entry.changes.append(Change(
                label=_(FIELD_LABELS[key]) if key in FIELD_LABELS else key,
                before=_value(key, before, units, users),
                after=_value(key, after, units, users),
                is_fact=ev.action in FACT_ACTIONS and before is None,
            ))
        out.append(entry)
    return out


def _value(key: str, value: Any, units: dict[int, str], users: dict[int, str]) -> str:
    """One changed value in words."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("是") if value else _("否")
    lookup = {
        "unit_id": units, "handler_id": users,
        "status": rules.STATUS_LABELS, "source": kinds.sources(),
        "extension_state": EXTENSION_LABELS, "due_basis": DUE_BASIS_LABELS,
        **kinds.value_labels(),
    }.get(key)
    if key == "due_rule":
        return rule_label(value)
    if key == "village_id":
        return units.get(("village", value), str(value))
    if key in ("rating", "category") or key in kinds.labelled_fields():
        return known_label(value)
    if lookup is not None:
        text = lookup.get(value)
        if text is None:
            return str(value)
        return text if key in ("unit_id", "handler_id") else _(text)
    return str(value)
