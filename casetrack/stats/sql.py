"""Portable SQL expressions the figures need (SQLite and PostgreSQL spell them differently)."""

from __future__ import annotations

from sqlalchemy import Date, Integer, String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement


class year_month(FunctionElement):  # noqa: N801  (reads like a SQL function)
    """``'YYYY-MM'`` of a date column."""

    type = String()
    inherit_cache = True
    name = "year_month"


@compiles(year_month, "sqlite")
def _ym_sqlite(element, compiler, **kw) -> str:
    return f"strftime('%Y-%m', {compiler.process(element.clauses, **kw)})"


@compiles(year_month, "postgresql")
def _ym_pg(element, compiler, **kw) -> str:
    return f"to_char({compiler.process(element.clauses, **kw)}, 'YYYY-MM')"


class days_between(FunctionElement):  # noqa: N801
    """Whole days from the first date to the second (``second - first``)."""

    type = Integer()
    inherit_cache = True
    name = "days_between"


@compiles(days_between, "sqlite")
def _days_sqlite(element, compiler, **kw) -> str:
    first, second = list(element.clauses)
    a, b = compiler.process(second, **kw), compiler.process(first, **kw)
    return f"CAST(julianday({a}) - julianday({b}) AS INTEGER)"


@compiles(days_between, "postgresql")
def _days_pg(element, compiler, **kw) -> str:
    first, second = list(element.clauses)
    return f"({compiler.process(second, **kw)} - {compiler.process(first, **kw)})"


class iso_date(FunctionElement):  # noqa: N801
    """A ``'YYYY-MM-DD'`` text (from the events' JSON) as a date.

    SQLite keeps dates as ISO text already (``CAST(... AS DATE)`` would turn it into a
    number there), PostgreSQL needs the cast.
    """

    type = Date()
    inherit_cache = True
    name = "iso_date"


@compiles(iso_date, "sqlite")
def _date_sqlite(element, compiler, **kw) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(iso_date, "postgresql")
def _date_pg(element, compiler, **kw) -> str:
    return f"CAST({compiler.process(element.clauses, **kw)} AS DATE)"


class json_first(FunctionElement):  # noqa: N801
    """The first element of a JSON array value (an event's ``[before, after]`` pair gives its
    *before*), as SQL: text on PostgreSQL, the natural type on SQLite; NULL for JSON null."""

    type = String()
    inherit_cache = True
    name = "json_first"


@compiles(json_first, "sqlite")
def _first_sqlite(element, compiler, **kw) -> str:
    return f"json_extract({compiler.process(element.clauses, **kw)}, '$[0]')"


@compiles(json_first, "postgresql")
def _first_pg(element, compiler, **kw) -> str:
    return f"({compiler.process(element.clauses, **kw)} ->> 0)"
