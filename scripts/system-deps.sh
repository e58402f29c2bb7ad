#!/usr/bin/env bash
# Install the Debian packages given as arguments, only those missing (browser tests, scale-out
# test servers). Debian's registry only; `apt-get update` runs once per machine.
# Usage: scripts/system-deps.sh chromium redis-server …
set -euo pipefail
missing=()
for pkg in "$@"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "Need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "Installing Debian packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if [ ! -f /var/lib/apt/.bot-updated ]; then
  $sudo apt-get update -qq
  $sudo touch /var/lib/apt/.bot-updated
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
