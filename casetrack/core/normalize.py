"""One normalisation of what people type, used by the forms, the API, the import and search.

Office text arrives in full-width forms (Chinese input methods type ０-９, （）, Ｘ), with
bracket variants (湛信交〔2026〕214号, [2026], 【2026】, （2026）) and stray spaces. Everything
that identifies something — resident IDs, phone numbers, references (交办文号) and case
numbers — goes through the functions below before it is validated, stored or compared, so
that one value has one form everywhere.

- ``normalize_id_number``: NFKC, spaces removed, the check digit X upper-case. Stored so.
- ``normalize_phone``: NFKC, spaces removed. Stored so.
- ``canonical_ref``: the comparison key of a reference or a case number (NFKC, every
  bracket pair as ``()``, spaces removed, lower-case). The reference itself is stored as
  typed; the key sits beside it (``Case.external_ref_key``).
- ``search_key``/``search_terms``: the same folding for free text; ``Case.search_text``
  holds the folded text of a case's searchable fields and a query matches when every one of
  its terms is a substring of it.

Pure functions of plain strings, tested without the app.
"""

from __future__ import annotations

import re
import unicodedata

#: opening and closing bracket forms seen in references, folded to ( and ) (after NFKC,
#: which already turns （）［］｛｝ into their ASCII forms)
_OPENERS = "〔【[〖﹝｟⦅〘〚{"
_CLOSERS = "〕】]〗﹞｠⦆〙〛}"
_BRACKETS = str.maketrans({**dict.fromkeys(_OPENERS, "("), **dict.fromkeys(_CLOSERS, ")")})
#: dashes between digits (0759-8888888, 0759–8888888) are dropped in keys
_DIGIT_DASH = re.compile(r"(?<=\d)[-‐‑‒–—―－](?=\d)")
_SPACE = re.compile(r"\s+")
#: spaces around a bracket, and between a number and 号, belong to one reference
_GLUED_SPACE = re.compile(r"\s*([()])\s*")
_SPACE_BEFORE_HAO = re.compile(r"(?<=[0-9])\s+(?=号)")
#: characters no key keeps: controls and zero-width formatting (pasted from web pages)
_INVISIBLE = re.compile("[\u0000-\u0008\u000e-\u001f\u007f-\u009f\u200b-\u200f\u2060\ufeff]")


#: line and tab characters a one-line field turns into a space
_LINE_BREAKS = re.compile("[ \t\n\r\v\f\x1c-\x1e\x85\u2028\u2029]+")
#: the one format character text keeps: the zero-width joiner (it joins emoji and some
#: scripts' letters; it reorders nothing)
_ZWJ = "\u200d"


def _visible(ch: str, keep: str) -> bool:
    """``ch`` is kept: not a control (Cc) or a format character (Cf: the bidirectional
    overrides and isolates U+202A–U+202E, U+2066–U+2069, the marks U+200E/U+200F/U+061C,
    zero-width spaces), other than ``keep`` and the zero-width joiner."""
    return ch in keep or ch == _ZWJ or unicodedata.category(ch) not in ("Cc", "Cf")


def single_line(value: str | None) -> str:
    """A one-line field as stored (title, party name and address, issuing authority,
    reference, unit and village names): tabs and line breaks become one space; controls and
    format characters (a right-to-left override U+202E shows 文件.exe as 文件exe.txt) are
    dropped; ends stripped. The same for a page, the API, an import and a correction."""
    if not value:
        return ""
    text = _LINE_BREAKS.sub(" ", value)
    return "".join(ch for ch in text if _visible(ch, "")).strip()


def multi_line(value: str | None) -> str:
    """A text of several lines as stored (summary, reply, reasons): its line breaks (as
    ``\n``) and tabs kept, every other control and format character dropped (as in
    ``single_line``); ends stripped."""
    if not value:
        return ""
    text = value.replace("\r\n", "\n").replace("\r", "\n")
    text = text.replace("\u2028", "\n").replace("\u2029", "\n").replace("\x85", "\n")
    return "".join(ch for ch in text if _visible(ch, "\n\t")).strip()


def nfkc(value: str | None) -> str:
    """NFKC form of ``value`` with invisible characters dropped and ends stripped."""
    if not value:
        return ""
    return _INVISIBLE.sub("", unicodedata.normalize("NFKC", value)).strip()


