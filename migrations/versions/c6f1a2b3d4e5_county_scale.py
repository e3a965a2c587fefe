"""county scale: attachments storable in the database (attachment_chunks,
attachments.storage); cases.updated_at indexed (cache keys of past figures); the text-search index over cases.search_text (pg_trgm GIN on
PostgreSQL, FTS5 trigram table kept by triggers on SQLite)

Revision ID: c6f1a2b3d4e5
Revises: 988170cb83e2
Create Date: 2026-11-30 20:20:00

"""
import sqlalchemy as sa
from alembic import op

#: the search index as this revision made it, written out here (the live definitions in
#: casetrack/cases/search_index.py moved on: see revision 5e7a1c2d9b30)
SQLITE_DDL = (
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
)
SQLITE_REBUILD = "INSERT INTO cases_search(cases_search) VALUES ('rebuild')"
SQLITE_DROP = (
    *(f"DROP TRIGGER IF EXISTS cases_search_{s}" for s in ("ai", "ad", "au")),
    "DROP TABLE IF EXISTS cases_search",
)
PG_DDL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_cases_search_text_trgm ON cases "
    "USING gin (search_text gin_trgm_ops)",
)
PG_DROP = ("DROP INDEX IF EXISTS ix_cases_search_text_trgm",)

# revision identifiers, used by Alembic.
revision = 'c6f1a2b3d4e5'
down_revision = '988170cb83e2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('storage', sa.String(length=20), nullable=False,
                                      server_default='filesystem'))
    op.create_table(
        'attachment_chunks',
        sa.Column('attachment_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'],
                                name=op.f('fk_attachment_chunks_attachment_id_attachments'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('attachment_id', 'seq', name=op.f('pk_attachment_chunks')),
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_cases_updated_at'), ['updated_at'], unique=False)
    if op.get_bind().dialect.name == 'postgresql':
        for sql in PG_DDL:
            op.execute(sql)
    else:
        for sql in SQLITE_DDL:
            op.execute(sql)
        op.execute(SQLITE_REBUILD)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for sql in PG_DROP:
            op.execute(sql)
    else:
        for sql in SQLITE_DROP:
            op.execute(sql)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_updated_at'))
    op.drop_table('attachment_chunks')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('storage')
