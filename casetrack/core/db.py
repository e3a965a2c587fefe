"""Declarative base, naming convention and column types shared by every domain."""

from __future__ import annotations

import datetime as dt
import enum
import time

from sqlalchemy import DateTime, MetaData, String, TypeDecorator, event, exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import Pool

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base class of every model; carries the constraint naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator):
    """An aware UTC instant, stored naive-UTC on SQLite and timestamptz on PostgreSQL.

    Refuses naive datetimes on the way in, so local times cannot slip in unconverted.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type:
        """``datetime``: a TypeDecorator says ``object`` unless told, and code that reads a
        column's type (the case list's cursors) then took an ISO string for the value."""
        return dt.datetime

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(dt.UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class StrEnumType(TypeDecorator):
    """An ``enum.StrEnum`` stored as its plain string value (VARCHAR, no database enum type):
    loaded back as the enum member, so code compares typed values, and adding a member needs
    no migration."""

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[enum.StrEnum], length: int = 20):
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return self.enum_class(value).value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return self.enum_class(value)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:
    """Make SQLite safe for several threads writing at once.

    WAL lets readers run beside the writer; the busy timeout makes a writer wait instead of
    failing; and taking the write lock at BEGIN (IMMEDIATE) means a transaction never has to
    upgrade a read lock to a write lock half-way, which SQLite refuses with "database is
    locked" when another writer got in between. This serialises writing transactions on
    SQLite, which is what SQLite does for writers anyway (read-only page requests are exempt:
    see ``_sqlite_begin``); PostgreSQL is the answer for heavy concurrent use.
    """
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see _sqlite_begin)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
    except Exception:  # in-memory databases refuse WAL; harmless
        pass
    cursor.close()


@event.listens_for(Engine, "connect")
def _postgresql_on_connect(dbapi_connection, connection_record) -> None:
    """Plan every PostgreSQL statement for its own parameters (``plan_cache_mode``).

    psycopg prepares a statement on the server after its fifth run (``prepare_threshold``),
    and PostgreSQL then switches such a statement to a *generic* plan, made without the
    parameters' values, once that plan looks no dearer than the custom ones. For this data a
    generic plan is a trap: a town's share of a county-wide index, a one-character search term
    or a cut-off date change the best plan entirely. Measured at a million cases: the county's
    one-character name search took 11 ms per statement for its first ten requests and 2.7 s
    from the eleventh on, in every worker, for good. ``force_custom_plan`` keeps the prepared
    statements (parsed once) and plans each run with its values, as an unprepared statement
    is (PostgreSQL 12+, "plan_cache_mode" in the manual's chapter on query planning).
    """
    if not type(dbapi_connection).__module__.startswith("psycopg"):
        return
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    try:
        dbapi_connection.execute("SET plan_cache_mode = force_custom_plan")
    finally:
        dbapi_connection.autocommit = autocommit


#: request methods that only read: their transactions need no write lock
_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _read_only_request() -> bool:
    """A page request that writes nothing (the API's GETs may write: token use, ID views)."""
    from flask import has_request_context, request

    return (
        has_request_context()
        and request.method in _READ_METHODS
        and not request.path.startswith("/api/")
    )


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:
    """On SQLite, a transaction that may write takes the write lock at once (IMMEDIATE);
    a page request that only reads starts a plain deferred transaction, so readers never wait
    for writers nor hold them up."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN" if _read_only_request() else "BEGIN IMMEDIATE")


#: where a pooled connection's record notes when it went back to the pool (``_clock``)
_CHECKED_IN = "casetrack_checked_in"
#: seconds for the idle check (the tests move it forward instead of sleeping)
_clock = time.monotonic


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Before handing out a pooled connection that sat unused for ``idle_seconds`` or more,
    check that the database still answers (one ``SELECT 1``); a dead one is discarded and
    another connection made, so a database restart, a firewall or a connection pooler closing
    idle connections costs no failed page.

    ``pool_pre_ping`` does the same before *every* checkout: one more round trip on every
    request, though a connection used a moment ago is as alive as a ping could show. Here a
    connection taken again within ``idle_seconds`` is handed out as it is; should the
    database go away in that moment, the request fails like any request in flight when it
    went away, and SQLAlchemy then drops the whole pool (disconnect detection), so the next
    requests connect afresh. ``idle_seconds`` ≤ 0 pings at every checkout (as
    ``pool_pre_ping``). Setting: ``DATABASE_PING_IDLE_SECONDS``."""

    @event.listens_for(engine, "checkin")
    def _checkin(dbapi_connection, record) -> None:
        if record is not None:
            record.info[_CHECKED_IN] = _clock()

    @event.listens_for(engine, "checkout")
    def _checkout(dbapi_connection, record, proxy) -> None:
        since = record.info.get(_CHECKED_IN)
        if since is None or _clock() - since < idle_seconds:
            return  # a new connection, or one in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as err:  # noqa: BLE001 (any failure: drop it, the pool reconnects)
            raise exc.DisconnectionError(f"idle connection did not answer: {err}") from err


#: where a pooled connection's record notes that it serves a read-only page: "autocommit"
#: (PostgreSQL: the driver's autocommit, turned off again at checkin) or "guard" (SQLite)
_AUTOCOMMIT = "casetrack_read_only_page"


def read_only_page(view):
    """Mark a page view that only reads (the case list, a case page, the home page): on
    PostgreSQL its statements run without a transaction of their own (the driver's
    autocommit), saving the BEGIN and ROLLBACK round trips of every request. Reads see the
    same data as before: at READ COMMITTED, PostgreSQL's default, every statement takes
    its own snapshot inside a transaction too. Such a page must not write: a statement other
    than a SELECT raises (``_refuse_writes``), so a change that makes it write fails in the
    tests instead of losing its atomicity. Apply above ``login_required``."""
    view.casetrack_read_only = True
    return view


def _read_only_page_request() -> bool:
    from flask import current_app, has_request_context, request

    if not has_request_context() or request.method not in _READ_METHODS:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    return getattr(view, "casetrack_read_only", False)


@event.listens_for(Engine, "begin")
def _read_only_autocommit(conn) -> None:
    """A read-only page's transaction on PostgreSQL: the driver in autocommit (no BEGIN is
    sent, nor a ROLLBACK at the end); the pool turns it back on return (``_end_autocommit``).
    """
    if not _read_only_page_request():
        return
    if conn.dialect.name == "postgresql":
        conn.connection.driver_connection.autocommit = True
        conn.info[_AUTOCOMMIT] = "autocommit"
    else:  # SQLite: its own BEGIN (_sqlite_begin), but writes refused all the same
        conn.info[_AUTOCOMMIT] = "guard"


@event.listens_for(Engine, "before_cursor_execute")
def _refuse_writes(conn, cursor, statement, parameters, context, executemany) -> None:
    """A read-only page (``read_only_page``) that writes is a mistake: refused, loudly.

    A connection held past the page into another request (the tests' shared session does
    that; a server returns it at the end of each request) goes back to transactions as
    that request's first statement runs."""
    mode = conn.info.get(_AUTOCOMMIT)
    if mode is None:
        return
    if not _read_only_page_request():
        del conn.info[_AUTOCOMMIT]
        if mode == "autocommit":
            conn.connection.driver_connection.autocommit = False
        return
    if not statement.lstrip()[:6].upper().startswith(("SELECT", "WITH", "BEGIN")):
        raise RuntimeError(f"a read-only page wrote: {statement[:80]}")


@event.listens_for(Pool, "checkin")
def _end_autocommit(dbapi_connection, record) -> None:
    """The connection back in the pool runs in transactions again."""
    if record is not None and record.info.pop(_AUTOCOMMIT, None) == "autocommit" \
            and dbapi_connection is not None:
        dbapi_connection.autocommit = False
