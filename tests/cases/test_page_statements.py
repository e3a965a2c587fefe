"""What the case page asks the database: the case with its village, unit and handler in one
statement, the timeline's people in one, nothing asked for an empty list."""

from __future__ import annotations

from sqlalchemy import event
from views_support import login_as, make_petition

from casetrack.cases import services as svc
from casetrack.extensions import db


def _statements(client, path: str) -> tuple[str, list[str]]:
    seen: list[str] = []

    def record(conn, cursor, statement, *args):
        seen.append(" ".join(statement.split()))

    db.session.expunge_all()  # as in a request of its own: nothing loaded yet
    event.listen(db.engine, "before_cursor_execute", record)
    try:
        html = client.get(path).get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return html, seen


def test_case_page_statements(client, world, now):
    case = make_petition(world, now)
    svc.accept_case(db.session, world.supervisor, now, case)
    svc.assign_case(db.session, world.supervisor, now, case, world.unit_xf.id, world.handler1.id)
    db.session.commit()
    login_as(client, "super")
    html, seen = _statements(client, f"/cases/{case.id}")
    assert "信访办" in html and "承办人甲" in html and "北和社区" in html and "督办员" in html
    the_case = [s for s in seen if s.startswith("SELECT cases.id")]
    assert len(the_case) == 1
    assert "JOIN villages" in the_case[0] and "JOIN units" in the_case[0] \
        and "JOIN users" in the_case[0]
    # no village, unit or user by its key alone (but the signed-in user, with their town);
    # no IN of nothing
    assert not [s for s in seen if "WHERE villages.id =" in s or "WHERE units.id =" in s
                or ("WHERE users.id =" in s and "JOIN towns" not in s)]
    assert not [s for s in seen if "1 != 1" in s]
    people = [s for s in seen if "FROM users WHERE users.id IN" in s]
    assert len(people) == 1  # the handler named in the changes and every actor together


def test_a_new_case_page_asks_for_no_people(client, world, now):
    """Events by a user and changes naming nobody: one statement for the actors, none for
    units."""
    case = make_petition(world, now)
    db.session.commit()
    case_id, title = case.id, case.title
    login_as(client, "super")
    html, seen = _statements(client, f"/cases/{case_id}")
    assert title in html
    assert not [s for s in seen if "FROM units WHERE units.id IN" in s]
    assert len([s for s in seen if "FROM users WHERE users.id IN" in s]) <= 1
