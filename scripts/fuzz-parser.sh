#!/usr/bin/env bash
# Fuzzes the PromQL parser with libFuzzer, ASan and UBSan for $1 seconds (default 600).
#
# Builds only the parser library and its fuzz target, with Debian's clang, into ./build-fuzz
# (not part of the normal build or CI). The seed corpus is made at run time from the
# expressions of Prometheus's conformance scripts (evals.tsv, from $KURA_PROMQL_CONFORMANCE_DIR
# or shared/conformance/promql/ next to the source tree); inputs libFuzzer finds are kept in
# build-fuzz/parser-corpus for the next run. A crash, leak or round-trip failure stops the run
# and leaves its input in build-fuzz/parser-artifacts/; make it a test in query/parser_test.cc.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-600}
jobs=${KURA_FUZZ_JOBS:-1}
clang=${KURA_FUZZ_CXX:-$(command -v clang++-14 || command -v clang++)}
corpus_dir=${KURA_PROMQL_CONFORMANCE_DIR:-$(cd .. && pwd)/shared/conformance/promql}
out=build-fuzz
sanitize="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"

cmake -S . -B "$out" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER="$clang" \
  -DCMAKE_CXX_FLAGS="$sanitize -fno-omit-frame-pointer" -DKURA_FUZZ=ON >/dev/null
ninja -C "$out" -j"$(nproc)" parser_fuzzer

seeds="$out/parser-seeds"
rm -rf "$seeds"
mkdir -p "$seeds" "$out/parser-corpus" "$out/parser-artifacts"
if [ -f "$corpus_dir/evals.tsv" ]; then
  # One file per distinct expression (column 7; the header row is skipped).
  awk -F'\t' -v dir="$seeds" 'NR > 1 && !seen[$7]++ { f = sprintf("%s/%05d", dir, NR); printf "%s", $7 > f; close(f) }' \
    "$corpus_dir/evals.tsv"
else
  echo "no conformance corpus at $corpus_dir: fuzzing from an empty seed set" >&2
fi

# Words of the grammar, so mutations splice whole keywords.
dict="$out/parser.dict"
printf '"%s"\n' by without on ignoring group_left group_right bool offset @ 'start()' 'end()' \
  and or unless atan2 anchored smoothed fill fill_left fill_right '[5m]' '[5m:1m]' '=~' '!~' \
  '!=' '{__name__=' sum topk count_values quantile limitk limit_ratio rate histogram_quantile \
  label_replace info 'step()' 'range()' min_of max_of '0x' 1e 'Inf' 'NaN' '`' '"' "'" '#' >"$dict"

# Parallel jobs log to fuzz-<n>.log in the working directory: keep those in $out.
parallel=()
if [ "$jobs" -gt 1 ]; then parallel=(-jobs="$jobs" -workers="$jobs"); fi
cd "$out"
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
  query/parser_fuzzer -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
  -dict=parser.dict -artifact_prefix=parser-artifacts/ "${parallel[@]}" parser-corpus parser-seeds
