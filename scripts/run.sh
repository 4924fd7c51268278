#!/usr/bin/env bash
# Quick start: install dependencies, build, and run `kura standalone` on :9201 with its data in
# ./data. Extra arguments go to `kura standalone` (see `build/cmd/kura/kura standalone --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build.sh
exec build/cmd/kura/kura standalone "$@"
