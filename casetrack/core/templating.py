"""Template filters and globals shared by every page, and the locale choice."""

from __future__ import annotations

import datetime as dt

from flask import Flask, current_app, g, request
from flask_login import current_user
from jinja2 import pass_context
from markupsafe import Markup, escape

from casetrack.core.i18n import catalog, gettext, tr
from casetrack.core.time import to_local, utcnow


def select_locale() -> str:
    """The user's chosen language (the signed-in user, or the API token's user), else the
    ``lang`` cookie, else Chinese."""
    langs = current_app.config["LANGUAGES"]
    api_user = g.get("api_user")
    if api_user is not None and api_user.locale in langs:
        return api_user.locale
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale:
        if current_user.locale in langs:
            return current_user.locale
    cookie = request.cookies.get("lang") if request else None
    if cookie in langs:
        return cookie
    return langs[0]


def format_dt(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """An instant shown in the town's zone."""
    if value is None:
        return ""
    return to_local(value).strftime(fmt)


def format_date(value: dt.date | None) -> str:
    return value.isoformat() if value else ""


def _as_text(rv: str, context, variables: dict) -> str:
    """A translation is text, never markup: in an autoescaping template the translated
    string is escaped before the (escaped) variables are put in. Jinja's own new-style
    gettext marks the translation safe, so ``_(village.name)`` would emit the name as HTML."""
    if not variables and "%" not in rv:
        return escape(rv) if context.eval_ctx.autoescape else rv  # nothing to fill in
    if context.eval_ctx.autoescape:
        return escape(rv) % {k: escape(v) for k, v in variables.items()}
    return rv % variables


def install_text_gettext(app: Flask) -> None:
    """Replace the template gettext functions Flask-Babel installed (``_``, ``gettext``,
    ``ngettext``, ``pgettext``, ``npgettext``) by ones whose output is escaped text."""

    @pass_context
    def gettext(context, string: str, **variables) -> str:
        return _as_text(catalog().ugettext(string), context, variables)

    @pass_context
    def ngettext(context, singular: str, plural: str, num: int, **variables) -> str:
        variables.setdefault("num", num)
        return _as_text(catalog().ungettext(singular, plural, num), context, variables)

    @pass_context
    def pgettext(context, ctx: str, string: str, **variables) -> str:
        return _as_text(catalog().upgettext(ctx, string), context, variables)

    @pass_context
    def npgettext(context, ctx: str, singular: str, plural: str, num: int,
                  **variables) -> str:
        variables.setdefault("num", num)
        return _as_text(catalog().unpgettext(ctx, singular, plural, num), context,
                        variables)

    # ``_`` straight to the function (Jinja's alias would resolve "gettext" at every call)
    app.jinja_env.globals.update(_=gettext, gettext=gettext, ngettext=ngettext,
                                 pgettext=pgettext, npgettext=npgettext)


def translated(labels: dict) -> dict:
    """``{key: translated label}`` of a label map, for a table that shows one per row."""
    return {key: gettext(text) for key, text in labels.items()}


def init_app(app: Flask) -> None:
    """Filters, globals and the text-only gettext (call after Flask-Babel's ``init_app``)."""
    install_text_gettext(app)
    app.add_template_filter(tr, "tr")
    app.add_template_filter(translated, "translated")
    app.add_template_filter(format_dt, "dt")
    app.add_template_filter(format_date, "d")

    @app.context_processor
    def _globals() -> dict:
        return {
            "now_utc": utcnow,
            "current_locale": select_locale,
            "extra_nav": lambda: _collect("casetrack_nav"),
            "page_banners": lambda: _collect("casetrack_banners"),
        }

    @app.template_filter("nl2br")
    def nl2br(value: str | None) -> Markup:
        return Markup("<br>").join(escape(value or "").split("\n"))


def add_nav_provider(app: Flask, provider) -> None:
    """Register ``provider() -> list[dict(url, label, badge)]`` for the top navigation.

    Domains above ``core`` (dashboard, notifications, API tokens) add their links this way,
    so that the base template needs no knowledge of them.
    """
    app.extensions.setdefault("casetrack_nav", []).append(provider)


def add_banner_provider(app: Flask, provider) -> None:
    """Register ``provider() -> list[dict(level, text, url, link_text)]`` for page banners."""
    app.extensions.setdefault("casetrack_banners", []).append(provider)


def _collect(key: str) -> list[dict]:
    items: list[dict] = []
    if not getattr(current_user, "is_authenticated", False):
        return items
    for provider in current_app.extensions.get(key, []):
        items.extend(provider())
    return items
