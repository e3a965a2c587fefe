"""One ``.tar.gz`` archive of the whole installation: a consistent copy of the database
taken while the app keeps running, the attachments folder, and a manifest.

* SQLite: the online backup API (``sqlite3.Connection.backup``), which copies a consistent
  snapshot page by page and sees the last committed write even when it still sits in the
  write-ahead log (a copy of the file does not).
* PostgreSQL: ``pg_dump --format=custom`` (a snapshot in one transaction) and, to restore,
  ``pg_restore``. Both tools are found on PATH or under /usr/lib/postgresql/<version>/bin,
  newest first.

The attachments are archived after the database snapshot, so every file a restored row
names is in the archive (a file written after the snapshot is carried along harmlessly).
Restoring goes into an empty database only, unless ``force`` says to replace what is there.
"""

from __future__ import annotations

import datetime as dt
import glob
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Engine, make_url

#: bump when the archive layout changes
FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_MEMBER = "database.sqlite3"
PG_MEMBER = "database.pgdump"
UPLOADS = "uploads"


class BackupError(Exception):
    """Backup or restore refused or failed; the message says why (in Chinese)."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    dialect: str
    files: int
    size: int


def find_pg_tool(name: str) -> str:
    """The path of ``pg_dump``/``pg_restore``: on PATH, else the newest
    /usr/lib/postgresql/<version>/bin (Debian installs it there, off PATH)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = glob.glob(f"/usr/lib/postgresql/*/bin/{name}")

    def version(path: str) -> float:
        try:
            return float(Path(path).parent.parent.name)
        except ValueError:
            return 0.0

    if candidates:
        return max(candidates, key=version)
    raise BackupError(f"找不到 {name}：请安装 PostgreSQL 客户端（Debian 软件包 postgresql-client）")


def _libpq_url(engine: Engine) -> tuple[str, dict[str, str]]:
    """A libpq connection string for the engine's database (password via PGPASSWORD)."""
    url = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = url.password
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sqlite_path(engine: Engine) -> str:
    database = make_url(str(engine.url)).database
    if not database or database == ":memory:":
        raise BackupError("内存数据库无法备份")
    return database


