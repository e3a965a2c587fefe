"""The repository's top level keeps its promises: pinned requirements with the agreed stack,
working entry scripts, an example configuration that scripts/run can fill in, wsgi.py."""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _requirements(name: str) -> dict[str, str]:
    pins = {}
    for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-r "):
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.\-]+)(\[[a-z,]+\])?==([0-9][0-9A-Za-z.]*)", line)
        assert m, f"{name}: not pinned exactly: {line!r}"
        pins[m[1].lower().replace("_", "-")] = m[3]
    return pins


def test_requirements_are_pinned_and_hold_the_agreed_stack():
    pins = _requirements("requirements.txt")
    majors = {"flask": "3", "sqlalchemy": "2", "flask-login": None, "apscheduler": "3",
              "reportlab": None, "flask-wtf": None, "flask-babel": None, "flask-migrate": None,
              "psycopg": "3", "gunicorn": None, "chinesecalendar": None}
    for package, major in majors.items():
        assert package in pins, f"requirements.txt lacks {package}"
        if major:
            assert pins[package].split(".")[0] == major, (package, pins[package])
    test_pins = _requirements("requirements-test.txt")
    assert "pytest" in test_pins and "playwright" in test_pins
    assert "-r requirements.txt" in (ROOT / "requirements-test.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("script", ["scripts/run", "scripts/test", ".ci/run"])
def test_entry_scripts_are_strict_executable_bash(script):
    path = ROOT / script
    assert os.access(path, os.X_OK), f"{script} is not executable"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    bash = shutil.which("bash")
    assert bash, "bash is needed by the entry scripts"
    subprocess.run([bash, "-n", str(path)], check=True)


def test_scripts_use_the_app_explicitly_and_migrate_with_alembic():
    run = (ROOT / "scripts/run").read_text(encoding="utf-8")
    assert "--app casetrack" in run
    assert "db upgrade" in run and "create_all" not in run
    assert "demo load" in run and "CASETRACK_SCHEDULER_EMBEDDED=1" in run
    ci = (ROOT / ".ci/run").read_text(encoding="utf-8")
    assert "scripts/test" in ci and "CASETRACK_TEST_DATABASE_URL" in ci
    assert "CASETRACK_REQUIRE_TOOLS=1" in ci


def test_example_config_has_the_one_secret_key_line_scripts_run_replaces():
    text = (ROOT / "instance/config.example.py").read_text(encoding="utf-8")
    compile(text, "config.example.py", "exec")
    assert len(re.findall(r"(?m)^SECRET_KEY = .*$", text)) == 1
    assert (ROOT / "instance/.gitkeep").exists()


def test_instance_contents_are_ignored_but_the_example_is_not():
    lines = (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "instance/*" in lines
    assert "!instance/config.example.py" in lines and "!instance/.gitkeep" in lines
    assert ".venv" in lines  # the folder, and a link to one (".venv/" let a link be committed)


def test_wsgi_exposes_the_app_for_gunicorn():
    tree = ast.parse((ROOT / "wsgi.py").read_text(encoding="utf-8"))
    assigned = {t.id for node in tree.body if isinstance(node, ast.Assign)
                for t in node.targets if isinstance(t, ast.Name)}
    assert "app" in assigned
    assert any(isinstance(n, ast.ImportFrom) and n.module == "casetrack"
               and any(a.name == "create_app" for a in n.names) for n in tree.body)


def test_top_level_layout():
    for path in ("casetrack/__init__.py", "casetrack/config.py", "migrations/env.py",
                 "migrations/alembic.ini", "README.md", "wsgi.py", "scripts/run",
                 "scripts/test", ".ci/run", "requirements.txt", "requirements-test.txt"):
        assert (ROOT / path).is_file(), path
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "scripts/run" in readme and "scripts/test" in readme and "Demo logins" in readme
