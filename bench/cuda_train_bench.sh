#!/usr/bin/env bash
# cuda_train_bench.sh — GPU LoRA training throughput and peak device memory of
# `your_ai train --device cuda` against HF transformers + PEFT on the same GPU, in the same
# call (issue 6, acceptance 4). Run on the GPU machine from the repository root, after building
# the your_ai target:
#   bench/cuda_train_bench.sh [BUILD_DIR] [OUTDIR]        (defaults: build, out/cuda-train-bench)
#
# Shapes: init-model presets llama3-1b (B 4) and llama3-8b (B 1), random bf16 weights, T 2048;
# the peer builds the same shapes from init-model's config.json (tools/peft_train_bench.py).
# Both sides: LoRA r 16, alpha 32, dropout 0 on q,k,v,o,gate,up,down of every block, AdamW
# (lr 5e-5, wd 0.01; the peer's is torch's fused one), clipping 1.0, plain next-token CE over
# every position (ours: --distrust-mode off, packed rows of one 2048-token Brown-corpus document
# each, so every row is full; the peer: random ids, loss = LlamaForCausalLM(labels=ids)).
# Each configuration runs in its own process, one after the other; a failing one leaves a
# "failed" row (its log under OUTDIR/logs) and the script goes on. Order: first, for every shape,
# the goal's pair (ours with --recompute none, the compiled peer); then ours with --recompute
# layer and the eager peer; then the compiled peer with gradient checkpointing — so a run cut
# short by BUDGET still has the rows that matter.
#
# Timing: WARMUP (3) untimed updates, then STEPS (8) timed ones; torch.compile peers get
# COMPILE_WARMUP (2) warm-up updates: their wall time (the compilation) is the "warm-up s" column.
# Ours: OUT/logs/metrics.jsonl (--log-every 1): per update elapsed, tok_per_s (tokens since the
# previous row / time since it) and gpu_bytes (the device arena, allocated once).
# Memory columns: peak alloc / reserved = ours: the arena; peer: torch.cuda.max_memory_allocated
# / max_memory_reserved over the whole run. nvidia-smi peak = the GPU's memory.used sampled every
# 100 ms during the process minus the value just before it started (includes the CUDA context and
# library workspaces on both sides): the like-for-like number, used for "mem × ref" when present.
#
# % of the GEMM rate: tok/s · F_tok / the measured bf16 8192³ torch.matmul rate (median of 20),
#   F_tok = 4·N_mm + 6·N_lora + 7·L·T·h_attn FLOPs per token (model FLOPs; recompute not counted)
#   N_mm   = L·(h·h_q + 2·h·h_kv + h_q·h + 3·h·f) + h·V   (frozen: 2 forward + 2 for dx, no dW)
#   N_lora = Σ r·(in + out) over the adapted linears       (2 forward + 2 dx + 2 dW)
#   7·L·T·h_attn = causal attention: forward QKᵀ + PV = 2·2·L·(T/2)·h_attn, backward 2.5× that.
#   (T 2048: llama3-1b 5.48 GFLOP/token, llama3-8b 32.15.)
#
# Environment (all optional):
#   YA_TESTDATA_DIR  test data with llama3/models/tokenizer.json and brown/ (default BUILD/testdata;
#                    the GPU machine cannot fetch it: carry a copy, e.g. build-gpu-testdata)
#   YA_PEER_PYTHON   python with torch (CUDA), transformers, peft (default python3)
#   SHAPES           "llama3-1b llama3-8b"     BATCH_1B "4"   BATCH_8B "1"  (lists: "1 2")
#   OURS             "none layer"              --recompute values of our runs ("" = none)
#   PEERS            "compiled eager compiled-recompute"  (also eager-recompute; "" = none)
#   STEPS 8, WARMUP 3, COMPILE_WARMUP 2, SEQ 2048, GEMM 1 (0 skips the GEMM rate)
#   OURS_TIMEOUT 240, PEER_TIMEOUT 300         seconds per configuration (timeout(1))
#   BUDGET 470       seconds for the whole script: each configuration's limit is cut to what is
#                    left, and one with less than MIN_LEFT (25) s left is skipped (a "skipped" row)
#   WORK_DIR         models and run directories (default /tmp/ya-cuda-train-bench; llama3-8b
#                    is 16 GB: never put it under OUTDIR). Models are kept and reused.
#   EXTRA_TRAIN_FLAGS extra flags for our runs, e.g. "--ce-chunk 8192"
# Output: the markdown tables on stdout and in OUTDIR/summary.md; OUTDIR/results/*.json (one per
# configuration: re-summarise with `tools/peft_train_bench.py --summarize OUTDIR/results`),
# OUTDIR/logs/ (every process's output, our metrics.jsonl), OUTDIR/env.txt, OUTDIR/commands.txt.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
OUTDIR=${2:-$ROOT/out/cuda-train-bench}
YA=$BUILD/your_ai
TD=${YA_TESTDATA_DIR:-$BUILD/testdata}
PY=${YA_PEER_PYTHON:-python3}
TOOL=$ROOT/tools/peft_train_bench.py
SHAPES=${SHAPES-llama3-1b llama3-8b}
OURS=${OURS-none layer}
PEERS=${PEERS-compiled eager compiled-recompute}
STEPS=${STEPS:-8}
WARMUP=${WARMUP:-3}
COMPILE_WARMUP=${COMPILE_WARMUP:-2}
SEQ=${SEQ:-2048}
GEMM=${GEMM:-1}
OURS_TIMEOUT=${OURS_TIMEOUT:-240}
PEER_TIMEOUT=${PEER_TIMEOUT:-300}
W=${WORK_DIR:-/tmp/ya-cuda-train-bench}
EXTRA_TRAIN_FLAGS=${EXTRA_TRAIN_FLAGS:-}
RES=$OUTDIR/results
LOG=$OUTDIR/logs

