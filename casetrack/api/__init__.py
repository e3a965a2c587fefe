"""/api/v1: the JSON API. Token authentication, one reply envelope, one error envelope, an
OpenAPI document, and a thin module per domain calling the same services as the pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Register the API blueprint (CSRF-exempt: it takes no cookies) and the token pages."""
    from casetrack.api import (  # noqa: F401  (routes)
        cases,
        notifications,
        openapi,
        org,
        stats,
        token_views,
    )
    from casetrack.api.core import bp, routing_errors_as_json
    from casetrack.core.templating import add_nav_provider
    from casetrack.extensions import csrf

    csrf.exempt(bp)
    app.register_blueprint(bp)
    app.before_request(routing_errors_as_json)
    app.register_blueprint(token_views.bp)
    add_nav_provider(app, token_views.nav_items)
