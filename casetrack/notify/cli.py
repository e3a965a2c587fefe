"""``flask notify``: deliver the outbox by hand."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext

from casetrack.core.time import app_now
from casetrack.extensions import db
from casetrack.notify.services import deliver_pending


@click.group("notify")
def notify_cli() -> None:
    """Notifications: the outbox of mail and group-robot messages."""


@notify_cli.command("deliver")
@click.option("--now", "now_text", default=None, help="pretend it is this ISO datetime")
@click.option("--max-rows", type=int, default=None, help="stop after this many rows")
@with_appcontext
def deliver(now_text: str | None, max_rows: int | None) -> None:
    """Deliver pending mail and webhook notifications that are due (with retries)."""
    now = parse_now(now_text)
    report = deliver_pending(db.session, now, max_rows=max_rows)
    click.echo(f"sent {report.sent}, to retry {report.retried}, given up {report.gave_up}")
    for line in report.errors:
        click.echo(f"  {line}")


def parse_now(text: str | None) -> dt.datetime:
    """An ISO datetime (local zone if naive) or, without one, the app's "now"."""
    if not text:
        return app_now()
    from casetrack.core.time import TOWN_ZONE

    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise click.BadParameter(f"not an ISO datetime: {text}", param_hint="--now") from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=TOWN_ZONE)
    return value.astimezone(dt.UTC)
