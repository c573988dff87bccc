#!/usr/bin/env bash
# Copies the CRDs (crds/*.yaml, the single source) into the Helm chart (charts/levibot/crds/),
# removing chart copies whose source is gone. `--check` only reports drift (exit 1), for CI.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
src="$root/crds"
dst="$root/charts/levibot/crds"
check=${1:-}

shopt -s nullglob
mkdir -p "$dst"
drift=0
for f in "$src"/*.yaml; do
  name=$(basename "$f")
  if ! cmp -s "$f" "$dst/$name"; then
    drift=1
    if [ "$check" = "--check" ]; then echo "differs: charts/levibot/crds/$name" >&2; else cp "$f" "$dst/$name"; fi
  fi
done
for f in "$dst"/*.yaml; do
  name=$(basename "$f")
  if [ ! -e "$src/$name" ]; then
    drift=1
    if [ "$check" = "--check" ]; then echo "stale: charts/levibot/crds/$name" >&2; else rm "$f"; fi
  fi
done
if [ "$check" = "--check" ] && [ "$drift" = 1 ]; then
  echo "run hack/sync-crds.sh to copy crds/ into the chart" >&2
  exit 1
fi
