"""``flask backup create FILE`` and ``flask backup restore FILE [--force]``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from casetrack.backup.archive import BackupError, create_backup, restore_backup
from casetrack.core.time import app_now
from casetrack.extensions import db

backup_cli = AppGroup("backup", help="Back up and restore the database and attachments.")


def _revision() -> str | None:
    from sqlalchemy import inspect, text

    if "alembic_version" not in inspect(db.engine).get_table_names():
        return None
    with db.engine.connect() as conn:
        return conn.scalar(text("SELECT version_num FROM alembic_version"))


@backup_cli.command("create")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="replace FILE when it already exists")
def create(file: Path, force: bool) -> None:
    """Write FILE (.tar.gz): a consistent copy of the database, taken while the app keeps
    running (SQLite online backup / pg_dump), the attachments folder and a manifest.
    The file is readable by its owner only; an existing FILE is kept unless --force."""
    try:
        result = create_backup(db.engine, current_app.config["UPLOAD_FOLDER"], file,
                               app_now(), _revision(), overwrite=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已备份到 {result.path}（{result.dialect} 数据库，附件 {result.files} 个，"
               f"{result.size} 字节）")


@backup_cli.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="replace a database and attachments folder that already hold data")
def restore(file: Path, force: bool) -> None:
    """Restore FILE into the configured database and attachments folder. Refuses a
    database that already holds data unless --force."""
    try:
        manifest = restore_backup(db.engine, current_app.config["UPLOAD_FOLDER"], file,
                                  force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"已从 {file} 恢复（备份时间 {manifest['created_at']}，"
               f"附件 {len(manifest['uploads'])} 个）")
