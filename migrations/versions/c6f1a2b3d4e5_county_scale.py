"""county scale: attachments storable in the database (attachment_chunks,
attachments.storage); cases.updated_at indexed (cache keys of past figures); the text-search index over cases.search_text (pg_trgm GIN on
PostgreSQL, FTS5 trigram table kept by triggers on SQLite)

Revision ID: c6f1a2b3d4e5
Revises: 988170cb83e2
Create Date: 2026-11-30 20:20:00

"""
import sqlalchemy as sa
from alembic import op

from casetrack.cases import search_index

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
        for sql in search_index.PG_DDL:
            op.execute(sql)
    else:
        for sql in search_index.SQLITE_DDL:
            op.execute(sql)
        op.execute(search_index.SQLITE_REBUILD)


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for sql in search_index.PG_DROP:
            op.execute(sql)
    else:
        for sql in search_index.SQLITE_DROP:
            op.execute(sql)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_updated_at'))
    op.drop_table('attachment_chunks')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_column('storage')
