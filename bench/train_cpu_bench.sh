#!/usr/bin/env bash
# train_cpu_bench.sh — CPU LoRA training throughput and peak memory of
# `your_ai train` against its PyTorch peer tools/torch_train_bench.py
# (issue 5, acceptance 5), same run, same threads, same shape, same batch:
# bench/shapes/llama-57m.json (57.6M params: h 512, L 8, 8/4 heads, f 1508,
# V 32000, untied), LoRA r16 alpha 32 on all 7 linear modules of every block,
# B 4 x T 256 tokens per update, AdamW, clipping 1.0, no distrust term (plain CE).
#   bench/train_cpu_bench.sh [BUILD_DIR] [STEPS] [THREADS] [ROUNDS]
# Builds nothing. Each round runs, back to back: your_ai with the bf16-stored base
# (init-model's default), your_ai with an f32-stored base, and the PyTorch peer
# (fp32 weights). tok/s counts updates 2..STEPS (update 1 is warm-up) on both sides:
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

run_ours() {  # $1 = dtype, $2 = round
  local out=$W/out-$1-$2
  /usr/bin/time -v -o "$W/time-ours-$1-$2" "$YA" train --model "$W/model-$1" --data "$W/data.jsonl" \
    --out "$out" --batching pack --max-seq-length 256 --batch-size 4 --grad-accum 1 \
    --lora-rank 16 --lora-alpha 32 --lora-targets all --max-steps "$STEPS" --warmup-steps 1 \
    --log-every 1 --save-every 0 --distrust-mode off --default-auth 0.5 --default-entropy 3 \
    --threads "$THREADS" 2>"$W/log-ours-$1-$2" || { cat "$W/log-ours-$1-$2" >&2; exit 1; }
  "$PY" - "$out/logs/metrics.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"train"' in l]
tok = sum(r["tok_per_s"] * (r["elapsed"] - p["elapsed"]) for p, r in zip(rows, rows[1:]))
print("%.1f %.1f %s" % (tok / (rows[-1]["elapsed"] - rows[0]["elapsed"]), max(r["tok_per_s"] for r in rows[1:]),
                   ",".join("%.2f" % (r["elapsed"] - p["elapsed"]) for p, r in zip([{"elapsed": 0}] + rows, rows))))
PY
}

run_torch() {  # $1 = round
  /usr/bin/time -v -o "$W/time-torch-$1" "$PY" "$ROOT/tools/torch_train_bench.py" --config "$SHAPE" \
    --batch 4 --seq 256 --rank 16 --alpha 32 --steps "$STEPS" --threads "$THREADS" >"$W/torch-$1.json"
  "$PY" -c 'import json,sys; r=json.load(open(sys.argv[1])); print("%.1f %.1f %s" % (r["tok_per_s"], r["batch"] * r["seq"] / min(r["step_s"][1:]), ",".join("%.2f" % t for t in r["step_s"])))' \
    "$W/torch-$1.json"
}

echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cpus; $(date -u '+%Y-%m-%d %H:%M UTC')" >&2
printf '| round | peer | base weights | tok/s (updates 2..%s) | ratio vs torch | best update tok/s | ratio | peak RSS MB | RSS vs torch | update times s | load avg (1 min) at start |\n' "$STEPS"
printf '|---|---|---|---|---|---|---|---|---|---|---|\n'
for r in $(seq 1 "$ROUNDS"); do
  la_t=$(cut -d' ' -f1 /proc/loadavg); read -r t_tps t_best t_steps <<<"$(run_torch "$r")"; t_rss=$(rss_mb "$W/time-torch-$r")
  la_b=$(cut -d' ' -f1 /proc/loadavg); read -r b_tps b_best b_steps <<<"$(run_ours bf16 "$r")"; b_rss=$(rss_mb "$W/time-ours-bf16-$r")
  la_f=$(cut -d' ' -f1 /proc/loadavg); read -r f_tps f_best f_steps <<<"$(run_ours f32 "$r")"; f_rss=$(rss_mb "$W/time-ours-f32-$r")
  ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2fx", a / b }'; }
  printf '| %s | PyTorch %s | fp32 | %s | 1.00x | %s | 1.00x | %s | 1.00x | %s | %s |\n' "$r" \
    "$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["torch"])' "$W/torch-$r.json")" \
    "$t_tps" "$t_best" "$t_rss" "$t_steps" "$la_t"
  printf '| %s | your_ai | f32 stored | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$r" "$f_tps" "$(ratio "$f_tps" "$t_tps")" \
    "$f_best" "$(ratio "$f_best" "$t_best")" "$f_rss" "$(ratio "$f_rss" "$t_rss")" "$f_steps" "$la_f"
  printf '| %s | your_ai | bf16 stored | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$r" "$b_tps" "$(ratio "$b_tps" "$t_tps")" \
    "$b_best" "$(ratio "$b_best" "$t_best")" "$b_rss" "$(ratio "$b_rss" "$t_rss")" "$b_steps" "$la_b"
done
