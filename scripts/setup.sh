#!/usr/bin/env bash
# Create .venv with Python 3.10 and install the pinned requirements (PyPI only).
# Re-running is cheap: nothing is reinstalled while the requirement files are unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/web-deps.sh  # npm packages of the web widget (cheap when current)
venv=.venv
stamp=$venv/.installed
want=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -c1-16)
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
if ! [ -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))'; then
  py=$(scripts/find-python.sh)
  echo "Creating $venv with $py"
  rm -rf "$venv"
  "$py" -m venv "$venv"
fi
echo "Installing pinned dependencies (about 6 minutes on a fresh machine)…"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade "pip==24.2"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
"$venv/bin/python" -c "import rasa, rasa_sdk, spacy; spacy.load('fr_core_news_sm')"
echo "$want" > "$stamp"
