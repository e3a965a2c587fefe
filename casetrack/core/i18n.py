"""Translatable labels versus data, and a gettext cheap enough for row loops.

``N_("已登记")`` marks a label kept in a pure module (state names, sources, roles) for
extraction (``scripts/i18n``, keyword N_) and returns it as a ``Msgid``: a ``str`` that says
"translate me when shown". Anything else is data (a village, unit, town or person's name, a
category typed into a file) and is shown as it is: ``tr`` translates a ``Msgid`` and returns
data unchanged, so a label that may be either (a dashboard row: "未交办" or a unit's name)
never passes a user's text through gettext.

``gettext`` is Flask-Babel's ``gettext`` with the catalog looked up once per request and
locale (``catalog``) instead of at every call: a list page translates a few hundred strings,
and Flask-Babel resolves the domain, the locale and its catalog cache each time. The
templates' gettext functions (``core/templating.py``) read the same catalog.
"""

from __future__ import annotations

from collections.abc import Iterable

from babel.support import NullTranslations
from flask import g, has_app_context
from flask_babel import get_locale, get_translations

_NULL = NullTranslations()


class Msgid(str):
    """A label to be translated at display time (made by ``N_``)."""

    __slots__ = ()


def N_(text: str) -> Msgid:  # noqa: N802 (the conventional gettext marker name)
    return Msgid(text)


def catalog():
    """The catalog of the current locale. Cached in ``g`` with the locale it was read for,
    so ``force_locale`` (mail in the recipient's language) and ``flask_babel.refresh`` still
    switch it."""
    if not has_app_context():
        return _NULL
    # ``g`` itself, once: each ``g.x`` goes through the context-local proxy again, and a
    # list page asks for its catalog a few hundred times
    globs = g._get_current_object()
    # Flask-Babel keeps the request's locale in g._flask_babel.babel_locale (get_locale sets
    # it; force_locale and refresh replace it): reading it is cheaper than get_locale()
    locale = getattr(getattr(globs, "_flask_babel", None), "babel_locale", None) or get_locale()
    cached = getattr(globs, "_casetrack_catalog", None)
    if cached is None or cached[0] is not locale:
        cached = (locale, get_translations())
        globs._casetrack_catalog = cached
    return cached[1]


def gettext(string: str, **variables) -> str:
    """Flask-Babel's ``gettext``: the translation of ``string``, ``%``-formatted with
    ``variables`` when there are any."""
    text = catalog().ugettext(string)
    return text % variables if variables else text


class Msg(str):
    """A sentence with the values it names, translated when shown:
    ``Msg(N_("%(label)s不能晚于今天（%(today)s）"), label=N_("收到日期"), today="2026-12-01")``.

    As a ``str`` it is the Chinese sentence (logs, CLI, tests in Chinese); ``tr`` translates
    the msgid, then fills in the values, a value that is itself a ``Msgid`` (a label) in the
    same language and data (a date, a name, a number) as it is. Data never enters the
    msgid."""

    def __new__(cls, msgid: str, **params: object) -> Msg:
        self = super().__new__(cls, str(msgid) % {k: str(v) for k, v in params.items()}
                               if params else str(msgid))
        self.msgid = msgid
        self.params = params
        return self

    def shown(self) -> str:
        text = gettext(str(self.msgid))
        return text % {k: tr(v) for k, v in self.params.items()} if self.params else text


class Joined(str):
    """Several messages as one sentence (a refusal naming every bad field), or items in a
    sentence (``Joined(names, LIST_SEPARATOR)``): each part translated when shown (data stays
    as it is), joined by the language's separator (``；`` / ``; ``, ``、`` / ``, ``)."""

    def __new__(cls, parts: Iterable[str], sep: str | None = None) -> Joined:
        parts = list(dict.fromkeys(parts))
        sep = SEPARATOR if sep is None else sep
        self = super().__new__(cls, str(sep).join(parts))
        self.parts = parts
        self.sep = sep
        return self

    def shown(self) -> str:
        return str(tr(self.sep)).join(str(tr(p)) for p in self.parts)


#: between the parts of a ``Joined`` message, and between the items of a list in a sentence
SEPARATOR = N_("；")
LIST_SEPARATOR = N_("、")


def tr(value: object) -> object:
    """The translation of a ``Msgid`` (a ``Msg``, a ``Joined``: with their values); any other
    value (data) unchanged."""
    if isinstance(value, Msgid):
        return gettext(str(value))
    if isinstance(value, Msg | Joined):
        return value.shown()
    return value
