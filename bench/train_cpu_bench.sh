#!/usr/bin/env bash
# train_cpu_bench.sh — CPU LoRA training throughput and peak memory of
# `your_ai train` against its PyTorch peer tools/torch_train_bench.py
# (issue 5, acceptance 5), same run, same threads, same shape, same batch:
# bench/shapes/llama-57m.json (57.6M params: h 512, L 8, 8/4 heads, f 1508,
# V 32000, untied), LoRA r16 alpha 32 on all 7 linear modules of every block,
# B 4 x T 256 tokens per update, AdamW, clipping 1.0, no distrust term (plain CE).
#   bench/train_cpu_bench.sh [BUILD_DIR] [STEPS] [THREADS] [ROUNDS]
# Builds nothing. Each round runs, back to back, five configurations:
#   PyTorch fp32, PyTorch under torch.autocast("cpu", bfloat16) (--autocast-bf16: the
#   fair peer of a bf16 matmul mode), your_ai --matmul fp32 with an f32-stored and with
#   a bf16-stored base (init-model's default), and your_ai --matmul bf16 (bf16 base:
#   frozen-weight GEMMs and lm_head in bf16 with fp32 accumulation, oneDNN).
# Every your_ai line is compared with both PyTorch lines of the same round.
# tok/s counts updates 2..STEPS (update 1 is warm-up) on both sides:
# ours from OUT/logs/metrics.jsonl (--log-every 1: tok_per_s x interval per update),
# the peer's from its own perf_counter around each update; "best update" = B·T over
# the fastest of those updates (the least disturbed by other jobs on a shared box).
# Peak RSS: /usr/bin/time -v.
# Both sides get OMP_NUM_THREADS=THREADS and OMP_WAIT_POLICY=passive (the machine is
# shared: spinning OpenMP workers steal the cores from the other jobs and from each other).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
STEPS=${2:-6}
THREADS=${3:-2}
ROUNDS=${4:-2}
TD=${YA_TESTDATA_DIR:-$BUILD/testdata}
YA=$BUILD/your_ai
PY=${YA_TORCH_PYTHON:-/usr/bin/python3}
SHAPE=$ROOT/bench/shapes/llama-57m.json
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
[ -x "$YA" ] || { echo "train_cpu_bench: $YA not found (build the your_ai target first)" >&2; exit 2; }
[ -f "$TD/brown/ca01" ] || "$ROOT/tools/fetch_testdata.sh" "$TD" >&2
export OMP_NUM_THREADS=$THREADS OMP_WAIT_POLICY=passive

for dt in bf16 f32; do
  "$YA" init-model --config "$SHAPE" --out "$W/model-$dt" --dtype "$dt" \
    --tokenizer "$TD/llama2/models" --threads "$THREADS" >&2
done
# Training text: Brown-corpus prose, 20 sentences a document; packed into full
# 256-token rows, so every update is exactly 4 x 256 tokens, all supervised.
"$PY" - "$TD/brown" "$W/data.jsonl" <<'PY'
import json, os, re, sys
src, out = sys.argv[1], sys.argv[2]
docs, sent = [], []
for name in sorted(os.listdir(src)):
    if not re.fullmatch(r"c[a-r]\d\d", name):
        continue
    for line in open(os.path.join(src, name), encoding="utf-8", errors="replace"):
        line = line.strip()
        if not line:
            continue
        sent.append(" ".join(t.rsplit("/", 1)[0] for t in line.split()))
        if len(sent) == 20:
            docs.append({"text": " ".join(sent)})
            sent = []
    if len(docs) >= 400:
        break
with open(out, "w", encoding="utf-8") as f:
    for d in docs:
        f.write(json.dumps(d) + "\n")
PY

