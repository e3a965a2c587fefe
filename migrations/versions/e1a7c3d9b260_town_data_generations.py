"""town_data_generations: a write generation per town, kept by triggers on cases and
case_events (the keys of cached figures: casetrack/cases/generations.py)

Every existing town gets its row (generation 1, a random token); a town created later gets
one from the trigger on towns.

Revision ID: e1a7c3d9b260
Revises: d4e8b2a7c913
Create Date: 2026-12-01 01:40:00

"""
import sqlalchemy as sa
from alembic import op

from casetrack.cases import generations

revision = 'e1a7c3d9b260'
down_revision = 'd4e8b2a7c913'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'town_data_generations',
        sa.Column('town_id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False),
        sa.Column('token', sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(['town_id'], ['towns.id'],
                                name=op.f('fk_town_data_generations_town_id_towns'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('town_id', name=op.f('pk_town_data_generations')),
    )
    for sql in generations.ddl(op.get_bind().dialect.name):
        op.execute(sql)


def downgrade():
    drop = (generations.PG_DROP if op.get_bind().dialect.name == 'postgresql'
            else generations.SQLITE_DROP)
    for sql in drop:
        op.execute(sql)
    op.drop_table('town_data_generations')
