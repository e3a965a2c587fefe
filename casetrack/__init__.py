"""casetrack: petition and dispute case tracking for a town government."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask


def create_app(test_config: dict | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, CLI."""
    app = Flask(__name__, instance_relative_config=True)
    from casetrack.config import DefaultConfig

    app.config.from_object(DefaultConfig)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("CASETRACK")
    else:
        app.config.update(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        db_path = os.path.join(app.instance_path, "casetrack.sqlite3")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{db_path}"
    if not app.config.get("UPLOAD_FOLDER"):
        app.config["UPLOAD_FOLDER"] = os.path.join(app.instance_path, "uploads")

    from casetrack import models  # noqa: F401  (every table known to Alembic)
    from casetrack.auth import views as auth_views
    from casetrack.cases import views as case_views
    from casetrack.cli import init_app as init_cli
    from casetrack.core import templating
    from casetrack.deadlines import views as deadline_views
    from casetrack.extensions import babel, csrf, db, limiter, login_manager, migrate
    from casetrack.org import views as org_views

    db.init_app(app)
    from casetrack.core.db import ping_when_idle

    with app.app_context():
        for engine in db.engines.values():
            ping_when_idle(engine, float(app.config["DATABASE_PING_IDLE_SECONDS"]))
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=templating.select_locale)
    auth_views.init_app(app, login_manager)
    templating.init_app(app)
    from casetrack.core import errorpages, security

    security.init_app(app)
    errorpages.init_app(app)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(case_views.bp)
    app.register_blueprint(org_views.bp)
    app.register_blueprint(deadline_views.bp)
    from casetrack import api
    from casetrack.cases import import_views

    api.init_app(app)
    import_views.init_app(app)
    from casetrack import scheduler
    from casetrack.notify import views as notify_views
    from casetrack.reminders import views as reminder_views

    notify_views.init_app(app)
    reminder_views.init_app(app)
    from casetrack.reports import views as report_views
    from casetrack.stats import views as stats_views
    from casetrack.work import views as work_views

    stats_views.init_app(app)
    report_views.init_app(app)
    app.register_blueprint(work_views.bp)
    init_cli(app)
    scheduler.init_app(app)
    return app