rss_mb() { awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$1"; }

run_ours() {  # $1 = base dtype, $2 = matmul precision, $3 = round
  local out=$W/out-$1-$2-$3
  /usr/bin/time -v -o "$W/time-ours-$1-$2-$3" "$YA" train --model "$W/model-$1" --data "$W/data.jsonl" --matmul "$2" \
    --out "$out" --batching pack --max-seq-length 256 --batch-size 4 --grad-accum 1 \
    --lora-rank 16 --lora-alpha 32 --lora-targets all --max-steps "$STEPS" --warmup-steps 1 \
    --log-every 1 --save-every 0 --distrust-mode off --default-auth 0.5 --default-entropy 3 \
    --threads "$THREADS" 2>"$W/log-ours-$1-$2-$3" || { cat "$W/log-ours-$1-$2-$3" >&2; exit 1; }
  "$PY" - "$out/logs/metrics.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"train"' in l]
tok = sum(r["tok_per_s"] * (r["elapsed"] - p["elapsed"]) for p, r in zip(rows, rows[1:]))
print("%.1f %.1f %s" % (tok / (rows[-1]["elapsed"] - rows[0]["elapsed"]), max(r["tok_per_s"] for r in rows[1:]),
                   ",".join("%.2f" % (r["elapsed"] - p["elapsed"]) for p, r in zip([{"elapsed": 0}] + rows, rows))))
PY
}

run_torch() {  # $1 = fp32 | autocast, $2 = round
  local extra=""; [ "$1" = autocast ] && extra=--autocast-bf16
  /usr/bin/time -v -o "$W/time-torch-$1-$2" "$PY" "$ROOT/tools/torch_train_bench.py" --config "$SHAPE" \
    --batch 4 --seq 256 --rank 16 --alpha 32 --steps "$STEPS" --threads "$THREADS" $extra >"$W/torch-$1-$2.json"
  "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%.1f %.1f %s" % (r["tok_per_s"], r["batch"] * r["seq"] / min(r["step_s"][1:]), ",".join("%.2f" % t for t in r["step_s"])))' \
    "$W/torch-$1-$2.json"
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cpus; $(date -u '+%Y-%m-%d %H:%M UTC')" >&2
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
printf '| round | peer | base weights | matmul | tok/s (updates 2..%s) | vs torch fp32 | vs torch autocast | best update tok/s | vs fp32 / autocast | peak RSS MB | RSS vs fp32 / autocast | update times s | load avg (1 min) at start |\n' "$STEPS"
printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
for r in $(seq 1 "$ROUNDS"); do
  tv=$("$PY" -c 'import torch; print(torch.__version__)')
  la=$(cut -d' ' -f1 /proc/loadavg); read -r t_tps t_best t_steps <<<"$(run_torch fp32 "$r")"; t_rss=$(rss_mb "$W/time-torch-fp32-$r")
  printf '| %s | PyTorch %s | fp32 | fp32 | %s | 1.00x | | %s | | %s | | %s | %s |\n' "$r" "$tv" "$t_tps" "$t_best" "$t_rss" "$t_steps" "$la"
  la=$(cut -d' ' -f1 /proc/loadavg); read -r a_tps a_best a_steps <<<"$(run_torch autocast "$r")"; a_rss=$(rss_mb "$W/time-torch-autocast-$r")
  printf '| %s | PyTorch %s | fp32 | autocast bf16 | %s | %s | 1.00x | %s | %s | %s | %s | %s | %s |\n' "$r" "$tv" "$a_tps" \
    "$(ratio "$a_tps" "$t_tps")" "$a_best" "$(ratio "$a_best" "$t_best")" "$a_rss" "$(ratio "$a_rss" "$t_rss")" "$a_steps" "$la"
  for cfg in "f32 fp32" "bf16 fp32" "bf16 bf16"; do
    set -- $cfg
    la=$(cut -d' ' -f1 /proc/loadavg); read -r o_tps o_best o_steps <<<"$(run_ours "$1" "$2" "$r")"; o_rss=$(rss_mb "$W/time-ours-$1-$2-$r")
    printf '| %s | your_ai | %s stored | %s | %s | %s | %s | %s | %s / %s | %s | %s / %s | %s | %s |\n' "$r" "$1" "$2" "$o_tps" \
      "$(ratio "$o_tps" "$t_tps")" "$(ratio "$o_tps" "$a_tps")" "$o_best" "$(ratio "$o_best" "$t_best")" "$(ratio "$o_best" "$a_best")" \
      "$o_rss" "$(ratio "$o_rss" "$t_rss")" "$(ratio "$o_rss" "$a_rss")" "$o_steps" "$la"
  done
done
