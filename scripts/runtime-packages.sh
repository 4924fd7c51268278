#!/usr/bin/env bash
# Prints, one per line, the Debian packages that provide the shared libraries a binary loads.
# The Dockerfile installs exactly these in its runtime stage.
#   scripts/runtime-packages.sh build/cmd/kura/kura
set -euo pipefail
binary=${1:?usage: runtime-packages.sh BINARY}

# Debian 12 merges /lib into /usr/lib, so a library may be registered under either path.
owner() {
  local lib=$1 real
  real=$(realpath "$lib")
  for path in "$lib" "$real" "/usr$lib" "${real#/usr}"; do
    if dpkg-query -S "$path" 2>/dev/null | head -n1 | cut -d: -f1; then return 0; fi
  done
  echo "runtime-packages: no package provides $lib" >&2
  return 1
}

libs=$(ldd "$binary" | awk '/=> \// { print $3 }')
if grep -q 'not found' < <(ldd "$binary"); then
  echo "runtime-packages: $binary has unresolved libraries:" >&2
  ldd "$binary" | grep 'not found' >&2
  exit 1
fi
for lib in $libs; do owner "$lib"; done | sort -u
