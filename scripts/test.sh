#!/usr/bin/env bash
# The whole test suite: pytest (knowledge base, actions, NLU data validation, end-to-end
# with real servers and Rasa test stories). A run that collects no test is a failure.
set -uo pipefail
cd "$(dirname "$0")/.."
# Browser tests (tests/test_web.py): Debian's Chromium and a font, and the widget's npm packages.
scripts/system-deps.sh chromium fonts-dejavu-core || exit 1
scripts/web-deps.sh || exit 1
# Lint first: seconds, and a finding fails the run like a failing test.
.venv/bin/ruff check . || exit 1
.venv/bin/python -m pytest "$@"
rc=$?
if [ "$rc" -eq 5 ]; then
  echo "pytest collected no tests: failing the run" >&2
  exit 1
fi
exit "$rc"
