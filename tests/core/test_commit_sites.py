"""Commits happen in one place: ``core/unit.py``. Any other ``.commit()`` call site must be
on this allow-list with its reason, so a hand-written commit added anywhere fails the suite."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "casetrack"

#: path (relative to casetrack/) -> (number of ``.commit()`` calls, why they cannot go
#: through the unit of work)
ALLOWED: dict[str, tuple[int, str]] = {
    "core/unit.py": (1, "the unit of work itself"),
}


def commit_sites() -> Counter[str]:
    """How many ``<anything>.commit()`` calls each module of the package contains."""
    found: Counter[str] = Counter()
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "commit"):
                found[path.relative_to(PACKAGE).as_posix()] += 1
    return found


def test_commits_only_in_the_unit_of_work_and_the_allow_list():
    found = commit_sites()
    expected = {path: count for path, (count, _why) in ALLOWED.items()}
    unexpected = {p: n for p, n in found.items() if n != expected.get(p)}
    stale = {p: n for p, n in expected.items() if found.get(p, 0) != n}
    assert not unexpected and not stale, (
        f"commit() call sites outside the allow-list: {unexpected}; "
        f"allow-list entries that no longer match: {stale}. Commit through "
        "casetrack.core.unit (unit_of_work, page_unit, cli_unit) instead.")


def test_the_scan_sees_a_commit(tmp_path):
    """The scanner recognises the call shapes that would slip past it otherwise."""
    source = "db.session.commit()\nself.session.commit()\nconn.commit()\n"
    tree = ast.parse(source)
    calls = [n for n in ast.walk(tree)
             if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
             and n.func.attr == "commit"]
    assert len(calls) == 3
