#!/usr/bin/env bash
# Configures and builds leadenrich (library, programs, tests, examples, Python module) in build/.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${LEADENRICH_BUILD_DIR:-build}
jobs=${LEADENRICH_JOBS:-$(nproc)}
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DPython_EXECUTABLE=/usr/bin/python3 -DLEADENRICH_BUILD_PYTHON=ON "$@" >/dev/null
cmake --build "$build_dir" -j "$jobs"
