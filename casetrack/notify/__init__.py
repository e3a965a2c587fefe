"""The outbox of notifications and the channels that deliver them (in-app, mail, webhook).

Knows nothing of cases: callers pass plain values (recipient, subject, bodies, link, key).
"""
