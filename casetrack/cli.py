"""Registers each domain's command group on the ``flask`` command."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Add every domain's command group (``flask scheduler`` is added by ``scheduler.py``)."""
    from casetrack.backup.cli import backup_cli
    from casetrack.cases.cli import cases_cli
    from casetrack.deadlines.cli import deadlines_cli
    from casetrack.demo.cli import demo_cli
    from casetrack.notify.cli import notify_cli
    from casetrack.org.cli import towns_cli, users_cli
    from casetrack.reminders.cli import reminders_cli
    from casetrack.reports.cli import reports_cli
    from casetrack.stats.cli import stats_cli

    for group in (backup_cli, cases_cli, deadlines_cli, demo_cli, notify_cli, towns_cli, users_cli,
                  reminders_cli, reports_cli, stats_cli):
        app.cli.add_command(group)
