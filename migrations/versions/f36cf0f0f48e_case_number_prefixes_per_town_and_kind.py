"""case number prefixes: a (town, kind, code) table instead of two columns on towns

Revision ID: f36cf0f0f48e
Revises: fb127390e450
Create Date: 2026-11-30 22:48:55

Each town's two issuer codes (towns.petition_issuer_code, towns.dispute_issuer_code) are
copied into case_number_prefixes, then the columns are dropped (SQLite: batch rebuild of
towns, with foreign keys off as env.py arranges). Downgrade copies them back; a kind a town
has no row for gets the default prefix the numbering used (信 / 调).
"""
import sqlalchemy as sa
from alembic import op

revision = 'f36cf0f0f48e'
down_revision = 'fb127390e450'
branch_labels = None
depends_on = None

#: the columns of the old schema and the kind each one prefixed
_COLUMNS = (('petition', 'petition_issuer_code', '信'), ('dispute', 'dispute_issuer_code', '调'))


def upgrade():
    op.create_table('case_number_prefixes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('town_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['town_id'], ['towns.id'], name=op.f('fk_case_number_prefixes_town_id_towns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_number_prefixes')),
    sa.UniqueConstraint('town_id', 'kind', name=op.f('uq_case_number_prefixes_town_id_kind'))
    )
    for kind, column, _default in _COLUMNS:
        op.execute(sa.text(
            f"INSERT INTO case_number_prefixes (town_id, kind, code) "
            f"SELECT id, :kind, {column} FROM towns ORDER BY id"
        ).bindparams(kind=kind))
    with op.batch_alter_table('towns', schema=None) as batch_op:
        batch_op.drop_column('dispute_issuer_code')
        batch_op.drop_column('petition_issuer_code')


def downgrade():
    with op.batch_alter_table('towns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('petition_issuer_code', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('dispute_issuer_code', sa.String(length=20), nullable=True))
    for kind, column, default in _COLUMNS:
        op.execute(sa.text(
            f"UPDATE towns SET {column} = COALESCE((SELECT p.code FROM case_number_prefixes p "
            f"WHERE p.town_id = towns.id AND p.kind = :kind), :default)"
        ).bindparams(kind=kind, default=default))
    with op.batch_alter_table('towns', schema=None) as batch_op:
        batch_op.alter_column('petition_issuer_code', existing_type=sa.String(length=20),
                              nullable=False)
        batch_op.alter_column('dispute_issuer_code', existing_type=sa.String(length=20),
                              nullable=False)
    op.drop_table('case_number_prefixes')
