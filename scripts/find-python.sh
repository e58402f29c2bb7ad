#!/usr/bin/env bash
# Print the path of a Python 3.10 interpreter (Rasa 3.6 does not run on 3.11+).
# Order: $PYTHON, pyenv (selected by .python-version), python3.10 on PATH, usual prefixes.
set -u
is310() { [ -x "$1" ] && "$1" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' 2>/dev/null; }
cands=()
[ -n "${PYTHON:-}" ] && cands+=("$PYTHON")
if command -v pyenv >/dev/null 2>&1; then
  p=$(pyenv which python3.10 2>/dev/null) && cands+=("$p")
  root=$(pyenv root 2>/dev/null)
  for d in "$root"/versions/3.10*; do cands+=("$d/bin/python3.10"); done
fi
for d in "$HOME"/.pyenv/versions/3.10*; do cands+=("$d/bin/python3.10"); done
p=$(command -v python3.10 2>/dev/null) && cands+=("$p")
cands+=(/usr/local/bin/python3.10 /usr/bin/python3.10 /opt/homebrew/bin/python3.10)
for c in "${cands[@]}"; do
  if is310 "$c"; then echo "$c"; exit 0; fi
done
echo "error: Python 3.10 not found (Rasa 3.6 needs 3.10, not 3.11+)." >&2
echo "Install it (e.g. 'pyenv install 3.10.13') or set PYTHON=/path/to/python3.10." >&2
exit 1
