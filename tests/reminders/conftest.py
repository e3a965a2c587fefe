"""The tests of real server processes (``flask run``, ``flask scheduler run``): a SQLite file
of their own, where the processes keep their sender lease (a free port: ``support.free_port``)."""

from __future__ import annotations

import pytest

from casetrack import create_app
from casetrack.extensions import db


@pytest.fixture
def database(tmp_path) -> str:
    """A SQLite file with the schema (its own: the server processes write their lease there)."""
    url = f"sqlite:///{tmp_path / 'served.sqlite3'}"
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                      "UPLOAD_FOLDER": str(tmp_path / "uploads")})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return url
