#!/usr/bin/env bash
# The newcomer's first command: set up, build, and run the main job on bundled data.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
echo
echo "== company and person keys for examples/data/leads.jsonl =="
"${LEADENRICH_BUILD_DIR:-build}/examples/lead_keys" examples/data/leads.jsonl
