"""``flask backup create`` / ``flask backup restore`` (issue 9.10): a round trip of the
database and the attachments, taken while the app keeps writing, into a fresh database of
the same kind (SQLite file, or a scratch PostgreSQL database when the suite runs on PG);
a database that holds data is refused without --force."""

from __future__ import annotations

import datetime as dt
import io
import tarfile
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from casetrack import create_app
from casetrack.auth.models import User
from casetrack.backup.archive import BackupError, find_pg_tool
from casetrack.cases import services as svc
from casetrack.cases.models import Attachment, Case, CaseEvent
from casetrack.extensions import db


def _register(actor: User, now: dt.datetime, n: int) -> None:
    data = svc.CaseInput(kind="petition", title=f"备份期间登记{n}（虚构）", source="visit",
                         received_on=dt.date(2026, 11, 20), petition_class="申诉求决",
                         category="其他", village_id=actor.town.villages[0].id,
                         parties=[svc.PartyInput(name=f"李{n}（虚构）")])
    case = svc.register_case(db.session, actor, now, data)
    svc.add_attachment(db.session, actor, now, case, f"材料{n}.pdf", "application/pdf",
                       io.BytesIO(b"%PDF-1.4 " + str(n).encode()))


class Writer(threading.Thread):
    """Keeps registering cases with an attachment, one commit each, until stopped."""

    def __init__(self, app, user_id: int, now: dt.datetime):
        super().__init__(daemon=True)
        self.app, self.user_id, self.now = app, user_id, now
        self.stop = threading.Event()
        self.done = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self._write()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc

    def _write(self) -> None:
        with self.app.app_context():
            n = 1000
            while not self.stop.is_set():
                n += 1
                try:
                    _register(db.session.get(User, self.user_id), self.now, n)
                    db.session.commit()
                    self.done += 1
                except OperationalError:  # SQLite busy while the snapshot is read
                    db.session.rollback()
                    self.stop.wait(0.05)
            db.session.remove()


@pytest.fixture
def scratch_url(app, tmp_path):
    """An empty database of the suite's kind, dropped afterwards."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    try:
        find_pg_tool("pg_dump")
    except BackupError as exc:
        pytest.skip(str(exc))
    name = f"casetrack_h1_restore_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = :n"), {"n": name})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def test_round_trip_while_the_app_writes(app, world, now, tmp_path, scratch_url, runner):
    supervisor_id = world.supervisor.id
    for n in range(5):
        _register(world.supervisor, now, n)
    db.session.commit()
    db.session.close()  # this thread holds no transaction (SQLite: BEGIN IMMEDIATE)
    writer = Writer(app, supervisor_id, now)
    writer.start()
    try:
        for _ in range(1200):  # the writer is really writing (at most a minute)
            if writer.done >= 3 or writer.error is not None:
                break
            threading.Event().wait(0.05)
        assert writer.error is None, repr(writer.error)
        assert writer.done >= 3
        archive = tmp_path / "backup.tar.gz"
        result = runner.invoke(args=["backup", "create", str(archive)])
    finally:
        writer.stop.set()
        writer.join(timeout=60)
    assert result.exit_code == 0, result.output
    assert "已备份到" in result.output
    with tarfile.open(archive) as tar:
        names = tar.getnames()
    assert names[0] == "manifest.json" and any(n.startswith("uploads/") for n in names)

    uploads = tmp_path / "restored-uploads"
    restored = create_app({"TESTING": True, "SECRET_KEY": "t", "WTF_CSRF_ENABLED": False,
                           "SQLALCHEMY_DATABASE_URI": scratch_url,
                           "UPLOAD_FOLDER": str(uploads)})
    try:
        def invoke(*args):
            # the suite's app context is pushed: the restored app's must be the current one
            with restored.app_context():
                return restored.test_cli_runner().invoke(args=["backup", "restore", *args])

        result = invoke(str(archive))
        assert result.exit_code == 0, result.output
        with restored.app_context():
            cases = db.session.scalar(select(func.count()).select_from(Case))
            assert cases >= 5 + 3
            # a consistent snapshot: every case has its registration on the timeline
            # and every attachment row has its file
            orphans = db.session.scalar(select(func.count()).select_from(Case).where(
                ~select(CaseEvent.id).where(CaseEvent.case_id == Case.id).exists()))
            assert orphans == 0
            for att in db.session.scalars(select(Attachment)):
                assert (Path(uploads) / att.storage_key).is_file(), att.storage_key
            assert db.session.scalar(select(User.name).where(User.username == "leader")) \
                == "镇领导"
            db.session.remove()
        # now it holds data: refused without --force, replaced with it
        again = invoke(str(archive))
        assert again.exit_code != 0 and "已有数据" in again.output
        forced = invoke(str(archive), "--force")
        assert forced.exit_code == 0, forced.output
        with restored.app_context():
            assert db.session.scalar(select(func.count()).select_from(Case)) == cases
            db.session.remove()
    finally:
        with restored.app_context():
            db.engine.dispose()


def test_restore_refuses_what_is_not_a_backup(app, runner, tmp_path):
    bogus = tmp_path / "x.tar.gz"
    bogus.write_bytes(b"not an archive")
    result = runner.invoke(args=["backup", "restore", str(bogus)])
    assert result.exit_code != 0 and "不是有效的备份文件" in result.output


def test_the_archive_is_private_and_never_overwritten_silently(app, runner, tmp_path):
    archive = tmp_path / "nightly.tar.gz"
    result = runner.invoke(args=["backup", "create", str(archive)])
    assert result.exit_code == 0, result.output
    assert archive.stat().st_mode & 0o777 == 0o600
    first = archive.read_bytes()
    result = runner.invoke(args=["backup", "create", str(archive)])
    assert result.exit_code == 1 and "已存在" in result.output and "--force" in result.output
    assert archive.read_bytes() == first
    result = runner.invoke(args=["backup", "create", "--force", str(archive)])
    assert result.exit_code == 0, result.output
    assert archive.stat().st_mode & 0o777 == 0o600
    result = runner.invoke(args=["backup", "create", str(tmp_path / "missing" / "x.tar.gz")])
    assert result.exit_code == 1 and "不存在" in result.output
    assert not (tmp_path / "missing").exists()
