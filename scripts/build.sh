#!/usr/bin/env bash
# Installs dependencies (when missing) and builds Kura into ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
build_type=${KURA_BUILD_TYPE:-RelWithDebInfo}
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE="$build_type" >/dev/null
ninja -C build -j"$(nproc)"
