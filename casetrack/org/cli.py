"""``flask users``: user accounts from the command line (production set-up and recovery)."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from casetrack.auth import services as user_svc
from casetrack.auth.models import ROLE_LABELS, Role, User
from casetrack.cases.numbering import DEFAULT_PREFIXES
from casetrack.cases.rules import KIND_LABELS
from casetrack.core.time import app_now, to_local
from casetrack.core.unit import cli_unit
from casetrack.extensions import db
from casetrack.org import services as svc
from casetrack.org.models import Town, Unit, Village


@click.group("users")
def users_cli() -> None:
    """User accounts."""


def _town(name: str) -> Town:
    town = db.session.scalar(select(Town).where(Town.name == name))
    if town is None:
        known = "、".join(db.session.scalars(select(Town.name).order_by(Town.name))) or "（无）"
        raise click.ClickException(f"没有名为“{name}”的乡镇；已有：{known}")
    return town


@users_cli.command("create")
@click.option("--username", required=True, help="login name (letters, digits, . _ -)")
@click.option("--name", "full_name", required=True, help="the person's name")
@click.option(
    "--role",
    required=True,
    type=click.Choice([str(r) for r in Role]),
    help="grid_worker, handler, supervisor, leader, admin or county",
)
@click.option("--town", "town_name", help="the town's name, e.g. 北和镇 (not for county users)")
@click.option("--unit", "unit_name", help="the handler's unit, e.g. 信访办")
@click.option(
    "--village", "village_names", multiple=True, help="a grid worker's village; repeat for several"
)
@click.option("--county-code", default="", help="county division code (county users only)")
@click.option("--phone", default="", help="mobile number")
@click.option("--email", default="", help="e-mail address for reminders")
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="initial password (asked for when not given)",
)
@with_appcontext
def create(
    username: str,
    full_name: str,
    role: str,
    town_name: str | None,
    unit_name: str | None,
    village_names: tuple[str, ...],
    county_code: str,
    phone: str,
    email: str,
    password: str,
) -> None:
    """Create a user (the production way; the demo logins are for the demo only)."""
    now = app_now()
    data = user_svc.UserInput(
        username=username, name=full_name, role=role, phone=phone, email=email, password=password
    )
    with cli_unit():
        if role == Role.COUNTY:
            user = user_svc.create_county_user(db.session, now, data, county_code)
        else:
            if not town_name:
                raise click.ClickException("请用 --town 指定乡镇")
            town = _town(town_name)
            if unit_name:
                unit = db.session.scalar(
                    select(Unit).where(Unit.town_id == town.id, Unit.name == unit_name)
                )
                if unit is None:
                    raise click.ClickException(f"{town.name}没有名为“{unit_name}”的单位")
                data.unit_id = unit.id
            for vname in village_names:
                village = db.session.scalar(
                    select(Village).where(Village.town_id == town.id, Village.name == vname)
                )
                if village is None:
                    raise click.ClickException(f"{town.name}没有名为“{vname}”的村（社区）")
                data.village_ids.append(village.id)
            user = user_svc.create_user(db.session, None, now, data, town=town)
    click.echo(f"已创建用户 {user.username}（{user.name}，{ROLE_LABELS[Role(user.role)]}）")


@users_cli.command("list")
@click.option("--town", "town_name", help="only this town's users")
@click.option("--role", type=click.Choice([str(r) for r in Role]), help="only this role")
@with_appcontext
def list_users(town_name: str | None, role: str | None) -> None:
    """List users: username, name, role, town, unit or villages, and state."""
    stmt = select(User).order_by(User.town_id, User.role, User.username)
    if town_name:
        stmt = stmt.where(User.town_id == _town(town_name).id)
    if role:
        stmt = stmt.where(User.role == role)
    count = 0
    for user in db.session.scalars(stmt):
        count += 1
        where = user.unit.name if user.unit else "、".join(v.name for v in user.villages)
        state = "正常" if user.is_enabled else "停用"
        town = user.town.name if user.town else f"县级 {user.county_code}"
        click.echo(
            "\t".join(
                [user.username, user.name, ROLE_LABELS[Role(user.role)], town, where or "-", state]
            )
        )
    click.echo(f"共 {count} 个用户")


@users_cli.command("set-password")
@click.option("--username", required=True)
@click.option(
    "--password",
    prompt=True,
    hide_input=True,
    confirmation_prompt=True,
    help="the new password (asked for when not given)",
)
@with_appcontext
def set_password(username: str, password: str) -> None:
    """Set a user's password (every session of the user ends)."""
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"用户 {username} 不存在")
    with cli_unit():
        user_svc.set_password(db.session, None, app_now(), user, password)
    click.echo(f"已为 {user.username} 设置新密码")


