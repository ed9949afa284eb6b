#!/usr/bin/env bash
# Installs the Debian 12 packages leadenrich needs to build and test. Idempotent: installs only
# what is missing, and runs `apt-get update` only when something must be installed.
set -euo pipefail

packages=(
  g++ cmake make pkg-config git
  libcurl4-openssl-dev libsimdjson-dev libfmt-dev doctest-dev
  libsqlite3-dev libcpp-httplib-dev libcli11-dev
  pybind11-dev python3-dev python3-pytest
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} Debian packages are installed"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing Debian packages: ${missing[*]}" >&2
  echo "setup: run this once, then try again:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  exit 2
fi

echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "setup: done"
