"""``flask reports``: the monthly summary PDF and the annual report sentences."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from casetrack.core.errors import DomainError
from casetrack.core.params import CLI_DAY, CLI_YEAR
from casetrack.core.time import app_now, local_date
from casetrack.extensions import db
from casetrack.org.models import Town
from casetrack.reports.fonts import fallback_font_warning
from casetrack.reports.pdf import month_period, monthly_summary_pdf
from casetrack.reports.sentences import year_sentences

DATE = CLI_DAY


@click.group("reports")
def reports_cli() -> None:
    """Printed reports: monthly summary (月度汇总) and report sentences."""


def _town(name: str | None) -> Town:
    """The named town, or the only town when there is one."""
    if name:
        town = db.session.scalar(select(Town).where(Town.name == name))
        if town is None:
            raise click.ClickException(f"没有名为“{name}”的乡镇")
        return town
    towns = list(db.session.scalars(select(Town).order_by(Town.name).limit(50)))
    if len(towns) == 1:
        return towns[0]
    if not towns:
        raise click.ClickException("还没有乡镇（先运行 flask demo load 或在管理页面建立）")
    raise click.ClickException("有多个乡镇，请用 --town 指定：" + "、".join(t.name for t in towns))


def default_as_of(last: dt.date) -> dt.date:
    """The cut-off of a report on a period ending ``last``: that day, or today if earlier."""
    return min(last, local_date(app_now()))


def check_cutoff(cutoff: dt.date, first: dt.date) -> None:
    """A usage error when ``cutoff`` is after today (a projection printed as fact) or before
    ``first``, the period's first day (every figure zero)."""
    today = local_date(app_now())
    if cutoff > today:
        raise click.BadParameter(f"截至日期 {cutoff} 晚于今天（{today}）", param_hint="--as-of")
    if cutoff < first:
        raise click.BadParameter(f"截至日期 {cutoff} 早于统计期间的第一天（{first}）",
                                 param_hint="--as-of")


@reports_cli.command("monthly")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--as-of", "as_of", type=DATE, help="cut-off day; default the month's last day")
@click.option("--town", help="town name (needed when there are several)")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="PDF file to write")
@with_appcontext
def monthly(month: str, as_of: dt.datetime | None, town: str | None, out: Path) -> None:
    """Write the monthly summary of MONTH as of the cut-off to OUT."""
    try:
        first, last = month_period(month)
    except ValueError as exc:
        raise click.BadParameter("应为 YYYY-MM，例如 2022-12", param_hint="--month") from exc
    found = _town(town)
    cutoff = as_of.date() if as_of else default_as_of(last)
    check_cutoff(cutoff, first)
    try:
        data = monthly_summary_pdf(db.session, None, month, cutoff, town_id=found.id)
    except DomainError as exc:
        raise click.ClickException(exc.message) from exc
    out.write_bytes(data)
    warning = fallback_font_warning()
    if warning:
        click.echo(f"警告：{warning}", err=True)
    click.echo(f"{out}  {found.name} {first.year}年{first.month}月  截至 {cutoff}  "
               f"{len(data)} bytes")


@reports_cli.command("sentences")
@click.option("--year", required=True, type=CLI_YEAR)
@click.option("--as-of", "as_of", type=DATE, help="cut-off day; default 31 December")
@click.option("--town", help="town name (needed when there are several)")
@with_appcontext
def sentences(year: int, as_of: dt.datetime | None, town: str | None) -> None:
    """Print the report sentences (petitions, disputes) of YEAR as of the cut-off."""
    found = _town(town)
    cutoff = as_of.date() if as_of else default_as_of(dt.date(year, 12, 31))
    check_cutoff(cutoff, dt.date(year, 1, 1))
    for s in year_sentences(db.session, None, found, year, cutoff):
        click.echo(s.text)
    # every figure says its period and its cut-off (the sentences stay first, as printed)
    click.echo(f"（{found.name}，统计期间：{year}-01-01至{year}-12-31，截至{cutoff.isoformat()}）")
