#!/usr/bin/env bash
# Installs what leadenrich needs to build (Debian 12 packages, and the web UI's npm packages);
# with --tests, also what the tests need (Chromium for the browser test, a PostgreSQL server for
# the store and scale-out tests). Idempotent: installs only what is missing, and runs
# `apt-get update` only when something must be installed.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
  g++ cmake make pkg-config git
  libcurl4-openssl-dev libsimdjson-dev libfmt-dev doctest-dev
  libsqlite3-dev libpq-dev libcpp-httplib-dev libcli11-dev
  pybind11-dev python3-dev python3-pytest
)
if [ "${1:-}" = "--tests" ]; then
  packages+=(chromium postgresql)
fi
# The web UI is built with Node.js 20+ and npm; Debian's own are used only when none is installed.
if ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} Debian packages are installed"
elif [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing Debian packages: ${missing[*]}" >&2
  echo "setup: run this once, then try again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 2
else
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  echo "setup: the web UI needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 2
fi
# The web UI's packages, exactly as package-lock.json pins them; again only when they changed.
if [ ! -f web/node_modules/.package-lock.json ] || [ web/package-lock.json -nt web/node_modules/.package-lock.json ]; then
  echo "setup: installing the web UI's npm packages"
  (cd web && npm ci --no-audit --no-fund --loglevel=error)
fi
echo "setup: done"
