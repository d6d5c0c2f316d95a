#!/usr/bin/env bash
# `make bench`: runs every benchmark driver in bench/ (bench/*_bench.sh and
# bench/load_*.sh) against the build in BUILD_DIR. Each driver compares against
# its peer in the same run and prints a table; docs/BENCHMARKS.md records the
# numbers with the machine they came from. Benchmarks are never part of `make test`.
set -uo pipefail
BUILD=${1:-build}
BUILD=$(cd "$BUILD" && pwd)
cd "$(dirname "$0")/.."
status=0
for b in bench/*_bench.sh bench/load_*.sh; do
  [ -x "$b" ] || continue
  echo "=== $b"
  "$b" "$BUILD" || { echo "bench: $b failed"; status=1; }
done
exit $status
