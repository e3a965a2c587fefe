"""The text-search indexes over ``Case.search_text``, on PostgreSQL and on SQLite.

Search (``cases.queries.search_conditions``) asks, for each term, whether it is a substring
of the case's folded search text (``core.normalize.search_document``: number, reference,
title, summary, party names and phones, one space between fields; a term never holds a
space, so no term matches across two fields). Every term is looked up by an index, and the
condition always keeps the substring test itself (``search_text LIKE '%term%'``) as the
final word, so the rows found are exactly the LIKE's:

* terms of three characters or more, by their trigrams;
* terms of one or two characters (most Chinese personal names have two or three: 王伟,
  养殖, a surname), by the term itself: every character and every pair of adjacent
  characters of the text is indexed.

PostgreSQL:

* ``ix_cases_search_trgm``: GIN ``(town_id, search_text gin_trgm_ops)`` (pg_trgm, with
  btree_gin for the town); the plain LIKE uses it.
* ``ix_cases_search_grams``: GIN ``(town_id, casetrack_search_grams(search_text))``, where the
  IMMUTABLE SQL function returns the characters and character pairs of the text (none
  holding a space) as ``text[]``; a short term adds
  ``casetrack_search_grams(search_text) @> ARRAY[term]``.

  The town leads both indexes: a town's search (``town_id = ?``, from the user's scope) reads
  the postings of that town only, so it does not grow with the county; a county search uses
  the text column alone (a multicolumn GIN index serves any subset of its columns).

SQLite (FTS5, contentless tables kept in step by the triggers ``cases_search_ai/ad/au``):

* ``cases_search``: the ``trigram`` tokenizer over the text;
* ``cases_search_chars``: the ``unicode61`` tokenizer, every character a token category, over
  the text with a space between characters (``search_spaced``; the field separator becomes
  U+0001, a token that no term holds). A term of one or two characters is the FTS5 phrase of
  its characters ("王 伟"), which matches where they stand side by side.

  The FTS rowid is ``town_id * 2**32 + case id`` (``TOWN_KEY``): rows sort by town, so a town
  user's search adds ``rowid BETWEEN`` the town's range and FTS5 seeks to that town's part of
  each posting list and stops after it (a phrase with no further match in the town may read
  on to its next match, so a term rare in the whole county costs at most the county's
  lookup). The term becomes ``cases.id IN (SELECT rowid & 0xFFFFFFFF FROM … WHERE … MATCH
  '"term"')``. The tables are contentless: a row leaves them only when told the values it
  was indexed with, which the triggers recompute from ``old``; never write them by hand
  (``SQLITE_REBUILD`` refills both).

The DDL lives here once: ``create_all`` runs it (tests), and the Alembic revisions that add
the indexes run the same statements. The FTS5 tables and their shadow tables, and the GIN
indexes, are not in the models' metadata: ``is_schema_extra`` tells Alembic's comparison to
skip them.
"""

from __future__ import annotations

import unicodedata

