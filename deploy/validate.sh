#!/usr/bin/env bash
# Validates deploy/: every YAML file parses, the Kubernetes manifests and the
# compose file have the structure Warrant needs (deploy/validate.py), and
# both match their published schemas. Run from anywhere:
#
#   bash deploy/validate.sh
#
# Needs python3 (3.9+) with venv and pip, and PyPI; installs the pinned tools
# of deploy/requirements.txt into a temporary virtualenv, removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

python="${PYTHON:-python3}"
venv="$(mktemp -d "${TMPDIR:-/tmp}/warrant-deploy-validate.XXXXXX")"
trap 'rm -rf "$venv"' EXIT

"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --only-binary=:all: \
    -r deploy/requirements.txt
"$venv/bin/python" deploy/validate.py "$@"
