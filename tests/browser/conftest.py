"""A live casetrack server for browser tests: a real threaded werkzeug server on
127.0.0.1 (random port) over its own SQLite file, with CSRF on and ``now`` pinned."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from casetrack import create_app
from casetrack.auth.models import Role, User
from casetrack.extensions import db
from casetrack.org.models import Town, Unit, Village
from casetrack.org.prefixes import prefix_rows

#: the suite's fixed instant (Monday 2026-11-23 10:00 in Beihe)
FIXED_NOW = "2026-11-23T02:00:00+00:00"
#: where screenshots are written (git-ignored)
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def _root_conftest(config):
    """The suite's top-level conftest module (for ``require_tool``)."""
    root = (Path(__file__).resolve().parents[1] / "conftest.py")
    for plugin in config.pluginmanager.get_plugins():
        path = getattr(plugin, "__file__", None)
        if path and Path(path).resolve() == root:
            return plugin
    raise RuntimeError("tests/conftest.py is not loaded")


@pytest.fixture(scope="session")
def chromium_path(pytestconfig) -> str:
    """Debian's chromium, or skip (fail under CASETRACK_REQUIRE_TOOLS=1)."""
    return _root_conftest(pytestconfig).require_tool("chromium")


@pytest.fixture(scope="session")
def chromium_args() -> list[str]:
    """Flags that let Debian's chromium run headless here without reaching the network."""
    return list(CHROMIUM_ARGS)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """``test-artifacts/`` at the repository root (git-ignored), for screenshots."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


class LiveServer:
    """The running server: its base URL and the app (for checks against the database)."""

    def __init__(self, app, url: str):
        self.app = app
        self.url = url


def _seed() -> None:
    """One town, two villages, a grid worker of the first village and a supervisor."""
    town = Town(name="北和镇", county_code="440882", county_name="雷州市",
                number_prefixes=prefix_rows(petition="北和信", dispute="北和调"))
    v1 = Village(town=town, name="北和社区", kind="社区", sort_order=0)
    Village(town=town, name="鹅感村", sort_order=1)
    Unit(town=town, name="综治办")
    db.session.add(town)
    for username, name, role, villages in (
        ("grid1", "网格员甲", Role.GRID_WORKER, [v1]),
        ("super", "督办员", Role.SUPERVISOR, []),
    ):
        user = User(username=username, name=name, role=str(role), town=town)
        user.set_password("pass-1234")
        user.villages = villages
        db.session.add(user)
    db.session.commit()


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """Start the app in a thread; stop it and release the database at the end."""
    base = tmp_path_factory.mktemp("live")
    app = create_app({
        "SECRET_KEY": "browser-test",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{base / 'live.sqlite3'}",
        "UPLOAD_FOLDER": str(base / "uploads"),
        "WTF_CSRF_ENABLED": True,
        "FIXED_NOW": FIXED_NOW,
    })
    with app.app_context():
        db.create_all()
        _seed()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(app, f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with app.app_context():
            db.engine.dispose()
