#!/usr/bin/env bash
# train_config.sh — `train --config FILE` (issue 15):
#   A: a tiny LoRA run from flags (3 updates, 1 thread);
#   B: `train --config A/checkpoint-3-final/run_config.json --out B`: the final
#      adapter_model.safetensors and optimizer.safetensors are byte-identical to A's
#      (run_config.json reproduces the run), and B's run_config.json equals A's but for "out";
#   C: a hand-written YAML config equivalent to A's flags: byte-identical again;
#   D: command-line flags override the file (--lora-rank 2, --data replaces the list);
#   E: errors: unknown key (file:line for YAML, file for JSON), bad value (names the
#      flag and the key it came from), wrong shape, a changed constant, a duplicate key,
#      invalid YAML, a missing file — exit 2 (1 for the unreadable file), nothing trained.
#   R: --resume auto with the run's own run_config.json as --config continues the run;
#   F: the YAML examples of docs/CONFIG.md are valid configs (they fail only on their
#      absent model directories: exit 1, not 2).
#   train_config.sh YOUR_AI WORKDIR SOURCE_DIR   (YA_TESTDATA_DIR: the fetched test data)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
YA=$1 WORK=$2 SRC=$3
TOK=${YA_TESTDATA_DIR:?}/llama2/models/tokenizer.json
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

. "$HERE/tiny_setup.sh"
tiny_model "$YA" "$TOK"
tiny_corpus python3 2 8 30 "the patent describes a measurement of the voltage in the laboratory notebook while the letter from the archive records" train.jsonl:16 other.jsonl:12

same_as() { # same_as DIR_A DIR_B WHAT
  for f in adapter_model.safetensors optimizer.safetensors; do
    cmp -s "$1/checkpoint-3-final/$f" "$2/checkpoint-3-final/$f" || fail "$3: $f differs from $1's"
  done
}

# A: flags
"$YA" train --model m --data train.jsonl --out A --max-steps 3 --threads 1 --batch-size 2 --grad-accum 2 \
  --max-seq-length 48 --lora-rank 4 --lora-dropout 0.1 --learning-rate 1e-3 --warmup-steps 2 --log-every 1 \
  --weight-stats running --progress plain > A.log 2>&1 || { cat A.log; fail "A: train exited non-zero"; exit 1; }

# B: its run_config.json as --config
"$YA" train --config A/checkpoint-3-final/run_config.json --out B > B.log 2>&1 || fail "B: $(tail -3 B.log)"
same_as A B "B (--config run_config.json)"
python3 - A/checkpoint-3-final/run_config.json B/checkpoint-3-final/run_config.json <<'PYEOF' || fail "B: run_config.json differs beyond 'out'"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a.pop("out") == "A" and b.pop("out") == "B"
assert a == b, [k for k in a if a[k] != b.get(k)]
PYEOF

# C: YAML equal to A's flags (defaults left out; comments, quoting and a list)
cat > run.yaml <<'YEOF'
# the run of A, as a config file
model: m
data:
  - train.jsonl
out: not-used   # overridden on the command line
max_steps: 3
threads: 1
batch_size: 2
grad_accum: 2
max_seq_length: 48
lora_rank: 4
lora_dropout: 0.1
learning_rate: 1.0e-3
warmup_steps: "2"
log_every: 1
weight_stats: running
progress: plain
append_eos: true
val: null
YEOF
"$YA" train --config run.yaml --out C > C.log 2>&1 || fail "C: $(tail -3 C.log)"
same_as A C "C (YAML)"

# D: the command line wins
"$YA" train --config run.yaml --out D --lora-rank 2 --data other.jsonl > D.log 2>&1 || fail "D: $(tail -3 D.log)"
python3 - D/checkpoint-3-final/run_config.json <<'PYEOF' || fail "D: command-line flags did not override the file"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["lora_rank"] == 2 and d["data"] == ["other.jsonl"] and d["out"] == "D" and d["max_steps"] == 3, d
PYEOF
"$YA" train --out D2 --config=run.yaml --max-steps 2 --warmup-steps 1 > D2.log 2>&1 || fail "D2: $(tail -3 D2.log)"
[ -d D2/checkpoint-2-final ] || fail "D2: --max-steps 2 after --config=FILE did not win"

