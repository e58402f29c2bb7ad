#!/usr/bin/env bash
# Install the web widget's npm packages (socket.io client, axe-core for the browser tests)
# from web/package-lock.json with `npm ci`. Skipped while node_modules matches the lock file.
set -euo pipefail
cd "$(dirname "$0")/../web"
stamp=node_modules/.installed
want=$(sha256sum package-lock.json | cut -c1-16)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || ../scripts/system-deps.sh nodejs npm
echo "Installing the widget's npm packages (npm ci)…"
npm ci --no-audit --no-fund --loglevel=error
echo "$want" > "$stamp"
