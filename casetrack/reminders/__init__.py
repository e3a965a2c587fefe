"""Deadline reminders: the town's policy, the daily run that writes digests to the outbox,
the admin pages, and the holiday-calendar upkeep notice.

Sits above ``cases`` (it reads cases) and ``notify`` (it writes the outbox).
"""