# E: errors — exit code, message, nothing trained
expect_error() { # expect_error CODE NEEDLE CONFIG [more args]
  local code=$1 needle=$2 cfg=$3
  shift 3
  set +e
  "$YA" train --config "$cfg" --out E "$@" > E.log 2>&1
  local rc=$?
  set -e
  [ $rc = "$code" ] || fail "$cfg: exit $rc, expected $code: $(cat E.log)"
  grep -qF -- "$needle" E.log || fail "$cfg: message lacks '$needle': $(cat E.log)"
  [ ! -e E ] || fail "$cfg: trained anyway"
}
printf 'model: m\ndata: [train.jsonl]\nlora_rnk: 4\n' > unknown.yaml
expect_error 2 "unknown.yaml:3: unknown key 'lora_rnk'" unknown.yaml
printf '{"model": "m", "data": ["train.jsonl"], "lora_rnk": 4}' > unknown.json
expect_error 2 "unknown.json: unknown key 'lora_rnk'" unknown.json
printf 'model: m\nlora_rank: abc\n' > badvalue.yaml
expect_error 2 "--lora-rank expects an integer, got 'abc'" badvalue.yaml
expect_error 2 "the flag comes from badvalue.yaml:2: key 'lora_rank'" badvalue.yaml
printf 'model: [m]\n' > shape.yaml
expect_error 2 "shape.yaml:1: key 'model': expects a string or a number, got a list" shape.yaml
printf 'append_eos: "no"\n' > switch.yaml
expect_error 2 "switch.yaml:1: key 'append_eos': expects true or false, got no" switch.yaml
python3 -c '
import json; d = json.load(open("A/checkpoint-3-final/run_config.json")); d["adam_beta1"] = 0.95
json.dump(d, open("beta.json", "w"))'
expect_error 2 "beta.json: key 'adam_beta1': is fixed at 0.9 in this version (not a train flag); the file says 0.95" beta.json
printf 'lora_rank: 4\nlora_rank: 8\n' > dup.yaml
expect_error 2 "dup.yaml:2: key 'lora_rank' given twice" dup.yaml
printf 'lora_rank: [4\n' > broken.yaml
expect_error 2 "broken.yaml:2:1: invalid YAML" broken.yaml
printf -- '- model\n' > notmap.yaml
expect_error 2 "notmap.yaml:1: a config must be a mapping" notmap.yaml
expect_error 1 "absent.yaml: cannot open" absent.yaml
expect_error 2 "--config given twice" run.yaml --config run.yaml

# every flag of `train --help` has a key (the flag without --, '_' for '-'; --no-append-eos: append_eos)
"$YA" train --help | grep -oE '^  --[a-z0-9-]+' | sed 's/^  --//' | sort -u > flags.txt
[ "$(wc -l < flags.txt)" -ge 40 ] || fail "could not read the flags of train --help"
while read -r flag; do
  case $flag in config) continue ;; no-append-eos) flag=append-eos ;; esac
  key=$(echo "$flag" | tr - _)
  printf '%s: not-a-valid-value\n' "$key" > key.yaml
  set +e
  "$YA" train --config key.yaml --out G > G.log 2>&1
  set -e
  ! grep -q "unknown key" G.log || fail "flag --$flag has no config key '$key'"
done < flags.txt
[ ! -e G ] || fail "a key check trained"

# F: the documented examples
python3 - "$SRC/docs/CONFIG.md" <<'PYEOF'
import re, sys
blocks = re.findall(r"```yaml\n(.*?)```", open(sys.argv[1]).read(), re.S)
assert len(blocks) >= 3, len(blocks)
for i, b in enumerate(blocks):
    open(f"example{i}.yaml", "w").write(b)
PYEOF
for f in example*.yaml; do
  set +e
  "$YA" train --config "$f" --out F > F.log 2>&1
  rc=$?
  set -e
  [ $rc = 1 ] && grep -q "models/" F.log || fail "docs/CONFIG.md example $f: exit $rc: $(cat F.log)"
done

# resume through the config: the run continues from its final checkpoint (last: it writes into A)
"$YA" train --config A/checkpoint-3-final/run_config.json --resume auto --max-steps 5 > R.log 2>&1 ||
  fail "resume with --config: $(tail -3 R.log)"
grep -q "resumed from A/checkpoint-3-final at update 3" R.log || fail "resume with --config: $(cat R.log)"
[ -d A/checkpoint-5-final ] || fail "resume with --config: no A/checkpoint-5-final"

[ $fails = 0 ] && echo "train_config: all passed"
exit $((fails > 0))
