#!/usr/bin/env bash
# train_cli.sh — `your_ai train` end to end on a tiny random model with the
# llama2 tokenizer: checkpoints + exact resume (bytes of the final adapter and
# optimizer equal an uninterrupted run's), SIGINT → checkpoint + exit 0 + hint,
# a non-finite loss stops naming the update (exit 1), --train full writes a
# model directory that `your_ai forward` loads, usage errors exit 2;
# trainer_state.json / run_config.json carry every SPEC §9 field (identity
# hashes recomputed here from the files), resuming on a different model fails
# naming what differs, a changed --max-steps/--learning-rate resumes with a
# warning, and a pseudo-terminal gets the redrawn progress bar.
#   train_cli.sh YOUR_AI TORCH_PYTHON WORKDIR
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
YA=$1 PY=$2 WORK=$3
TOK=${YA_TESTDATA_DIR:?}/llama2/models/tokenizer.json
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$HERE/tiny_setup.sh"
tiny_model "$YA" "$TOK"
tiny_corpus "$PY" 1 8 30 "the patent describes a measurement of the voltage in the laboratory notebook while the letter from the archive records observations about weather crops and trade" train.jsonl:32 val.jsonl:8
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

# 1b. SPEC §9 files. Hashes, history and flags recomputed independently of the engine.
"$YA" train --help >help.txt
"$PY" - o1/checkpoint-8-final m train.jsonl o1/logs/metrics.jsonl help.txt <<'PYEOF' || fail "trainer_state.json / run_config.json incomplete"
import hashlib, json, math, re, struct, sys, glob, os
ck, model, train, metrics, helptxt = sys.argv[1:]
st = json.load(open(ck + "/trainer_state.json")); rc = json.load(open(ck + "/run_config.json"))
for k in ["step", "rng", "data", "weight_stats", "loss_history", "best_val", "wall_time_s", "library_version"]:
    assert k in st, "trainer_state.json lacks " + k
assert st["step"] == 8 and st["wall_time_s"] > 0 and st["library_version"]
rng = st["rng"]
assert rng["seed"] == 42 and rng["seed_hex"] == "%016x" % 42
assert re.fullmatch(r"[0-9a-f]{16}(:[0-9a-f]{16}){3}", rng["data_order"]["state"]), rng
assert rng["data_order"]["tag"] == "epoch:%d" % st["data"]["epoch"] and rng["data_order"]["position"] == st["data"]["position"]
assert rng["lora_dropout"]["next_counter"] == 8 * 2
assert st["data"]["files"][0]["sha256"] == hashlib.sha256(open(train, "rb").read()).hexdigest()
ws = st["weight_stats"]
assert ws["mode"] == "running" and ws["running"]["n"] > 0
assert abs(ws["mu"] - ws["running"]["sum_d"] / ws["running"]["n"]) < 1e-12
rows = [json.loads(l) for l in open(metrics)]
train_rows = [r for r in rows if r.get("split") == "train"]
val_rows = [r for r in rows if r.get("split") == "val"]
hist = st["loss_history"]
assert [h["step"] for h in hist] == list(range(1, 9)), hist
for h, r in zip(hist, train_rows):
    for k in ["total", "ce", "wce", "distrust", "grad_norm", "lr"]:
        assert k in h, k
        if h[k] is not None and isinstance(r.get(k), float): assert abs(h[k] - r[k]) <= 1e-9 * max(1, abs(r[k])), (k, h, r)
best = min(val_rows, key=lambda r: r["ce"])
assert st["best_val"]["step"] == best["step"] and abs(st["best_val"]["ce"] - best["ce"]) < 1e-9, (st["best_val"], best)
# every flag of `train --help` is resolved in run_config.json
# (--config is not a setting: the file's flags are recorded under their own keys)
alias = {"lora-preset": None, "lambda-weight": None, "no-append-eos": "append_eos", "config": None}
for flag in re.findall(r"^  --([a-z-]+)", open(helptxt).read(), re.M):
    key = alias.get(flag, flag.replace("-", "_"))
    if key: assert key in rc, "run_config.json lacks --" + flag
