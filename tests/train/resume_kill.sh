#!/usr/bin/env bash
# resume_kill.sh — issue 5, acceptance 3 (SPEC §9 "CI test"): exact resume
# after a real kill. On a tiny random model with the llama2 tokenizer:
#   A: 40 updates straight (--save-every 20);
#   B: the same flags, SIGKILL at a random point inside update 21..30, then
#      --resume auto to 40 (must resume from checkpoint-20);
#   C: the same with SIGINT: exit 0 with checkpoint-<K> at the interrupted
#      update K, then --resume auto to 40 (must resume from checkpoint-K);
#   D: --save-every 1, SIGKILLed again and again — some kills aimed at the
#      moment a checkpoint-*.tmp-<pid> directory exists (a save in flight),
#      some at random — resuming each time; a left-over temporary must be
#      skipped by --resume auto and removed by the next save.
# The final adapter_model.safetensors and optimizer.safetensors of B, C and D
# must be byte-identical to A's, and their metrics.jsonl must hold updates
# 1..40 once each with A's values (the resumed run truncates what the killed
# one logged past its checkpoint). --save-every does not enter the numbers,
# so D compares against A too.
#
# The random choices (which update, which fraction of it) come from bash's
# RANDOM seeded by YA_RESUME_KILL_SEED (default: a fresh $RANDOM, printed);
# the kill timing itself also depends on the machine, so a seed narrows a
# failure down but cannot replay it exactly.
#   resume_kill.sh YOUR_AI TORCH_PYTHON WORKDIR     (YA_RESUME_DEVICE=cuda: on the GPU)
set -euo pipefail
YA=$1 PY=$2 WORK=$3
TOK=${YA_TESTDATA_DIR:?}/llama2/models/tokenizer.json
SEED=${YA_RESUME_KILL_SEED:-$RANDOM}
echo "resume_kill: seed $SEED (reproduce the choices with YA_RESUME_KILL_SEED=$SEED)"
RANDOM=$SEED
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK"
fail() { echo "FAIL (seed $SEED): $*" >&2; exit 1; }

# hidden 64 / 4 heads (head dim 16) on the CPU; the GPU attention needs head dims of 32·k: hidden 128 there.
H=64; [ -n "${YA_RESUME_DEVICE:-}" ] && [ "$YA_RESUME_DEVICE" != cpu ] && H=128
echo '{"model_type":"llama","hidden_size":'$H',"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":32000,"max_position_embeddings":512,"hidden_act":"silu","bos_token_id":1,"eos_token_id":2,"rms_norm_eps":1e-5,"tie_word_embeddings":true}' >cfg.json
"$YA" init-model --config cfg.json --out m --dtype bf16 --seed 1 --tokenizer "$TOK" >/dev/null
"$PY" - <<'PYEOF'
import json, random
random.seed(2)
words = "the patent describes a measurement of the voltage in the laboratory notebook while the letter from the archive records observations about weather crops and trade".split()
with open("train.jsonl", "w") as f:
    for i in range(24):
        t = " ".join(random.choice(words) for _ in range(random.randint(8, 30)))
        rec = {"text": t, "auth_weight": round(random.uniform(0.05, 0.95), 4), "prov_entropy": round(random.uniform(0.5, 6), 4)}
        f.write(json.dumps(rec) + "\n")
PYEOF
# Every piece of state a resume must restore is in play: the shuffled data
# order over several epochs (24 samples, 4 per update), the running weight
# statistics, LoRA dropout masks, warmup + cosine schedule, AdamW moments.
# --threads 1: bit-identity is promised for the same thread count, and one
# thread keeps the run fast on a loaded machine.
ARGS="--model m --data train.jsonl --warmup-steps 3 --learning-rate 1e-3 --batch-size 2 --grad-accum 2
      --max-seq-length 48 --log-every 1 --lora-rank 4 --lora-dropout 0.1 --weight-stats running
      --threads 1 --max-steps 40"
# YA_RESUME_DEVICE=cuda runs the same checks on the GPU graph (tests/cuda/run_train_on_gpu.sh).
if [ -n "${YA_RESUME_DEVICE:-}" ]; then ARGS="$ARGS --device $YA_RESUME_DEVICE"; fi

