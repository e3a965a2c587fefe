"""``flask deadlines``: compute due dates from the command line."""

from __future__ import annotations

import datetime as dt

import click
from flask.cli import with_appcontext

from casetrack.core.errors import CalendarUnknown
from casetrack.core.params import CLI_DAY
from casetrack.core.unit import cli_unit
from casetrack.deadlines.calendar import load_calendar
from casetrack.deadlines.rules import DEFAULT_RULES, compute_due
from casetrack.deadlines.town_rules import town_rule, town_rules
from casetrack.extensions import db


@click.group("deadlines")
def deadlines_cli() -> None:
    """Deadline rules and the holiday calendar."""


@deadlines_cli.command("compute")
@click.option("--rule", "rule_code", required=True, type=click.Choice(sorted(DEFAULT_RULES)),
              help="deadline rule code, e.g. petition.handle")
@click.option("--start", required=True, type=CLI_DAY,
              help="the anchor day (not counted), YYYY-MM-DD")
@click.option("--extension", default=0, show_default=True, type=click.IntRange(0, 366),
              help="extension days to add")
@click.option("--town", "town_name", default=None,
              help="count with this town's rules (its overrides), e.g. 北和镇")
@with_appcontext
def compute(rule_code: str, start: dt.datetime, extension: int, town_name: str | None) -> None:
    """Print the due date of RULE anchored on START (Civil Code counting, holidays moved)."""
    town_id = _town_id(town_name)
    rule = town_rule(db.session, town_id, rule_code)
    calendar = load_calendar(db.session, town_id)
    try:
        due = compute_due(start.date(), rule.amount, rule.unit, calendar, extension)
    except CalendarUnknown as exc:
        raise click.ClickException(exc.message) from exc
    click.echo(due.isoformat())


def _town_id(town_name: str | None) -> int | None:
    from sqlalchemy import select

    from casetrack.org.models import Town

    if not town_name:
        return None
    town_id = db.session.scalar(select(Town.id).where(Town.name == town_name))
    if town_id is None:
        raise click.ClickException(f"乡镇“{town_name}”不存在")
    return town_id


@deadlines_cli.command("rules")
@click.option("--town", "town_name", default=None,
              help="show this town's rules (its overrides applied), e.g. 北和镇")
@with_appcontext
def list_rules(town_name: str | None) -> None:
    """List the deadline rules with their amounts and units."""
    for rule in town_rules(db.session, _town_id(town_name)):
        ext = f", extendable by up to {rule.max_extension_days} days" if rule.extendable else ""
        clock = f"  [{rule.clock}]" if rule.clock else ""
        click.echo(f"{rule.code}: {rule.amount} {rule.unit} from {rule.anchor}{ext}  {rule.label}"
                   f"{clock}")


@deadlines_cli.command("set-rule")
@click.option("--town", "town_name", required=True, help="the town, e.g. 北和镇")
@click.option("--rule", "rule_code", required=True, type=click.Choice(sorted(DEFAULT_RULES)))
@click.option("--amount", required=True, type=int, help="the period, in the rule's unit")
@click.option("--unit", type=click.Choice(["days", "workdays", "months"]), default=None)
@click.option("--max-extension", type=int, default=None, help="longest extension in days")
@click.option("--dry-run", is_flag=True, help="show the recomputed due dates, save nothing")
@with_appcontext
def set_rule(town_name: str, rule_code: str, amount: int, unit: str | None,
             max_extension: int | None, dry_run: bool) -> None:
    """Set a town's own value for a deadline rule and recompute its open cases' dates."""
    from casetrack.cases.due_updates import change_town_rule
    from casetrack.core.time import app_now

    town_id = _town_id(town_name)
    with cli_unit(dry_run=dry_run) as session:
        rule, changes = change_town_rule(session, None, app_now(), town_id, rule_code,
                                         amount=amount, unit=unit,
                                         max_extension_days=max_extension)
        click.echo(f"{rule.code}: {rule.amount} {rule.unit}"
                   + (f", max extension {rule.max_extension_days}" if rule.extendable else ""))
    for change in changes:
        click.echo(f"  {change.number}: {change.before or '—'} → {change.after or '—'}")
    click.echo(f"重新计算了 {len(changes)} 个案件的期限")
    if dry_run:
        click.echo("试运行：未保存任何内容")


@deadlines_cli.command("load-year")
@click.option("--year", required=True, type=int, help="the year the schedule is for, e.g. 2027")
@click.option("--file", "path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="CSV with columns date,type,name (UTF-8, with or without BOM, or GB18030)")
@click.option("--source", default="", help="where the schedule comes from, e.g. the notice number")
@click.option("--dry-run", is_flag=True, help="validate and show the recomputed due dates, save nothing")
@with_appcontext
def load_year(year: int, path: str, source: str, dry_run: bool) -> None:
    """Enter a year's holidays and adjusted workdays from a CSV and recompute due dates."""
    from casetrack.cases.due_updates import enter_year
    from casetrack.core.time import app_now
    from casetrack.deadlines import services as calendar_services

    with open(path, "rb") as fh:
        data = fh.read()
    with cli_unit(dry_run=dry_run) as session:
        entries = calendar_services.parse_entries(
            calendar_services.decode_upload(data), year, require_header=True)
        result = enter_year(session, None, app_now(), year, entries, source)
    click.echo(f"{year} 年：放假 {result.holidays} 天，调休上班 {result.workdays} 天"
               + (f"（替换原有 {result.replaced} 条）" if result.replaced else ""))
    for change in result.changes:
        exact = "" if change.exact_after else "（仍为暂定）"
        click.echo(f"  {change.number}: {change.before or '—'} → {change.after or '—'}{exact}")
    click.echo(f"重新计算了 {len(result.changes)} 个案件的期限")
    if dry_run:
        click.echo("试运行：未保存任何内容")