def normalize_id_number(value: str | None) -> str:
    """A resident ID as stored and compared: ``４４０８…１２３ｘ`` → ``440…123X``."""
    return _SPACE.sub("", nfkc(value)).upper()


def normalize_phone(value: str | None) -> str:
    """A phone number as stored and compared: full-width digits folded, spaces removed."""
    return _SPACE.sub("", nfkc(value))


def canonical_ref(value: str | None) -> str:
    """The comparison key of a reference or a case number: 湛信交〔2026〕214号,
    湛信交[2026]214号 and 湛信交（２０２６）214 号 all give ``湛信交(2026)214号``."""
    return search_key(value)


def search_key(value: str | None) -> str:
    """Folded text for substring search: NFKC, brackets as (), no whitespace, dashes between
    digits dropped, lower-case."""
    text = nfkc(value).translate(_BRACKETS)
    text = _SPACE.sub("", text)
    return _DIGIT_DASH.sub("", text).lower()


#: a document number typed loosely: issuer, four-digit year (bracketed or not), sequence,
#: 号, with any spaces between (北和信2026 1号, 北和信 2026 1 号, 北和信20261号)
_LOOSE_NUMBER = re.compile(
    r"(?P<issuer>[^\W\d_]+)(?P<s1>\s*)(?P<open>\(?)\s*(?P<year>\d{4})\s*(?P<close>\)?)"
    r"(?P<s2>\s*)(?P<seq>\d{1,7})(?P<hao>\s*号)?(?!\d)")


def _number_glued(match: re.Match) -> str:
    """A loosely typed number as one bracketed term, when it is one: brackets balanced, and
    it ends in 号, or its year is bracketed or touches the issuer. Anything else (张三 2026 1)
    stays as typed."""
    bracketed = bool(match["open"])
    if bracketed != bool(match["close"]):
        return match[0]
    if not (match["hao"] is not None or bracketed or not match["s1"]):
        return match[0]
    return f"{match['issuer']}({match['year']}){match['seq']}{'号' if match['hao'] else ''}"


def search_terms(query: str | None) -> list[str]:
    """The terms of a search: words split on any whitespace (ideographic space included),
    each folded by ``search_key``; duplicates dropped, order kept. Spaces next to a bracket
    or before 号 do not split (北和信 〔2026〕 18 号 is one reference), and a document number
    typed without its brackets or with spaces inside (北和信2026 18号) becomes the bracketed
    form (北和信(2026)18号; ``search_alternatives`` also keeps it as typed).

    A word with no letter or digit (``[``, ``%``, ``_``) is kept as typed (NFKC only, its
    brackets not folded): it is a literal character to look for, see ``is_literal``."""
    return [alts[0] for alts in search_alternatives(query)]


def search_alternatives(query: str | None) -> list[tuple[str, ...]]:
    """``search_terms`` with, for each term, the spellings any of which may match: a
    document number typed without brackets also matches a reference stored that way."""
    text = nfkc(query)
    words = _SPACE.split(text)
    literal = {w for w in words if w and is_literal(w)}
    text = " ".join(w for w in words if w not in literal).translate(_BRACKETS)
    text = _GLUED_SPACE.sub(r"\1", text)
    text = _SPACE_BEFORE_HAO.sub("", text)
    #: bracketed term -> the same number as typed without brackets (北和信20261号)
    bare: dict[str, str] = {}
    for match in _LOOSE_NUMBER.finditer(text):
        glued = _number_glued(match)
        if glued != match[0] and not match["open"]:
            bare[search_key(glued)] = search_key(glued.replace("(", "").replace(")", ""))
    text = _LOOSE_NUMBER.sub(_number_glued, text)
    found: dict[str, tuple[str, ...]] = {}
    for word in _SPACE.split(text):
        key = search_key(word)
        if key and key not in found:
            found[key] = (key, bare[key]) if key in bare else (key,)
    for word in words:
        if word in literal and word not in found:
            found[word] = (word,)
    return list(found.values())


def is_literal(term: str) -> bool:
    """A search word with no letter or digit (``[``, ``%``, ``_``, ``（``): looked for as
    the very characters typed in the case's own fields, never folded (every case number
    holds a bracket once folded) and never as a LIKE wildcard."""
    return not any(ch.isalnum() for ch in term)


def search_document(*parts: str | None) -> str:
    """The folded text of several fields, one space between fields: no term (which never
    holds whitespace) can match across two fields."""
    return " ".join(k for k in (search_key(p) for p in parts) if k)