now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((t / 1000)); }
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
last_step() { grep -o '^step [0-9]*/' "$1" | tail -1 | tr -dc 0-9 || true; }
# Polls (every 5 ms) until update $3 has been logged to $2 and, if $4 names a
# directory, that directory exists; fails if process $1 exits first.
wait_for_step() {
  local pid=$1 log=$2 n=$3 dir=${4:-}
  until grep -q "^step $n/" "$log" 2>/dev/null && { [ -z "$dir" ] || [ -d "$dir" ]; }; do
    kill -0 "$pid" 2>/dev/null || fail "process $pid exited before update $n (see $log)"
    sleep 0.005
  done
}
newest_complete() { # the checkpoint --resume auto must pick: newest with a manifest, no temporaries
  local best=-1 d s
  for d in "$1"/checkpoint-*; do
    [ -d "$d" ] && [ -f "$d/MANIFEST.sha256" ] || continue
    case $d in *.tmp-*) continue ;; esac
    s=${d##*/checkpoint-}; s=${s%-final}
    [ "$s" -gt "$best" ] && best=$s && bestdir=$d
  done
  [ "$best" -ge 0 ] && echo "$bestdir" || true
}
same_as_a() { # $1 = output dir of a resumed run
  local f
  for f in adapter_model.safetensors optimizer.safetensors; do
    cmp a/checkpoint-40-final/$f "$1"/checkpoint-40-final/$f || fail "$1: $f differs from the uninterrupted run"
  done
  "$PY" - a/logs/metrics.jsonl "$1"/logs/metrics.jsonl <<'PYEOF' || fail "$1: metrics.jsonl differs from the uninterrupted run"
import json, sys
def rows(p):
    keys = ("step", "total", "ce", "wce", "distrust", "grad_norm", "lr")
    return [tuple(r.get(k) for k in keys) for r in map(json.loads, open(p)) if r.get("split") == "train"]
a, b = rows(sys.argv[1]), rows(sys.argv[2])
assert [r[0] for r in a] == list(range(1, 41)), "A: steps %r" % [r[0] for r in a]
if a != b:
    for x, y in zip(a, b):
        if x != y: print("first difference: A %r vs %r" % (x, y)); break
    print("A has %d train rows, resumed run %d (steps %r)" % (len(a), len(b), [r[0] for r in b]))
    sys.exit(1)
PYEOF
}

# ---- A: 40 updates straight -------------------------------------------------
t0=$(now_ms)
"$YA" train $ARGS --out a --save-every 20 2>a.err || { cat a.err; fail "run A failed"; }
[ -d a/checkpoint-20 ] && [ -d a/checkpoint-40-final ] || fail "run A: checkpoints missing"
UPDATE_MS=$(( ($(now_ms) - t0) / 40 )); [ $UPDATE_MS -ge 1 ] || UPDATE_MS=1
echo "run A: 40 updates, ~${UPDATE_MS} ms per update (incl. start-up)"

# ---- B / C: one signal inside update 21..30, then --resume auto -------------
# Starts a run in $1, waits for update N ∈ [20, 29] (and checkpoint-20) to be
# logged, sleeps a random fraction of an update and sends $2; the update in
# progress is then N+1 ∈ [21, 30] (checked afterwards from the log: a loaded
# machine can delay the signal, and a miss is retried, not counted).
interrupt_once() {
  local dir=$1 sig=$2 try n frac pid rc hit
  for try in 1 2 3; do
    rm -rf "$dir"
    n=$((20 + RANDOM % 10)) frac=$((RANDOM % 100))
    "$YA" train $ARGS --out "$dir" --save-every 20 2>"$dir.err1" &
    pid=$!
    wait_for_step $pid "$dir.err1" $n "$dir/checkpoint-20"
    sleep_ms $((UPDATE_MS * frac / 100))
    kill -s "$sig" $pid
    rc=0; wait $pid || rc=$?
    hit=$(last_step "$dir.err1")
    if [ "$sig" = KILL ]; then
      [ $rc -eq 137 ] || fail "$dir: SIGKILL exit status $rc, expected 137"
      hit=$((hit + 1)) # the update that was running
    else
      [ $rc -eq 0 ] || { tail -3 "$dir.err1"; fail "$dir: exit status $rc after SIGINT, expected 0"; }
      grep -q "interrupted at update $hit of 40; continue with: --resume auto" "$dir.err1" ||
        { tail -3 "$dir.err1"; fail "$dir: no 'interrupted at update $hit' message after SIGINT"; }
      [ -f "$dir/checkpoint-$hit/MANIFEST.sha256" ] || fail "$dir: no checkpoint-$hit after SIGINT at update $hit"
    fi
    echo "$dir: SIG$sig after update $n's log line + ${frac}% of an update -> landed in update $hit"
    [ $hit -ge 21 ] && [ $hit -le 30 ] && return 0
    echo "$dir: landed outside 21..30 (timing miss), retrying"
  done
  fail "$dir: could not land the signal inside updates 21..30 in 3 tries"
}

