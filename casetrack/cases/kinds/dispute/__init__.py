"""Disputes (矛盾纠纷, 人民调解法): the kind's folder, built into one ``Kind``."""

from casetrack.cases.kinds import Kind
from casetrack.cases.kinds.dispute import fields, metrics, queues, rules, services, sheet, steps
from casetrack.core.i18n import N_

KIND = Kind(
    code="dispute",
    label=N_("矛盾纠纷"),
    default_prefix="调",
    sources=rules.SOURCES,
    categories=rules.CATEGORIES,
    moves=steps.MOVES,
    rights=steps.RIGHTS,
    deadline_rules=rules.DEADLINE_RULES,
    first_clock=rules.first_clock,
    village_required=N_("请选择纠纷所在村（居）"),
    default_source="screening",
    default_for=frozenset({"grid_worker"}),
    recompute=rules.recompute,
    kept_dates=rules.KEPT_DATES,
    fields=fields.FIELDS,
    value_labels={"mediation_level": rules.MEDIATION_LEVELS,
                  "resolution_level": rules.MEDIATION_LEVELS,
                  "agreement_type": rules.AGREEMENT_TYPES},
    party_roles=("applicant", "respondent", "party"),
    parties_shown=2,
    parties_label=N_("当事人"),
    templates={"parts": "cases/kinds/dispute/parts.html"},
    metrics=metrics.METRICS,
    rates=metrics.RATES,
    sentences=metrics.SENTENCES,
    on_time=metrics.on_time,
    sheet_facts=sheet.sheet_facts,
    services=services,
    queues=queues.QUEUES,
    sheet_title="矛盾纠纷调处单",
)
