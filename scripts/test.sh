#!/usr/bin/env bash
# Runs the whole test suite: layering check, unit tests, the PromQL conformance runner and the
# integration tests against real Prometheus processes. Installs and builds what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
bash scripts/check-layering.sh
# CI always has the conformance corpus beside the repository; make its absence an error there.
if [ "${CI:-}" = "true" ]; then export KURA_REQUIRE_CONFORMANCE=1; fi
cd build
# The PromQL conformance runner first, so its per-file and per-bucket counts are printed; then
# everything else. Both must pass.
status=0
ctest -L conformance --output-on-failure --timeout 300 || status=$?
grep -h "promql conformance:" Testing/Temporary/LastTest.log 2>/dev/null |
  sed 's/^.*promql conformance/promql conformance/' || true
ctest -LE conformance --output-on-failure -j"$(nproc)" --timeout 300 || status=$?
# The deploy tests' own summary (node's test runner), as the conformance counts above.
grep -hE '^# (tests|pass|fail|skipped) [0-9]+$' Testing/Temporary/LastTest.log 2>/dev/null |
  sed 's/^# /deploy tests: /' || true
exit "$status"
