"""Pages where a user creates (shown once) and revokes personal API tokens."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from casetrack.auth.tokens import create_token, list_tokens, revoke_token
from casetrack.core.time import app_now
from casetrack.core.unit import page_unit
from casetrack.extensions import db

bp = Blueprint("api_tokens", __name__, url_prefix="/account/api-tokens")


def nav_items() -> list[dict]:
    """The top-navigation link to the token page."""
    return [{"url": url_for("api_tokens.index"), "label": _("API 令牌"), "badge": ""}]


def _page(new_secret: str | None = None, error: str | None = None, name: str = "",
          status: int = 200):
    return render_template("api/tokens.html", tokens=list_tokens(db.session, current_user),
                           new_secret=new_secret, error=error, name=name,
                           openapi_url=url_for("api.openapi_document")), status


@bp.route("/")
@login_required
def index():
    """The user's tokens (prefix, created, last used, revoked) and the form for a new one."""
    return _page()


@bp.route("/", methods=["POST"])
@login_required
def create():
    """Create a token and show its secret on this page, once; it is stored only hashed."""
    name = request.form.get("name", "")
    return page_unit(
        lambda: _page(new_secret=create_token(db.session, current_user, app_now(), name)[1]),
        lambda exc: _page(error=exc.message, name=name, status=exc.http_status),
        flash_refusal=False)


@bp.route("/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    """Revoke one of the user's tokens; requests with it are refused from now on."""
    def work():
        token = revoke_token(db.session, current_user, app_now(), token_id)
        flash(_("令牌“%(name)s”已吊销", name=token.name), "success")
        return redirect(url_for("api_tokens.index"), 303)

    return page_unit(work, lambda exc: redirect(url_for("api_tokens.index"), 303))
