# Shared by scripts/run and scripts/test (sourced, with the project root as the working
# directory): a working .venv on Python >= 3.11, and its requirements installed only when a
# requirements file changed since the last install.

# The interpreter that creates .venv: $PYTHON if set, else python3.11, else python3.
find_python() {
  local candidate
  for candidate in ${PYTHON:-} python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  echo "casetrack needs Python 3.11 or newer (set PYTHON=/path/to/python3.11)" >&2
  return 1
}

# True when .venv runs Python >= 3.11, has a working pip, and was made in this directory
# (a copied or moved venv keeps console scripts whose #! line points to the old place).
venv_works() {
  [ -x .venv/bin/python ] &&
    .venv/bin/python -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null &&
    .venv/bin/python -m pip --version >/dev/null 2>&1 &&
    head -n 1 .venv/bin/pip 2>/dev/null | grep -qF "#!$(pwd -P)/.venv/bin/"
}

# Create .venv, or recreate it when it is broken (moved, interpreter gone, no pip).
ensure_venv() {
  if venv_works; then
    return 0
  fi
  local python
  python=$(find_python)
  if [ -e .venv ]; then
    echo "==> .venv is broken or too old: recreating it" >&2
    rm -rf .venv
  fi
  echo "==> creating .venv with $python" >&2
  if ! "$python" -m venv .venv >/dev/null 2>&1; then
    # Debian without the python3-venv package has no ensurepip: make the venv without pip,
    # then install pip into it with the system's pip (python3-pip), or else from pip's
    # zipapp. No root needed either way.
    echo "==> ensurepip is missing (Debian package python3-venv): bootstrapping pip" >&2
    rm -rf .venv
    "$python" -m venv --without-pip .venv
    if "$python" -m pip --version >/dev/null 2>&1; then
      "$python" -m pip --python .venv/bin/python install -q pip
    else
      .venv/bin/python - <<'PY'
import pathlib, subprocess, sys, tempfile, urllib.request
with tempfile.TemporaryDirectory() as tmp:
    pyz = pathlib.Path(tmp) / "pip.pyz"
    with urllib.request.urlopen("https://bootstrap.pypa.io/pip/pip.pyz", timeout=120) as r:
        pyz.write_bytes(r.read())
    subprocess.run([sys.executable, str(pyz), "install", "-q", "pip"], check=True)
PY
    fi
  fi
  venv_works || { echo "could not create a working .venv" >&2; return 1; }
}

# Install a requirements file (pip install -q -r FILE) unless the files it depends on are
# unchanged since the last successful install; the hash is kept in .venv/.
ensure_requirements() {
  local req=$1 stamp sum
  stamp=".venv/.installed-${req%.txt}.sha256"
  # requirements-test.txt includes requirements.txt (-r), so hash both for it
  sum=$( { cat requirements.txt; [ "$req" = requirements.txt ] || cat "$req"; } | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
    return 0
  fi
  echo "==> installing $req into .venv" >&2
  .venv/bin/python -m pip install -q --disable-pip-version-check -r "$req"
  echo "$sum" >"$stamp"
}
