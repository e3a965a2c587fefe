"""Fixtures for the notification tests: a real SMTP server wired into the app's config."""

from __future__ import annotations

import pytest
from notify.support import SmtpServer


@pytest.fixture
def smtp(app, monkeypatch):
    """A running aiosmtpd server on 127.0.0.1; the app sends mail to it."""
    server = SmtpServer()
    server.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 5)
    yield server
    server.stop()


@pytest.fixture
def emails(world):
    """Give the world's users e-mail addresses."""
    from casetrack.extensions import db

    for name in ("handler1", "handler2", "supervisor", "leader", "admin"):
        user = getattr(world, name)
        user.email = f"{user.username}@beihe.example"
    db.session.commit()
    return world
