"""``flask reminders``: run the reminder job by hand."""

from __future__ import annotations

from collections import defaultdict

import click
from flask.cli import with_appcontext

from casetrack.core.unit import cli_unit
from casetrack.notify.cli import parse_now
from casetrack.reminders.policy import LEVEL_LABELS, ROLE_LABELS
from casetrack.reminders.run import RunResult, run_reminders


@click.group("reminders")
def reminders_cli() -> None:
    """Deadline reminders: digests of due and overdue cases."""


@reminders_cli.command("run")
@click.option("--now", "now_text", default=None,
              help="run as of this ISO datetime (naive: the town's zone); default: now")
@click.option("--dry-run", is_flag=True, help="print what would be sent; write nothing")
@with_appcontext
def run(now_text: str | None, dry_run: bool) -> None:
    """Remind handlers, supervisors, leaders and admins of what is due now (one digest per
    recipient and channel; never twice the same day). Prints the digests by recipient."""
    now = parse_now(now_text)
    with cli_unit(dry_run=dry_run) as session:
        result = run_reminders(session, now, dry_run=dry_run, trigger="cli")
    click.echo(format_result(result))


def format_result(result: RunResult) -> str:
    """The run, town by town, grouped by recipient."""
    verb = "would send" if result.dry_run else "sent"
    lines = []
    for town in result.towns:
        if not town.is_enabled:
            lines.append(f"{town.town_name} {town.local_day}: reminders are turned off")
            continue
        head = (f"{town.town_name} {town.local_day}: {town.due_cases} due case(s), "
                f"{town.reminders} reminder(s) {verb} in {len(town.digests)} digest(s)")
        if town.run_id:
            head += f" (run #{town.run_id})"
        if town.provisional_cases:
            head += f"; {town.provisional_cases} case(s) with a provisional due date " \
                    f"({town.unknown_year} has no holiday schedule)"
        lines.append(head)
        by_user: dict[int, list] = defaultdict(list)
        for digest in town.digests:
            by_user[digest.recipient.id].append(digest)
        for digests in by_user.values():
            user = digests[0].recipient
            channels = ", ".join(d.channel for d in digests)
            lines.append(f"  {user.name} ({user.username}, "
                         f"{ROLE_LABELS.get(digests[0].role, digests[0].role)}) via {channels}:")
            seen: dict[int, tuple] = {}
            for d in digests:
                for case, level in d.items:
                    seen.setdefault(case.id, (case, level))
            for case, level in seen.values():
                overdue = case.days_overdue(town.local_day)
                state = f"超期 {overdue} 天" if overdue else f"到期 {case.due_on.isoformat()}"
                lines.append(f"    [{LEVEL_LABELS[level]}] {case.number} {case.title} "
                             f"（{case.village or '—'}，{case.handler or '未指定承办人'}）{state}")
        if not town.digests:
            lines.append("  nothing to send")
    return "\n".join(lines) if lines else "no towns"
