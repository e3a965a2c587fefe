"""Error pages in the user's language for every HTML route (the JSON API has its own envelope).

Without these, Werkzeug answers an expired CSRF token, an unknown URL, a forbidden admin page
or a too-large upload with its English default page. Each handler keeps the status code and
shows one short sentence and a way back.
"""

from __future__ import annotations

import math
import time

from flask import Flask, current_app, render_template, request
from flask_limiter import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from casetrack.core.errors import DomainError
from casetrack.core.i18n import gettext as _

#: paths whose errors are answered by their own blueprint (JSON envelope)
API_PREFIX = "/api/"


def size_label(n: int) -> str:
    """A byte limit for people: whole MB from 1 MB up, else KB."""
    if n >= 1024 * 1024:
        return f"{n // (1024 * 1024)} MB"
    return f"{max(n // 1024, 1)} KB"


def _message(status: int) -> str:
    """The sentence shown for a status code."""
    if status == 400:
        return _("请求无效，请返回上一页刷新后重试")
    if status == 403:
        return _("您没有执行此操作的权限")
    if status == 404:
        return _("页面不存在或您无权查看")
    if status == 405:
        return _("不支持此操作方式，请从页面上的按钮进入")
    if status == 413:
        limit = request.max_content_length or current_app.config.get("MAX_CONTENT_LENGTH") or 0
        return _("提交的内容过大（不能超过 %(size)s）", size=size_label(limit))
    if status == 429:
        return _("操作过于频繁，请稍后再试")
    if status >= 500:
        return _("服务器内部错误，已记录，请稍后重试或联系管理员")
    return _("请求无法处理")


def render_error(status: int, message: str | None = None):
    """The error page with ``status``; ``no-store`` so a later visit asks again."""
    body = render_template("errors/error.html", status=status,
                           message=message or _message(status))
    return body, status, {"Cache-Control": "no-store"}


def _http_error(exc: HTTPException):
    """Any HTTP error raised outside the API: the page, or the exception itself for the API
    (whose blueprint answers with JSON) and for non-error statuses (redirects)."""
    status = exc.code or 500
    if request.path.startswith(API_PREFIX) or status < 400:
        return exc
    resp = render_error(status)
    if status == 405 and getattr(exc, "valid_methods", None):
        resp[2]["Allow"] = ", ".join(exc.valid_methods)
    return resp


def retry_after_seconds() -> int:
    """Seconds until every limit this request broke lets the client in again (at least 1).
    The limiter's windows run on the wall clock of its store, so the wait is measured on
    the wall clock too."""
    from casetrack.extensions import limiter

    now = time.time()
    # reset_at is rounded up to the next second: never say more than the window itself
    waits = [min(math.ceil(lim.reset_at - now), lim.limit.get_expiry())
             for lim in limiter.current_limits if lim.breached]
    if not waits:  # the breach was not recorded on this request: the shortest sane wait
        return 60
    return max(1, *waits)


def wait_text(seconds: int) -> str:
    """A wait for people: whole minutes (rounded up) from one minute, else seconds."""
    if seconds >= 60:
        return _("%(n)s 分钟", n=math.ceil(seconds / 60))
    return _("%(n)s 秒", n=seconds)


def _rate_limited(exc: RateLimitExceeded):
    """Too many attempts (the login throttle): the page says how long to wait, and the
    ``Retry-After`` header says it in seconds (RFC 9110) to anything that reads it."""
    if request.path.startswith(API_PREFIX):
        return exc
    seconds = retry_after_seconds()
    body, status, headers = render_error(
        429, _("操作过于频繁，请 %(wait)s后再试", wait=wait_text(seconds)))
    headers["Retry-After"] = str(seconds)
    return body, status, headers


def _csrf_error(exc: CSRFError):
    """A missing or expired CSRF token: usually a form left open for hours."""
    if request.path.startswith(API_PREFIX):
        return exc
    return render_error(400, _("页面已过期或来源无效，请刷新页面后重新提交"))


def _server_error(exc: InternalServerError):
    """An unexpected failure (already logged by Flask): roll back, show a calm page."""
    from casetrack.extensions import db

    db.session.rollback()
    if request.path.startswith(API_PREFIX):
        return exc
    return render_error(500)


def _domain_error(exc: DomainError):
    """A refusal by the domain that a page did not turn into its own answer (a view running
    ``unit_of_work()``, which has rolled back): its status and its Chinese message."""
    from casetrack.extensions import db

    db.session.rollback()
    return render_error(exc.http_status, exc.message)


def init_app(app: Flask) -> None:
    """Register the handlers on the application (blueprint handlers still take precedence)."""
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(RateLimitExceeded, _rate_limited)
    app.register_error_handler(InternalServerError, _server_error)
    app.register_error_handler(HTTPException, _http_error)
