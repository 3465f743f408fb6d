#!/usr/bin/env bash
# Install what OneDoor needs on this machine: system packages (when root), a Python
# virtual environment in .venv with the project and its extras. Sourced by demo.sh and
# test.sh; safe to run again (it only installs what is missing).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

APT_PACKAGES=(${ONEDOOR_APT_PACKAGES:-})

need_apt() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${missing[*]} with apt-get" >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: please install these Debian packages: ${missing[*]}" >&2
  fi
}

pick_python() {
  for py in python3.11 python3.12 python3.13 python3; do
    if command -v "$py" >/dev/null && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
      echo "$py"; return 0
    fi
  done
  echo "setup: Python 3.11 or newer is needed" >&2
  return 1
}

setup_python() {
  local extras="$1"
  local py
  py="$(pick_python)"
  if [ ! -x .venv/bin/python ]; then
    if ! "$py" -m venv .venv 2>/dev/null; then
      rm -rf .venv
      need_apt python3-venv
      "$py" -m venv .venv
    fi
  fi
  local stamp=".venv/.installed-$extras"
  if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip setuptools wheel
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[$extras]"
    touch "$stamp"
  fi
}

setup_assets() {
  # Front-end libraries come from npm through the lock file and are served by the hall
  # server itself (halls run on closed networks: no CDN at run time).
  local vendor="hall_server/web/static/vendor"
  local stamp="$vendor/.built"
  if [ -f "$stamp" ] && [ "$stamp" -nt package-lock.json ]; then return 0; fi
  command -v npm >/dev/null || need_apt nodejs npm
  npm ci --no-audit --no-fund --loglevel=error
  mkdir -p "$vendor"
  cp node_modules/socket.io-client/dist/socket.io.min.js "$vendor/"
  touch "$stamp"
}

if [ "${#APT_PACKAGES[@]}" -gt 0 ]; then need_apt "${APT_PACKAGES[@]}"; fi
