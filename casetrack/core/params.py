"""Query-string numbers read the same way on every page.

An absurd value (``?page=99999999999999999999``, ``?page=-3``, ``?page=abc``) is the user's
error, answered 400 like any bad request, never a database overflow (500).
"""

from __future__ import annotations

import datetime as dt

import click
from flask import abort, request

#: the largest page number any list accepts
MAX_PAGE = 1_000_000
#: the largest value an id or count argument may carry (32-bit columns)
MAX_INT = 2**31 - 1


def int_arg(name: str, default: int | None = None, *, minimum: int = 0,
            maximum: int = MAX_INT) -> int | None:
    """``request.args[name]`` as an int within [minimum, maximum]; missing or empty gives
    ``default``; anything else out of range or not a number aborts with 400."""
    raw = request.args.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip()) if len(raw) <= 20 else None
    except ValueError:
        value = None
    if value is None or not minimum <= value <= maximum:
        abort(400)
    return value


def form_ids(name: str, limit: int) -> list[int]:
    """The ids posted under ``name`` (ticked boxes), at most ``limit``, in order, duplicates
    and anything that is no id (not a number, or outside 1..``MAX_INT``: a 30-digit value
    overflowed the database driver, a 500) left out."""
    out: list[int] = []
    for raw in request.form.getlist(name)[:limit]:
        raw = raw.strip()
        value = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 10 else 0
        if 1 <= value <= MAX_INT and value not in out:
            out.append(value)
    return out


def page_arg(name: str = "page") -> int:
    """The page number of a paginated list (1 when absent)."""
    return int_arg(name, 1, minimum=1, maximum=MAX_PAGE)


def paginate_or_last(stmt, per_page: int):
    """``db.paginate`` of ``stmt`` at ``page_arg()``, and None; or, for a page number past
    the end (an old link, a typo), the last page and the ``Msg`` saying so, instead of an
    empty page under "共 N 人"."""
    from casetrack.core.i18n import N_, Msg
    from casetrack.extensions import db

    number = page_arg()
    page = db.paginate(stmt, page=number, per_page=per_page, error_out=False)
    if page.items or number == 1:
        return page, None
    last = max(1, page.pages)
    said = Msg(N_("第 %(page)s 页超出列表范围（共 %(pages)s 页），本次显示最后一页"),
               page=number, pages=last)
    return db.paginate(stmt, page=last, per_page=per_page, error_out=False), said


#: dates a filter or report may name; anything outside is treated as malformed (a date near
#: the ends of Python's range would overflow the day arithmetic of the cut-off)
MIN_DAY = dt.date(1900, 1, 1)
MAX_DAY = dt.date(2999, 12, 31)


def parse_day(value: str | None) -> dt.date | None:
    """An ISO date typed into a query string, or None when empty, malformed or absurd."""
    if not value or len(value) > 10:
        return None
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return None
    return day if MIN_DAY <= day <= MAX_DAY else None


#: the days a figure, a dashboard period or a report may name: from the year the town's
#: records could begin to a year ahead of today (a typo such as 0001-01 or 1900-01-01 is
#: refused instead of printing a report of nothing)
REPORT_MIN_DAY = dt.date(2000, 1, 1)


def report_max_day(today: dt.date) -> dt.date:
    """The last day a figure or report may name: a year after ``today``."""
    try:
        return today.replace(year=today.year + 1)
    except ValueError:  # 29 February
        return today.replace(year=today.year + 1, day=28)


def report_day_in_range(day: dt.date, today: dt.date) -> bool:
    """``day`` between ``REPORT_MIN_DAY`` and ``report_max_day(today)``."""
    return REPORT_MIN_DAY <= day <= report_max_day(today)


class CliDay(click.ParamType):
    """A ``YYYY-MM-DD`` command-line option between MIN_DAY and MAX_DAY, converted like
    ``click.DateTime`` (a ``datetime`` at midnight); anything else is a usage error in
    Chinese instead of a traceback from the day arithmetic."""

    name = "YYYY-MM-DD"

    def convert(self, value, param, ctx):
        if isinstance(value, dt.datetime):
            return value
        day = parse_day(value if isinstance(value, str) else None)
        if day is None:
            self.fail(f"应为 {MIN_DAY.isoformat()} 至 {MAX_DAY.isoformat()} 之间的日期"
                      f"（YYYY-MM-DD），而不是“{value}”", param, ctx)
        return dt.datetime.combine(day, dt.time())


#: the date type of every CLI option that names a day
CLI_DAY = CliDay()
#: the type of every CLI option that names a year
CLI_YEAR = click.IntRange(MIN_DAY.year, MAX_DAY.year)


def refuse_nul_characters() -> None:
    """``before_request``: a NUL character in any query or form value is refused with 400.
    No text a person types holds one, PostgreSQL cannot store or even compare it (the query
    would fail with 500), and SQLite would cut the text there."""
    if request.path.startswith("/api/"):
        return  # the JSON API checks its own input and answers in its envelope (422)
    for values in (request.args, request.form if request.method != "GET" else None):
        if values and any("\x00" in v for _, vs in values.lists() for v in vs):
            abort(400)