assert rc["max_steps"] == 8 and rc["learning_rate"] == 1e-3 and rc["lora_rank"] == 4 and rc["grad_accum"] == 2
# model identity: sha256 of config.json, of the sorted "name dtype [shape]" lines, of tokenizer.json
mi = rc["model_identity"]
sha = lambda p: hashlib.sha256(open(p, "rb").read()).hexdigest()
assert mi["config_sha256"] == sha(model + "/config.json")
assert mi["tokenizer_sha256"] == sha(model + "/tokenizer.json")
lines = []
for f in sorted(glob.glob(model + "/*.safetensors")):
    with open(f, "rb") as fp:
        n = struct.unpack("<Q", fp.read(8))[0]; hdr = json.loads(fp.read(n))
    lines += ["%s %s [%s]" % (k, v["dtype"], ",".join(map(str, v["shape"]))) for k, v in hdr.items() if k != "__metadata__"]
lines.sort(key=lambda s: s.encode())
assert mi["tensors"] == lines, (mi["tensors"][:3], lines[:3])
assert mi["tensors_sha256"] == hashlib.sha256("".join(l + "\n" for l in lines).encode()).hexdigest()
PYEOF

# 1c. resume on a different base model fails naming what differs; a changed schedule resumes with a warning
R="$A --max-steps 8 --weight-stats running --resume o2/checkpoint-6"
cp -r m m_cfg; "$PY" -c "import json; p='m_cfg/config.json'; c=json.load(open(p)); c['rms_norm_eps']=1e-6; json.dump(c, open(p,'w'))"
"$YA" init-model --config cfg.json --out m_f32 --dtype f32 --seed 1 --tokenizer "$TOK" >/dev/null
cp -r m m_tok; "$PY" -c "import json; p='m_tok/tokenizer.json'; json.dump(json.load(open(p)), open(p,'w'), indent=1)"
for case in "m_cfg:config.json differs" "m_f32:tensor 'model.embed_tokens.weight BF16 [32000,64]' in the checkpoint's model is 'model.embed_tokens.weight F32 [32000,64]' now" "m_tok:tokenizer.json differs"; do
  rc=0; "$YA" train $R --model "${case%%:*}" --out o8 2>err8.txt || rc=$?
  [ $rc -eq 1 ] || fail "resume on ${case%%:*}: exit code $rc, expected 1"
  grep -q "trained on a different base model" err8.txt && grep -qF "${case#*:}" err8.txt || { cat err8.txt; fail "resume on ${case%%:*}: message does not name '${case#*:}'"; }
  if [ -d o8 ] && ls o8 | grep -q checkpoint; then fail "resume on ${case%%:*} wrote a checkpoint"; fi
done
"$YA" train $R --out o8 --max-steps 7 --learning-rate 2e-3 2>err8.txt || { cat err8.txt; fail "resume with a changed schedule failed"; }
grep -q "resumed from o2/checkpoint-6 at update 6" err8.txt || fail "changed schedule: did not resume"
grep -q "warning: .*--max-steps changed from 8 to 7" err8.txt || { cat err8.txt; fail "no warning for a changed --max-steps"; }
grep -q "warning: .*--learning-rate changed from 0.001 to 0.002" err8.txt || { cat err8.txt; fail "no warning for a changed --learning-rate"; }
[ -d o8/checkpoint-7-final ] || fail "changed schedule: no final checkpoint"

# 1d. progress on a pseudo-terminal: one bar redrawn in place with step, loss, tok/s, lr, ETA, memory
command -v script >/dev/null || fail "util-linux 'script' is needed for the pseudo-terminal check"
script -qec "$YA train $A --out o9 --max-steps 2 --warmup-steps 1 --save-every 0 --distrust-mode off" tty.txt >/dev/null || fail "run on a pseudo-terminal failed"
"$PY" - tty.txt <<'PYEOF' || { cat -v tty.txt | tail -5; fail "no progress bar on a terminal"; }
import re, sys
t = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
bars = re.findall(r"\r\[[#-]{24}\] +\d+% step (\d+)/2 \| loss [0-9.]+ \| \d+ tok/s \| lr [0-9.e+-]+ \| ETA \S+ \| mem [0-9.]+ \S?i?B\x1b\[K", t)
assert bars == ["1", "2"], bars
assert not re.search(r"^step \d+/2 \|", t, re.M), "plain progress lines on a terminal"
PYEOF

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
grep -q "no checkpoint was saved before it" err4.txt || fail "non-finite stop does not say which checkpoint is intact"

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
