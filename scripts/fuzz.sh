#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each for SECONDS (default 60), seeded with the
# test data. Crashes are left as crash-* files in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DLEADENRICH_FUZZ=ON -DLEADENRICH_BUILD_TESTS=OFF -DLEADENRICH_BUILD_EXAMPLES=OFF -DLEADENRICH_BUILD_APPS=OFF \
  -DLEADENRICH_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)"
mkdir -p build-fuzz/corpus
cp tests/data/pipe0/*.json examples/data/leads.jsonl build-fuzz/corpus/
failed=0
for t in fuzz_json fuzz_leads fuzz_sources fuzz_pipe0 fuzz_identity fuzz_request; do
  mkdir -p "build-fuzz/corpus-$t"
  echo "== $t for ${seconds}s"
  if ! (cd build-fuzz && "./tests/fuzz/$t" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
          "corpus-$t" corpus > "$t.log" 2>&1); then
    failed=1
    echo "$t FOUND A CRASH: see build-fuzz/$t.log"
  fi
  tail -n 1 "build-fuzz/$t.log"
done
exit $failed
