"""System tools some tests need (chromium, pdftotext, ...): skip with a visible reason on a
machine without them, fail instead under ``CASETRACK_REQUIRE_TOOLS=1`` (CI).

Import it as ``from toolcheck import require_tool`` (never ``from conftest import``: several
``conftest`` modules exist and the name is ambiguous)."""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRE_TOOLS = os.environ.get("CASETRACK_REQUIRE_TOOLS") == "1"


def require_tool(name: str) -> str:
    """Path of a system tool, or skip (fail under CASETRACK_REQUIRE_TOOLS=1)."""
    path = shutil.which(name)
    if path is None:
        msg = f"system tool {name!r} is not installed"
        if REQUIRE_TOOLS:
            pytest.fail(msg + " (CASETRACK_REQUIRE_TOOLS=1)")
        pytest.skip(msg)
    return path
