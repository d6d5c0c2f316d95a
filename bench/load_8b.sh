#!/usr/bin/env bash
# load_8b.sh — how long opening an 8B-shape bf16 model takes, and how much
# memory it holds before the first forward (acceptance: < 1 s, < 200 MB RSS).
#   bench/load_8b.sh [BUILD_DIR]    (default build; needs ~17 GB free disk)
# Writes a random Llama-3.1-8B-shaped model with `init-model --preset llama3-8b
# --dtype bf16` (sharded at transformers' 5 GB) into a temporary directory,
# times `your_ai forward --load-only` (config + index + mmap of every shard +
# name/shape check of all 291 tensors) under /usr/bin/time -v, and deletes the
# model afterwards. Record the numbers in docs/BENCHMARKS.md.
set -euo pipefail
BUILD=${1:-build}
YA=$(cd "$BUILD" && pwd)/your_ai
TMPBASE=${TMPDIR:-/tmp}
need_kb=$((17 * 1024 * 1024))
free_kb=$(df -Pk "$TMPBASE" | awk 'NR==2 {print $4}')
if [ "$free_kb" -lt "$need_kb" ]; then
  echo "load_8b: need 17 GB free in $TMPBASE, have $((free_kb / 1024 / 1024)) GB; skipped" >&2
  exit 0
fi
DIR=$(mktemp -d "$TMPBASE/ya_load_8b.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
echo "load_8b: writing llama3-8b bf16 into $DIR ..."
/usr/bin/time -f "init-model: %e s wall, %M KB max RSS" "$YA" init-model --preset llama3-8b --dtype bf16 --out "$DIR/m"
ls -la "$DIR/m"
# Cold-ish (first open after writing: pages are in the page cache, as on any
# second run) and three repeats; report each.
for i in 1 2 3; do
  /usr/bin/time -v "$YA" forward --model "$DIR/m" --load-only 2>"$DIR/time.txt"
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$DIR/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DIR/time.txt")
  echo "run $i: wall $wall (m:ss), max RSS $((rss / 1024)) MB"
done
# The first forward after loading: a 4-token prompt and 2 generated tokens
# (prefill converts each bf16 matrix into the fp32 scratch; decode reads bf16
# rows directly). RSS here includes the mmap'd weight pages the forward touched.
if [ "${YA_BENCH_FIRST_TOKEN:-1}" = 1 ]; then
  /usr/bin/time -v "$YA" generate --model "$DIR/m" --ids "128000 791 4062 14198" --max-tokens 2 --print-ids \
    2>"$DIR/time.txt" >/dev/null || { cat "$DIR/time.txt"; exit 1; }
  grep -E "^prompt:" "$DIR/time.txt"
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$DIR/time.txt")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$DIR/time.txt")
  echo "generate (4-token prompt + 2 tokens): wall $wall (m:ss), max RSS $((rss / 1024)) MB"
fi
