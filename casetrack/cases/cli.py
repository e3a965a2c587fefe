"""``flask cases``: case commands (import of an assigned-petition list)."""

from __future__ import annotations

import os

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from casetrack.auth.models import User
from casetrack.cases import importing, kinds, steps
from casetrack.cases.import_files import SheetChoiceNeeded
from casetrack.cases.models import rebuild_search_keys
from casetrack.core.time import app_now
from casetrack.core.unit import cli_unit
from casetrack.extensions import db


@click.group("cases")
def cases_cli() -> None:
    """Case commands."""


@cases_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--user", "username", required=True,
              help="who imports (a supervisor or admin): the cases go to this user's town and "
                   "the timeline names them")
@click.option("--map", "overrides", multiple=True, metavar="FIELD=HEADER",
              help="map a column whose header is not recognised, e.g. --map title=事项名称 "
                   "(fields: " + ", ".join(c.key for c in importing.COLUMNS) + ")")
@click.option("--sheet", "sheet_name", default=None, metavar="NAME",
              help="the worksheet to read when the workbook has several visible sheets and "
                   "none is named 交办清单 (hidden sheets are never read)")
@click.option("--dry-run", is_flag=True, help="check every row and report, write nothing")
@with_appcontext
def import_cases(file: str, username: str, overrides: tuple[str, ...], sheet_name: str | None,
                 dry_run: bool) -> None:
    """Import an assigned-petition list (.xlsx or .csv, UTF-8 or GB18030).

    Every row is checked first; any error stops the import and nothing is saved. Rows whose
    交办文号 already exists in the town (in any bracket spelling) are skipped, so importing
    the same file twice changes nothing. Columns that fill no field are listed as warnings.
    """
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None or not user.is_enabled:
        raise click.ClickException(f"没有名为“{username}”的有效用户")
    max_bytes = 50 * 1024 * 1024
    if os.path.getsize(file) > max_bytes:
        raise click.ClickException("文件超过 50 MB，请分批导入")
    with open(file, "rb") as fh:
        data = fh.read()
    filename = os.path.basename(file)
    with cli_unit(dry_run=dry_run) as session:
        try:
            sheet = importing.read_sheet(filename, data, sheet=sheet_name)
        except SheetChoiceNeeded as exc:
            raise click.ClickException(exc.message + "：请用 --sheet 工作表名 指定") from None
        mapping = importing.auto_mapping(sheet.headers)
        for item in overrides:
            key, sep, header = item.partition("=")
            if not sep or header not in sheet.headers:
                raise click.ClickException(
                    f"--map {item}：应写成 字段=表头，且表头须是文件中的列名："
                    + "、".join(h for h in sheet.headers if h))
            mapping[key.strip()] = sheet.headers.index(header)
        now = app_now()
        preview = importing.preview_import(session, user, now, sheet, mapping)
        for warning in preview.warnings:
            click.echo(f"提示：{warning}", err=True)
        click.echo(f"{filename}：共 {preview.total_rows} 行，新案件 {len(preview.new_rows)} 件，"
                   f"已存在 {len(preview.existing)} 件，错误 {len(preview.errors)} 处")
        if preview.errors:
            for error in preview.errors:
                click.echo(str(error), err=True)
            raise click.ClickException("文件中有错误，未导入任何数据；请改正后重新导入")
        if dry_run:
            click.echo("试运行（--dry-run）：检查通过，未写入任何数据")
            return
        result = importing.run_import(session, user, now, preview)
    click.echo(result.message)
    if result.imported:
        click.echo("编号：" + "、".join(result.imported[:20])
                   + (f" 等 {len(result.imported)} 件" if len(result.imported) > 20 else ""))


@cases_cli.command("reindex-search")
@click.option("--batch", default=1000, show_default=True, help="cases per round trip")
@with_appcontext
def reindex_search(batch: int) -> None:
    """Recompute every case's search text and canonical reference (cases.search_text,
    cases.external_ref_key). The app keeps them itself; run this after loading rows
    around it (bulk SQL, a restored dump of an older version)."""
    with cli_unit() as session:
        changed = rebuild_search_keys(session, batch)
    click.echo(f"已更新 {changed} 件案件的检索字段")


class KindChoice(click.Choice):
    """A registered kind of case (the choices are read when the command runs)."""

    def __init__(self) -> None:
        super().__init__(())

    def convert(self, value, param, ctx):
        self.choices = kinds.codes()
        return super().convert(value, param, ctx)


@cases_cli.command("steps")
@click.option("--kind", type=KindChoice(), default=None,
              help="only the steps of this kind of case (petition, dispute, ...)")
def list_steps(kind: str | None) -> None:
    """Print the step list: step, kind, from, to, right, rule (one line per step and kind;
    from "*" means any status of the kind)."""
    rows = [r for r in steps.table() if kind is None or r.kind == kind]
    header = ("step", "kind", "from", "to", "right", "rule")
    lines = [header] + [(r.step, r.kind, ",".join(r.sources), r.target, r.right, r.rule)
                        for r in rows]
    widths = [max(len(line[i]) for line in lines) for i in range(5)]
    for line in lines:
        click.echo("  ".join(v.ljust(w) for v, w in zip(line[:5], widths, strict=True))
                   + "  " + line[5])
