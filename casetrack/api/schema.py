"""A small schema layer: field specs that both validate input and describe themselves as
JSON Schema (2020-12, as OpenAPI 3.1 uses it).

The handlers validate request bodies and query strings with these specs, the OpenAPI
document is generated from the very same objects, and the responses are described with them,
so the document cannot drift from what the code does.

Failures are split the way the API answers them: a value of the wrong JSON type or a field
nobody knows is *bad input* (400, ``BadInput``); a value of the right type that breaks a rule
(missing, too long, out of range, not one of the choices) is a *validation error* (422).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from casetrack.core.errors import DomainError, ValidationError
from casetrack.core.i18n import LIST_SEPARATOR, N_, Joined, Msg

#: dates outside this range are refused (no case predates the system by a century)
MIN_DATE = dt.date(2000, 1, 1)
MAX_DATE = dt.date(2099, 12, 31)
#: largest id accepted anywhere (PostgreSQL ``integer``)
MAX_ID = 2**31 - 1


class BadInput(DomainError):
    """Malformed input: not JSON, a wrong type, or an unknown field (HTTP 400)."""

    code = "bad_request"
    http_status = 400


class _Problems:
    """Collects per-field problems while a whole object is checked."""

    def __init__(self) -> None:
        self.bad: dict[str, str] = {}
        self.invalid: dict[str, str] = {}
        #: the query-string arguments in ``bad`` that are dates
        self.dates: set[str] = set()

    def raise_if_any(self) -> None:
        if self.bad:
            if all(m == _UNKNOWN for m in self.bad.values()):
                code = "unknown_field"
            elif set(self.bad) <= self.dates:
                code = "invalid_date"
            else:
                code = "invalid_type"
            problems = Joined(Msg(N_("%(field)s：%(problem)s"), field=k, problem=v)
                              for k, v in self.bad.items())
            raise BadInput(Msg(N_("请求格式不正确：%(problems)s"), problems=problems),
                           code=code, fields=self.bad)
        if self.invalid:
            raise ValidationError.of(self.invalid)


_UNKNOWN = N_("未知字段")


class _Problem(Exception):
    """One value's problem; ``message`` is the ``Msgid``/``Msg`` it was raised with."""

    @property
    def message(self) -> str:
        return self.args[0]


class _TypeProblem(_Problem):
    pass


class _ValueProblem(_Problem):
    pass


