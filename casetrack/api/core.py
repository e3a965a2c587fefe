"""The API's machinery: the blueprint, token authentication, the reply and error envelopes,
and the registry of endpoints from which the OpenAPI document is built.

Every success is ``{"data": ..., "meta": {...}}``; every failure is
``{"error": {"code": "<stable code>", "message": "<中文>", "fields": {...}}}``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask_babel import refresh
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

from casetrack.api.schema import MAX_ID, BadInput, Boolean, Field, Integer, Schema
from casetrack.auth.models import User
from casetrack.auth.tokens import find_active_token, touch_token
from casetrack.cases.queries import COUNT_CAP, count_capped
from casetrack.core.errors import DomainError
from casetrack.core.i18n import N_, Msg, tr
from casetrack.core.time import app_now
from casetrack.core.unit import unit_of_work
from casetrack.extensions import db

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)


class ApiError(DomainError):
    """A refusal raised by the API layer itself (authentication, versions, sizes)."""

    def __init__(self, status: int, code: str, message: str, fields: dict | None = None,
                 params: dict | None = None):
        super().__init__(message, code=code, fields=fields, params=params)
        self.http_status = status


#: messages for HTTP errors raised outside our handlers (routing, sizes)
HTTP_MESSAGES = {
    400: ("bad_request", N_("请求格式不正确")),
    401: ("unauthorized", N_("未提供有效的 API 令牌")),
    403: ("forbidden", N_("您没有执行此操作的权限")),
    404: ("not_found", N_("接口或资源不存在")),
    405: ("method_not_allowed", N_("该接口不支持此请求方法")),
    409: ("conflict", N_("请求与当前数据冲突")),
    413: ("payload_too_large", N_("请求内容过大")),
    415: ("unsupported_media_type", N_("不支持的内容类型")),
    422: ("validation_error", N_("提交的数据未通过校验")),
}


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    """The one error envelope; a ``Msgid``/``Msg`` message or field message is shown in the
    reader's language."""
    resp = jsonify({"error": {"code": code, "message": str(tr(message)),
                              "fields": {k: str(tr(v)) for k, v in (fields or {}).items()}}})
    resp.status_code = status
    if status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="casetrack"'
    return resp


def ok(data: Any, status: int = 200, **meta: Any):
    """The one success envelope."""
    resp = jsonify({"data": data, "meta": meta})
    resp.status_code = status
    return resp


# --------------------------------------------------------------------------- registry

PAGINATION_FIELDS = {
    "page": Integer(required=True, minimum=1),
    "per_page": Integer(required=True, minimum=1),
    "total": Integer(required=True, minimum=0),
    "pages": Integer(required=True, minimum=0),
}
PAGINATION = Schema("Pagination", PAGINATION_FIELDS)
PAGE_QUERY = {
    "page": Integer(minimum=1, maximum=100_000, default=1),
    "per_page": Integer(minimum=1, maximum=100, default=20),
}


def paginate(stmt, page: int, per_page: int) -> tuple[list, dict[str, int]]:
    """One page of ``stmt`` and the pagination ``meta``."""
    pagination = db.paginate(stmt, page=page, per_page=per_page, error_out=False)
    return list(pagination.items), {"page": page, "per_page": per_page,
                                    "total": pagination.total or 0, "pages": pagination.pages}


#: the pagination of a list whose count stops at a cap (``paginate_capped``): the standard
#: fields, ``total`` and ``pages`` read as lower bounds when ``total_capped``, and
#: ``has_next`` (exact) to page on without the total
CAPPED_PAGINATION_FIELDS = {
    **PAGINATION_FIELDS,
    "total": Integer(required=True, minimum=0, description=(
        "符合条件的记录数；超过计数上限（1000）时不再精确计数，此时为下限（至少有这么多条，"
        "total_capped 为 true，页面上显示为“1,000+”）")),
    "pages": Integer(required=True, minimum=0, description=(
        "总页数；total_capped 为 true 时为下限，请以 has_next 判断是否还有下一页")),
    "total_capped": Boolean(required=True, description=(
        "true：记录数超过计数上限，total 与 pages 为下限而非精确值")),
    "has_next": Boolean(required=True, description="本页之后是否还有记录（精确值）"),
}
CAPPED_PAGINATION = Schema("CappedPagination", CAPPED_PAGINATION_FIELDS)


