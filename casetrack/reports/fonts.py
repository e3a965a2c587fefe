"""The embedded Chinese font of every PDF.

reportlab's built-in CID fonts are not embedded (boxes on a machine without Chinese fonts)
and it reads TrueType outlines only, so a TrueType CJK font file is registered and embedded
(only the glyphs used). ``REPORT_FONT_PATH`` names the file; when empty the usual Debian
locations are searched. Registration costs ~0.07 s, so it happens once per process.

The main font (wqy-microhei) lacks CJK Extension A–F, so a name like 吉𠮷 would print "吉 ".
Fallback fonts (``REPORT_FALLBACK_FONT_PATHS``, else HanaMin A/B and BabelStone Han from
Debian) are registered beside it; ``font_chain`` tells ``reports.text.markup`` which font
has which character, and each run of text is set in the first font that has it. Measured
coverage: HanaMinA all of Extension A; HanaMinB 99–100 % of B–F; BabelStone Han 33–99 %.
A missing fallback font is logged and shown on the admin page and by the CLI.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from flask import current_app, has_app_context
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import TTFont

from casetrack.core.errors import DomainError
from casetrack.core.i18n import N_, Msg
from casetrack.reports.text import FontChain

log = logging.getLogger(__name__)

FONT_NAME = "CasetrackCJK"
#: file names tried under ``FONT_SEARCH_ROOT``, best first (TrueType outlines only)
CANDIDATES = ("wqy-microhei.ttc", "uming.ttc", "LXGWWenKai-Regular.ttf",
              "LXGWWenKaiGB-Regular.ttf")
FONT_SEARCH_ROOT = Path("/usr/share/fonts")

#: fallback font files searched under ``FONT_SEARCH_ROOT``, in the order they are tried
FALLBACK_CANDIDATES = ("HanaMinA.ttf", "HanaMinB.ttf", "BabelStoneHan.ttf")
#: the Debian packages holding them
FALLBACK_PACKAGES = "fonts-hanazono fonts-babelstone-han"

def _to_unicode_cmap(fontname: str, subset: list[int]) -> str:
    """reportlab 5's ToUnicode map, with characters beyond the BMP written as UTF-16
    surrogate pairs. reportlab writes them as "<%04X>" (``<20BB7>`` for 𠮷), which PDF
    readers take as U+20BB: the glyph prints but copying or searching the PDF, and
    pdftotext, give "₻". Used for every embedded TrueType font."""
    def utf16(code: int) -> str:
        return chr(code).encode("utf-16-be", "surrogatepass").hex().upper()

    return "\n".join([
        "/CIDInit /ProcSet findresource begin", "12 dict begin", "begincmap",
        "/CIDSystemInfo", f"<< /Registry ({fontname})", f"/Ordering ({fontname})",
        "/Supplement 0", ">> def", f"/CMapName /{fontname} def", "/CMapType 2 def",
        "1 begincodespacerange", f"<00> <{len(subset) - 1:02X}>", "endcodespacerange",
        f"{len(subset)} beginbfchar",
        *[f"<{i:02X}> <{utf16(v)}>" for i, v in enumerate(subset)],
        "endbfchar", "endcmap", "CMapName currentdict /CMap defineresource pop", "end", "end",
    ])


ttfonts.makeToUnicodeCMap = _to_unicode_cmap

_lock = threading.Lock()
_registered: dict[str, str] = {}
_chains: dict[tuple, FontChain] = {}
_warned: set[tuple] = set()


class ReportFontMissing(DomainError):
    """No usable Chinese TrueType font: reports cannot be printed."""

    code = "report_font_missing"
    http_status = 500


def find_font(configured: str | None = None, root: Path = FONT_SEARCH_ROOT) -> Path:
    """The font file to embed: the configured path, else the first candidate found."""
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise ReportFontMissing(Msg(N_("报表字体文件不存在：%(path)s（REPORT_FONT_PATH）"),
                                        path=configured))
        return path
    for name in CANDIDATES:
        found = sorted(root.rglob(name)) if root.is_dir() else []
        if found:
            return found[0]
    raise ReportFontMissing(N_(
        "未找到可嵌入PDF的中文TrueType字体。请安装 Debian 软件包 fonts-wqy-microhei"
        "（apt-get install fonts-wqy-microhei），或在配置 REPORT_FONT_PATH 中指定字体文件。"
    ))


def cjk_font() -> str:
    """Register the Chinese font (once per process and path) and return its reportlab name."""
    configured = current_app.config.get("REPORT_FONT_PATH") if has_app_context() else None
    key = configured or ""
    with _lock:
        if key in _registered:
            return _registered[key]
        path = find_font(configured)
        name = FONT_NAME if not _registered else f"{FONT_NAME}{len(_registered)}"
        index = 0 if path.suffix.lower() == ".ttc" else None
        font = TTFont(name, str(path), subfontIndex=index) if index is not None \
            else TTFont(name, str(path))
        pdfmetrics.registerFont(font)
        _registered[key] = name
        return name


def _chars(font: TTFont) -> frozenset[int]:
    return frozenset(font.face.charToGlyph)


def find_fallback_fonts(configured: list[str] | None = None,
                        root: Path = FONT_SEARCH_ROOT) -> tuple[list[Path], list[str]]:
    """(fallback font files found, what is missing) — configured paths, else the Debian
    candidates."""
    found: list[Path] = []
    missing: list[str] = []
    if configured is not None:
        for item in configured:
            path = Path(item)
            (found.append(path) if path.is_file() else missing.append(item))
        return found, missing
    for name in FALLBACK_CANDIDATES:
        hits = sorted(root.rglob(name)) if root.is_dir() else []
        (found.append(hits[0]) if hits else missing.append(name))
    return found, missing


def missing_fallback_fonts() -> list[str]:
    """The configured or expected fallback font files that are not there."""
    configured = current_app.config.get("REPORT_FALLBACK_FONT_PATHS") if has_app_context() \
        else None
    return find_fallback_fonts(configured)[1]


def fallback_font_warning() -> str | None:
    """A Chinese warning (CLI, log) when a fallback font is missing: rare characters print
    as boxes."""
    missing = missing_fallback_fonts()
    if not missing:
        return None
    return ("报表备用字体缺失：" + "、".join(missing) + "。生僻字（如 𠮷、䶮、𬀩、㛃）将在PDF中"
            f"显示为空框。请安装 Debian 软件包 {FALLBACK_PACKAGES}，或在配置 "
            "REPORT_FALLBACK_FONT_PATHS 中指定字体文件。")


def font_chain() -> FontChain:
    """The main font and the registered fallback fonts with their characters (once per
    process and configuration); logs a warning once when a fallback font is missing."""
    main = cjk_font()
    configured = current_app.config.get("REPORT_FALLBACK_FONT_PATHS") if has_app_context() \
        else None
    key = (main, tuple(configured) if configured is not None else None)
    with _lock:
        if key in _chains:
            return _chains[key]
        found, missing = find_fallback_fonts(configured)
        if missing and key not in _warned:
            _warned.add(key)
            log.warning("report fallback fonts missing: %s; rare CJK characters (Extension "
                        "A-F) print as boxes. Install %s or set REPORT_FALLBACK_FONT_PATHS",
                        ", ".join(missing), FALLBACK_PACKAGES)
        main_font = pdfmetrics.getFont(main)
        chain = FontChain(main=main, main_chars=_chars(main_font))
        for path in found:
            name = f"{FONT_NAME}Fallback{len(_registered)}{path.stem}"
            try:
                font = TTFont(name, str(path), subfontIndex=0) \
                    if path.suffix.lower() == ".ttc" else TTFont(name, str(path))
            except Exception as exc:  # a broken or PostScript-outline file
                log.warning("report fallback font %s unusable: %s", path, exc)
                continue
            pdfmetrics.registerFont(font)
            _registered[f"fallback:{path}"] = name
            chain.fallbacks.append((name, _chars(font)))
        _chains[key] = chain
        return chain
