"""Admin pages for the holiday calendar."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("calendar", __name__, url_prefix="/admin/calendar")
