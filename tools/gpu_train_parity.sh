#!/usr/bin/env bash
# gpu_train_parity.sh — issue 6, acceptance 2b: "20 LoRA steps on GPU track the CPU run's losses
# within 1e-2 relative". Runs the same `your_ai train` command twice, --device cpu and
# --device cuda, on a small random bf16 model (init-model --preset tiny: h 256, L 4, 8/4 heads,
# f 688, V 32000, tied) and Brown-corpus documents carrying varied auth_weight / prov_entropy,
# under the weighted Empirical Distrust loss (the default mode), then compares every logged
# update's loss parts (total, ce, wce) and the validation CE row by row:
#     rel = |cuda − cpu| / max(|cpu|, 1e-6)   must be ≤ TOL (1e-2) for every row and field.
# grad_norm is printed too (informational: bf16 activations move it more than the loss).
# The CPU side is the fp32 engine checked against PyTorch (tests/train); so this ties the GPU
# trajectory, through 20 AdamW updates, to a reference-checked one.
#
#   tools/gpu_train_parity.sh BUILD_DIR OUTDIR
# Run on the GPU machine from the repository root. Needs YA_TESTDATA_DIR (default
# BUILD_DIR/testdata) with llama2/models/tokenizer.json and brown/ (the GPU machine cannot fetch
# it: carry a copy). Optional: STEPS (20), TOL (1e-2), LR (1e-3), BATCHING (pack|pad, pack),
# SEQ (256), BATCH (4), ACCUM (2), PRESET (tiny), YA_PY (python3: stdlib only),
# EXTRA_TRAIN_FLAGS (both runs), CPU_THREADS (the CPU run's --threads, default all).
# Writes OUTDIR/{cpu,cuda}.log, OUTDIR/{cpu,cuda}.metrics.jsonl, OUTDIR/compare.txt,
# OUTDIR/commands.txt. Exit 0: every row within TOL; 1: a row over TOL, a failed run or missing
# rows; 2: usage / setup error.
set -u
[ $# -ge 2 ] || { echo "usage: tools/gpu_train_parity.sh BUILD_DIR OUTDIR" >&2; exit 2; }
BUILD=$1
OUTDIR=$2
YA=$BUILD/your_ai
TD=${YA_TESTDATA_DIR:-$BUILD/testdata}
PY=${YA_PY:-python3}
STEPS=${STEPS:-20}
TOL=${TOL:-1e-2}
LR=${LR:-1e-3}
BATCHING=${BATCHING:-pack}
SEQ=${SEQ:-256}
BATCH=${BATCH:-4}
ACCUM=${ACCUM:-2}
PRESET=${PRESET:-tiny}
EXTRA_TRAIN_FLAGS=${EXTRA_TRAIN_FLAGS:-}

die() { echo "gpu_train_parity: $*" >&2; exit 2; }
[ -x "$YA" ] || die "$YA not found (build the your_ai target first)"
[ -f "$TD/llama2/models/tokenizer.json" ] || die "no $TD/llama2/models/tokenizer.json: set YA_TESTDATA_DIR (carry a copy to the GPU machine)"
[ -f "$TD/brown/ca01" ] || die "no $TD/brown/ca01: set YA_TESTDATA_DIR"
command -v "$PY" >/dev/null || die "no python '$PY' (set YA_PY)"
mkdir -p "$OUTDIR" || die "cannot create $OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
W=$(mktemp -d) || die "mktemp failed"
trap 'rm -rf "$W"' EXIT
: >"$OUTDIR/commands.txt"
"$YA" train --help 2>/dev/null | grep -q -- '--device' || die "this your_ai train has no --device flag"

# 1. A small random bf16 model with the Mistral/Llama-2 tokenizer (V 32000, as the preset).
"$YA" init-model --preset "$PRESET" --out "$W/model" --dtype bf16 --seed 7 --tokenizer "$TD/llama2/models" \
    >"$OUTDIR/init.log" 2>&1 || { cat "$OUTDIR/init.log" >&2; die "init-model failed"; }

# 2. Data: Brown-corpus documents of 1–12 sentences (~20–400 tokens: packing puts several
#    documents in a row, so the segment masks are exercised; longer ones are truncated), auth_weight in [0.05, 0.95] and
#    prov_entropy in [0.5, 7.5] varying per document so the distrust weights ω differ.
"$PY" - "$TD/brown" "$W/train.jsonl" "$W/val.jsonl" <<'PY' || die "could not write the data"
import json, os, re, sys
src, train, val = sys.argv[1:4]
sents = []
for name in sorted(os.listdir(src)):
    if not re.fullmatch(r"c[a-r]\d\d", name):
        continue
    for line in open(os.path.join(src, name), encoding="utf-8", errors="replace"):
        if line.strip():
            sents.append(" ".join(t.rsplit("/", 1)[0] for t in line.split()))
    if len(sents) > 6000:
        break
docs, i, k = [], 0, 0
while i < len(sents) and len(docs) < 400:
    n = 1 + (k * 7) % 12
    w = 0.05 + 0.9 * ((k * 37) % 101) / 100.0
    h = 0.5 + 7.0 * ((k * 53) % 97) / 96.0
    docs.append({"text": " ".join(sents[i:i + n]), "auth_weight": round(w, 4), "prov_entropy": round(h, 4)})
    i += n
    k += 1
with open(train, "w", encoding="utf-8") as f:
    for d in docs[:360]:
        f.write(json.dumps(d) + "\n")
with open(val, "w", encoding="utf-8") as f:
    for d in docs[360:]:
        f.write(json.dumps(d) + "\n")
PY

# 3. The same command on both devices (only --device and --out differ).
run() { # device
    local dev=$1
    local threads=()
    [ "$dev" = cpu ] && [ -n "${CPU_THREADS:-}" ] && threads=(--threads "$CPU_THREADS")
    # shellcheck disable=SC2086
    set -- "$YA" train --model "$W/model" --data "$W/train.jsonl" --val "$W/val.jsonl" --out "$W/out-$dev" \
        --device "$dev" --max-steps "$STEPS" --log-every 1 --eval-every 10 --eval-batches 4 \
        --learning-rate "$LR" --warmup-steps $((STEPS > 2 ? 2 : 1)) --batch-size "$BATCH" --grad-accum "$ACCUM" \
        --max-seq-length "$SEQ" --batching "$BATCHING" --lora-rank 16 --lora-alpha 32 --lora-targets all \
        --distrust-mode weighted --save-every 0 --seed 42 --progress plain "${threads[@]}" $EXTRA_TRAIN_FLAGS
    printf '%q ' "$@" >>"$OUTDIR/commands.txt"
    echo >>"$OUTDIR/commands.txt"
    local t0=$SECONDS rc
    "$@" >"$OUTDIR/$dev.log" 2>&1
    rc=$?
    echo "gpu_train_parity: --device $dev: exit $rc in $((SECONDS - t0)) s" >&2
    cp "$W/out-$dev/logs/metrics.jsonl" "$OUTDIR/$dev.metrics.jsonl" 2>/dev/null
    if [ "$rc" != 0 ]; then
        echo "gpu_train_parity: --device $dev failed (exit $rc), last lines of $OUTDIR/$dev.log:" >&2
        tail -5 "$OUTDIR/$dev.log" >&2
    fi
    return "$rc"
}
fail=0
run cpu || fail=1
run cuda || fail=1
[ "$fail" = 0 ] || exit 1

# 4. Row-by-row comparison.
"$PY" - "$OUTDIR/cpu.metrics.jsonl" "$OUTDIR/cuda.metrics.jsonl" "$TOL" "$STEPS" <<'PY' | tee "$OUTDIR/compare.txt"
import json, math, sys
cpu_p, gpu_p, tol, steps = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])

