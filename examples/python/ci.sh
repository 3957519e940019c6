#!/usr/bin/env bash
# The Python examples against a live Warrant: a virtualenv with requirements.txt,
# the warrant binary, then test_roundtrip.py (which starts Warrant and the CRM
# on free ports with fresh temporary directories, and stops them).
#
#   bash examples/python/ci.sh          from the repository root (or anywhere)
#
# PYTHON picks the interpreter (default python3.11, else python3); WARRANT_BIN
# an already built binary (default: cargo build, a no-op when up to date);
# PYTHON_EXAMPLES_VENV the virtualenv (default target/python-examples-venv).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

python="${PYTHON:-$(command -v python3.11 || command -v python3)}"
venv="${PYTHON_EXAMPLES_VENV:-$root/target/python-examples-venv}"
if [ ! -x "$venv/bin/python" ]; then
    echo "==> virtualenv $venv ($("$python" --version))"
    "$python" -m venv "$venv"
fi
echo "==> pip install -r examples/python/requirements.txt"
"$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$here/requirements.txt"

if [ -z "${WARRANT_BIN:-}" ]; then
    echo "==> cargo build -p warrant-server --bin warrant"
    cargo build -q -p warrant-server --bin warrant --locked
    WARRANT_BIN="$root/target/debug/warrant"
fi
export WARRANT_BIN PYTHONDONTWRITEBYTECODE=1

# pytest runs in the background so that a signal to this script reaches the
# trap at once; the test's fixtures stop Warrant and the CRM when pytest ends
# (and they get SIGTERM if pytest itself dies).
pid=
stop() { if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -TERM "$pid"; wait "$pid" || true; fi; }
trap stop EXIT
trap 'stop; exit 130' INT TERM
echo "==> pytest examples/python/test_roundtrip.py"
"$venv/bin/python" -m pytest -p no:cacheprovider -v "$here/test_roundtrip.py" &
pid=$!
wait "$pid"
