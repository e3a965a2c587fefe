"""The columns of ``Case`` only disputes fill: mediation level and outcome, agreement,
judicial confirmation, risk flag and follow-up visit."""

FIELDS = (
    "mediation_level", "resolution_level", "agreement_type", "agreement_text", "mediated_on",
    "mediation_due_on",
    "judicial_applied_on", "judicial_court", "is_risk", "follow_up_due_on", "follow_up_on",
    "follow_up_honoured",
)
