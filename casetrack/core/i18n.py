"""Translatable labels versus data.

``N_("已登记")`` marks a label kept in a pure module (state names, sources, roles) for
extraction (``scripts/i18n``, keyword N_) and returns it as a ``Msgid``: a ``str`` that says
"translate me when shown". Anything else is data (a village, unit, town or person's name, a
category typed into a file) and is shown as it is: ``tr`` translates a ``Msgid`` and returns
data unchanged, so a label that may be either (a dashboard row: "未交办" or a unit's name)
never passes a user's text through gettext.
"""

from __future__ import annotations


class Msgid(str):
    """A label to be translated at display time (made by ``N_``)."""

    __slots__ = ()


def N_(text: str) -> Msgid:  # noqa: N802 (the conventional gettext marker name)
    return Msgid(text)


def tr(value: object) -> object:
    """The translation of a ``Msgid``; any other value (data) unchanged."""
    if isinstance(value, Msgid):
        from flask_babel import gettext

        return gettext(str(value))
    return value
