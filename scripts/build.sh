#!/usr/bin/env bash
# Builds the web UI (web/dist) and configures and builds leadenrich (library, programs, tests,
# examples, Python module) in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${LEADENRICH_BUILD_DIR:-build}
jobs=${LEADENRICH_JOBS:-$(nproc)}
(cd web && npm run --silent build)
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPython_EXECUTABLE=/usr/bin/python3 -DLEADENRICH_BUILD_PYTHON=ON -DLEADENRICH_WEB_TESTS=ON "$@" >/dev/null
cmake --build "$build_dir" -j "$jobs"
