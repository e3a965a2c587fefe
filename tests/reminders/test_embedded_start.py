"""`flask run` with CASETRACK_SCHEDULER_EMBEDDED=1 (what scripts/run does) starts the reminder
scheduler exactly once, also under the reloader, and says so on stderr with its lock state."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from reminders.support import free_port

ROOT = Path(__file__).resolve().parents[2]
STARTED = "reminder scheduler started inside the web process"





def _serve(database: str, tmp_path: Path, *extra: str) -> str:
    """Run ``flask run`` until it logs that it holds the sender lock (or 60 s); its stderr."""
    env = {**os.environ, "CASETRACK_SCHEDULER_EMBEDDED": "1",
           "CASETRACK_SQLALCHEMY_DATABASE_URI": database, "CASETRACK_SECRET_KEY": "t",
           "CASETRACK_UPLOAD_FOLDER": str(tmp_path / "uploads"), "PYTHONUNBUFFERED": "1"}
    env.pop("WERKZEUG_RUN_MAIN", None)
    env.pop("WERKZEUG_SERVER_FD", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "casetrack", "run", "--port",
         str(free_port()), *extra],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    lines: list[str] = []
    held = threading.Event()

    def read() -> None:
        for line in proc.stderr:
            lines.append(line)
            if "holds the sender lock" in line:
                held.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert held.wait(60), "".join(lines)
        time.sleep(1.5)  # a second scheduler, if any, would have logged by now
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
        reader.join(timeout=5)
        proc.stderr.close()
    return "".join(lines)


@pytest.mark.parametrize("extra", [(), ("--debug",)], ids=["plain", "reloader"])
def test_flask_run_starts_the_scheduler_once(database, tmp_path, extra):
    log = _serve(database, tmp_path, *extra)
    assert log.count(STARTED) == 1, log
    pid = re.search(r"scheduler \(pid (\d+)\): " + STARTED, log).group(1)
    assert f"scheduler (pid {pid}): holds the sender lock: this process sends" in log
    assert "Running on http://127.0.0.1" in log