def rows(path):
    out = {}
    for line in open(path, encoding="utf-8"):
        if line.strip():
            r = json.loads(line)
            out[(r["split"], r["step"])] = r
    return out

cpu, gpu = rows(cpu_p), rows(gpu_p)
def rel(a, b):
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
        return math.inf
    return abs(b - a) / max(abs(a), 1e-6)

bad, worst = [], {}
print("%-5s %-5s %-10s %12s %12s %10s" % ("split", "step", "field", "cpu", "cuda", "rel diff"))
keys = sorted(set(cpu) | set(gpu), key=lambda k: (k[0] != "train", k[1]))
n_train = sum(1 for k in cpu if k[0] == "train")
if n_train != steps:
    bad.append("cpu run logged %d train rows, expected %d" % (n_train, steps))
if not any(k[0] == "val" for k in cpu):
    print("note: no val rows (validation not logged): only the training losses are compared")
for k in keys:
    if k not in cpu or k not in gpu:
        bad.append("%s step %s: only in the %s run" % (k[0], k[1], "cpu" if k in cpu else "cuda"))
        continue
    fields = ["total", "ce", "wce"] if k[0] == "train" else ["ce"]
    for f in fields + (["grad_norm"] if k[0] == "train" else []):
        a, b = cpu[k].get(f), gpu[k].get(f)
        if a is None and b is None:
            continue
        d = rel(a, b)
        gated = f in fields
        print("%-5s %-5d %-10s %12.6f %12.6f %10.2e%s" % (k[0], k[1], f, a if a is not None else math.nan,
              b if b is not None else math.nan, d, "" if gated else "  (not gated)"))
        if gated:
            worst[(k[0], f)] = max(worst.get((k[0], f), 0.0), d)
            if d > tol:
                bad.append("%s step %d %s: cpu %r cuda %r rel %.3e > %g" % (k[0], k[1], f, a, b, d, tol))
print()
for (s, f), d in sorted(worst.items()):
    print("max rel diff %-5s %-5s %.3e" % (s, f, d))
if bad:
    print("FAIL (%d):" % len(bad))
    for b in bad[:20]:
        print("  " + b)
    sys.exit(1)
print("PASS: every logged %s and validation ce within %g relative over %d updates" % ("total/ce/wce", tol, steps))
PY
exit "${PIPESTATUS[0]}"
