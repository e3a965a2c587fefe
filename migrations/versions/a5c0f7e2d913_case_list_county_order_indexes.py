"""case list: indexes that deliver the county's orders and filters

The county's list reads ~25,000 open cases among a million; without these, sorting by
received date or number, filtering by received date or category, or showing closed cases
too sorted or scanned the whole table (1-4 s at a million cases). Each index leads with
``is_open``: the list always fixes it (open only by default; "all" reads the open run, then
the closed run; a single status implies it), so each run is read in index order.
On SQLite the table is analysed again, so that a town's list keeps its town index.

Revision ID: a5c0f7e2d913
Revises: 1116e7111f22
Create Date: 2026-11-30 23:20:00

"""
from alembic import op

revision = 'a5c0f7e2d913'
down_revision = '1116e7111f22'
branch_labels = None
depends_on = None

INDEXES = {
    "ix_cases_open_received": ["is_open", "received_on", "id"],
    "ix_cases_open_category_due": ["is_open", "category", "due_on", "id"],
    "ix_cases_open_number": ["is_open", "kind", "number_year", "number_seq", "id"],
    "ix_cases_open_updated": ["is_open", "updated_at", "id"],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, "cases", columns, unique=False)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite plans from sqlite_stat1: a database analysed before has no figures for the
        # new indexes, and the planner then took them for a town's list too (a town's
        # dispute list went from 0.3 to 90 ms at a million cases). Refresh the figures.
        op.execute("ANALYZE cases")


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name="cases")
