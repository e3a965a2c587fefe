"""Case list queries: the filters, the order and the pages of the case list, shared by the
ledger export and the API.

``CaseFilters.from_args(request.args)`` parses what a user typed (bad values are dropped,
never an error); ``filter_cases`` turns it into WHERE clauses on a ``select(Case)``. The
warning colour is a derived fact, so it is filtered in SQL as a range of due dates relative
to ``today`` — the same boundaries as ``deadlines.rules.warning_level``.

Order: by default open cases only, by due date then id. Overdue cases have the earliest due
dates, due-soon ones come next and the rest follow, so "urgent first" is simply the index
order of ``ix_cases_town_open_due`` (town, is_open, due_on, id): no sort and no derived
column. Deep pages use keyset pagination (``after``/``before`` cursors on the sort key), and
counts stop at ``COUNT_CAP`` instead of scanning the whole scope.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, fields

from sqlalchemy import Select, and_, false, func, or_, select, true, tuple_
from sqlalchemy.orm import InstrumentedAttribute, Session, defer

from casetrack.auth.models import User
from casetrack.auth.permissions import require_filters_in_scope
from casetrack.cases import kinds, rules
from casetrack.cases.models import FINAL_STATUSES, Case
from casetrack.cases.scoping import scope_cases, scope_town
from casetrack.cases.search_index import literal_condition, term_condition
from casetrack.core.errors import NotFound
from casetrack.core.i18n import N_, Msg
from casetrack.core.normalize import is_literal, search_alternatives
from casetrack.core.params import MAX_INT, parse_day

#: the pseudo-status "open" selects every status that is not final (the default)
OPEN = "open"
#: the pseudo-status "all" shows closed cases as well
ALL = "all"
WARNING_COLOURS = ("green", "yellow", "red")


@dataclass
class CaseFilters:
    """What the case list is narrowed to. Every field is optional; ``None``/"" means "any"."""

    kind: str | None = None
    #: a ``CaseStatus`` value, "open" for every non-final status (the default) or ``None``
    #: for all (written "all" in a URL)
    status: str | None = OPEN
    village_id: int | None = None
    unit_id: int | None = None
    category: str | None = None
    source: str | None = None
    #: "green", "yellow" or "red" (open cases with a due date only)
    warning: str | None = None
    received_from: dt.date | None = None
    received_to: dt.date | None = None
    #: words searched (all must match) in number, title, summary, external reference, party
    #: names and phones; see ``search_conditions``
    q: str = ""
    #: a key of ``SORTS``; "" is the default order (due date, urgent first)
    sort: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> CaseFilters:
        """Parse query-string arguments; unknown or malformed values are left out, and so
        are both dates when the first is after the second (``invalid_filters`` and
        ``invalid_date_filters`` say which, so that nothing is left out without a word)."""
        status = args.get("status") or OPEN
        if status == ALL:
            status = None  # every status
        elif status not in (OPEN, *rules.STATUS_LABELS):
            status = OPEN  # unknown (``invalid_status_filter`` says so): the default
        choice = {name: _choice(name, (args.get(name) or "").strip()) for name in CHOICE_FILTERS}
        received_from = _date((args.get("received_from") or "").strip())
        received_to = _date((args.get("received_to") or "").strip())
        if received_from and received_to and received_from > received_to:
            received_from = received_to = None  # ``reversed_dates`` says so
        return cls(
            status=status,
            **choice,
            received_from=received_from,
            received_to=received_to,
            q=(args.get("q") or "").strip()[:SEARCH_MAX],
            sort=args.get("sort") if args.get("sort") in SORTS else "",
        )

    def to_args(self) -> dict[str, str]:
        """The non-empty filters as query-string arguments (for pagination and export links)."""
        out: dict[str, str] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "status" and value is None:
                out["status"] = ALL
                continue
            if value is None or value == "" or (f.name == "status" and value == OPEN):
                continue
            out[f.name] = value.isoformat() if isinstance(value, dt.date) else str(value)
        return out

    @property
    def is_empty(self) -> bool:
        """True when no filter is set (the default open-only view counts as unfiltered)."""
        return not {k for k in self.to_args() if k != "sort"}


#: the list's date filters, with the label its form gives each
DATE_FILTERS = {"received_from": N_("收到日期自"), "received_to": N_("收到日期至")}


def invalid_date_filters(args: Mapping[str, str]) -> dict[str, str]:
    """The date filters given a value that is no date (2026-02-30, 2026/11/01, 11-01):
    name → the value as typed. ``CaseFilters.from_args`` leaves them out; the list page says
    so and the export refuses them, so nobody takes an undated list for a dated one."""
    return {name: args[name] for name in DATE_FILTERS
            if (args.get(name) or "").strip() and _date(args[name].strip()) is None}


#: the longest search the list takes (``search_too_long`` says when one was cut)
SEARCH_MAX = 100


def search_too_long(args: Mapping[str, str]) -> bool:
    """The search typed is longer than ``SEARCH_MAX``: the list searches its beginning and
    says so; the export refuses it."""
    return len((args.get("q") or "").strip()) > SEARCH_MAX


#: the list's menus, with the label its form gives each
CHOICE_FILTERS = {"kind": N_("类型"), "warning": N_("预警"), "village_id": N_("村（居）"),
                  "unit_id": N_("承办单位"), "category": N_("内容分类"), "source": N_("来源")}


def _choice(name: str, raw: str) -> str | int | None:
    """The value of the menu ``name`` typed as ``raw``, or None (empty, or no such value:
    an unknown kind, a village id that is no number)."""
    if not raw:
        return None
    if name in ("village_id", "unit_id"):
        return int(raw) if raw.isascii() and raw.isdigit() and int(raw) <= MAX_INT else None
    if name == "kind":
        return raw if kinds.get(raw) is not None else None
    if name == "category":
        return rules.known_category(raw)
    if name == "source":
        return raw if raw in rules.SOURCE_LABELS else None
    return raw if raw in WARNING_COLOURS else None


def invalid_filters(args: Mapping[str, str]) -> dict[str, str]:
    """The menu filters given a value that is none of the menu's (kind=bogus,
    village_id=abc): name → the value as typed (cut short). ``CaseFilters.from_args``
    leaves them out; the list page says so (400) and the export refuses them."""
    out = {}
    for name in CHOICE_FILTERS:
        raw = (args.get(name) or "").strip()
        if raw and _choice(name, raw) is None:
            out[name] = raw[:20]
    return out


def reversed_dates(args: Mapping[str, str]) -> tuple[dt.date, dt.date] | None:
    """``(received_from, received_to)`` when both are days and the first comes after the
    second (a list that could hold nothing): ``CaseFilters.from_args`` drops both, the
    list page says so."""
    start = _date((args.get("received_from") or "").strip())
    end = _date((args.get("received_to") or "").strip())
    return (start, end) if start and end and start > end else None


#: every value the list's ``status`` takes: open (the default), all, or one status
STATUS_VALUES = (OPEN, ALL, *rules.STATUS_LABELS)


def invalid_status_filter(args: Mapping[str, str]) -> str | None:
    """The ``status`` given a value that is no status (overdue, xyz), as typed, or None.
    ``CaseFilters.from_args`` falls back to the default (open cases); the list page says so
    and the export refuses it, so nobody takes the open cases for the ones asked for."""
    value = (args.get("status") or "").strip()
    return value if value and value not in STATUS_VALUES else None


def filters_in_scope(user: User, filters: CaseFilters) -> None:
    """Abort with 404 when the list's village or unit filter names one outside the user's
    scope (the list of another town's village must not even show its name)."""
    from flask import abort

    from casetrack.extensions import db

    try:
        require_filters_in_scope(db.session, user, village_id=filters.village_id,
                                 unit_id=filters.unit_id)
    except NotFound:
        abort(404)


def _date(value: str | None) -> dt.date | None:
    return parse_day(value)


def search_conditions(query: str, town_id: int | None = None) -> list:
    """One condition per term of ``query`` (all must hold): the term, folded like the stored
    text (``core.normalize.search_terms``: brackets, widths, spaces, case), is a substring of
    ``Case.search_text`` — number, reference, title, summary, party names and phones.
    北和信[2026]18号, 北和信（２０２６）18号 and 北和信〔2026〕18号 find the same case;
    "调逻村 养殖" finds cases that mention both.

    Every term is looked up by index (``cases/search_index.py``: trigrams from three
    characters, single characters and pairs below; pg_trgm and a GIN index of pairs on
    PostgreSQL, FTS5 on SQLite), then checked with LIKE. ``town_id``: the user sees one town's
    cases only, and the lookup reads that town's part of the index. A number typed with spaces or
    without brackets (北和信2026 18号) is the bracketed number, or that spelling as stored; a
    word of punctuation only (``[``, ``%``) is that very character in the case's fields."""
    conditions = []
    for alternatives in search_alternatives(query):
        if is_literal(alternatives[0]):
            conditions.append(literal_condition(alternatives[0]))
        elif len(alternatives) == 1:
            conditions.append(term_condition(alternatives[0], town_id))
        else:
            conditions.append(or_(*(term_condition(term, town_id) for term in alternatives)))
    return conditions


def warning_condition(colour: str, today: dt.date, yellow_days: int):
    """SQL condition for one warning colour, matching ``deadlines.rules.warning_level``:
    red overdue (due before today), yellow due within ``yellow_days`` (today included),
    green later. Closed cases and cases without a due date have no colour."""
    base = and_(Case.is_open == true(), Case.due_on.is_not(None))
    edge = today + dt.timedelta(days=yellow_days)
    if colour == "red":
        return and_(base, Case.due_on < today)
    if colour == "yellow":
        return and_(base, Case.due_on >= today, Case.due_on <= edge)
    if colour == "green":
        return and_(base, Case.due_on > edge)
    raise ValueError(f"unknown warning colour {colour!r}")


def filter_cases(stmt: Select, filters: CaseFilters, today: dt.date, yellow_days: int,
                 town_id: int | None = None) -> Select:
    """Add the WHERE clauses of ``filters`` to a select over ``Case``.

    ``today`` is the town's local date ("now"), ``yellow_days`` the WARNING_YELLOW_DAYS
    setting. Scoping is not done here: pass a statement that went through ``scope_cases``
    (or use ``select_cases``); ``town_id``, when the scope is within one town, lets the
    search read that town's part of the index (``search_conditions``).
    """
    f = filters
    if f.kind:
        stmt = stmt.where(Case.kind == f.kind)
    if f.status == OPEN:
        stmt = stmt.where(Case.is_open == true())
    elif f.status:
        # is_open follows from the status; stated, it lets the is_open-led indexes serve
        final = f.status in FINAL_STATUSES
        stmt = stmt.where(Case.status == f.status, Case.is_open == (false() if final else true()))
    if f.village_id is not None:
        stmt = stmt.where(Case.village_id == f.village_id)
    if f.unit_id is not None:
        stmt = stmt.where(Case.unit_id == f.unit_id)
    if f.category:
        stmt = stmt.where(Case.category == f.category)
    if f.source:
        stmt = stmt.where(Case.source == f.source)
    if f.warning:
        stmt = stmt.where(warning_condition(f.warning, today, yellow_days))
    if f.received_from:
        stmt = stmt.where(Case.received_on >= f.received_from)
    if f.received_to:
        stmt = stmt.where(Case.received_on <= f.received_to)
    if f.q:
        stmt = stmt.where(*search_conditions(f.q, town_id))
    return stmt


# --------------------------------------------------------------------------- order


@dataclass(frozen=True)
class Sort:
    """One order of the list: its columns (the last is always ``Case.id``, so the order is
    total and a cursor names one row) and their direction."""

    key: str
    label: str
    columns: tuple[InstrumentedAttribute, ...]
    descending: bool = False


#: the orders offered by the list page, the ledger export and the API (``sort=``)
SORTS: dict[str, Sort] = {s.key: s for s in (
    Sort("due", N_("期限（紧急优先）"), (Case.due_on, Case.id)),
    Sort("-due", N_("期限（由远到近）"), (Case.due_on, Case.id), descending=True),
    Sort("-received", N_("收到日期（新到旧）"), (Case.received_on, Case.id), descending=True),
    Sort("received", N_("收到日期（旧到新）"), (Case.received_on, Case.id)),
    Sort("number", N_("编号"), (Case.kind, Case.number_year, Case.number_seq, Case.id)),
    Sort("-updated", N_("最近变动"), (Case.updated_at, Case.id), descending=True),
)}
DEFAULT_SORT = "due"


def sort_of(filters: CaseFilters) -> Sort:
    """The order asked for, or the default."""
    return SORTS[filters.sort or DEFAULT_SORT]


def order_by(stmt: Select, filters: CaseFilters) -> Select:
    """ORDER BY of the chosen sort. With closed cases shown, open ones still come first."""
    sort = sort_of(filters)
    keys = [c.desc() if sort.descending else c.asc() for c in sort.columns]
    if filters.status is None:
        keys.insert(0, Case.is_open.desc())
    return stmt.order_by(*keys)


def select_cases(user: User, filters: CaseFilters, today: dt.date, yellow_days: int) -> Select:
    """The cases ``user`` may see that match ``filters``, in the chosen order (by default
    open cases only, overdue first, then due soon, then the rest by due date)."""
    stmt = scope_cases(select(Case), user, county_by_town=False)
    stmt = filter_cases(stmt, filters, today, yellow_days, town_id=scope_town(user))
    return order_by(stmt, filters)


# --------------------------------------------------------------------------- pages

#: long texts the list and the work queues never show, not read for their rows (a page
#: holds twenty cases of ~70 columns); raiseload: a template that starts to show one
#: fails in the tests instead of querying once per row
LIST_DEFERRED = tuple(defer(c, raiseload=True) for c in (
    Case.summary, Case.search_text, Case.reply_text, Case.agreement_text, Case.review_text,
    Case.reexam_text))


#: counts stop here: "1,000+" is all a list needs to say, and it never scans a county
COUNT_CAP = 1000


def _capped_count_select(stmt: Select, cap: int) -> Select:
    """``SELECT count(*)`` of at most ``cap + 1`` rows of ``stmt``."""
    inner = stmt.order_by(None).with_only_columns(Case.id).limit(cap + 1).subquery()
    return select(func.count()).select_from(inner)


def count_capped(session: Session, stmt: Select, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """How many rows ``stmt`` has, reading at most ``cap + 1``: ``(count, more)`` where
    ``more`` means "more than ``cap``"."""
    n = session.scalar(_capped_count_select(stmt, cap)) or 0
    return min(n, cap), n > cap


def first_counted(session: Session, stmt: Select, limit: int, options: tuple = (),
                  cap: int = COUNT_CAP) -> tuple[list, int, bool]:
    """The first ``limit`` entities of ``stmt`` (loaded with ``options``) and how many rows it
    has, capped as ``count_capped``, in one statement: ``(entities, count, more)``. The work
    page's queues each took two statements (their count, then their first items)."""
    items, n = _scalars_counted(session, stmt.options(*options).limit(limit),
                                _capped_count_select(stmt, cap))
    n = n or 0
    return items, min(n, cap), n > cap


def _only_scoped(filters: CaseFilters) -> bool:
    """Whether the list is narrowed by nothing but the open/all switch (any order)."""
    return filters.status in (OPEN, None) and not {
        k for k in filters.to_args() if k not in ("sort", "status")}


def _scalars_counted(session: Session, stmt: Select, count: Select | None) -> tuple[list, int | None]:
    """The entities of ``stmt``, and with ``count`` (a one-value select) its value read in the
    same statement, as a column of every row (None when there is no row): one round trip
    where a page and its total took two."""
    if count is None:
        return list(session.scalars(stmt)), None
    rows = session.execute(stmt.add_columns(count.scalar_subquery())).all()
    return [row[0] for row in rows], (rows[0][1] if rows else None)


def encode_cursor(case: Case, sort: Sort, open_first: bool = False) -> str:
    """An opaque token naming one row's position in ``sort`` (led by whether the case is
    open when the list shows open cases first, then closed ones: ``open_first``)."""
    values: list = [bool(case.is_open)] if open_first else []
    for col in sort.columns:
        v = getattr(case, col.key)
        values.append(v.isoformat() if isinstance(v, dt.date | dt.datetime) else v)
    raw = json.dumps(values, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str | None, sort: Sort, open_first: bool = False) -> list | None:
    """The values of a cursor, or None when it is missing or malformed (first page). With
    ``open_first`` the first value is the row's ``is_open``."""
    if not token or len(token) > 400:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except ValueError:
        return None
    if not isinstance(values, list) or len(values) != len(sort.columns) + open_first:
        return None
    out: list = []
    if open_first:
        if not isinstance(values[0], bool):
            return None
        out.append(values.pop(0))
    for col, v in zip(sort.columns, values, strict=True):
        try:
            out.append(_cursor_value(col, v))
        except (TypeError, ValueError):
            return None
    return out


def _cursor_value(col: InstrumentedAttribute, v):
    if v is None:
        if col.key != "due_on":
            raise ValueError("only the due date may be empty")
        return None
    kind = col.type.python_type
    if kind is dt.date:
        return dt.date.fromisoformat(v)
    if kind is dt.datetime:
        value = dt.datetime.fromisoformat(v)
        if value.tzinfo is None:  # instants are aware (core.db.UTCDateTime refuses naive)
            raise ValueError("naive instant in a cursor")
        return value
    if kind is int:
        if not isinstance(v, int) or isinstance(v, bool) or not -2**62 < v < 2**62:
            raise TypeError(v)
        return v
    if not isinstance(v, str):
        raise TypeError(v)
    return v


def _nulls_first(session: Session) -> bool:
    """Where NULL sorts in an ascending order: first on SQLite, last on PostgreSQL. Each
    database's native place is kept, so that its index delivers the order."""
    return session.get_bind().dialect.name == "sqlite"


def after_condition(session: Session, sort: Sort, values: list, forward: bool):
    """Rows strictly after (``forward``) or before the cursor ``values`` in ``sort``.

    Written as a row-value comparison ``(due_on, id) > (:d, :id)``, which both databases
    use as an index range. Only ``due_on`` may be NULL; NULLs keep the database's native
    place (see ``_nulls_first``).
    """
    greater = forward != sort.descending
    cols = list(sort.columns)
    first = cols[0]
    nullable = first.key == "due_on"
    rest = tuple_(*cols[1:]) if len(cols) > 2 else cols[1]
    rest_values = tuple(values[1:]) if len(cols) > 2 else values[1]
    rest_cmp = rest > rest_values if greater else rest < rest_values
    if values[0] is None:
        # inside the NULL block: later ids, then (if NULLs come first) every non-NULL row
        in_block = and_(first.is_(None), rest_cmp)
        nulls_before = _nulls_first(session) != sort.descending
        return or_(in_block, first.is_not(None)) if nulls_before == greater else in_block
    row = tuple_(*cols)
    cmp = row > tuple(values) if greater else row < tuple(values)
    if not nullable:
        return cmp
    nulls_after = (not _nulls_first(session)) != sort.descending
    return or_(cmp, first.is_(None)) if nulls_after == greater else and_(cmp, first.is_not(None))


@dataclass
class Page:
    """One page of the list, found by cursor (or by ``page`` number for shallow pages)."""

    items: list[Case]
    #: 1-based page number shown to the user
    number: int
    per_page: int
    total: int
    #: True when ``total`` is the cap and there are more
    more: bool
    has_next: bool
    has_prev: bool
    #: cursors of the next and previous page (None where offsets are used instead)
    next_cursor: str | None
    prev_cursor: str | None

    @property
    def total_label(self) -> str:
        return f"{self.total:,}+" if self.more else f"{self.total:,}"

    @property
    def pages(self) -> int | None:
        """The number of pages, when the count is exact."""
        return None if self.more else max(1, -(-self.total // self.per_page))


def page_of(session: Session, stmt: Select, filters: CaseFilters, *, per_page: int,
            after: str | None = None, before: str | None = None, number: int = 1) -> Page:
    """A page of ``stmt`` (already ordered by ``order_by``): rows after the cursor
    ``after``, or before ``before``, or else page ``number`` counted from the start.

    Keyset pages cost the same at page 1 and page 5,000; the count is capped, and skipped
    when the first page holds the whole list (a search, a narrow filter). When closed
    cases are shown too (open ones first), the list is two runs, open then closed, each read
    in its own index order: a cursor names its run, and a page that reaches the end of the
    open run goes on at the start of the closed one (``_read``).
    """
    sort = sort_of(filters)
    open_first = filters.status is None
    number = max(1, number)
    has_prev = number > 1
    a = decode_cursor(after, sort, open_first)
    b = None if a is not None else decode_cursor(before, sort, open_first)
    # an unnarrowed list's capped total comes with the page's first statement (a column of
    # its rows): one round trip, and an index-only range of the scope. A narrowed list (a
    # search, a filter) is counted apart, and only when it does not fit on its first page:
    # its count repeats the filter's work, which a short list never needs
    count = _capped_count_select(stmt, COUNT_CAP) if _only_scoped(filters) else None
    if a is not None:
        rows, n = _read(session, stmt, sort, a, True, per_page + 1, open_first, count=count)
        has_next, items = len(rows) > per_page, rows[:per_page]
    elif b is not None:
        rows, n = _read(session, _reversed(stmt, filters), sort, b, False, per_page + 1,
                        open_first, count=count)
        items = list(reversed(rows[:per_page]))
        has_next = True
        if len(rows) <= per_page:
            number, has_prev = 1, False
    elif open_first:
        rows, n = _read(session, stmt, sort, None, True, per_page + 1, open_first,
                        offset=(number - 1) * per_page, count=count)
        has_next, items = len(rows) > per_page, rows[:per_page]
    else:  # a page number typed without a cursor: counted from the start
        rows, n = _scalars_counted(
            session, stmt.offset((number - 1) * per_page).limit(per_page + 1), count)
        has_next, items = len(rows) > per_page, rows[:per_page]
    if number == 1 and a is None and b is None and not has_next:
        total, more = len(items), False  # the whole list is on this page: nothing to count
    elif n is not None:
        total, more = min(n, COUNT_CAP), n > COUNT_CAP
    else:  # no row came back to carry it (a page past the end)
        total, more = count_capped(session, stmt)
    return Page(items=items, number=number, per_page=per_page, total=total, more=more,
                has_next=has_next, has_prev=has_prev,
                next_cursor=encode_cursor(items[-1], sort, open_first) if has_next and items
                else None,
                prev_cursor=encode_cursor(items[0], sort, open_first) if has_prev and items
                else None)


def page_or_last(session: Session, stmt: Select, filters: CaseFilters, *, per_page: int,
                 after: str | None = None, before: str | None = None,
                 number: int = 1) -> tuple[Page, Msg | None]:
    """``page_of``, except that a page number past the end (an old link, a typo) gives the
    last page and says so, instead of an empty page under "共 31 件"; a list too long to
    count exactly gives its first page."""
    page = page_of(session, stmt, filters, per_page=per_page, after=after, before=before,
                   number=number)
    if page.items or page.number == 1 or after or before:
        return page, None
    if page.pages is None:
        said = Msg(N_("第 %(page)s 页超出列表范围，本次显示第 1 页"), page=number)
    else:
        said = Msg(N_("第 %(page)s 页超出列表范围（共 %(pages)s 页），本次显示最后一页"),
                   page=number, pages=page.pages)
    return page_of(session, stmt, filters, per_page=per_page, number=page.pages or 1), said


def _read(session: Session, stmt: Select, sort: Sort, cursor: list | None, forward: bool,
          limit: int, open_first: bool, offset: int = 0,
          count: Select | None = None) -> tuple[list[Case], int | None]:
    """Up to ``limit`` rows of ``stmt`` after (``forward``) or before ``cursor`` (None: from
    the start of ``stmt``'s order, skipping ``offset`` rows: a page number typed without a
    cursor), and the value of ``count`` read along with the first statement that returned
    rows (None if none did).

    With ``open_first`` the order is "open cases, then closed ones": each run is read alone
    (``is_open`` fixed, so its index delivers the order of the rest of the key) and the
    second run continues where the first one ends."""
    if not open_first:
        if cursor is not None:
            stmt = stmt.where(after_condition(session, sort, cursor, forward))
        return _scalars_counted(session, stmt.limit(limit), count)
    # forward: open (True) then closed (False); backward: the other way round
    runs = [True, False] if forward else [False, True]
    if cursor is not None:
        runs = runs[runs.index(cursor[0]):]
    # within a run ``is_open`` is fixed: ordering by it too kept PostgreSQL (which does not
    # treat a boolean column in WHERE as a constant of the order) from reading the run in
    # index order: it sorted the county's 24,000 open cases for each page
    ascending = sort.descending != forward
    keys = [c.asc() if ascending else c.desc() for c in sort.columns]
    rows: list[Case] = []
    total: int | None = None
    for i, run in enumerate(runs):
        part = stmt.where(Case.is_open == (true() if run else false())).order_by(None) \
            .order_by(*keys)
        if i == 0 and cursor is not None:
            part = part.where(after_condition(session, sort, cursor[1:], forward))
        if offset and i < len(runs) - 1:
            # skip into this run, or past it (its rows counted from its index)
            size = session.scalar(select(func.count()).select_from(
                part.order_by(None).with_only_columns(Case.id).subquery())) or 0
            if offset >= size:
                offset -= size
                continue
        if offset:
            part, offset = part.offset(offset), 0
        got, n = _scalars_counted(session, part.limit(limit - len(rows)),
                                  count if total is None else None)
        rows += got
        total = n if total is None else total
        if len(rows) >= limit:
            break
    return rows, total


def _reversed(stmt: Select, filters: CaseFilters) -> Select:
    """``stmt`` in the opposite order (to read the page before a cursor)."""
    sort = sort_of(filters)
    keys = [c.asc() if sort.descending else c.desc() for c in sort.columns]
    if filters.status is None:
        keys.insert(0, Case.is_open.asc())
    return stmt.order_by(None).order_by(*keys)
