"""A marker for strings translated later, at display time.

``N_("已登记")`` returns its argument unchanged; ``scripts/i18n`` extracts it (keyword N_) so
that labels kept in pure modules (state names, sources, roles) get an English entry, and the
templates translate them with ``_()`` when they are shown.
"""


def N_(text: str) -> str:  # noqa: N802 (the conventional gettext marker name)
    return text
