"""``flask demo load``: the demo town of Beihe (北和镇, 雷州市), in one transaction."""

from __future__ import annotations

import datetime as dt
import random
import time
import unicodedata
from collections import Counter

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade
from sqlalchemy import bindparam, func, inspect, select, update
from sqlalchemy.orm import Session

from casetrack.auth.models import ROLE_LABELS, Role
from casetrack.cases.models import Case, CaseEvent, CaseKind
from casetrack.cases.rules import OPEN_STATUSES
from casetrack.core.time import app_now, end_of_local_day, local_date
from casetrack.core.unit import cli_unit
from casetrack.deadlines.calendar import load_calendar
from casetrack.deadlines.rules import warning_level
from casetrack.demo.builder import Builder
from casetrack.demo.current import build_current
from casetrack.demo.history import YEAR, build_2022
from casetrack.demo.org import (
    DEMO_PASSWORD,
    TOWN_NAME,
    DemoOrg,
    build_org,
    demo_usernames,
    existing_usernames,
    read_villages,
    villages_csv_path,
)
from casetrack.demo.people import PeopleFactory
from casetrack.extensions import db
from casetrack.org.models import Town

#: the seed of every demo load: the same town, people and cases each time
SEED = 20221231


@click.group("demo")
def demo_cli() -> None:
    """The demo town of Beihe (fictional people, real villages)."""


@demo_cli.command("load")
@with_appcontext
def load() -> None:
    """Create 北和镇 with its villages, units, users and case history (once).

    Does nothing when the town already exists. Prints the demo logins; every account's
    password is the demo password shown. All personal data is invented.
    """
    session = db.session
    if not inspect(db.engine).has_table(Town.__tablename__):
        # a fresh clone: `flask demo load` as the first command still works
        click.echo("The database has no tables yet: creating them first (flask db upgrade).")
        upgrade()
    if session.scalar(select(Town.id).where(Town.name == TOWN_NAME)) is not None:
        click.echo(f"{TOWN_NAME} already exists: demo data not loaded again.")
        return
    taken = existing_usernames(session, demo_usernames())
    if taken:
        raise click.ClickException(
            "usernames already in use, demo not loaded: " + ", ".join(sorted(taken)))
    path = villages_csv_path(current_app)
    if not path.is_file():
        raise click.ClickException(f"villages file not found: {path}")
    started = time.perf_counter()
    now = app_now()
    with cli_unit(session):
        org, builder = load_demo(session, read_villages(path), now)
        lines = summary_lines(session, org, builder, now)
    click.echo(f"Demo town {TOWN_NAME} loaded in {time.perf_counter() - started:.1f} s "
               f"(villages from {path}).")
    for line in lines:
        click.echo(line)


def load_demo(session: Session, villages: list[tuple[str, str]],
              now: dt.datetime) -> tuple[DemoOrg, Builder]:
    """Build the whole demo in the session (flushed, not committed)."""
    rng = random.Random(SEED)
    people = PeopleFactory(rng)
    org = build_org(session, rng, people, villages)
    builder = Builder(session, rng, org, load_calendar(session), people)
    build_2022(builder)
    build_current(builder, now)
    session.flush()
    # "last changed" is the last step on the timeline, not the moment of the load
    last_step = (select(func.max(CaseEvent.at)).where(CaseEvent.case_id == Case.id)
                 .scalar_subquery())
    session.execute(update(Case).where(Case.town_id == org.town.id)
                    .values(updated_at=last_step).execution_options(synchronize_session=False))
    mark_old_messages_read(session, org.town, now)
    return org, builder


def mark_old_messages_read(session: Session, town: Town, now: dt.datetime) -> None:
    """The services told people about each step as it happened; messages older than a week
    were read long ago, so only the last week's show as new in the demo."""
    table = db.metadata.tables.get("notifications")
    if table is None:  # no outbox in this installation
        return
    rows = session.execute(select(table.c.id, table.c.created_at).where(
        table.c.town_id == town.id, table.c.read_at.is_(None),
        table.c.created_at < now - dt.timedelta(days=7))).all()
    if rows:
        session.execute(
            update(table).where(table.c.id == bindparam("row_id"))
            .values(read_at=bindparam("read_at")),
            [{"row_id": i, "read_at": at + dt.timedelta(hours=2)} for i, at in rows])


def assigned_as_of(session: Session, town: Town, year: int) -> tuple[int, int, int]:
    """(received, closed, in handling) of the 上级交办 petitions received in ``year``, as of
    the year's last day, read from the timelines."""
    cutoff = end_of_local_day(dt.date(year, 12, 31))
    cases = session.scalars(select(Case.id).where(
        Case.town_id == town.id, Case.kind == CaseKind.PETITION, Case.source == "assigned",
        Case.received_on >= dt.date(year, 1, 1), Case.received_on <= dt.date(year, 12, 31),
    )).all()
    status: dict[int, str] = {}
    rows = session.execute(
        select(CaseEvent.case_id, CaseEvent.to_status)
        .where(CaseEvent.case_id.in_(cases), CaseEvent.at < cutoff,
               CaseEvent.to_status.is_not(None))
        .order_by(CaseEvent.case_id, CaseEvent.at, CaseEvent.id)
    )
    for case_id, to_status in rows:
        status[case_id] = to_status
    closed = sum(1 for s in status.values() if s == "closed")
    handling = sum(1 for s in status.values() if s in ("accepted", "handling", "replied"))
    return len(cases), closed, handling


def _cell(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (CJK characters take two)."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(width - used, 0)


def summary_lines(session: Session, org: DemoOrg, builder: Builder,
                  now: dt.datetime) -> list[str]:
    """The counts of what was created and the login table."""
    town = org.town
    today = local_date(now)
    yellow_days = current_app.config.get("WARNING_YELLOW_DAYS", 3)
    kinds = Counter(c.kind for c in builder.cases)
    colours = Counter(
        warning_level(c.due_on, today, True, yellow_days).value
        for c in builder.cases if c.status in OPEN_STATUSES
    )
    received, closed, handling = assigned_as_of(session, town, YEAR)
    lines = [
        f"  town: {town.name}, {town.county_name} ({town.county_code}); case numbers "
        + " / ".join(f"{p.code}〔year〕N号" for p in town.number_prefixes),
        f"  villages: {len(org.villages)}, units: {len(org.units)}, users: {len(org.users)} "
        f"(grid workers: {len(org.grid_workers)})",
        f"  cases: {kinds[CaseKind.PETITION]} petitions, {kinds[CaseKind.DISPUTE]} disputes",
        f"  {YEAR} 上级交办: {received} received, {closed} closed and {handling} in handling "
        f"as of {YEAR}-12-31",
        f"  open now ({today.isoformat()}): green {colours['green']}, "
        f"yellow {colours['yellow']}, red {colours['red']}",
        "All people, ID numbers and phone numbers are fictional (演示数据，虚构).",
        f"Demo password for every account: {DEMO_PASSWORD}",
        "",
    ]
    rows = [("username", "role", "name", "village / unit")]
    for u in org.users:
        where = u.villages[0].name if u.villages else (u.unit.name if u.unit else town.name)
        rows.append((u.username, ROLE_LABELS[Role(u.role)], u.name, where))
    widths = [max(sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in r[i])
                  for r in rows) + 2 for i in range(3)]
    for row in rows:
        lines.append("  " + "".join(_cell(cell, w) for cell, w in zip(row[:3], widths, strict=True)) + row[3])
    return lines