def create_backup(engine: Engine, upload_folder: str, target: Path, now: dt.datetime,
                  revision: str | None, *, overwrite: bool = False) -> BackupResult:
    """Write the archive ``target`` (``.tar.gz``): database snapshot, attachments, manifest.

    The archive holds personal data (ID numbers, phones, password hashes), so it is created
    readable by its owner only (mode 0600). Raises BackupError when ``target`` exists and
    ``overwrite`` is false, or when its folder does not exist."""
    if target.exists() and not overwrite:
        raise BackupError(f"文件 {target} 已存在；要覆盖请加 --force")
    if not target.parent.is_dir():
        raise BackupError(f"目录 {target.parent} 不存在")
    dialect = engine.dialect.name
    with tempfile.TemporaryDirectory(prefix="casetrack-backup-") as tmp:
        tmpdir = Path(tmp)
        if dialect == "sqlite":
            db_file = tmpdir / SQLITE_MEMBER
            source = sqlite3.connect(_sqlite_path(engine), timeout=60)
            dest = sqlite3.connect(db_file)
            try:
                with dest:
                    source.backup(dest)
            finally:
                dest.close()
                source.close()
        elif dialect == "postgresql":
            db_file = tmpdir / PG_MEMBER
            url, env = _libpq_url(engine)
            result = subprocess.run(
                [find_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                 f"--file={db_file}", f"--dbname={url}"],
                env=env, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise BackupError(f"pg_dump 失败：{result.stderr.strip()}")
        else:
            raise BackupError(f"不支持的数据库：{dialect}")
        uploads = Path(upload_folder)
        files = sorted(p for p in uploads.rglob("*") if p.is_file()) if uploads.is_dir() else []
        manifest = {
            "format": FORMAT, "app": "casetrack", "created_at": now.isoformat(),
            "dialect": dialect, "alembic_revision": revision,
            "database": {"member": db_file.name, "sha256": _sha256(db_file),
                         "size": db_file.stat().st_size},
            "uploads": [{"name": str(p.relative_to(uploads)), "size": p.stat().st_size,
                         "sha256": _sha256(p)} for p in files],
        }
        partial = target.with_name(target.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # also when a stale .partial was left with wider rights
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
            info = tarfile.TarInfo(MANIFEST)
            info.size = len(data)
            info.mtime = int(now.timestamp())
            tar.addfile(info, io.BytesIO(data))
            tar.add(db_file, arcname=db_file.name)
            for entry in manifest["uploads"]:
                tar.add(uploads / entry["name"], arcname=f"{UPLOADS}/{entry['name']}")
        os.replace(partial, target)  # never a half-written archive under the final name
    return BackupResult(target, dialect, len(files), target.stat().st_size)


def database_is_empty(engine: Engine) -> bool:
    """True when no table of the database holds a row (a fresh ``db upgrade`` counts as
    empty: its only row is Alembic's version)."""
    from sqlalchemy import MetaData

    meta = MetaData()
    names = [n for n in inspect(engine).get_table_names() if n != "alembic_version"]
    if not names:
        return True
    meta.reflect(engine, only=names)
    with engine.connect() as conn:
        return all(conn.scalar(select(func.count()).select_from(t)) == 0
                   for t in meta.tables.values())


def read_manifest(archive: Path) -> dict:
    """The archive's manifest (BackupError when it is not one of our archives)."""
    try:
        with tarfile.open(archive, "r:gz") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest = json.loads(member.read().decode("utf-8"))
    except (OSError, KeyError, tarfile.TarError, ValueError) as exc:
        raise BackupError(f"不是有效的备份文件：{exc}") from exc
    if manifest.get("app") != "casetrack" or manifest.get("format") != FORMAT:
        raise BackupError("不是本系统的备份文件，或格式版本不符")
    return manifest


def restore_backup(engine: Engine, upload_folder: str, archive: Path, *,
                   force: bool = False) -> dict:
    """Restore ``archive`` into the engine's database and the attachments folder.

    Refuses a database (or attachments folder) that already holds data unless ``force``;
    checks every file against the manifest before touching anything. Returns the manifest.
    """
    manifest = read_manifest(archive)
    dialect = engine.dialect.name
    if manifest["dialect"] != dialect:
        raise BackupError(f"备份来自 {manifest['dialect']} 数据库，不能恢复到 {dialect} 数据库")
    uploads = Path(upload_folder)
    if not force:
        if not database_is_empty(engine):
            raise BackupError("目标数据库中已有数据；确认要覆盖时加 --force")
        if uploads.is_dir() and any(p.is_file() for p in uploads.rglob("*")):
            raise BackupError(f"附件目录 {uploads} 中已有文件；确认要覆盖时加 --force")
    with tempfile.TemporaryDirectory(prefix="casetrack-restore-") as tmp:
        tmpdir = Path(tmp)
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(tmpdir, filter="data")
        db_file = tmpdir / manifest["database"]["member"]
        if _sha256(db_file) != manifest["database"]["sha256"]:
            raise BackupError("备份文件已损坏（数据库校验和不符）")
        for entry in manifest["uploads"]:
            if _sha256(tmpdir / UPLOADS / entry["name"]) != entry["sha256"]:
                raise BackupError(f"备份文件已损坏（附件 {entry['name']} 校验和不符）")
        engine.dispose()
        if dialect == "sqlite":
            source = sqlite3.connect(db_file)
            dest = sqlite3.connect(_sqlite_path(engine), timeout=60)
            try:
                with dest:
                    source.backup(dest)
            finally:
                dest.close()
                source.close()
        else:
            url, env = _libpq_url(engine)
            result = subprocess.run(
                [find_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner",
                 "--no-privileges", "--single-transaction", "--exit-on-error",
                 f"--dbname={url}", str(db_file)],
                env=env, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                raise BackupError(f"pg_restore 失败：{result.stderr.strip()}")
        uploads.mkdir(parents=True, exist_ok=True)
        for entry in manifest["uploads"]:
            dest_path = uploads / entry["name"]
            dest_path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(tmpdir / UPLOADS / entry["name"], dest_path)
    return manifest
