"""Case pages: list, register, detail, actions, attachments."""

from __future__ import annotations

from flask import Blueprint, redirect, url_for
from flask_login import login_required

bp = Blueprint("cases", __name__)


@bp.route("/")
@login_required
def index():
    return redirect(url_for("cases.list_cases"))
