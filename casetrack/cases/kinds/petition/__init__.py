"""Petitions (信访事项, 2022 信访工作条例): the kind's folder, built into one ``Kind``."""

from casetrack.cases.kinds import Kind
from casetrack.cases.kinds.petition import fields, metrics, queues, rules, services, sheet, steps
from casetrack.core.i18n import N_

KIND = Kind(
    code="petition",
    label=N_("信访事项"),
    default_prefix="信",
    sources=rules.SOURCES,
    categories=rules.CATEGORIES,
    moves=steps.MOVES,
    rights=steps.RIGHTS,
    deadline_rules=rules.DEADLINE_RULES,
    first_clock=rules.first_clock,
    validate=rules.validate,
    validate_parties=rules.validate_parties,
    on_register=rules.on_register,
    recompute=rules.recompute,
    kept_dates=rules.KEPT_DATES,
    request_clocks=rules.REQUEST_CLOCKS,
    uncapped_rules=rules.UNCAPPED_RULES,
    refuse_earlier=services.refuse_after_reexamination,
    fields=fields.FIELDS,
    known_values=(*rules.CLASSES, *rules.OUTCOMES, *rules.REVIEW_OUTCOMES),
    labelled_fields=("outcome", "petition_class", "review_outcome", "reexam_outcome"),
    party_roles=("petitioner",),
    parties_shown=1,
    parties_label=N_("信访人"),
    templates={"parts": "cases/kinds/petition/parts.html"},
    metrics=metrics.METRICS,
    rates=metrics.RATES,
    sentences=metrics.SENTENCES,
    on_time=metrics.on_time,
    sheet_facts=sheet.sheet_facts,
    services=services,
    queues=queues.QUEUES,
    approvals=queues.APPROVALS,
    sheet_title="信访事项办理单",
)
