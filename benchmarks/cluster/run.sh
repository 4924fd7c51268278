#!/usr/bin/env bash
# Remote-write throughput through the cluster roles on one machine, next to `kura standalone`
# on the same load in the same run: kura-loadgen -> kura standalone, then
# kura-loadgen -> kura receive (RF=2) -> 3 x kura store. Prints the loadgen line of each and the
# ratio. Usage: benchmarks/cluster/run.sh [SERIES] [DURATION]   (defaults 10000 30m)
set -euo pipefail
cd "$(dirname "$0")/../.."
series=${1:-10000}
duration=${2:-30m}
kura=build/cmd/kura/kura
loadgen=build/benchmarks/loadgen/kura-loadgen
dir=$(mktemp -d)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_ready() {
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$1/-/ready" >/dev/null && return 0
    sleep 0.1
  done
  echo "port $1 never became ready" >&2
  return 1
}
rate() { sed -E 's/.*samples_per_second=([0-9]+).*/\1/'; }

port=$(free_port)
$kura standalone --http.listen-address=127.0.0.1:$port --storage.path="$dir/standalone" \
  --log.level=warn & pids+=($!)
wait_ready "$port"
standalone=$($loadgen --series "$series" --duration "$duration" \
  --url "http://127.0.0.1:$port/api/v1/write" 2>/dev/null)
echo "standalone:      $standalone"

nodes=()
for i in 0 1 2; do
  grpc=$(free_port); http=$(free_port)
  $kura store --grpc.listen-address=127.0.0.1:$grpc --http.listen-address=127.0.0.1:$http \
    --storage.path="$dir/store$i" --log.level=warn & pids+=($!)
  wait_ready "$http"
  nodes+=("127.0.0.1:$grpc")
done
port=$(free_port)
$kura receive --store.nodes="$(IFS=,; echo "${nodes[*]}")" --replication.factor=2 \
  --http.listen-address=127.0.0.1:$port --log.level=warn & pids+=($!)
wait_ready "$port"
cluster=$($loadgen --series "$series" --duration "$duration" \
  --url "http://127.0.0.1:$port/api/v1/write" 2>/dev/null)
echo "cluster (RF=2):  $cluster"
echo "cluster/standalone samples/s: $(python3 -c "print(round($(rate <<<"$cluster")/$(rate <<<"$standalone"),2))")"
