#!/usr/bin/env bash
# Runs the deploy tests (node's built-in test runner) after installing the pinned npm packages
# with `npm ci` when node_modules is missing or older than package-lock.json.
# KURA_BINARY: the kura binary the rendered-command-line test starts.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "deploy tests: node and npm are missing; run scripts/install-deps.sh" >&2
  exit 1
fi
# npm keeps its download cache under $HOME; without one, beside the lockfile.
if [ -z "${HOME:-}" ]; then export npm_config_cache="$PWD/.npm-cache"; fi
stamp=node_modules/.kura-package-lock.json
if ! cmp -s package-lock.json "$stamp" 2>/dev/null; then
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$stamp"
fi
exec node --test "$@" test/
