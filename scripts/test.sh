#!/usr/bin/env bash
# The whole test suite: set up, build, run every test (unit, integration, example, python,
# install, server, web UI in Chromium) with ctest. Its last lines are ctest's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --tests
bash scripts/build.sh
ctest --test-dir "${LEADENRICH_BUILD_DIR:-build}" --output-on-failure -j "${LEADENRICH_JOBS:-$(nproc)}"
