"""cases: mediation_due_on, the dispute's mediation due date kept at its outcome

Revision ID: b7d41c9e2a61
Revises: a5c0f7e2d913
Create Date: 2026-11-30 23:55:00

After an agreement (调解成功) a dispute's running clock becomes the follow-up visit's (回访期限),
so its warnings, queues and reminders follow the visit instead of a mediation already done;
按期 (mediation outcome by the mediation due date) is judged by this column. Backfill: every
dispute with an outcome keeps its current due date here (nothing moves a dispute's due date
after its outcome before this revision).
"""
import sqlalchemy as sa
from alembic import op

revision = 'b7d41c9e2a61'
down_revision = 'a5c0f7e2d913'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mediation_due_on', sa.Date(), nullable=True))
    op.execute("UPDATE cases SET mediation_due_on = due_on "
               "WHERE kind = 'dispute' AND mediated_on IS NOT NULL")


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('mediation_due_on')
