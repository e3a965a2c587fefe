"""Cookies over HTTPS and the reverse proxy in front of the app.

The session cookie carries the login, so it must never travel over plain HTTP once the site is
served over HTTPS. ``SESSION_COOKIE_SECURE = True`` forces the ``Secure`` flag; without it the
flag is set automatically on every response to a request that came over HTTPS. Behind a
reverse proxy (nginx terminating TLS) the app sees plain HTTP unless it trusts the proxy's
``X-Forwarded-Proto``: ``PROXY_FIX_HOPS`` says how many proxies to trust (Werkzeug's ProxyFix).
"""

from __future__ import annotations

from flask import Flask, Response, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from casetrack.core.params import refuse_nul_characters

#: the largest id a URL may carry (ids are 32-bit in both databases)
MAX_URL_INT = 2**31 - 1


class BoundedIntConverter(IntegerConverter):
    """``<int:…>`` with an upper bound: ``/cases/99999999999999999999`` is an unknown page
    (404), not an integer overflow in the database (500)."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 (Werkzeug's parameter name)
        kwargs.setdefault("max", MAX_URL_INT)
        super().__init__(map, *args, **kwargs)


def cookie_secure(app: Flask) -> bool:
    """Whether cookies set now get the ``Secure`` flag: always when configured, else when
    the current request came over HTTPS."""
    if app.config.get("SESSION_COOKIE_SECURE"):
        return True
    return has_request_context() and request.is_secure


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, ``Secure`` whenever the request is HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        """See ``cookie_secure``."""
        return cookie_secure(app)


def protective_headers(response: Response) -> Response:
    """Headers on every response: the Content-Security-Policy (no inline script; framing
    refused), no MIME sniffing, no full URLs in Referer, and ``no-store`` on everything but
    static files, since pages, downloads and API answers carry personal data."""
    config = current_app.config
    headers = response.headers
    headers.setdefault("Content-Security-Policy", config["CONTENT_SECURITY_POLICY"])
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", config["REFERRER_POLICY"])
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.endpoint != "static":
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
        headers.pop("Last-Modified", None)
        headers.pop("ETag", None)
    return response


def init_app(app: Flask) -> None:
    """Install the session interface, the protective headers, and ProxyFix when
    ``PROXY_FIX_HOPS`` > 0."""
    app.session_interface = SessionInterface()
    app.url_map.converters["int"] = BoundedIntConverter
    app.after_request(protective_headers)
    app.before_request(refuse_nul_characters)
    hops = int(app.config.get("PROXY_FIX_HOPS") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops)