from sqlalchemy import (
    DDL,
    Boolean,
    Text,
    and_,
    bindparam,
    column,
    event,
    func,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from casetrack.cases.models import SEARCHED_CASE_FIELDS, Case, Party

#: the shortest term the trigram indexes can look up; shorter ones use the character index
MIN_INDEXED = 3
FTS_TABLE = "cases_search"
CHARS_TABLE = "cases_search_chars"
PG_INDEX = "ix_cases_search_trgm"
PG_GRAMS_INDEX = "ix_cases_search_grams"
PG_GRAMS = "casetrack_search_grams"
#: SQLite FTS rowid = town_id * TOWN_KEY + case id (case ids stay below 2**32)
TOWN_KEY = 2 ** 32
#: the unicode61 tokenizer with every character a token character, one per token (spaces,
#: category Zs, separate them); diacritics kept
_CHARS_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* M* N* P* S* C* Zl Zp'"


def search_spaced(expr: str) -> str:
    """SQLite expression: the text ``expr`` with a space between its characters and its own
    spaces (the field separator) as U+0001, for ``cases_search_chars``. Triggers may not use
    WITH, so the characters are numbered by ``json_each`` over an array of ``length`` zeros;
    an empty text gives NULL (no token)."""
    return (
        f"(SELECT group_concat(substr(s.t, j.key + 1, 1), ' ') "
        f"FROM (SELECT replace({expr}, ' ', char(1)) AS t) AS s, "
        f"json_each('[' || substr(replace(hex(zeroblob(length({expr}))), '00', '0,'), 1, "
        f"2 * length({expr}) - 1) || ']') AS j)")


def _fts_rows(row: str, verb: str = "") -> tuple[str, str]:
    """The INSERT into each FTS table of the case ``row`` (``new`` or ``old``); ``verb``
    'delete' removes it (a contentless table is told the values it indexed)."""
    key = f"{row}.town_id * {TOWN_KEY} + {row}.id"
    out = []
    for name, text in ((FTS_TABLE, f"{row}.search_text"),
                       (CHARS_TABLE, search_spaced(f"{row}.search_text"))):
        if verb:
            out.append(f"INSERT INTO {name}({name}, rowid, search_text) "
                       f"VALUES ('{verb}', {key}, {text});")
        else:
            out.append(f"INSERT INTO {name}(rowid, search_text) VALUES ({key}, {text});")
    return tuple(out)


SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(search_text, content='', "
    "tokenize='trigram')",
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {CHARS_TABLE} USING fts5(search_text, content='', "
    f"tokenize=\"{_CHARS_TOKENIZER}\")",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON cases BEGIN "
    + " ".join(_fts_rows("new")) + " END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON cases BEGIN "
    + " ".join(_fts_rows("old", "delete")) + " END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF search_text, town_id ON cases "
    "BEGIN " + " ".join(_fts_rows("old", "delete") + _fts_rows("new")) + " END",
)
#: (re)fills both FTS tables from the rows of ``cases`` (after creating them on a full table,
#: or after a bulk load without the triggers), then merges each into one segment ('optimize':
#: at a million cases 13 s, and the lookups of common trigrams such as a phone's digits are
#: about twice as fast as from the segments the fill leaves)
SQLITE_REBUILD = (
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')",
    f"INSERT INTO {FTS_TABLE}(rowid, search_text) "
    f"SELECT town_id * {TOWN_KEY} + id, search_text FROM cases",
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')",
    f"INSERT INTO {CHARS_TABLE}({CHARS_TABLE}) VALUES ('delete-all')",
    f"INSERT INTO {CHARS_TABLE}(rowid, search_text) "
    f"SELECT town_id * {TOWN_KEY} + id, {search_spaced('search_text')} FROM cases",
    f"INSERT INTO {CHARS_TABLE}({CHARS_TABLE}) VALUES ('optimize')",
)
SQLITE_DROP = (
    *(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{s}" for s in ("ai", "ad", "au")),
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
    f"DROP TABLE IF EXISTS {CHARS_TABLE}",
)
PG_DDL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    # the characters and the pairs of adjacent characters of a text, none holding a space
    # (a term never does): what a term of one or two characters is looked up by. Linear in
    # the text: the pairs starting at even then at odd places of each space-free run (the
    # second pass drops each run's first character); GIN drops the duplicates.
    f"CREATE OR REPLACE FUNCTION {PG_GRAMS}(t text) RETURNS text[] "
    "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
    "SELECT string_to_array(replace(t, ' ', ''), NULL) "
    "|| ARRAY(SELECT m[1] FROM regexp_matches(t, '([^ ][^ ])', 'g') AS m) "
    "|| ARRAY(SELECT m[1] FROM regexp_matches(regexp_replace(t, '(^| )[^ ]', '\\1', 'g'), "
    "'([^ ][^ ])', 'g') AS m) $$",
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON cases "
    "USING gin (town_id, search_text gin_trgm_ops)",
    f"CREATE INDEX IF NOT EXISTS {PG_GRAMS_INDEX} ON cases "
    f"USING gin (town_id, {PG_GRAMS}(search_text))",
)
PG_DROP = (
    f"DROP INDEX IF EXISTS {PG_GRAMS_INDEX}",
    f"DROP INDEX IF EXISTS {PG_INDEX}",
    f"DROP FUNCTION IF EXISTS {PG_GRAMS}(text)",
)


def is_schema_extra(name: str | None, type_: str) -> bool:
    """True for the objects of these indexes that the models do not describe (Alembic's
    ``include_name`` hook returns the opposite)."""
    if not name:
        return False
    if type_ == "table":
        return name == FTS_TABLE or name.startswith(FTS_TABLE + "_")
    return type_ == "index" and name in (PG_INDEX, PG_GRAMS_INDEX)


for _sql in SQLITE_DDL:
    event.listen(Case.__table__, "after_create", DDL(_sql).execute_if(dialect="sqlite"))
for _sql in PG_DDL:
    event.listen(Case.__table__, "after_create", DDL(_sql).execute_if(dialect="postgresql"))
for _name in (FTS_TABLE, CHARS_TABLE):
    event.listen(Case.__table__, "before_drop",
                 DDL(f"DROP TABLE IF EXISTS {_name}").execute_if(dialect="sqlite"))

_fts = table(FTS_TABLE, column("rowid"), column("search_text"))
_chars = table(CHARS_TABLE, column("rowid"), column("search_text"))


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(term: str, by_char: bool) -> str:
    """An FTS5 phrase of one term (double quotes doubled): the term itself for the trigram
    table, its characters one by one for the character table."""
    text = " ".join(term) if by_char else term
    return '"' + text.replace('"', '""') + '"'


def _chars_indexable(term: str) -> bool:
    """Every character of ``term`` is a token of ``cases_search_chars`` (none is a space
    separator, which a folded term never holds)."""
    return bool(term) and all(unicodedata.category(ch) != "Zs" for ch in term)


class TermMatch(ColumnElement[bool]):
    """``term`` is a substring of ``Case.search_text``: the escaped LIKE, preceded by an index
    lookup (see the module docstring). On SQLite ``town_id``, when given, limits the lookup
    to that town's rows. Every form carries the term as bound parameters, so statements stay
    cacheable."""

    type = Boolean()
    inherit_cache = True
    #: a condition in itself: SQLite needs no "= 1" after it
    _is_implicitly_boolean = True
    _traverse_internals = [("like", InternalTraversal.dp_clauseelement),
                           ("pg", InternalTraversal.dp_clauseelement),
                           ("fts", InternalTraversal.dp_clauseelement)]

    def __init__(self, term: str, town_id: int | None = None) -> None:
        self.like = Case.search_text.like(bindparam(None, _like_pattern(term)), escape="\\")
        short = len(term) < MIN_INDEXED
        if short:
            grams = bindparam(None, [term], type_=postgresql.ARRAY(Text))
            self.pg = and_(getattr(func, PG_GRAMS)(Case.search_text).op("@>")(grams),
                           self.like).self_group()
        else:
            self.pg = self.like
        fts = _chars if short else _fts
        lookup = select(literal_column(f"{fts.name}.rowid & {TOWN_KEY - 1}")).where(
            fts.c.search_text.op("MATCH")(bindparam(None, _fts_phrase(term, short))))
        if town_id is not None:
            lookup = lookup.where(fts.c.rowid.between(
                bindparam(None, town_id * TOWN_KEY), bindparam(None, (town_id + 1) * TOWN_KEY - 1)))
        self.fts = and_(Case.id.in_(lookup), self.like).self_group()


@compiles(TermMatch)
def _compile_like(element: TermMatch, compiler, **kw) -> str:
    return compiler.process(element.like, **kw)


@compiles(TermMatch, "postgresql")
def _compile_pg(element: TermMatch, compiler, **kw) -> str:
    return compiler.process(element.pg, **kw)


@compiles(TermMatch, "sqlite")
def _compile_fts(element: TermMatch, compiler, **kw) -> str:
    return compiler.process(element.fts, **kw)


def term_condition(term: str, town_id: int | None = None) -> ColumnElement[bool]:
    """The condition that one folded search term is in the case's search text, looked up by
    index; ``town_id``: the user sees that town's cases only (SQLite reads that town's part of
    the index; PostgreSQL takes the town from the scope's own ``town_id = ?``)."""
    if len(term) < MIN_INDEXED and not _chars_indexable(term):
        return Case.search_text.like(_like_pattern(term), escape="\\")
    return TermMatch(term, town_id)


def literal_condition(term: str) -> ColumnElement[bool]:
    """The condition that a word of punctuation only (``[``, ``%``, ``_``) appears, as
    typed, in one of the case's searched fields. The folded ``search_text`` cannot answer it
    (every case number holds a bracket once folded); the LIKE is escaped, so ``%`` and
    ``_`` are characters, not wildcards. Such a search reads the scope's cases: it is rare,
    and always combined with the town and the page's other filters."""
    fields = [getattr(Case, name) for name in SEARCHED_CASE_FIELDS]
    return or_(*(f.contains(term, autoescape=True) for f in fields),
               Case.parties.any(or_(Party.name.contains(term, autoescape=True),
                                    Party.phone.contains(term, autoescape=True))))
