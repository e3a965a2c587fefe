"""users: drop the dead per-account login lock (failed_logins, locked_until)

Revision ID: 1116e7111f22
Revises: f36cf0f0f48e
Create Date: 2026-11-30 23:05:06

Login throttling is Flask-Limiter's (per address and per address and username); nothing
read these columns any more. Downgrade brings them back empty (0 failures, not locked).
"""
import sqlalchemy as sa
from alembic import op

revision = '1116e7111f22'
down_revision = 'f36cf0f0f48e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('failed_logins')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0',
                                      nullable=False))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))
