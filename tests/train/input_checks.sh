#!/usr/bin/env bash
# input_checks.sh — training inputs that used to slip through to update 1 (or past it):
#  * prov_entropy above the documented maximum (1e6) is a bad line at load, file:line, exit 1,
#    in weighted and additive mode (additive used to log `loss inf` and exit 0);
#    --default-entropy above it is a usage error (exit 2);
#  * a token id >= the model's vocab_size (tokenizer and config.json disagree) is a bad
#    line at load naming file:line, exit 1, for train and validate (was exit 2 at update 1);
#  * --resume auto when every checkpoint is corrupt warns about each, says that none is
#    valid and trains from update 0 (docs/CHECKPOINTS.md);
#  * a second SIGINT exits at once with 130 instead of finishing the checkpoint.
#   input_checks.sh YOUR_AI WORKDIR   (needs the testdata fixture)
set -euo pipefail
YA=$1 WORK=$2 PY=python3
TOK=${YA_TESTDATA_DIR:?}/llama2/models/tokenizer.json
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

cfg() { # vocab_size
  echo '{"model_type":"llama","hidden_size":16,"intermediate_size":32,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,"vocab_size":'"$1"',"max_position_embeddings":128,"hidden_act":"silu","bos_token_id":1,"eos_token_id":2,"rms_norm_eps":1e-5,"tie_word_embeddings":true}'
}
cfg 32000 >cfg.json
"$YA" init-model --config cfg.json --out m --dtype f32 --seed 1 --tokenizer "$TOK" >/dev/null
rec() { echo "{\"text\": \"the patent describes a measurement of the voltage $1\", \"auth_weight\": 0.3, \"prov_entropy\": $2}"; }
{ rec one 2.5; rec two 4.0; rec three 1e308; rec four 3.0; } >huge.jsonl
{ rec one 2.5; rec two 4.0; rec three 3.5; rec four 3.0; } >good.jsonl
A="--model m --warmup-steps 0 --batch-size 2 --max-seq-length 32 --lora-rank 2 --threads 1 --log-every 1"

expect() { # want_rc what needle cmd...
  local want=$1 what=$2 needle=$3; shift 3
  local rc=0
  timeout 120 "$@" >out.txt 2>err.txt </dev/null || rc=$?
  [ $rc -eq "$want" ] || { tail -5 err.txt >&2; fail "$what: exit $rc, expected $want"; }
  grep -qF -- "$needle" err.txt || { tail -5 err.txt >&2; fail "$what: the message lacks '$needle'"; }
  echo "ok: $what: $(grep -F -- "$needle" err.txt | head -1 | head -c 240)"
}

# 1. prov_entropy range
for mode in weighted additive; do
  expect 1 "prov_entropy 1e308, $mode" "huge.jsonl:3: prov_entropy 1e+308 is above 1e+06" \
    "$YA" train $A --data huge.jsonl --out o_h_$mode --max-steps 2 --distrust-mode $mode
done
expect 2 "--default-entropy 2e6" "--default-entropy must be in [0, 1e+06], got 2e6" \
  "$YA" train $A --data good.jsonl --out o_de --max-steps 1 --default-entropy 2e6
"$YA" train $A --data good.jsonl --out o_ok --max-steps 1 --distrust-mode additive 2>/dev/null || fail "good data does not train"

# 2. token ids past the model's vocabulary: a 300-token model with the 32000-token tokenizer
cfg 300 >small.json
"$YA" init-model --config small.json --out m300 --dtype f32 --seed 1 --tokenizer "$TOK" >/dev/null 2>&1
expect 1 "train, token id >= vocab_size" "good.jsonl:1: token id" \
  "$YA" train --model m300 --data good.jsonl --out o_v --max-steps 1 --warmup-steps 0 --distrust-mode off --threads 1
grep -qF "outside the model's vocabulary [0, 300)" err.txt || fail "train: the vocabulary bound is not named"
expect 1 "validate, token id >= vocab_size" "good.jsonl:1: token id" \
  "$YA" validate --model m300 --data good.jsonl --out r_v.json --bootstrap 0 --threads 1
[ ! -e r_v.json ] || fail "validate wrote a report"

# 3. --resume auto with every checkpoint corrupt
"$YA" train $A --data good.jsonl --out o_r --max-steps 2 --save-every 1 --distrust-mode off 2>/dev/null
n=0
for d in o_r/checkpoint-*; do
  [ -f "$d/adapter_model.safetensors" ] || continue
  printf 'x' >>"$d/adapter_model.safetensors"; n=$((n + 1))
done
[ $n -ge 2 ] || fail "expected at least 2 checkpoints to corrupt, found $n"
expect 0 "--resume auto, every checkpoint corrupt" "--resume auto: no valid checkpoint in o_r; training starts fresh" \
  "$YA" train $A --data good.jsonl --out o_r --max-steps 2 --save-every 1 --distrust-mode off --resume auto
[ "$(grep -c 'skipping o_r/checkpoint-' err.txt)" -ge 2 ] || fail "the corrupt checkpoints were not each reported"
grep -q "resumed from" err.txt && fail "claims to have resumed"
python3 - o_r <<'PYEOF' || fail "the fresh run did not train updates 1 and 2"
import json, sys
st = json.load(open(sys.argv[1] + "/checkpoint-2-final/trainer_state.json"))
assert st["step"] == 2, st["step"]
assert [h["step"] for h in st["loss_history"]] == [1, 2], st["loss_history"]
PYEOF

# 4. a second SIGINT stops at once (130), without waiting for the checkpoint. Updates of
# ~10^10 flops leave the second signal plenty of time to land before the first one's
# checkpoint is written. The second is sent once the first has been taken (no longer
# pending in /proc/PID/status): two signals sent together can merge into one.
"$PY" - <<'PYEOF'
import random
random.seed(3)
words = "the patent describes a measurement of the voltage in the laboratory notebook while the letter records weather crops and trade".split()
with open("long.jsonl", "w") as f:
    for i in range(8):
        f.write('{"text": "%s"}\n' % " ".join(random.choice(words) for _ in range(300)))
PYEOF
"$YA" train --model m --data long.jsonl --out o_s --max-steps 1000000 --warmup-steps 0 --batch-size 4 \
  --max-seq-length 256 --lora-rank 2 --threads 1 --log-every 1 --distrust-mode off >/dev/null 2>sig_err.txt &
pid=$!
for _ in $(seq 1 1200); do
  [ -s o_s/logs/metrics.jsonl ] && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
[ -s o_s/logs/metrics.jsonl ] || { kill -KILL $pid 2>/dev/null; fail "training did not start"; }
kill -INT $pid
sigint_pending() { [ $(( 0x$(awk '/^ShdPnd:/{print $2}' /proc/$pid/status 2>/dev/null || echo 0) & 2 )) -ne 0 ]; }
for _ in $(seq 1 1000); do sigint_pending || break; sleep 0.01; done
kill -INT $pid 2>/dev/null || true
rc=0; wait $pid || rc=$?
[ $rc -eq 130 ] || { tail -3 sig_err.txt >&2; fail "two SIGINTs: exit $rc, expected 130"; }
grep -q "second signal: stopping now" sig_err.txt || fail "no message for the second signal"
echo "ok: second SIGINT: exit 130"
echo "input_checks: all passed"
