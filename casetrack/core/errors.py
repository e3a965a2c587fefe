"""Domain errors: raised by services, shown by views in Chinese, mapped by the API to codes."""

from __future__ import annotations


class DomainError(Exception):
    """A refusal by the domain. ``code`` is stable for machines; ``message`` is for people.

    ``http_status`` is what the API answers with; ``fields`` carries per-field messages for
    validation errors.
    """

    code = "domain_error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.fields = fields or {}


class ValidationError(DomainError):
    """Input that cannot be accepted (missing or malformed fields)."""

    code = "validation_error"
    http_status = 422


class PermissionDenied(DomainError):
    """The acting user may not do this."""

    code = "forbidden"
    http_status = 403


class NotFound(DomainError):
    """The object does not exist or is outside the user's scope."""

    code = "not_found"
    http_status = 404


class InvalidTransition(DomainError):
    """The case's state does not allow this step now."""

    code = "invalid_transition"
    http_status = 409


class CalendarUnknown(DomainError):
    """No holiday data (package or admin overrides) for a year a deadline falls in."""

    code = "calendar_unknown"
    http_status = 409

    def __init__(self, year: int):
        super().__init__(
            f"{year} 年的节假日安排尚未录入，无法准确计算期限，请管理员先录入该年节假日与调休安排。",
            code="calendar_unknown",
        )
        self.year = year
