"""The columns of ``Case`` only petitions fill: class, group size, the assigning authority's
reference and deadline, acceptance, notify date, reply, rating, review and re-examination."""

FIELDS = (
    "petition_class", "group_size", "external_ref", "external_due_on", "external_authority",
    "external_extension_ref", "accepted_on", "notify_due_on", "outcome", "reply_text",
    "reply_delivered_on", "rating", "review_requested_on", "review_due_on",
    "review_decided_on", "review_outcome", "review_text", "reexam_requested_on",
    "reexam_due_on", "reexam_decided_on", "reexam_outcome", "reexam_text", "hearing_days",
)
