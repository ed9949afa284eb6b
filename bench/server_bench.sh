#!/usr/bin/env bash
# The runtime API's hot path: GET /v1/leads/{id}/enrichment for a stored lead, on loopback, with
# an API key, under wrk. Prints wrk's figures and the server's own time per request (from its
# /metrics histogram, so the client's share of the two cores is not counted).
#
#   bash bench/server_bench.sh [seconds] [connections]
# Needs a build (bash scripts/build.sh) and wrk (apt-get install wrk).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
connections=${2:-32}
bin=${LEADENRICH_BUILD_DIR:-build}/apps/leadenrich-server
command -v wrk >/dev/null || { echo "server_bench: needs wrk: apt-get install wrk" >&2; exit 2; }
[ -x "$bin" ] || { echo "server_bench: no $bin: run bash scripts/build.sh first" >&2; exit 2; }

work=$(mktemp -d)
key=bench-key-0123456789
LEADENRICH_API_KEYS=$key "$bin" --sandbox --port 0 --store "$work/bench.db" -q 2>"$work/server.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do
  url=$(grep -o 'listening on http://[0-9.:]*' "$work/server.log" | sed 's/listening on //' || true)
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { cat "$work/server.log" >&2; exit 1; }

auth="Authorization: Bearer $key"
lead=lead_1_0003
curl -sf -X POST -H "$auth" "$url/v1/leads/$lead/enrich" >/dev/null
curl -sf -H "$auth" "$url/v1/leads/$lead/enrichment" -o "$work/body.json"
echo "server_bench: GET /v1/leads/$lead/enrichment ($(wc -c <"$work/body.json") bytes), $connections connections, ${seconds}s, $(nproc) cores shared by wrk and the server"
wrk -t1 -c"$connections" -d"${seconds}s" --latency -H "$auth" "$url/v1/leads/$lead/enrichment"

metrics=$(curl -sf -H "$auth" "$url/metrics")
route='route="/v1/leads/{id}/enrichment"'
count=$(grep -F "leadenrich_http_request_duration_seconds_count{$route}" <<<"$metrics" | awk '{print $2}')
sum=$(grep -F "leadenrich_http_request_duration_seconds_sum{$route}" <<<"$metrics" | awk '{print $2}')
under_1ms=$(grep -F "leadenrich_http_request_duration_seconds_bucket{$route,le=\"0.001\"}" <<<"$metrics" | awk '{print $2}')
awk -v c="$count" -v s="$sum" -v u="$under_1ms" 'BEGIN {
  printf "server time: %d requests, mean %.1f us, %.2f%% under 1 ms (from /metrics)\n", c, s / c * 1e6, u / c * 100 }'
