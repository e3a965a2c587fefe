"""Cookies over HTTPS and the reverse proxy in front of the app.

The session cookie carries the login, so it must never travel over plain HTTP once the site is
served over HTTPS. ``SESSION_COOKIE_SECURE = True`` forces the ``Secure`` flag; without it the
flag is set automatically on every response to a request that came over HTTPS. Behind a
reverse proxy (nginx terminating TLS) the app sees plain HTTP unless it trusts the proxy's
``X-Forwarded-Proto``: ``PROXY_FIX_HOPS`` says how many proxies to trust (Werkzeug's ProxyFix).
"""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix


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


def init_app(app: Flask) -> None:
    """Install the session interface, and ProxyFix when ``PROXY_FIX_HOPS`` > 0."""
    app.session_interface = SessionInterface()
    hops = int(app.config.get("PROXY_FIX_HOPS") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops,
                                x_port=hops)
