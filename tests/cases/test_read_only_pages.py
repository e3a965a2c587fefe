"""Read-only pages (core/db.py ``read_only_page``: the case list, a case page, the home
page) run on PostgreSQL without a transaction of their own (no BEGIN, no ROLLBACK round
trip), every other request in transactions as before; a read-only page that writes is
refused on either database."""

from __future__ import annotations

import pytest
from sqlalchemy import event, update
from views_support import login_as, make_petition

from casetrack import create_app
from casetrack.auth.models import User
from casetrack.core.db import read_only_page
from casetrack.extensions import db
from tests.conftest import FIXED_NOW, PG_URL


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL: the driver's autocommit")
def test_read_only_pages_run_in_autocommit_and_others_in_transactions(app, client, world, now):
    case = make_petition(world, now)
    db.session.commit()
    case_id = case.id
    login_as(client, "super")
    seen: list[tuple[str, bool]] = []

    def record(conn, cursor, statement, *args):
        seen.append((statement.split()[0], conn.connection.driver_connection.autocommit))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        for path in ("/cases", f"/cases/{case_id}", "/"):
            db.session.close()  # as a server does after each request (the tests share one)
            seen.clear()
            assert client.get(path).status_code == 200
            assert seen and all(autocommit for _, autocommit in seen), path
        seen.clear()
        # logging out writes (every session of the user ends): in a transaction, as ever
        # (the test client keeps the session's connection between requests; a server
        # hands it back after each)
        assert client.post("/logout").status_code == 302
        assert ("UPDATE", False) in seen and not any(autocommit for _, autocommit in seen)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def test_a_read_only_page_that_writes_is_refused(world, database_url, tmp_path):
    fresh = create_app({
        "TESTING": True, "SECRET_KEY": "test", "SQLALCHEMY_DATABASE_URI": database_url,
        "WTF_CSRF_ENABLED": False, "UPLOAD_FOLDER": str(tmp_path), "FIXED_NOW": FIXED_NOW,
    })

    @fresh.route("/probe-write")
    @read_only_page
    def probe_write():
        db.session.execute(update(User).where(User.id == -1).values(name="x"))
        return "wrote"

    @fresh.route("/probe-read")
    @read_only_page
    def probe_read():
        return str(db.session.scalar(db.select(db.func.count()).select_from(User)))

    client = fresh.test_client()
    assert client.get("/probe-read").get_data(as_text=True) == str(
        db.session.scalar(db.select(db.func.count()).select_from(User)))
    with pytest.raises(RuntimeError, match="a read-only page wrote"):
        client.get("/probe-write")
    with fresh.app_context():
        db.engine.dispose()
