"""Attachments stored in the database (``ATTACHMENT_STORAGE = "database"``): chunked upload,
streamed download, limits, scope, and files kept where they were stored."""

from __future__ import annotations

import io
import os
from pathlib import Path

from sqlalchemy import func, select
from views_support import login_as, make_dispute, text

from casetrack.cases import storage
from casetrack.cases.models import Attachment, AttachmentChunk
from casetrack.extensions import db


def _upload(client, case_id: int, data: bytes, name: str):
    return client.post(f"/cases/{case_id}/attachments",
                       data={"file": (io.BytesIO(data), name)},
                       content_type="multipart/form-data")


def test_database_storage_chunks_upload_and_streams_download(client, world, now, app,
                                                             monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_STORAGE", "database")
    # small chunks keep the upload under the 500 KB at which Werkzeug's test client spools
    # its request body to a temporary file it never closes
    monkeypatch.setattr(storage, "CHUNK_BYTES", 64 * 1024)
    case = make_dispute(world, now)
    data = os.urandom(2 * storage.CHUNK_BYTES + 1234)
    login_as(client, "grid1")
    resp = _upload(client, case.id, data, "现场照片.png")
    assert resp.status_code == 302, text(resp)
    att = db.session.scalar(select(Attachment))
    assert att.storage == "database" and att.size == len(data)
    sizes = db.session.scalars(select(func.length(AttachmentChunk.data))
                               .where(AttachmentChunk.attachment_id == att.id)
                               .order_by(AttachmentChunk.seq)).all()
    assert sizes == [storage.CHUNK_BYTES, storage.CHUNK_BYTES, 1234]
    assert not (Path(app.config["UPLOAD_FOLDER"]) / att.storage_key).exists()

    resp = client.get(f"/attachments/{att.id}")
    assert resp.status_code == 200 and resp.is_streamed
    assert resp.get_data() == data
    assert resp.headers["Content-Length"] == str(len(data))
    assert resp.headers["Content-Type"] == "image/png"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert "no-store" in resp.headers["Cache-Control"]
    resp.close()

    login_as(client, "grid2")  # another village: not visible
    assert client.get(f"/attachments/{att.id}").status_code == 404


def test_database_storage_refuses_too_large_and_empty_files_leaving_nothing(
        client, world, now, app, monkeypatch):
    monkeypatch.setitem(app.config, "ATTACHMENT_STORAGE", "database")
    monkeypatch.setitem(app.config, "ATTACHMENT_MAX_BYTES", storage.CHUNK_BYTES + 10)
    case = make_dispute(world, now)
    login_as(client, "grid1")
    resp = _upload(client, case.id, b"x" * (storage.CHUNK_BYTES + 11), "big.txt")
    assert resp.status_code == 422 and "文件不能超过" in text(resp)
    resp = _upload(client, case.id, b"", "empty.txt")
    assert resp.status_code == 422 and "文件为空" in text(resp)
    assert db.session.scalar(select(func.count()).select_from(Attachment)) == 0
    assert db.session.scalar(select(func.count()).select_from(AttachmentChunk)) == 0
    resp = _upload(client, case.id, b"x" * (storage.CHUNK_BYTES + 10), "fits.txt")
    assert resp.status_code == 302


def test_files_stay_readable_where_they_were_stored_when_the_setting_changes(
        client, world, now, app, monkeypatch):
    case = make_dispute(world, now)
    login_as(client, "grid1")
    assert _upload(client, case.id, "在磁盘上".encode(), "a.txt").status_code == 302
    monkeypatch.setitem(app.config, "ATTACHMENT_STORAGE", "database")
    assert _upload(client, case.id, "在数据库里".encode(), "b.txt").status_code == 302
    on_disk, in_db = db.session.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert (on_disk.storage, in_db.storage) == ("filesystem", "database")
    assert _download(client, on_disk.id) == "在磁盘上".encode()
    monkeypatch.setitem(app.config, "ATTACHMENT_STORAGE", "filesystem")
    assert _download(client, in_db.id) == "在数据库里".encode()


def _download(client, attachment_id: int) -> bytes:
    resp = client.get(f"/attachments/{attachment_id}")
    assert resp.status_code == 200
    data = resp.get_data()
    resp.close()  # send_file's open file
    return data
