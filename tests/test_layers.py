"""Imports run one way (ARCHITECTURE.md): the import-linter contracts in pyproject.toml hold.

``core`` ← ``org`` ← ``auth`` ← ``notify`` ← ``deadlines`` ← ``cases`` ← ``reminders`` ←
``stats`` ← ``reports``; pages, CLI, API, scheduler and demo on top.
"""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _lint_imports(cwd: Path = ROOT) -> subprocess.CompletedProcess:
    script = Path(sys.executable).with_name("lint-imports")
    return subprocess.run([str(script), "--no-cache", "--no-logo"], cwd=cwd,
                          capture_output=True, text=True, check=False)


def test_import_contracts_are_kept():
    result = _lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


def test_the_contract_catches_a_lower_layer_importing_a_higher_one(tmp_path):
    """The contract is not vacuous: in a copy of the code, a core module importing cases
    breaks it."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(ROOT / "casetrack", tmp_path / "casetrack",
                    ignore=shutil.ignore_patterns("__pycache__", "static", "templates",
                                                  "translations"))
    probe = tmp_path / "casetrack" / "core" / "layer_probe.py"
    probe.write_text("from casetrack.cases import models  # noqa: F401\n", encoding="utf-8")
    result = _lint_imports(tmp_path)
    assert result.returncode != 0
    assert "casetrack.core is not allowed to import casetrack.cases" in result.stdout
