"""cases: mediation_due_on, the dispute's mediation due date kept at its outcome

Revision ID: b7d41c9e2a61
Revises: a5c0f7e2d913
Create Date: 2026-11-30 23:55:00

After an agreement (调解成功) a dispute's running clock becomes the follow-up visit's (回访期限),
so its warnings, queues and reminders follow the visit instead of a mediation already done;
按期 (mediation outcome by the mediation due date) is judged by this column. Backfill: every
dispute with an outcome keeps its current due date here (nothing moves a dispute's due date
after its outcome before this revision). A dispute waiting for its follow-up visit
(调解成功) moves to the follow-up clock as a new one does, with a ``recompute_due`` event on
its timeline (so figures as of earlier dates still see the mediation due date). Downgrade
drops the column; the moved clocks and their timeline entries stay.
"""
import datetime as dt

import sqlalchemy as sa
from alembic import op

from casetrack.core.db import UTCDateTime

#: the note of the timeline entry of a dispute moved to its follow-up clock
NOTE = "调解成功：改按回访期限计算（升级）"

revision = 'b7d41c9e2a61'
down_revision = 'a5c0f7e2d913'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('mediation_due_on', sa.Date(), nullable=True))
    op.execute("UPDATE cases SET mediation_due_on = due_on "
               "WHERE kind = 'dispute' AND mediated_on IS NOT NULL")
    _follow_up_clocks()


def _day(value) -> str | None:
    """A date as the events keep it (ISO text), from SQLite's text or a ``date``."""
    return None if value is None else str(value)[:10]


def _follow_up_clocks() -> None:
    """Resolved disputes still on their mediation clock run the follow-up visit's."""
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT id, due_on, due_rule, follow_up_due_on FROM cases "
        "WHERE kind = 'dispute' AND status = 'resolved' AND follow_up_due_on IS NOT NULL "
        "AND mediated_on IS NOT NULL "
        "AND (due_rule IS NULL OR due_rule <> 'dispute.follow_up') ORDER BY id")).all()
    if not rows:
        return
    events = sa.table("case_events", sa.column("case_id", sa.Integer),
                      sa.column("at", UTCDateTime()), sa.column("action", sa.String),
                      sa.column("from_status", sa.String), sa.column("to_status", sa.String),
                      sa.column("changes", sa.JSON), sa.column("note", sa.Text))
    now = dt.datetime.now(dt.UTC)
    for case_id, due_on, due_rule, follow_up_due_on in rows:
        conn.execute(sa.text(
            "UPDATE cases SET due_on = follow_up_due_on, statutory_due_on = follow_up_due_on, "
            "due_rule = 'dispute.follow_up', due_basis = 'statutory', "
            "due_start_on = mediated_on, version = version + 1 WHERE id = :id"), {"id": case_id})
        conn.execute(events.insert().values(
            case_id=case_id, at=now, action="recompute_due", from_status="resolved",
            to_status="resolved", note=NOTE,
            changes={"due_on": [_day(due_on), _day(follow_up_due_on)],
                     "due_rule": [due_rule, "dispute.follow_up"]}))


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_column('mediation_due_on')
