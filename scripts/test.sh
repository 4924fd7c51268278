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
ctest --output-on-failure -j"$(nproc)" --timeout 300