def paginate_capped(stmt, page: int, per_page: int) -> tuple[list, dict[str, Any]]:
    """One page of ``stmt`` (a ``select(Case)``) and its ``meta``, counting at most
    ``COUNT_CAP + 1`` rows like the case list page ("1,000+") instead of the whole scope.

    The page is read with one row more than asked, so ``has_next`` is exact at any depth;
    past the cap, ``total`` is the cap or the rows known to exist up to this page (when it
    is not empty), whichever is more, and on the last page it is exact again."""
    rows = db.session.scalars(stmt.limit(per_page + 1).offset((page - 1) * per_page)
                              ).unique().all()
    items, has_next = rows[:per_page], len(rows) > per_page
    total, capped = count_capped(db.session, stmt, COUNT_CAP)
    if capped and items:
        known = (page - 1) * per_page + len(items)  # the rows before this page and its own
        if has_next:
            total = max(total, known + 1)
        else:  # the last page: the count is exact after all
            total, capped = known, False
    pages = -(-total // per_page)
    return items, {"page": page, "per_page": per_page, "total": total, "pages": pages,
                   "total_capped": capped, "has_next": has_next}


@dataclass
class Endpoint:
    """What the OpenAPI document says about one operation (and what the wrapper enforces)."""

    rule: str
    method: str
    endpoint: str
    summary: str
    tag: str
    response: Field | None
    status: int = 200
    body: Schema | None = None
    query: Schema | None = None
    auth: bool = True
    paginated: bool = False
    #: what ``meta`` holds (``paginated`` means the standard pagination fields)
    meta: Schema | None = None
    errors: tuple[int, ...] = ()
    description: str = ""
    headers: dict[str, Field] = field(default_factory=dict)

    @property
    def openapi_path(self) -> str:
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", PREFIX + self.rule)

    @property
    def path_params(self) -> list[tuple[str, str]]:
        """(name, converter) of each path parameter."""
        return [(m.group(2), m.group(1) or "string")
                for m in re.finditer(r"<(?:(\w+):)?(\w+)>", self.rule)]


ENDPOINTS: list[Endpoint] = []


def api_route(rule: str, method: str, *, summary: str, tag: str, response: Field | None,
              status: int = 200, body: Schema | None = None, query: Schema | None = None,
              auth: bool = True, paginated: bool = False, meta: Schema | None = None,
              errors: tuple[int, ...] = (), description: str = "",
              headers: dict[str, Field] | None = None,
              before_input: Callable[..., None] | None = None) -> Callable:
    """Register an API operation: route, authentication, input validation and its document.

    The view receives ``body=`` / ``query=`` (already validated dicts) when declared, plus the
    path parameters, and returns what goes under ``data`` (or a ``(data, meta)`` pair).
    With ``response=None`` the view's return value is sent as it is, without the envelope.
    ``before_input`` (called with the path parameters once the user is known) may refuse
    before the query and the body are validated.
    """

    def decorator(view: Callable) -> Callable:
        name = view.__name__
        spec = Endpoint(rule=rule, method=method, endpoint=f"api.{name}", summary=summary,
                        tag=tag, response=response, status=status, body=body, query=query,
                        auth=auth, paginated=paginated, meta=meta, errors=errors,
                        description=description or (view.__doc__ or "").strip(),
                        headers=headers or {})
        ENDPOINTS.append(spec)

        @wraps(view)
        def wrapper(**kwargs: Any):
            for pname, conv in spec.path_params:
                if conv == "int" and not 1 <= kwargs[pname] <= MAX_ID:
                    raise ApiError(404, "not_found", N_("资源不存在"))
            # the request is one unit of work: committed once after the answer is built,
            # rolled back (and answered with the error envelope) when anything refuses
            with unit_of_work():
                if auth:
                    g.api_user = authenticate()
                    refresh()  # answer in the token user's language (core.templating)
                if before_input is not None:
                    before_input(**kwargs)
                if query is not None:
                    kwargs["query"] = query.validate_query(request.args.to_dict(flat=False))
                elif request.args:
                    unknown = {k: N_("未知参数") for k in request.args}
                    raise BadInput(N_("不支持的查询参数"), code="unknown_field", fields=unknown)
                if body is not None:
                    kwargs["body"] = body.validate(read_json())
                result = view(**kwargs)
                if response is None:  # a document in its own format (the OpenAPI document)
                    return result
                data, meta = result if isinstance(result, tuple) else (result, {})
                return ok(data, spec.status, **meta)

        bp.add_url_rule(rule, endpoint=name, view_func=wrapper, methods=[method])
        return wrapper

    return decorator


# --------------------------------------------------------------------------- auth and input


def authenticate() -> User:
    """The user behind ``Authorization: Bearer <token>``, or 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise ApiError(401, "unauthorized", N_("请在 Authorization 头中提供 Bearer 令牌"))
    token = find_active_token(db.session, secret.strip())
    if token is None:
        raise ApiError(401, "invalid_token", N_("API 令牌无效、已吊销或其用户已停用"))
    touch_token(token, app_now())  # committed with the request's unit of work
    return token.user


def current_api_user() -> User:
    return g.api_user


def read_json() -> Any:
    """The request body as JSON; 400 when it is absent or not JSON, 413 when too large."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        raise BadInput(N_("请求体不能为空，应为 JSON 对象"), code="malformed_json")
    try:
        text = raw.decode("utf-8")
        return json.loads(text, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BadInput(N_("请求体不是有效的 JSON（须为 UTF-8 编码）"), code="malformed_json") from None


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def expected_version() -> int | None:
    """The version the client read, from the ``If-Match`` header (``"3"`` or ``3``);
    ``*`` (HTTP: any current version) checks nothing, like no header."""
    header = request.headers.get("If-Match")
    if header is None or header.strip() == "*":
        return None
    value = header.strip().removeprefix("W/").strip('"')
    if not value.isascii() or not value.isdigit() or len(value) > 9:
        raise BadInput(N_("If-Match 头应为案件版本号"), code="invalid_type",
                       fields={"If-Match": N_("应为整数版本号")})
    return int(value)


# --------------------------------------------------------------------------- errors


@bp.before_request
def _limit_body() -> None:
    """API bodies are small JSON documents: refuse big ones before reading them."""
    request.max_content_length = current_app.config.get("API_MAX_BODY_BYTES", 1024 * 1024)


@bp.errorhandler(DomainError)
def _domain_error(exc: DomainError):
    db.session.rollback()
    return error_response(exc.http_status, exc.code, exc.message, exc.fields)


@bp.errorhandler(StaleDataError)
def _stale(exc: StaleDataError):
    db.session.rollback()
    return error_response(409, "stale_write", N_("案件已被他人修改，请重新读取后再提交"))


@bp.errorhandler(IntegrityError)
def _integrity(exc: IntegrityError):
    db.session.rollback()
    return error_response(409, "conflict", N_("数据冲突（可能是重复提交），请重新读取后再试"))


@bp.errorhandler(OperationalError)
def _operational(exc: OperationalError):
    db.session.rollback()
    current_app.logger.exception("database unavailable in API request")
    return error_response(503, "unavailable", N_("数据库暂时不可用，请稍后重试"))


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    db.session.rollback()
    return http_error_response(exc)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    db.session.rollback()
    current_app.logger.exception("unexpected error in API request")
    return error_response(500, "internal_error", N_("服务器内部错误，已记录，请联系管理员"))


def http_error_response(exc: HTTPException):
    status = exc.code or 500
    code, message = HTTP_MESSAGES.get(status, ("http_error", N_("请求无法处理")))
    if status == 413:
        limit = request.max_content_length or 0
        message = Msg(N_("请求内容过大（上限 %(kb)s KB）"), kb=max(limit // 1024, 1))
    resp = error_response(status, code, message)
    if status == 405 and getattr(exc, "valid_methods", None):
        resp.headers["Allow"] = ", ".join(exc.valid_methods)
    return resp


def routing_errors_as_json():
    """App-level ``before_request``: unknown /api/v1 URLs and wrong methods get the envelope
    (routing fails before any blueprint handler could answer)."""
    exc = request.routing_exception
    if exc is not None and (request.path == PREFIX or request.path.startswith(PREFIX + "/")):
        if isinstance(exc, HTTPException) and (exc.code or 0) < 400:
            return None  # redirects (e.g. a missing trailing slash) stay redirects
        if isinstance(exc, HTTPException):
            return http_error_response(exc)
        return error_response(404, "not_found", N_("接口或资源不存在"))
    return None
