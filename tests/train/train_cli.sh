#!/usr/bin/env bash
# train_cli.sh — `your_ai train` end to end on a tiny random model with the
# llama2 tokenizer: checkpoints + exact resume (bytes of the final adapter and
# optimizer equal an uninterrupted run's), SIGINT → checkpoint + exit 0 + hint,
# a non-finite loss stops naming the update (exit 1), --train full writes a
# model directory that `your_ai forward` loads, usage errors exit 2.
#   train_cli.sh YOUR_AI TORCH_PYTHON WORKDIR
set -euo pipefail
YA=$1 PY=$2 WORK=$3
TOK=${YA_TESTDATA_DIR:?}/llama2/models/tokenizer.json
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
echo '{"model_type":"llama","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":32000,"max_position_embeddings":512,"hidden_act":"silu","bos_token_id":1,"eos_token_id":2,"rms_norm_eps":1e-5,"tie_word_embeddings":true}' >cfg.json
"$YA" init-model --config cfg.json --out m --dtype bf16 --seed 1 --tokenizer "$TOK" >/dev/null
"$PY" - <<'PYEOF'
import json, random
random.seed(1)
words = "the patent describes a measurement of the voltage in the laboratory notebook while the letter from the archive records observations about weather crops and trade".split()
with open("train.jsonl", "w") as f, open("val.jsonl", "w") as g:
    for i in range(40):
        t = " ".join(random.choice(words) for _ in range(random.randint(8, 30)))
        rec = {"text": t, "auth_weight": round(random.uniform(0.05, 0.95), 4), "prov_entropy": round(random.uniform(0.5, 6), 4)}
        (f if i < 32 else g).write(json.dumps(rec) + "\n")
PYEOF
A="--model m --data train.jsonl --warmup-steps 2 --learning-rate 1e-3 --batch-size 2 --grad-accum 2 --max-seq-length 64 --log-every 1 --lora-rank 4 --threads 2"

# 1. exact resume (running weight statistics and the data cursor are in the checkpoint)
"$YA" train $A --out o1 --max-steps 8 --save-every 3 --weight-stats running --val val.jsonl --eval-every 4
[ -d o1/checkpoint-8-final ] && [ -d o1/checkpoint-6 ] && [ -d o1/checkpoint-3 ] || fail "checkpoints missing"
grep -q '"split":"val"' o1/logs/metrics.jsonl || fail "no validation loss logged"
"$YA" train $A --out o2 --max-steps 8 --save-every 3 --weight-stats running 2>/dev/null
rm -rf o2/checkpoint-6 o2/checkpoint-8-final
"$YA" train $A --out o2 --max-steps 8 --save-every 3 --weight-stats running --resume auto 2>err.txt
grep -q "resumed from o2/checkpoint-3 at update 3" err.txt || fail "did not resume from checkpoint-3"
cmp o1/checkpoint-8-final/adapter_model.safetensors o2/checkpoint-8-final/adapter_model.safetensors || fail "resumed adapter differs"
cmp o1/checkpoint-8-final/optimizer.safetensors o2/checkpoint-8-final/optimizer.safetensors || fail "resumed optimizer differs"

# 2. SIGINT: finish the update, checkpoint, exit 0 with a resume hint
"$YA" train $A --out o3 --max-steps 1000000 --save-every 0 2>err3.txt &
pid=$!
for _ in $(seq 100); do grep -q "^step 2/" err3.txt 2>/dev/null && break; sleep 0.1; done
kill -INT $pid
rc=0; wait $pid || rc=$?
cat err3.txt | tail -3
[ $rc -eq 0 ] || fail "SIGINT exit code $rc"
grep -q "resume auto" err3.txt || fail "no resume hint"
ls -d o3/checkpoint-* >/dev/null || fail "no checkpoint after SIGINT"

# 3. a non-finite loss stops the run naming the update
rc=0; "$YA" train $A --out o4 --max-steps 5 --learning-rate 1e30 --max-grad-norm 0 2>err4.txt || rc=$?
[ $rc -eq 1 ] || fail "non-finite run exit code $rc"
grep -q "update [0-9]*: the loss is not finite" err4.txt || fail "non-finite loss not named"

# 4. --train full writes a model directory the engine loads
"$YA" train $A --out o5 --max-steps 3 --train full --distrust-mode off
"$YA" forward --model o5/model-3-final --ids "1 5 7" --out o5/logits.safetensors >/dev/null

# 5. packed batches train (documents attend only inside themselves)
"$YA" train $A --out o7 --max-steps 3 --batching pack 2>err7.txt
grep -q "^step 3/3" err7.txt || fail "packed run did not finish"

# 6. usage errors
for bad in "--lora-dropout 1.5" "--lambda auto" "--distrust-mode weighted --lambda 1.5" "--recompute some" "--warmup-steps 8"; do
  rc=0; "$YA" train $A --out o6 --max-steps 8 $bad 2>/dev/null || rc=$?
  [ $rc -eq 2 ] || fail "'$bad': exit code $rc, expected 2"
done
echo "ok train_cli"
