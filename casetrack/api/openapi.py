"""The OpenAPI 3.1 document, built from the registry of endpoints and the very schema objects
the handlers validate with (``api.schema``)."""

from __future__ import annotations

from typing import Any

from flask import jsonify

from casetrack.api.core import ENDPOINTS, PAGINATION, Endpoint, api_route
from casetrack.api.schema import MAX_ID, ListOf, MapOf, Schema, String

ERROR_OUT = Schema("Error", {
    "code": String(required=True, max_length=50, description="稳定的机器可读错误代码"),
    "message": String(required=True, max_length=100_000, description="中文错误说明"),
    "fields": MapOf(String(max_length=100_000), required=True,
                    description="逐字段的错误说明（字段路径 → 中文说明）"),
}, required=True)
ERROR_ENVELOPE = Schema("ErrorEnvelope", {"error": ERROR_OUT})

STATUS_TEXT = {
    200: "成功", 201: "已创建",
    400: "请求格式不正确（非 JSON、类型错误、未知字段）",
    401: "未提供令牌，或令牌无效、已吊销",
    403: "无权执行此操作",
    404: "资源不存在或不在您的权限范围内",
    409: "状态不允许此操作，或版本冲突（stale_write）",
    413: "请求内容过大",
    422: "数据未通过校验（fields 中逐项说明）",
}


def _error_statuses(ep: Endpoint) -> list[int]:
    statuses = {400, *ep.errors}
    if ep.auth:
        statuses.add(401)
    if ep.path_params:
        statuses.add(404)
    if ep.body is not None:
        statuses.update({413, 422})
    if ep.query is not None:
        statuses.add(422)
    return sorted(statuses)


def _success_schema(ep: Endpoint) -> dict[str, Any]:
    if ep.response is None:
        return {"type": "object"}
    if ep.meta is not None:
        meta = ep.meta.json_schema()
    elif ep.paginated:
        meta = PAGINATION.json_schema()
    else:
        meta = {"type": "object", "additionalProperties": False}
    return {"type": "object", "properties": {"data": ep.response.json_schema(), "meta": meta},
            "required": ["data", "meta"], "additionalProperties": False}


def _parameters(ep: Endpoint) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = []
    for name, conv in ep.path_params:
        schema = {"type": "integer", "minimum": 1, "maximum": MAX_ID} if conv == "int" else {
            "type": "string"}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    if ep.query is not None:
        for name, f in ep.query.fields.items():
            params.append({"name": name, "in": "query", "required": f.required,
                           "schema": f.json_schema(),
                           **({"description": f.description} if f.description else {})})
    for name, f in ep.headers.items():
        params.append({"name": name, "in": "header", "required": f.required,
                       "schema": f.json_schema(),
                       **({"description": f.description} if f.description else {})})
    return params


def _operation(ep: Endpoint) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": ep.endpoint.removeprefix("api."),
        "summary": ep.summary,
        "tags": [ep.tag],
        "responses": {
            str(ep.status): {"description": STATUS_TEXT.get(ep.status, "成功"),
                             "content": {"application/json": {"schema": _success_schema(ep)}}},
        },
    }
    if ep.description:
        op["description"] = ep.description
    params = _parameters(ep)
    if params:
        op["parameters"] = params
    if ep.body is not None:
        op["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": ep.body.json_schema()}}}
    error_content = {"application/json": {"schema": ERROR_ENVELOPE.json_schema()}}
    for status in _error_statuses(ep):
        op["responses"][str(status)] = {"description": STATUS_TEXT[status],
                                        "content": error_content}
    op["responses"]["default"] = {"description": "其他错误（同一错误格式）",
                                  "content": error_content}
    if not ep.auth:
        op["security"] = []
    return op


def _components() -> dict[str, Any]:
    found: dict[str, Schema] = {}

    def add(field: Any) -> None:
        inner = field.item if isinstance(field, ListOf) else field
        inner = inner.value if isinstance(inner, MapOf) else inner
        if isinstance(inner, Schema):
            for s in inner.nested():
                found.setdefault(s.name, s)
            return
        if isinstance(inner, ListOf | MapOf):
            add(inner)

    add(ERROR_ENVELOPE)
    add(PAGINATION)
    for ep in ENDPOINTS:
        for f in (ep.body, ep.response, ep.meta):
            if f is not None:
                add(f)
    return {name: found[name].component() for name in sorted(found)}


def build_document() -> dict[str, Any]:
    """The whole OpenAPI 3.1 document of /api/v1."""
    paths: dict[str, dict[str, Any]] = {}
    for ep in ENDPOINTS:
        paths.setdefault(ep.openapi_path, {})[ep.method.lower()] = _operation(ep)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "casetrack API",
            "version": "1.0.0",
            "description": (
                "信访与矛盾纠纷台账的 JSON 接口。使用个人 API 令牌认证："
                "`Authorization: Bearer <令牌>`（在“API 令牌”页面创建）。"
                "成功时返回 {\"data\": ..., \"meta\": {...}}；"
                "失败时返回 {\"error\": {\"code\", \"message\", \"fields\"}}。"
                "权限与范围和网页完全相同。"
            ),
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "tags": [
            {"name": "cases", "description": "案件"},
            {"name": "org", "description": "村（居）、承办单位、用户"},
            {"name": "notifications", "description": "站内通知"},
            {"name": "stats", "description": "统计"},
            {"name": "meta", "description": "接口文档"},
        ],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": _components(),
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "个人 API 令牌（ct_ 开头）"}},
        },
        "security": [{"bearerAuth": []}],
    }


@api_route("/openapi.json", "GET", summary="本接口的 OpenAPI 3.1 文档", tag="meta",
           response=None, auth=False)
def openapi_document():
    """The OpenAPI document (not wrapped in the envelope: tools read it as it is)."""
    return jsonify(build_document())
