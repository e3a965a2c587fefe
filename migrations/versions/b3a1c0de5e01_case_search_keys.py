"""case search keys: cases.search_text and cases.external_ref_key; parties' IDs and phones
folded to their one stored form

Revision ID: b3a1c0de5e01
Revises: 087cd9929abb
Create Date: 2026-11-30 20:00:00

"""
import sqlalchemy as sa
from alembic import op

from casetrack.core.normalize import (
    canonical_ref,
    normalize_id_number,
    normalize_phone,
    search_document,
)

# revision identifiers, used by Alembic.
revision = 'b3a1c0de5e01'
down_revision = '087cd9929abb'
branch_labels = None
depends_on = None

#: cases back-filled per round trip
BATCH = 1000


def upgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.add_column(sa.Column('external_ref_key', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('search_text', sa.Text(), nullable=False,
                                      server_default=''))
        batch_op.create_index(batch_op.f('ix_cases_external_ref_key'), ['external_ref_key'],
                              unique=False)
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.alter_column('search_text', server_default=None)
    _backfill(op.get_bind())


def _backfill(conn) -> None:
    """Fold the stored IDs and phones, then compute every case's keys (the same functions
    as the flush hook of ``casetrack.cases.models``)."""
    parties = sa.table('parties', sa.column('id'), sa.column('case_id'), sa.column('name'),
                       sa.column('id_number'), sa.column('phone'))
    cases = sa.table('cases', sa.column('id'), sa.column('number'), sa.column('external_ref'),
                     sa.column('title'), sa.column('summary'), sa.column('search_text'),
                     sa.column('external_ref_key'))
    for pid, id_number, phone in conn.execute(
            sa.select(parties.c.id, parties.c.id_number, parties.c.phone)).all():
        new_id, new_phone = normalize_id_number(id_number) or None, normalize_phone(phone)
        if new_id != id_number or new_phone != (phone or ''):
            conn.execute(parties.update().where(parties.c.id == pid)
                         .values(id_number=new_id, phone=new_phone))
    last = 0
    while True:
        rows = conn.execute(
            sa.select(cases.c.id, cases.c.number, cases.c.external_ref, cases.c.title,
                      cases.c.summary).where(cases.c.id > last).order_by(cases.c.id)
            .limit(BATCH)).all()
        if not rows:
            break
        ids = [r.id for r in rows]
        people: dict[int, list[tuple[str, str]]] = {}
        for case_id, name, phone in conn.execute(
                sa.select(parties.c.case_id, parties.c.name, parties.c.phone)
                .where(parties.c.case_id.in_(ids)).order_by(parties.c.id)):
            people.setdefault(case_id, []).append((name, phone))
        for r in rows:
            found = people.get(r.id, [])
            conn.execute(cases.update().where(cases.c.id == r.id).values(
                search_text=search_document(r.number, r.external_ref, r.title, r.summary,
                                            *(n for n, _p in found), *(p for _n, p in found)),
                external_ref_key=canonical_ref(r.external_ref) or None))
        last = ids[-1]


def downgrade():
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_external_ref_key'))
        batch_op.drop_column('search_text')
        batch_op.drop_column('external_ref_key')
