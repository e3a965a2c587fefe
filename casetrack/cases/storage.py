"""Where attachment bytes live: the upload folder or the database (``ATTACHMENT_STORAGE``).

``filesystem`` (the default) keeps each file under ``UPLOAD_FOLDER`` by its random storage
key: right for one host. ``database`` keeps it in ``attachment_chunks`` (256 KB rows, bytea on
PostgreSQL), as Zammad and Request Tracker do by default: every app process on every host
reads the same files, and they are backed up with the database. Both write and read in
chunks, so neither an upload nor a download holds a whole file in memory.

Each attachment records where it was stored (``Attachment.storage``), so switching the
setting leaves older files readable where they are.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from flask import current_app
from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from casetrack.cases.models import Attachment, AttachmentChunk

#: bytes per database row and per read of an upload
CHUNK_BYTES = 256 * 1024
STORAGES = ("filesystem", "database")
_UPLOADS_KEY = "casetrack_uploaded_files"


class TooLarge(Exception):
    """The upload is bigger than the limit (the caller refuses it; the unit rolls back)."""


def configured_storage() -> str:
    """The ``ATTACHMENT_STORAGE`` setting, checked."""
    value = current_app.config.get("ATTACHMENT_STORAGE") or "filesystem"
    if value not in STORAGES:
        raise RuntimeError(f"ATTACHMENT_STORAGE must be one of {STORAGES}, not {value!r}")
    return value


def upload_folder() -> Path:
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _chunks(stream: IO[bytes], max_bytes: int) -> Iterator[bytes]:
    """The upload in pieces of ``CHUNK_BYTES``; raises ``TooLarge`` past ``max_bytes``."""
    total = 0
    while chunk := stream.read(CHUNK_BYTES):
        total += len(chunk)
        if total > max_bytes:
            raise TooLarge
        yield chunk


def save(session: Session, att: Attachment, stream: IO[bytes], max_bytes: int) -> None:
    """Store ``stream`` for ``att`` (already added to the session) where the setting says,
    and set its ``storage``, ``size`` and ``sha256``. Nothing is kept if the unit of work
    rolls back: database chunks roll back with it, a written file is deleted."""
    att.storage = configured_storage()
    digest, size = hashlib.sha256(), 0
    if att.storage == "database":
        session.flush()  # the attachment's id, for its chunks
        for seq, chunk in enumerate(_chunks(stream, max_bytes)):
            session.execute(insert(AttachmentChunk).values(attachment_id=att.id, seq=seq,
                                                           data=chunk))
            digest.update(chunk)
            size += len(chunk)
    else:
        path = upload_folder() / att.storage_key
        # on disk before the caller commits: forget it again if the unit rolls back
        session.info.setdefault(_UPLOADS_KEY, []).append(path)
        with path.open("wb") as out:
            for chunk in _chunks(stream, max_bytes):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
    att.size, att.sha256 = size, digest.hexdigest()


def file_path(att: Attachment) -> Path | None:
    """The file of a filesystem attachment, if it is there."""
    path = Path(current_app.config["UPLOAD_FOLDER"]) / att.storage_key
    return path if path.is_file() else None


def read_chunks(session: Session, att: Attachment) -> Iterator[bytes]:
    """The bytes of a database attachment, one row at a time (each fetched when needed)."""
    seqs = list(session.scalars(select(AttachmentChunk.seq)
                                .where(AttachmentChunk.attachment_id == att.id)
                                .order_by(AttachmentChunk.seq)))
    for seq in seqs:
        yield session.scalar(select(AttachmentChunk.data).where(
            AttachmentChunk.attachment_id == att.id, AttachmentChunk.seq == seq))


def is_stored(session: Session, att: Attachment) -> bool:
    """Whether the attachment's bytes can be read."""
    if att.storage == "database":
        return session.scalar(select(AttachmentChunk.seq).where(
            AttachmentChunk.attachment_id == att.id).limit(1)) is not None or att.size == 0
    return file_path(att) is not None


@event.listens_for(Session, "after_commit")
def _uploads_kept(session: Session) -> None:
    session.info.pop(_UPLOADS_KEY, None)


@event.listens_for(Session, "after_rollback")
def _uploads_dropped(session: Session) -> None:
    """A rolled-back attachment leaves no stray file in the upload folder."""
    for path in session.info.pop(_UPLOADS_KEY, []):
        path.unlink(missing_ok=True)