interrupt_once b KILL
"$YA" train $ARGS --out b --save-every 20 --resume auto 2>b.err2 || { cat b.err2; fail "run B: resume failed"; }
grep -q "resumed from b/checkpoint-20 at update 20" b.err2 || { cat b.err2; fail "run B did not resume from checkpoint-20"; }
same_as_a b

interrupt_once c INT
K=$(last_step c.err1)
"$YA" train $ARGS --out c --save-every 20 --resume auto 2>c.err2 || { cat c.err2; fail "run C: resume failed"; }
grep -q "resumed from c/checkpoint-$K at update $K" c.err2 || { cat c.err2; fail "run C did not resume from checkpoint-$K"; }
same_as_a c

# ---- D: SIGKILL again and again, some kills inside a checkpoint write -------
# With --save-every 1 a save follows every update; an "in-save" kill spins on
# the directory until a checkpoint-*.tmp-<pid> appears and kills at once.
rm -rf d
kills=0 tmp_left=0 at=0 attempt=0
while [ $attempt -lt 12 ] && [ $at -lt 34 ] && { [ $kills -lt 4 ] || [ $tmp_left -eq 0 ]; }; do
  attempt=$((attempt + 1))
  expect=$(newest_complete d)
  stale=$(compgen -G "d/checkpoint-*.tmp-*" || true)
  "$YA" train $ARGS --out d --save-every 1 --keep-last 2 --resume auto 2>d.err$attempt &
  pid=$!
  target=$((at + 2 + RANDOM % 4))
  wait_for_step $pid d.err$attempt $target
  # whether resume picked the newest complete checkpoint and skipped the temporaries
  if [ -n "$expect" ]; then
    grep -q "resumed from $expect at update" d.err$attempt || { kill -KILL $pid; cat d.err$attempt; fail "D/$attempt: did not resume from $expect"; }
  fi
  for t in $stale; do
    grep -q "skipping $t: incomplete checkpoint" d.err$attempt || { kill -KILL $pid; cat d.err$attempt; fail "D/$attempt: $t not reported as incomplete"; }
  done
  if [ $((attempt % 2)) -eq 1 ] || [ $kills -ge 4 ]; then
    mode="in a save"
    until compgen -G "d/checkpoint-*.tmp-$pid" >/dev/null; do
      kill -0 $pid 2>/dev/null || fail "D/$attempt: process exited while waiting for a save"
    done
  else
    mode="at random"
    sleep_ms $((UPDATE_MS * (RANDOM % 100) / 100))
  fi
  kill -KILL $pid
  wait $pid 2>/dev/null || true
  kills=$((kills + 1))
  at=$(last_step d.err$attempt)
  left=$(compgen -G "d/checkpoint-*.tmp-$pid" || true)
  [ -n "$left" ] && tmp_left=$((tmp_left + 1))
  if [ -f d/latest ]; then # OUT/latest only ever names a complete checkpoint
    named=$(cat d/latest)
    [ -f "d/$named/MANIFEST.sha256" ] || fail "D/$attempt: d/latest names '$named', which is not a complete checkpoint"
  fi
  echo "D/$attempt: SIGKILL $mode after update $at${left:+, left $left}"
done
[ $tmp_left -gt 0 ] || fail "D: no kill landed inside a checkpoint write in $attempt tries"
stale=$(compgen -G "d/checkpoint-*.tmp-*" || true)
"$YA" train $ARGS --out d --save-every 1 --keep-last 2 --resume auto 2>d.err-final || { cat d.err-final; fail "run D: final resume failed"; }
for t in $stale; do grep -q "skipping $t: incomplete checkpoint" d.err-final || fail "D: $t not reported as incomplete"; done
left=$(compgen -G "d/checkpoint-*.tmp-*" || true)
[ -z "$left" ] || fail "D: temporaries left after a completed run: $left"
same_as_a d
echo "ok resume_kill ($kills kills in run D, $tmp_left inside a checkpoint write)"
