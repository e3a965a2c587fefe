"""The one unit of work: a request, a CLI command or a job commits once, or not at all.

Services flush and never commit (ARCHITECTURE.md). Their callers wrap the work in
``unit_of_work()``: it commits once when the block ends and rolls everything back when
anything in it raises, then re-raises. The callers' shapes:

- a page: ``page_unit`` runs the work and turns a refusal by the domain into the page (the
  message is flashed and the caller's ``on_refusal`` answer, typically the form again with
  the error's status, is returned); a view may also use ``unit_of_work()`` directly and let
  the application's ``DomainError`` handler answer with the error page;
- an API handler: ``unit_of_work()`` (done once for every operation by ``api_route``); the
  API blueprint maps the re-raised ``DomainError`` to the JSON error envelope;
- a CLI command: ``cli_unit()``, the same unit whose refusal becomes a ``ClickException``
  (exit status 1 and the message), and whose ``dry_run`` rolls back instead of committing;
- a batch job (the outbox sender): one ``unit_of_work()`` per item in a loop, so an item
  that fails is rolled back alone and the items before it stay written.

This module is the only place that calls ``Session.commit()`` outside a short, documented
allow-list (``tests/core/test_commit_sites.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
from flask import flash
from flask import session as web_session
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from casetrack.core.errors import DomainError
from casetrack.core.i18n import N_
from casetrack.extensions import db

T = TypeVar("T")

#: the message of a write that lost the optimistic-lock race (``Case.version``)
STALE_MESSAGE = N_("提交未保存：数据刚刚被他人修改，请核对后重新提交。")


class StaleWrite(DomainError):
    """The row changed between reading and writing (optimistic lock)."""

    code = "stale_write"
    http_status = 409


@contextmanager
def unit_of_work(session: Session | None = None, *, dry_run: bool = False) -> Iterator[Session]:
    """Commit once at the end of the block; roll back and re-raise on any exception.

    With ``dry_run`` the block's work is rolled back instead of committed (a command's
    ``--dry-run``: everything is checked and computed, nothing is kept). A lost
    optimistic-lock race (SQLAlchemy's ``StaleDataError``) comes out as the domain error
    ``StaleWrite``, so pages and the API answer it like any other refusal."""
    session = session if session is not None else db.session
    try:
        yield session
        if dry_run:
            session.rollback()
        else:
            session.commit()
    except StaleDataError:
        session.rollback()
        raise StaleWrite(STALE_MESSAGE) from None
    except BaseException:
        session.rollback()
        raise


def page_unit(work: Callable[[], T], on_refusal: Callable[[DomainError], Any], *,
              flash_refusal: bool = True, dry_run: bool = False) -> T | Any:
    """Run ``work()`` as one unit of work for a page.

    Returns what ``work`` returned (after the commit), or, when the domain refused, flashes
    its message (unless ``flash_refusal`` is false: the page shows it itself, e.g. next to
    a field) and returns ``on_refusal(error)`` (typically the form again with the error's
    4xx status). With ``dry_run`` the work is rolled back (a preview that checks by
    writing). Anything else propagates to the error pages. A success message that
    ``work`` flashed before the commit failed is withdrawn with the rest of the unit."""
    queued = len(web_session.get("_flashes", ()))
    try:
        with unit_of_work(dry_run=dry_run):
            return work()
    except DomainError as exc:
        if len(web_session.get("_flashes", ())) > queued:
            web_session["_flashes"] = web_session["_flashes"][:queued]
        if flash_refusal:
            flash(exc.message, "error")
        return on_refusal(exc)


def refusal_text(exc: DomainError) -> str:
    """A refusal as a terminal shows it: the message, then each distinct field message that
    the message does not already say (a list, such as the bad lines of a file, one per
    line)."""
    lines = [str(exc.message)]
    for value in exc.fields.values():
        for item in value if isinstance(value, list | tuple) else [value]:
            text = str(item)
            if text and all(text not in line for line in lines):
                lines.append(text)
    return "\n".join(lines)


@contextmanager
def cli_unit(session: Session | None = None, *, dry_run: bool = False) -> Iterator[Session]:
    """``unit_of_work()`` for a CLI command: a refusal by the domain becomes a
    ``click.ClickException`` with ``refusal_text`` (exit status 1), after the rollback."""
    try:
        with unit_of_work(session, dry_run=dry_run) as unit:
            yield unit
    except DomainError as exc:
        raise click.ClickException(refusal_text(exc)) from None