class Field:
    """One value. ``required`` fields must be present; ``nullable`` ones may be JSON null."""

    json_type: str | list[str] = "string"

    def __init__(self, *, required: bool = False, nullable: bool = False, default: Any = None,
                 description: str = "") -> None:
        self.required = required
        self.nullable = nullable
        self.default = default
        self.description = description

    # ---- validation
    def parse(self, value: Any) -> Any:
        """Check one JSON value; raises ``_TypeProblem`` or ``_ValueProblem``."""
        if value is None:
            if self.nullable:
                return None
            raise _TypeProblem(N_("不能为空值（null）"))
        return self.check(value)

    def check(self, value: Any) -> Any:
        return value

    def parse_text(self, text: str) -> Any:
        """Check a query-string value (always text)."""
        return self.parse(text)

    # ---- description
    def json_schema(self) -> dict[str, Any]:
        schema = self.base_schema()
        if self.nullable:
            schema = _nullable(schema)
        if self.description:
            schema["description"] = self.description
        return schema

    def base_schema(self) -> dict[str, Any]:
        return {"type": self.json_type}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if "enum" in schema:
        return {**schema, "type": [schema["type"], "null"], "enum": [*schema["enum"], None]}
    if "type" in schema and isinstance(schema["type"], str):
        return {**schema, "type": [schema["type"], "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


class String(Field):
    """Text; NUL characters and unpaired surrogates are refused (no database stores them)."""

    def __init__(self, *, max_length: int = 200, min_length: int = 0,
                 choices: tuple[str, ...] | list[str] | Callable[[], Iterable[str]] | None = None,
                 fmt: str | None = None, **kw: Any) -> None:
        super().__init__(**kw)
        self.max_length = max_length
        self.min_length = min_length
        #: a list, or a function giving it when asked (choices that follow a registry, such
        #: as the kinds of case)
        self._choices = choices if callable(choices) or choices is None else list(choices)
        self.fmt = fmt

    @property
    def choices(self) -> list[str] | None:
        if callable(self._choices):
            return list(self._choices())
        return self._choices

    def check(self, value: Any) -> str:
        if not isinstance(value, str):
            raise _TypeProblem(N_("应为字符串"))
        if "\x00" in value:
            raise _ValueProblem(N_("不能包含空字符"))
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _ValueProblem(N_("包含无效的字符")) from None
        choices = self.choices
        if choices is not None:
            if value not in choices:
                raise _ValueProblem(Msg(N_("应为以下之一：%(choices)s"),
                                        choices=Joined(choices, LIST_SEPARATOR)))
            return value
        if len(value) > self.max_length:
            raise _ValueProblem(Msg(N_("不能超过%(n)s个字符"), n=self.max_length))
        if len(value.strip()) < self.min_length:
            raise _ValueProblem(N_("不能为空"))
        return value

    def base_schema(self) -> dict[str, Any]:
        if self.choices is not None:
            return {"type": "string", "enum": list(self.choices)}
        schema: dict[str, Any] = {"type": "string", "maxLength": self.max_length}
        if self.min_length:
            schema["minLength"] = self.min_length
            schema["pattern"] = r"\S"
        if self.fmt:
            schema["format"] = self.fmt
        return schema


class Integer(Field):
    json_type = "integer"

    def __init__(self, *, minimum: int | None = None, maximum: int | None = None, **kw: Any):
        super().__init__(**kw)
        self.minimum = minimum
        self.maximum = maximum

    def check(self, value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _TypeProblem(N_("应为整数"))
        if isinstance(value, float):
            if not value.is_integer():
                raise _TypeProblem(N_("应为整数"))
            value = int(value)
        if self.minimum is not None and value < self.minimum:
            raise _ValueProblem(Msg(N_("不能小于%(n)s"), n=self.minimum))
        if self.maximum is not None and value > self.maximum:
            raise _ValueProblem(Msg(N_("不能大于%(n)s"), n=self.maximum))
        return value

    def parse_text(self, text: str) -> int:
        text = text.strip()
        if not text or not (text.isascii() and text.lstrip("-").isdigit()) or len(text) > 20:
            raise _TypeProblem(N_("应为整数"))
        return self.check(int(text))

    def base_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "integer"}
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        return schema


def Id(**kw: Any) -> Integer:  # noqa: N802 (reads as a type in schema definitions)
    """A database id."""
    return Integer(minimum=1, maximum=MAX_ID, **kw)


class Number(Field):
    """A number (responses only, e.g. a rate's value)."""

    json_type = "number"


class Boolean(Field):
    json_type = "boolean"

    def check(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise _TypeProblem(N_("应为 true 或 false"))
        return value

    def parse_text(self, text: str) -> bool:
        low = text.strip().lower()
        if low in ("1", "true", "yes", "on"):
            return True
        if low in ("0", "false", "no", "off"):
            return False
        raise _TypeProblem(N_("应为 true 或 false"))


class Date(Field):
    """An ISO date (YYYY-MM-DD) between ``MIN_DATE`` and ``MAX_DATE``."""

    def check(self, value: Any) -> dt.date:
        if not isinstance(value, str):
            raise _TypeProblem(N_("应为日期字符串（YYYY-MM-DD）"))
        if len(value) != 10:
            raise _ValueProblem(N_("日期格式应为 YYYY-MM-DD"))
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            raise _ValueProblem(N_("日期格式应为 YYYY-MM-DD，且须为有效日期")) from None
        if not MIN_DATE <= day <= MAX_DATE:
            raise _ValueProblem(Msg(N_("日期超出范围（%(first)s 至 %(last)s）"),
                                    first=MIN_DATE.isoformat(), last=MAX_DATE.isoformat()))
        return day

    def base_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date"}


class DateTime(Field):
    """An instant, for responses only (ISO 8601 with offset)."""

    def base_schema(self) -> dict[str, Any]:
        return {"type": "string", "format": "date-time"}


class Any_(Field):  # noqa: N801
    """Any JSON value (responses only, e.g. before/after values of a timeline entry)."""

    def base_schema(self) -> dict[str, Any]:
        return {}

    def json_schema(self) -> dict[str, Any]:
        return {"description": self.description} if self.description else {}


class ListOf(Field):
    json_type = "array"

    def __init__(self, item: Field, *, max_items: int = 100, min_items: int = 0, **kw: Any):
        super().__init__(**kw)
        self.item = item
        self.max_items = max_items
        self.min_items = min_items

    def check(self, value: Any) -> list:
        if not isinstance(value, list):
            raise _TypeProblem(N_("应为数组"))
        if len(value) > self.max_items:
            raise _ValueProblem(Msg(N_("最多%(n)s项"), n=self.max_items))
        if len(value) < self.min_items:
            raise _ValueProblem(Msg(N_("至少%(n)s项"), n=self.min_items))
        return value  # items are checked by ``Schema._walk`` with their paths

    def base_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "array", "items": self.item.json_schema(),
                                  "maxItems": self.max_items}
        if self.min_items:
            schema["minItems"] = self.min_items
        return schema


class MapOf(Field):
    """An object with free keys and values of one kind (responses only)."""

    json_type = "object"

    def __init__(self, value: Field, **kw: Any):
        super().__init__(**kw)
        self.value = value

    def base_schema(self) -> dict[str, Any]:
        return {"type": "object", "additionalProperties": self.value.json_schema()}


class Schema(Field):
    """A named object with known fields; unknown fields are refused."""

    json_type = "object"

    def __init__(self, name: str, fields: Mapping[str, Field], **kw: Any) -> None:
        super().__init__(**kw)
        self.name = name
        self.fields = dict(fields)

    def base_schema(self) -> dict[str, Any]:
        return {"$ref": f"#/components/schemas/{self.name}"}

    def json_schema(self) -> dict[str, Any]:
        ref = self.base_schema()
        if self.nullable:
            return {"anyOf": [ref, {"type": "null"}]}
        return ref

    def component(self) -> dict[str, Any]:
        """The full definition, placed under ``components/schemas``."""
        required = [k for k, f in self.fields.items() if f.required]
        schema: dict[str, Any] = {
            "type": "object",
            "properties": {k: f.json_schema() for k, f in self.fields.items()},
            "additionalProperties": False,
        }
        if required:
            schema["required"] = required
        if self.description:
            schema["description"] = self.description
        return schema

    def nested(self) -> list[Schema]:
        """Every schema this one refers to, itself included, depth first."""
        found: list[Schema] = [self]
        for f in self.fields.values():
            inner = f.item if isinstance(f, ListOf) else f.value if isinstance(f, MapOf) else f
            if isinstance(inner, Schema):
                found.extend(inner.nested())
        return found

    # ---- validation
    def validate(self, data: Any) -> dict[str, Any]:
        """Check a whole JSON object; returns the parsed values (defaults filled in)."""
        problems = _Problems()
        result = self._walk(data, "", problems)
        problems.raise_if_any()
        return result

    def validate_query(self, args: Mapping[str, list[str]]) -> dict[str, Any]:
        """Check query-string arguments (each given at most once)."""
        problems = _Problems()
        out: dict[str, Any] = {}
        for key in args:
            if key not in self.fields:
                problems.bad[key] = _UNKNOWN
        for key, f in self.fields.items():
            values = args.get(key) or []
            if not values:
                if f.required:
                    problems.invalid[key] = N_("必填")
                out[key] = f.default
                continue
            if len(values) > 1:
                problems.bad[key] = N_("只能出现一次")
                continue
            try:
                out[key] = f.parse_text(values[0])
            except (_TypeProblem, _ValueProblem) as exc:
                if isinstance(exc, _TypeProblem) or isinstance(f, Date):
                    # a date filter that is no date is a malformed request (400
                    # invalid_date), never ignored: the client would get another list
                    problems.bad[key] = exc.message
                    if isinstance(f, Date):
                        problems.dates.add(key)
                else:
                    problems.invalid[key] = exc.message
        problems.raise_if_any()
        return out

    def _walk(self, data: Any, path: str, problems: _Problems) -> dict[str, Any]:
        if not isinstance(data, dict):
            problems.bad[path or "body"] = N_("应为 JSON 对象")
            return {}
        out: dict[str, Any] = {}
        for key in data:
            if key not in self.fields:
                problems.bad[_join(path, key)] = _UNKNOWN
        for key, f in self.fields.items():
            where = _join(path, key)
            if key not in data:
                if f.required:
                    problems.invalid[where] = N_("必填")
                out[key] = f.default() if callable(f.default) else f.default
                continue
            try:
                value = f.parse(data[key])
            except _TypeProblem as exc:
                problems.bad[where] = exc.message
                continue
            except _ValueProblem as exc:
                problems.invalid[where] = exc.message
                continue
            if isinstance(f, Schema) and value is not None:
                value = f._walk(value, where, problems)
            elif isinstance(f, ListOf) and value is not None:
                value = [_walk_item(f.item, v, f"{where}.{i}", problems) for i, v in enumerate(value)]
            out[key] = value
        return out


def _walk_item(f: Field, value: Any, where: str, problems: _Problems) -> Any:
    if isinstance(f, Schema):
        return f._walk(value, where, problems)
    try:
        return f.parse(value)
    except _TypeProblem as exc:
        problems.bad[where] = exc.message
    except _ValueProblem as exc:
        problems.invalid[where] = exc.message
    return None


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
