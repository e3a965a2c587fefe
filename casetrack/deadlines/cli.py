"""``flask deadlines``: compute due dates from the command line."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext

from casetrack.core.errors import CalendarUnknown
from casetrack.deadlines.calendar import load_calendar
from casetrack.deadlines.rules import DEFAULT_RULES, compute_due, resolve_rule
from casetrack.extensions import db


@click.group("deadlines")
def deadlines_cli() -> None:
    """Deadline rules and the holiday calendar."""


@deadlines_cli.command("compute")
@click.option("--rule", "rule_code", required=True, type=click.Choice(sorted(DEFAULT_RULES)),
              help="deadline rule code, e.g. petition.handle")
@click.option("--start", required=True, type=click.DateTime(["%Y-%m-%d"]),
              help="the anchor day (not counted), YYYY-MM-DD")
@click.option("--extension", default=0, show_default=True, help="extension days to add")
@with_appcontext
def compute(rule_code: str, start: dt.datetime, extension: int) -> None:
    """Print the due date of RULE anchored on START (Civil Code counting, holidays moved)."""
    from flask import current_app

    rule = resolve_rule(rule_code, current_app.config.get("DEADLINE_RULES"))
    calendar = load_calendar(db.session)
    try:
        due = compute_due(start.date(), rule.amount + extension, rule.unit, calendar)
    except CalendarUnknown as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(due.isoformat())


@deadlines_cli.command("rules")
def list_rules() -> None:
    """List the deadline rules with their amounts and units."""
    for rule in DEFAULT_RULES.values():
        ext = f", extendable by up to {rule.max_extension_days} days" if rule.extendable else ""
        click.echo(f"{rule.code}: {rule.amount} {rule.unit} from {rule.anchor}{ext}  {rule.label}")
