"""Holiday calendar, deadline rules and warning levels.

Note on layering: ARCHITECTURE.md puts ``deadlines`` above ``cases``, but a case's due date
is decided when the case moves (accept, extend), so the calendar and the counting rules sit
*below* ``cases`` here; the reminder job, which reads cases, lives in its own package above.
"""
