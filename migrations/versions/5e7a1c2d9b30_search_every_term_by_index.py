"""search: every term looked up by an index, one- and two-character terms included, and a
town's search reading that town's part of the index

PostgreSQL: the trigram GIN index becomes (town_id, search_text gin_trgm_ops) with btree_gin;
a GIN index (town_id, casetrack_search_grams(search_text)) holds each text's characters and
pairs of characters. SQLite: the FTS5 trigram table becomes contentless with rowid
town_id * 2**32 + id, and a second FTS5 table (cases_search_chars) indexes every character as
a token; both are filled from the rows already there. See casetrack/cases/search_index.py.

Revision ID: 5e7a1c2d9b30
Revises: e1a7c3d9b260
Create Date: 2026-12-01 01:50:00

"""
from alembic import op

from casetrack.cases import search_index

revision = '5e7a1c2d9b30'
down_revision = 'e1a7c3d9b260'
branch_labels = None
depends_on = None

#: what revision c6f1a2b3d4e5 made, put back by the downgrade
OLD_SQLITE_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS cases_search USING fts5(search_text, content='cases', "
    "content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS cases_search_ai AFTER INSERT ON cases BEGIN "
    "INSERT INTO cases_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS cases_search_ad AFTER DELETE ON cases BEGIN "
    "INSERT INTO cases_search(cases_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); END",
    "CREATE TRIGGER IF NOT EXISTS cases_search_au AFTER UPDATE OF search_text ON cases BEGIN "
    "INSERT INTO cases_search(cases_search, rowid, search_text) "
    "VALUES ('delete', old.id, old.search_text); "
    "INSERT INTO cases_search(rowid, search_text) VALUES (new.id, new.search_text); END",
    "INSERT INTO cases_search(cases_search) VALUES ('rebuild')",
)
OLD_PG_INDEX = "ix_cases_search_text_trgm"


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for sql in search_index.PG_DDL:
            op.execute(sql)
        op.execute(f"DROP INDEX IF EXISTS {OLD_PG_INDEX}")
        op.execute("ANALYZE cases")
    else:
        for sql in search_index.SQLITE_DROP:
            op.execute(sql)
        for sql in search_index.SQLITE_DDL + search_index.SQLITE_REBUILD:
            op.execute(sql)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"CREATE INDEX IF NOT EXISTS {OLD_PG_INDEX} ON cases "
                   "USING gin (search_text gin_trgm_ops)")
        for sql in search_index.PG_DROP:
            op.execute(sql)
    else:
        for sql in search_index.SQLITE_DROP:
            op.execute(sql)
        for sql in OLD_SQLITE_DDL:
            op.execute(sql)
