"""users: session_version (revocable sessions) and must_change_password

Revision ID: c7e2a9d41f03
Revises: df81abf9ee3a
Create Date: 2026-11-30 20:35:00
"""

import sqlalchemy as sa
from alembic import op

revision = 'c7e2a9d41f03'
down_revision = 'df81abf9ee3a'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='1',
                                      nullable=False))
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(),
                                      server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
        batch_op.drop_column('session_version')
