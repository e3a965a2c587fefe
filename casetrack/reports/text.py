"""Case text as it goes into printed and exported files: always text, never markup.

What people typed reaches reportlab's Paragraph, which reads its input as markup
(``<font color="white">``, ``<img src=...>``, ``&`` entities). ``markup`` escapes it after
dropping what no format can hold (control characters), turns line breaks into ``<br/>`` and
only then adds markup of its own: a ``<font name=...>`` around each run of characters the main
font lacks (CJK Extension A–F: 𠮷, 䶮, 𬀩, 㛃), in the first fallback font that has them.
``pieces`` cuts a long text into parts that each fit on a page, so that a 20,000-character
summary or a 3,000-character note flows across pages as table rows (a single table row
taller than the page is reportlab's LayoutError). ``export_text`` cleans text for the .xlsx
and CSV exports.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

#: C0/C1 control characters except tab, line feed and carriage return, and the two
#: non-characters: no PDF, XML (xlsx) or CSV reader wants them
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
#: characters of a text piece in a table cell: at most about a third of a page in the
#: narrowest column that takes long text (78 mm at 9 pt)
PIECE_CHARS = 400


def clean(value: object) -> str:
    """``value`` as text without control characters; line ends as \\n, tabs as spaces."""
    text = "" if value is None else str(value)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return _CONTROL.sub("", text)


def export_text(value: object) -> object:
    """A cell value for the .xlsx or CSV exports: text loses the control characters the
    format cannot hold (openpyxl refuses them, a CSV reader chokes); others pass as they are."""
    if isinstance(value, str):
        return _CONTROL.sub("", value)
    return value


@dataclass
class FontChain:
    """The main font and the fallback fonts, each with the code points it has."""

    main: str
    main_chars: frozenset[int] | set[int]
    fallbacks: list[tuple[str, frozenset[int] | set[int]]] = field(default_factory=list)

    def font_for(self, char: str) -> str | None:
        """None for the main font, else the name of the first fallback having ``char``."""
        code = ord(char)
        if code in self.main_chars or code < 0x80:
            return None
        for name, chars in self.fallbacks:
            if code in chars:
                return name
        return None  # no font has it: the main font prints its "missing" box

    def needs_fallback(self, text: str) -> bool:
        return any(self.font_for(ch) is not None for ch in text)

    def runs(self, text: str) -> Iterator[tuple[str | None, str]]:
        """(font or None for the main one, run of text) in order."""
        current: str | None = None
        start = 0
        for i, ch in enumerate(text):
            font = self.font_for(ch)
            if font != current:
                if i > start:
                    yield current, text[start:i]
                current, start = font, i
        if start < len(text):
            yield current, text[start:]


def markup(value: object, fonts: FontChain | None) -> str:
    """Paragraph markup showing ``value`` literally: cleaned, escaped, line breaks kept,
    rare characters in a fallback font."""
    out: list[str] = []
    for number, line in enumerate(clean(value).split("\n")):
        if number:
            out.append("<br/>")
        if fonts is None:
            out.append(escape(line))
            continue
        for font, run in fonts.runs(line):
            text = escape(run)
            out.append(text if font is None else f'<font name="{font}">{text}</font>')
    return "".join(out)


def pieces(value: object, size: int = PIECE_CHARS) -> list[str]:
    """``value`` cut into parts of at most ``size`` characters, at line breaks when there
    are any, so that each part fits in one table row on a page."""
    text = clean(value)
    if len(text) <= size:
        return [text]
    parts: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > size:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:size])
            line = line[size:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > size:
            parts.append(current)
            current = line
        else:
            current = candidate
    if current:
        parts.append(current)
    return parts
