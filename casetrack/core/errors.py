"""Domain errors: raised by services, shown by views and the API in the user's language,
mapped by the API to stable codes.

A refusal's message is a ``Msgid`` (``N_("网格员只能登记本人负责村（居）的案件")``), with the
values it names passed apart as ``params`` (``N_("%(year)s 年的节假日安排尚未录入……")``,
``params={"year": 2027}``): ``message`` translates it when it is read, in the language of
whoever it is shown to (a page, the API envelope; a CLI command reads it in Chinese), so
data (a name, a number) never passes through gettext. A field message with values of its
own is a ``Msg`` (``Msg(N_("%(label)s不能晚于今天"), label=N_("收到日期"))``); the refusal
naming several fields joins them with ``Joined`` (``ValidationError.of(errors)``). A message
given as a plain ``str`` (composed from data) is shown as it is. Field messages (``fields``)
follow the same rule.
"""

from __future__ import annotations

from typing import Any

from casetrack.core.i18n import N_, Joined, Msg, Msgid, tr


def _shown(value: Any, params: dict[str, Any] | None = None) -> Any:
    """A message as shown now: a ``Msgid`` translated (then formatted with ``params``);
    lists of messages item by item; anything else unchanged."""
    if isinstance(value, Msgid):
        text = str(tr(value))
        # a label among the values (a status, a step: ``N_`` too) in the same language
        return text % {k: tr(v) for k, v in params.items()} if params else text
    if isinstance(value, Msg | Joined):
        return value.shown()
    if isinstance(value, list | tuple):
        return [_shown(v) for v in value]
    return value


class DomainError(Exception):
    """A refusal by the domain. ``code`` is stable for machines; ``message`` is for people.

    ``http_status`` is what the API answers with; ``fields`` carries per-field messages for
    validation errors.
    """

    code = "domain_error"
    http_status = 400

    def __init__(self, message: str, *, code: str | None = None, fields: dict | None = None,
                 params: dict[str, Any] | None = None):
        if params and not isinstance(message, Msgid):  # nothing to translate: format now
            message, params = message % params, None
        #: the message as raised (a ``Msgid`` is translated by ``message``)
        self.msgid = message
        self.params = params or {}
        super().__init__(message % self.params if self.params else message)
        if code:
            self.code = code
        self._fields = fields or {}

    @property
    def message(self) -> str:
        """The message in the current language (Chinese outside a request)."""
        return _shown(self.msgid, self.params)

    @property
    def fields(self) -> dict:
        """Per-field messages in the current language."""
        return {key: _shown(value) for key, value in self._fields.items()}


class ValidationError(DomainError):
    """Input that cannot be accepted (missing or malformed fields)."""

    code = "validation_error"
    http_status = 422

    @classmethod
    def of(cls, fields: dict, **kwargs: Any) -> ValidationError:
        """The refusal of several field messages: its message names each once, in order."""
        return cls(Joined(fields.values()), fields=fields, **kwargs)


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
            N_("%(year)s 年的节假日安排尚未录入，无法准确计算期限，请管理员先录入该年节假日与调休安排。"),
            code="calendar_unknown", params={"year": year},
        )
        self.year = year
