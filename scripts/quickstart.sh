#!/usr/bin/env bash
# The newcomer's first command: set up, build, and run the main job — enrich a campaign on the
# built-in sandbox (no credentials, no network). Leaves output/enriched_leads.json and .csv.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
echo
"${LEADENRICH_BUILD_DIR:-build}/apps/leadenrich" enrich --sandbox "$@"
