#!/usr/bin/env bash
# Dependencies between layers point one way (STYLE.md rule 1):
#   base, model <- storage <- shard <- ingest, query <- cmd
# Fails when a file includes a Kura header from a layer it may not depend on.
set -euo pipefail
cd "$(dirname "$0")/.."

allowed() {
  case "$1" in
    base) echo "base" ;;
    model) echo "model" ;;
    proto) echo "proto" ;;
    storage) echo "base model proto storage" ;;
    shard) echo "base model proto storage shard" ;;
    ingest) echo "base model proto shard ingest" ;;
    query) echo "base model storage shard query" ;;
    *) echo "" ;;
  esac
}

status=0
for layer in base model storage shard ingest query; do
  ok=$(allowed "$layer")
  while IFS= read -r line; do
    file=${line%%:*}
    target=$(sed -E 's/.*#include "([a-z_]+)\/.*/\1/' <<<"$line")
    case "$file" in *_test.cc) continue ;; esac
    case " base model proto storage shard ingest query cmd " in
      *" $target "*) ;;
      *) continue ;;  # a third-party header
    esac
    case " $ok " in
      *" $target "*) ;;
      *) echo "layering: $file includes $target/ (allowed for $layer/: $ok)"; status=1 ;;
    esac
  done < <(grep -rHE '^#include "[a-z_]+/' "$layer" --include='*.h' --include='*.cc' || true)
done
[ "$status" -eq 0 ] && echo "layering: ok"
exit "$status"
