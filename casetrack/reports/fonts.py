"""The embedded Chinese font of every PDF.

reportlab's built-in CID fonts are not embedded (boxes on a machine without Chinese fonts)
and it reads TrueType outlines only, so a TrueType CJK font file is registered and embedded
(only the glyphs used). ``REPORT_FONT_PATH`` names the file; when empty the usual Debian
locations are searched. Registration costs ~0.07 s, so it happens once per process.
"""

from __future__ import annotations

import threading
from pathlib import Path

from flask import current_app, has_app_context
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from casetrack.core.errors import DomainError

FONT_NAME = "CasetrackCJK"
#: file names tried under ``FONT_SEARCH_ROOT``, best first (TrueType outlines only)
CANDIDATES = ("wqy-microhei.ttc", "uming.ttc", "LXGWWenKai-Regular.ttf",
              "LXGWWenKaiGB-Regular.ttf")
FONT_SEARCH_ROOT = Path("/usr/share/fonts")

_lock = threading.Lock()
_registered: dict[str, str] = {}


class ReportFontMissing(DomainError):
    """No usable Chinese TrueType font: reports cannot be printed."""

    code = "report_font_missing"
    http_status = 500


def find_font(configured: str | None = None, root: Path = FONT_SEARCH_ROOT) -> Path:
    """The font file to embed: the configured path, else the first candidate found."""
    if configured:
        path = Path(configured)
        if not path.is_file():
            raise ReportFontMissing(f"报表字体文件不存在：{configured}（REPORT_FONT_PATH）")
        return path
    for name in CANDIDATES:
        found = sorted(root.rglob(name)) if root.is_dir() else []
        if found:
            return found[0]
    raise ReportFontMissing(
        "未找到可嵌入PDF的中文TrueType字体。请安装 Debian 软件包 fonts-wqy-microhei"
        "（apt-get install fonts-wqy-microhei），或在配置 REPORT_FONT_PATH 中指定字体文件。"
    )


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
