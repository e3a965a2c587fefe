"""The one unit of work: a request, a CLI command or a job commits once, or not at all.

Services flush and never commit (ARCHITECTURE.md). Their callers wrap the work in
``unit_of_work()``: it commits once when the block ends and rolls everything back when
anything in it raises, then re-raises. ``page_unit`` is the same for a web view, and turns a
refusal by the domain into the page: the Chinese message is flashed and the caller's
``on_refusal`` answer (the re-rendered form, with the error's status) is returned. API
handlers use ``unit_of_work()``; the API blueprint maps the re-raised ``DomainError`` to
the JSON error envelope.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import flash
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from casetrack.core.errors import DomainError
from casetrack.extensions import db

T = TypeVar("T")

#: the message of a write that lost the optimistic-lock race (``Case.version``)
STALE_MESSAGE = "提交未保存：数据刚刚被他人修改，请核对后重新提交。"


class StaleWrite(DomainError):
    """The row changed between reading and writing (optimistic lock)."""

    code = "stale_write"
    http_status = 409


@contextmanager
def unit_of_work(session: Session | None = None) -> Iterator[Session]:
    """Commit once at the end of the block; roll back and re-raise on any exception.

    A lost optimistic-lock race (SQLAlchemy's ``StaleDataError``) comes out as the domain
    error ``StaleWrite``, so pages and the API answer it like any other refusal."""
    session = session if session is not None else db.session
    try:
        yield session
        session.commit()
    except StaleDataError:
        session.rollback()
        raise StaleWrite(STALE_MESSAGE) from None
    except BaseException:
        session.rollback()
        raise


def page_unit(work: Callable[[], T], on_refusal: Callable[[DomainError], Any]) -> T | Any:
    """Run ``work()`` as one unit of work for a page.

    Returns what ``work`` returned (after the commit), or, when the domain refused, flashes
    its message and returns ``on_refusal(error)`` (typically the form again with the error's
    4xx status). Anything else propagates to the error pages."""
    try:
        with unit_of_work():
            return work()
    except DomainError as exc:
        flash(exc.message, "error")
        return on_refusal(exc)