BUDGET=${BUDGET:-470}
MIN_LEFT=${MIN_LEFT:-25}

die() { echo "cuda_train_bench: $*" >&2; exit 2; }
# Seconds a configuration may run: its own limit, cut to what is left of BUDGET.
limit() {
    local t=$1 left=$((BUDGET - (SECONDS - T0)))
    [ "$left" -lt "$t" ] && t=$left
    echo "$t"
}
[ -x "$YA" ] || die "$YA not found (build the your_ai target first: cmake --build $BUILD --target your_ai)"
[ -f "$TD/llama3/models/tokenizer.json" ] || die "no $TD/llama3/models/tokenizer.json: set YA_TESTDATA_DIR (the GPU machine cannot fetch it: carry a copy)"
[ -f "$TD/brown/ca01" ] || die "no $TD/brown/ca01: set YA_TESTDATA_DIR to a test data copy with brown/"
command -v "$PY" >/dev/null || die "no python '$PY' (set YA_PEER_PYTHON)"
mkdir -p "$RES" "$LOG" "$W" || die "cannot create $OUTDIR or $W"
rm -f "$RES"/*.json "$RES"/*.smi "$RES"/*.tmp
T0=$SECONDS
note() { echo "[$((SECONDS - T0))s] $*" | tee -a "$LOG/progress.txt" >&2; }
cmdlog() { printf '%q ' "$@" >>"$OUTDIR/commands.txt"; echo >>"$OUTDIR/commands.txt"; }
: >"$OUTDIR/commands.txt"

batches_of() {
    case $1 in
    llama3-1b) echo "${BATCH_1B:-4}" ;;
    llama3-8b) echo "${BATCH_8B:-1}" ;;
    *) echo "${BATCH:-1}" ;;
    esac
}

{
    date -u '+%Y-%m-%d %H:%M:%S UTC'
    nvidia-smi -L 2>&1
    nvidia-smi --query-gpu=name,driver_version,memory.total,memory.used,clocks.max.sm,power.limit --format=csv 2>&1
    echo "cpu: $(nproc) cores, $(sed -n 's/^model name\t*: //p' /proc/cpuinfo | head -1)"
    echo "your_ai: $YA"
    "$PY" -c 'import sys, torch, transformers, peft; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__, "peft", peft.__version__)' 2>&1 | tail -1
    df -h "$W" | tail -1
} >"$OUTDIR/env.txt" 2>&1
cat "$OUTDIR/env.txt" >&2
"$YA" train --help 2>/dev/null | grep -q -- '--device' ||
    echo "cuda_train_bench: warning: this your_ai train has no --device flag: our runs will fail" >&2

# nvidia-smi sampler around one process: "peak_MiB baseline_MiB" into $1.
SMI_PID=
smi_start() {
    SMI_PID=
    command -v nvidia-smi >/dev/null || return 0
    SMI_BASE=$(nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -i "${SMI_GPU:-0}" 2>/dev/null | head -1)
    SMI_FILE=$W/smi.$$.txt
    nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -i "${SMI_GPU:-0}" -lms 100 >"$SMI_FILE" 2>/dev/null &
    SMI_PID=$!
}
smi_stop() {
    [ -n "$SMI_PID" ] || return 0
    kill "$SMI_PID" 2>/dev/null
    wait "$SMI_PID" 2>/dev/null
    local peak
    peak=$(grep -E '^[0-9]+$' "$SMI_FILE" | sort -n | tail -1)
    [ -n "$peak" ] && [ -n "${SMI_BASE:-}" ] && echo "$peak $SMI_BASE" >"$1"
    rm -f "$SMI_FILE"
    SMI_PID=
}
trap 'smi_stop /dev/null' EXIT

# Training text: Brown-corpus documents of two whole files each (~4,500 words, > 2048 llama3
# tokens), so in pack mode every row holds one document's first 2048 tokens: full rows, no
# padding, plain causal attention over the row as on the peer.
make_data() {
    local need=$1
    "$PY" - "$TD/brown" "$W/data.jsonl" "$need" <<'PY'
import json, os, re, sys
src, out, need = sys.argv[1], sys.argv[2], int(sys.argv[3])
names = sorted(n for n in os.listdir(src) if re.fullmatch(r"c[a-r]\d\d", n))
docs = []
for i in range(0, len(names) - 1, 2):
    words = []
    for n in names[i:i + 2]:
        for line in open(os.path.join(src, n), encoding="utf-8", errors="replace"):
            words.extend(t.rsplit("/", 1)[0] for t in line.split())
    docs.append({"text": " ".join(words)})
    if len(docs) >= need:
        break
if len(docs) < need:
    sys.exit("cuda_train_bench: only %d documents from %s, need %d" % (len(docs), src, need))
with open(out, "w", encoding="utf-8") as f:
    for d in docs:
        f.write(json.dumps(d) + "\n")
print("cuda_train_bench: %d documents, %d words" % (len(docs), sum(len(d["text"].split()) for d in docs)),
      file=sys.stderr)
PY
}

stub() { # kind label shape batch rc log json
    "$PY" "$TOOL" --stub --stub-kind "$1" --label "$2" --shape "$3" --batch "$4" --seq "$SEQ" --rc "$5" \
        --error-log "$6" --json "$7" >/dev/null ||
        echo "cuda_train_bench: could not write the failure row $7" >&2
}

init_model() { # shape
    local m=$W/$1
    [ -f "$m/.ok" ] && return 0
    rm -rf "$m"
    cmdlog "$YA" init-model --preset "$1" --out "$m" --tokenizer "$TD/llama3/models" --dtype bf16
    "$YA" init-model --preset "$1" --out "$m" --tokenizer "$TD/llama3/models" --dtype bf16 \
        >"$LOG/init-$1.log" 2>&1 && touch "$m/.ok"
}

run_ours() { # shape batch recompute
    local shape=$1 B=$2 rc_mode=$3 name out rc
    name=ours-$shape-B$2-$3
    out=$W/run-$name
    rm -rf "$out"
    note "$name"
    if [ "$(limit "$OURS_TIMEOUT")" -lt "$MIN_LEFT" ]; then
        stub ours "your_ai (recompute $rc_mode)" "$shape" "$B" skip /dev/null "$RES/$name.json"
        return 0
    fi
    # shellcheck disable=SC2086
    set -- "$YA" train --model "$W/$shape" --data "$W/data.jsonl" --out "$out" --device cuda \
        --recompute "$rc_mode" --batch-size "$B" --grad-accum 1 --max-seq-length "$SEQ" --batching pack \
        --lora-rank 16 --lora-alpha 32 --lora-targets all --max-steps $((WARMUP + STEPS)) --warmup-steps 1 \
        --log-every 1 --save-every 0 --distrust-mode off --default-auth 0.5 --default-entropy 3 \
        --progress plain $EXTRA_TRAIN_FLAGS
    cmdlog "$@"
    smi_start
    timeout "$(limit "$OURS_TIMEOUT")" "$@" >"$LOG/$name.log" 2>&1
    rc=$?
    smi_stop "$RES/$name.smi"
    cp "$out/logs/metrics.jsonl" "$LOG/$name.metrics.jsonl" 2>/dev/null
    if [ "$rc" = 0 ] && [ -s "$LOG/$name.metrics.jsonl" ] &&
        "$PY" "$TOOL" --from-metrics "$LOG/$name.metrics.jsonl" --shape "$shape" --config "$W/$shape/config.json" \
            --batch "$B" --seq "$SEQ" --warmup "$WARMUP" --recompute-name "$rc_mode" \
            --label "your_ai (recompute $rc_mode)" --json "$RES/$name.json" >/dev/null 2>>"$LOG/$name.log"; then
        :
    else
        echo "cuda_train_bench: $name failed (exit $rc): $(tail -2 "$LOG/$name.log" | tr '\n' ' ')" >&2
        stub ours "your_ai (recompute $rc_mode)" "$shape" "$B" "$rc" "$LOG/$name.log" "$RES/$name.json"
    fi
    rm -rf "$out" # its final checkpoint: adapter + AdamW moments (~0.5 GB for llama3-8b)
}

run_peer() { # shape batch variant
    local shape=$1 B=$2 v=$3 c r wu name rc
    case $v in
    eager) c=0 r=0 ;;
    compiled) c=1 r=0 ;;
    eager-recompute) c=0 r=1 ;;
    compiled-recompute) c=1 r=1 ;;
    *) echo "cuda_train_bench: unknown peer variant '$v' (eager, compiled, eager-recompute, compiled-recompute)" >&2; return 0 ;;
    esac
    wu=$WARMUP
    [ "$c" = 1 ] && wu=$COMPILE_WARMUP
    name=peer-$shape-B$B-$v
    note "$name"
    if [ "$(limit "$PEER_TIMEOUT")" -lt "$MIN_LEFT" ]; then
        stub peer "transformers+PEFT $v" "$shape" "$B" skip /dev/null "$RES/$name.json"
        return 0
    fi
    set -- "$PY" "$TOOL" --shape "$shape" --config "$W/$shape/config.json" --batch "$B" --seq "$SEQ" \
        --steps "$STEPS" --warmup "$wu" --compile "$c" --recompute "$r" --label "transformers+PEFT $v" \
        --json "$RES/$name.json"
    cmdlog "$@"
    smi_start
    timeout "$(limit "$PEER_TIMEOUT")" "$@" >"$LOG/$name.log" 2>&1
    rc=$?
    smi_stop "$RES/$name.smi"
    if [ "$rc" != 0 ]; then
        echo "cuda_train_bench: $name failed (exit $rc): $(grep -v '^ ' "$LOG/$name.log" | tail -1)" >&2
        [ -s "$RES/$name.json" ] || stub peer "transformers+PEFT $v" "$shape" "$B" "$rc" "$LOG/$name.log" "$RES/$name.json"
    fi
}

summarize() { "$PY" "$TOOL" --summarize "$RES" >"$OUTDIR/summary.md" 2>>"$LOG/summarize.log"; }

if [ "$GEMM" = 1 ]; then
    note "gemm rate"
    cmdlog "$PY" "$TOOL" --gemm-rate --json "$RES/gemm.json"
    timeout "$(limit 180)" "$PY" "$TOOL" --gemm-rate --json "$RES/gemm.json" >"$LOG/gemm.log" 2>&1 ||
        echo "cuda_train_bench: GEMM rate failed: $(tail -1 "$LOG/gemm.log")" >&2
fi

maxb=1
for s in $SHAPES; do for b in $(batches_of "$s"); do [ "$b" -gt "$maxb" ] && maxb=$b; done; done
note "data"
make_data $((maxb * (WARMUP + STEPS) + 8)) 2>>"$LOG/data.log" || die "could not write $W/data.jsonl (see $LOG/data.log)"

# Priority 1 = the goal's pair (ours without recompute, the compiled peer) for every shape, then
# 2 (our other modes, the eager peer), then 3 (the recompute peers): a run cut short by BUDGET
# still has both shapes' headline rows.
prio_ours() { [ "$1" = none ] && echo 1 || echo 2; }
prio_peer() { case $1 in compiled) echo 1 ;; eager) echo 2 ;; *) echo 3 ;; esac; }
declare -A INIT_DONE=()
for p in 1 2 3; do
    for shape in $SHAPES; do
        if [ -z "${INIT_DONE[$shape]:-}" ]; then
            INIT_DONE[$shape]=1
            note "init-model $shape"
            init_model "$shape" ||
                echo "cuda_train_bench: init-model $shape failed: $(tail -2 "$LOG/init-$shape.log" | tr '\n' ' ')" >&2
        fi
        if [ ! -f "$W/$shape/.ok" ]; then
            continue
        fi
        for B in $(batches_of "$shape"); do
            for m in $OURS; do [ "$(prio_ours "$m")" = "$p" ] && run_ours "$shape" "$B" "$m"; done
            for v in $PEERS; do [ "$(prio_peer "$v")" = "$p" ] && run_peer "$shape" "$B" "$v"; done
            summarize
        done
    done
done
summarize
note "done"
echo
echo "## GPU LoRA training: your_ai vs transformers + PEFT ($(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1), $(date -u '+%Y-%m-%d %H:%M UTC'), $((SECONDS - T0)) s)"
echo
cat "$OUTDIR/summary.md"
