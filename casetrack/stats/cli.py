"""``flask stats``: the town's figures from the command line."""

from __future__ import annotations

import datetime as dt
import json

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from casetrack.cases import kinds
from casetrack.core.params import CLI_DAY
from casetrack.core.time import app_now, local_date
from casetrack.extensions import db
from casetrack.org.models import Town
from casetrack.stats.metrics import HEADLINE, METRICS, RATE_LIST
from casetrack.stats.queries import StatsQuery, summary

DATE = CLI_DAY


@click.group("stats")
def stats_cli() -> None:
    """Figures the town reports (counts and rates as of a cut-off date)."""


def find_town(name: str | None) -> Town | None:
    """The town called ``name``; without a name the only town when there is just one, else
    None (every town); a click error when unknown."""
    if not name:
        towns = list(db.session.scalars(select(Town).limit(2)))
        return towns[0] if len(towns) == 1 else None
    town = db.session.scalar(select(Town).where(Town.name == name))
    if town is None:
        raise click.ClickException(f"没有名为“{name}”的乡镇")
    return town


@stats_cli.command("summary")
@click.option("--from", "date_from", type=DATE, required=True, help="period start (received on)")
@click.option("--to", "date_to", type=DATE, required=True, help="period end (received on)")
@click.option("--as-of", "as_of", type=DATE, help="cut-off day (status at its end); default --to")
@click.option("--town", help="town name; default the only town, or every town")
@click.option("--source", type=click.Choice(sorted(kinds.sources())), help="only this channel")
@click.option("--kind", type=click.Choice(kinds.codes()), help="only this kind")
@click.option("--json", "as_json", is_flag=True, help="print a JSON object")
@with_appcontext
def summary_command(date_from: dt.datetime, date_to: dt.datetime, as_of: dt.datetime | None,
                    town: str | None, source: str | None, kind: str | None,
                    as_json: bool) -> None:
    """Counts (total, closed, open, overdue) per kind and per source, and the rates."""
    found = find_town(town)
    today = local_date(app_now())
    # the cut-off defaults to the period's end, or today while the period runs; one still to
    # come would print projections as fact, one before the period counts nothing
    q = StatsQuery(date_from.date(), date_to.date(),
                   as_of.date() if as_of else min(date_to.date(), today),
                   town_id=found.id if found else None, source=source, kind=kind)
    if q.date_from > q.date_to:
        raise click.BadParameter("--from 晚于 --to")
    if q.as_of > today:
        raise click.BadParameter(f"截至日期 {q.as_of} 晚于今天（{today}）", param_hint="--as-of")
    if q.as_of < q.date_from:
        raise click.BadParameter(f"截至日期 {q.as_of} 早于 --from（{q.date_from}）",
                                 param_hint="--as-of")
    result = summary(db.session, None, q)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"{result.town_name}  {q.date_from}～{q.date_to}  截至 {q.as_of}")
    # one heading per figure printed (HEADLINE also holds 不予受理/已退回)
    click.echo("\t".join(["", *(str(METRICS[k].label) for k in HEADLINE)]))
    for row in [result.totals, *result.by_kind, *result.by_source]:
        click.echo("\t".join([row.label, *[str(row.counts[k]) for k in HEADLINE]]))
    for rate in RATE_LIST:
        r = result.totals.rates[rate.key]
        click.echo(f"{r.label}\t{r.percent}\t({r.numerator}/{r.denominator})")
