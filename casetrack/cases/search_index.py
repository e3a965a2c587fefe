"""The text-search index over ``Case.search_text``: pg_trgm on PostgreSQL, FTS5 on SQLite.

Search (``cases.queries.search_conditions``) asks, for each term, whether it is a substring
of the case's folded search text. Without an index that reads every case of the scope; with
it, a term of three characters or more is looked up by its trigrams:

* PostgreSQL: a GIN index ``gin_trgm_ops`` on ``cases.search_text``; the plain
  ``search_text LIKE '%term%'`` uses it.
* SQLite: an FTS5 table with the ``trigram`` tokenizer over the same column (external content:
  it stores only the index, the text stays in ``cases``), kept in step by triggers; the term
  becomes ``cases.id IN (SELECT rowid FROM cases_search WHERE search_text MATCH '"term"')``,
  which is the same substring test.

Trigrams need three characters: a shorter term (a two-character name such as 王伟, or 养殖)
stays ``search_text LIKE '%term%'`` on both databases. Within a town that reads the town's
cases through the town index, so it does not grow with the county; combined with a longer
term the index narrows first.

The DDL lives here once: ``create_all`` runs it (tests), and the Alembic revision that adds
the index runs the same statements. The FTS5 table and its shadow tables, and the GIN index,
are not in the models' metadata: ``is_schema_extra`` tells Alembic's comparison to skip them.
"""

from __future__ import annotations

from sqlalchemy import DDL, Boolean, bindparam, column, event, or_, select, table
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from casetrack.cases.models import SEARCHED_CASE_FIELDS, Case, Party

#: the shortest term the trigram indexes can look up
MIN_INDEXED = 3
FTS_TABLE = "cases_search"
PG_INDEX = "ix_cases_search_text_trgm"

SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(search_text, content='cases', "
    "content_rowid='id', tokenize='trigram')",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ai AFTER INSERT ON cases BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_ad AFTER DELETE ON cases BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    f"CREATE TRIGGER IF NOT EXISTS {FTS_TABLE}_au AFTER UPDATE OF search_text ON cases BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    f"INSERT INTO {FTS_TABLE}(rowid, search_text) VALUES (new.id, new.search_text); END",
)
#: fills the FTS5 index from the rows already in ``cases`` (after creating it on a full table)
SQLITE_REBUILD = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"
SQLITE_DROP = (
    *(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{s}" for s in ("ai", "ad", "au")),
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
)
PG_DDL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    f"CREATE INDEX IF NOT EXISTS {PG_INDEX} ON cases USING gin (search_text gin_trgm_ops)",
)
PG_DROP = (f"DROP INDEX IF EXISTS {PG_INDEX}",)


def is_schema_extra(name: str | None, type_: str) -> bool:
    """True for the objects of this index that the models do not describe (Alembic's
    ``include_name`` hook returns the opposite)."""
    if not name:
        return False
    if type_ == "table":
        return name == FTS_TABLE or name.startswith(FTS_TABLE + "_")
    return type_ == "index" and name == PG_INDEX


for _sql in SQLITE_DDL:
    event.listen(Case.__table__, "after_create", DDL(_sql).execute_if(dialect="sqlite"))
for _sql in PG_DDL:
    event.listen(Case.__table__, "after_create", DDL(_sql).execute_if(dialect="postgresql"))
event.listen(Case.__table__, "before_drop",
             DDL(f"DROP TABLE IF EXISTS {FTS_TABLE}").execute_if(dialect="sqlite"))

_fts = table(FTS_TABLE, column("rowid"), column("search_text"))


def _like_pattern(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _fts_phrase(term: str) -> str:
    """An FTS5 phrase of one term (double quotes doubled): with the trigram tokenizer it
    matches the rows whose text contains the term."""
    return '"' + term.replace('"', '""') + '"'


class TermMatch(ColumnElement[bool]):
    """``term`` is a substring of ``Case.search_text``: a LIKE everywhere, compiled on
    SQLite as a lookup in the FTS5 trigram table. Both forms carry the term as a bound
    parameter, so statements stay cacheable."""

    type = Boolean()
    inherit_cache = True
    _traverse_internals = [("like", InternalTraversal.dp_clauseelement),
                           ("fts", InternalTraversal.dp_clauseelement)]

    def __init__(self, term: str) -> None:
        self.like = Case.search_text.like(bindparam(None, _like_pattern(term)), escape="\\")
        self.fts = Case.id.in_(select(_fts.c.rowid).where(
            _fts.c.search_text.op("MATCH")(bindparam(None, _fts_phrase(term)))))


@compiles(TermMatch)
def _compile_like(element: TermMatch, compiler, **kw) -> str:
    return compiler.process(element.like, **kw)


@compiles(TermMatch, "sqlite")
def _compile_fts(element: TermMatch, compiler, **kw) -> str:
    return compiler.process(element.fts, **kw)


def term_condition(term: str) -> ColumnElement[bool]:
    """The condition that one folded search term is in the case's search text, by index
    when the term is long enough for trigrams."""
    if len(term) >= MIN_INDEXED:
        return TermMatch(term)
    return Case.search_text.like(_like_pattern(term), escape="\\")


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