@click.group("towns")
def towns_cli() -> None:
    """Towns (the tenants) and their villages and units."""


@towns_cli.command("create")
@click.option("--name", required=True, help="the town's name, e.g. 北和镇")
@click.option("--petition-code", required=True, help="issuer code of petition numbers, e.g. 北和信")
@click.option("--dispute-code", required=True, help="issuer code of dispute numbers, e.g. 北和调")
@click.option("--county-code", default="", help="county division code, e.g. 440882")
@click.option("--county-name", default="", help="county name, e.g. 雷州市")
@click.option("--villages", "villages_csv", type=click.Path(exists=True, dir_okay=False),
              help="CSV with columns name,kind (社区/行政村), e.g. ../shared/demo/beihe_villages.csv")
@click.option("--unit", "units", multiple=True, help="a handling unit; repeat for several")
@click.option("--dry-run", is_flag=True, help="check everything, save nothing")
@with_appcontext
def create_town(name: str, petition_code: str, dispute_code: str, county_code: str,
                county_name: str, villages_csv: str | None, units: tuple[str, ...],
                dry_run: bool) -> None:
    """Create a town with its villages and units (all or nothing)."""
    import csv

    now = app_now()
    with cli_unit(dry_run=dry_run):
        town = svc.create_town(db.session, name,
                               {"petition": petition_code, "dispute": dispute_code},
                               county_code, county_name)
        count = 0
        if villages_csv:
            with open(villages_csv, encoding="utf-8-sig", newline="") as fh:
                for row in csv.DictReader(fh):
                    svc.create_village(db.session, None, now, row.get("name", ""),
                                       row.get("kind") or "行政村", town=town)
                    count += 1
        for unit in units:
            svc.create_unit(db.session, None, now, unit, town=town)
    if dry_run:
        click.echo(f"dry run: {name} with {count} villages and {len(units)} units would be created")
        return
    click.echo(f"created {name} with {count} villages and {len(units)} units; "
               f"add users with: flask users create --town {name} ...")


@towns_cli.command("set-prefix")
@click.option("--town", "town_name", required=True, help="the town's name, e.g. 北和镇")
@click.option("--kind", required=True, type=click.Choice([str(k) for k in KIND_LABELS]),
              help="the case kind whose numbers it prefixes")
@click.option("--code", required=True, help="issuer code (机关代字), e.g. 北和信 → 北和信〔2026〕18号")
@with_appcontext
def set_prefix(town_name: str, kind: str, code: str) -> None:
    """Set the issuer code before a town's case numbers of one kind (next numbers only)."""
    town = _town(town_name)
    with cli_unit():
        row = svc.set_number_prefix(db.session, None, app_now(), kind, code, town=town,
                                    kinds=KIND_LABELS.keys(), defaults=DEFAULT_PREFIXES)
    year = to_local(app_now()).year
    click.echo(f"{town.name}{KIND_LABELS[kind]}的机关代字已设为 {row.code}，"
               f"此后登记的编号如 {row.code}〔{year}〕1号")
