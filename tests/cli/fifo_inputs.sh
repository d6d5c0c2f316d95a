#!/usr/bin/env bash
# fifo_inputs.sh — an input path that is not a regular file (a FIFO with no writer, a
# directory) is refused at once with exit 1 and a message naming the path and what it
# is: config.json, model.safetensors, a shard of a sharded model, tokenizer.json, a
# data JSONL. Every command runs under `timeout 20`, so a hang (open() blocking on the
# FIFO) fails the test instead of blocking ctest.
#   fifo_inputs.sh YOUR_AI WORKDIR   (needs the testdata fixture)
set -euo pipefail
YA=$1 WORK=$2
TOK=${YA_TESTDATA_DIR:?}/llama2/models/tokenizer.json
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

echo '{"model_type":"llama","hidden_size":16,"intermediate_size":32,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,"vocab_size":32000,"max_position_embeddings":64,"hidden_act":"silu","bos_token_id":1,"eos_token_id":2,"rms_norm_eps":1e-5,"tie_word_embeddings":true}' >cfg.json
"$YA" init-model --config cfg.json --out m --dtype f32 --seed 1 --tokenizer "$TOK" >/dev/null
"$YA" forward --model m --ids "1 2 3" --out ok.safetensors --threads 1 || fail "the intact model does not run"
echo '{"text": "the patent describes a measurement", "auth_weight": 0.5, "prov_entropy": 2.0}' >data.jsonl

expect_refused() { # what needle cmd... : exit 1 (not a hang: 124) and the message names the path and its kind
  local what=$1 needle=$2; shift 2
  local rc=0
  timeout 20 "$@" >out.txt 2>err.txt </dev/null || rc=$?
  [ $rc -ne 124 ] || fail "$what: hung (killed after 20 s)"
  [ $rc -eq 1 ] || { cat err.txt >&2; fail "$what: exit $rc, expected 1"; }
  grep -q -- "$needle" err.txt || { cat err.txt >&2; fail "$what: the message does not say '$needle'"; }
  echo "ok: $what: $(head -c 200 err.txt)"
}
clone() { rm -rf "$1"; cp -r m "$1"; }

clone m_cfg; rm m_cfg/config.json; mkfifo m_cfg/config.json
expect_refused "config.json is a FIFO" "m_cfg/config.json: is a FIFO" \
  "$YA" forward --model m_cfg --ids "1 2" --out x.safetensors
clone m_st; rm m_st/model.safetensors; mkfifo m_st/model.safetensors
expect_refused "model.safetensors is a FIFO" "m_st/model.safetensors: is a FIFO" \
  "$YA" forward --model m_st --ids "1 2" --out x.safetensors
expect_refused "generate, model.safetensors is a FIFO" "is a FIFO" \
  "$YA" generate --model m_st --ids "1 2" --max-tokens 2

# a sharded model whose only shard is a FIFO
clone m_sh
python3 - m_sh <<'PYEOF'
import json, os, struct, sys
d = sys.argv[1]
raw = open(d + "/model.safetensors", "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
names = [k for k in json.loads(raw[8:8 + n]) if k != "__metadata__"]
os.rename(d + "/model.safetensors", d + "/model-00001-of-00001.safetensors")
json.dump({"metadata": {}, "weight_map": {k: "model-00001-of-00001.safetensors" for k in names}},
          open(d + "/model.safetensors.index.json", "w"))
PYEOF
"$YA" forward --model m_sh --ids "1 2 3" --out sh.safetensors --threads 1 || fail "the sharded copy does not load"
rm m_sh/model-00001-of-00001.safetensors; mkfifo m_sh/model-00001-of-00001.safetensors
expect_refused "a shard is a FIFO" "model-00001-of-00001.safetensors: is a FIFO" \
  "$YA" forward --model m_sh --ids "1 2" --out x.safetensors

clone m_tok; rm m_tok/tokenizer.json; mkfifo m_tok/tokenizer.json
expect_refused "tokenizer.json is a FIFO" "m_tok/tokenizer.json: is a FIFO" \
  "$YA" tokenize --tokenizer m_tok --text "hello"
expect_refused "generate --prompt, tokenizer.json is a FIFO" "is a FIFO" \
  "$YA" generate --model m_tok --prompt "hello" --max-tokens 2

mkfifo fifo.jsonl
expect_refused "train data is a FIFO" "fifo.jsonl: is a FIFO" \
  "$YA" train --model m --data fifo.jsonl --out o_train --max-steps 1 --warmup-steps 0 --distrust-mode off --threads 1
expect_refused "validate data is a FIFO" "fifo.jsonl: is a FIFO" \
  "$YA" validate --model m --data fifo.jsonl --out report.json --bootstrap 0 --threads 1
expect_refused "tokenize --jsonl is a FIFO" "fifo.jsonl: is a FIFO" \
  "$YA" tokenize --tokenizer m --jsonl fifo.jsonl

# a directory where a file is expected
clone m_dir; rm m_dir/config.json; mkdir m_dir/config.json
expect_refused "config.json is a directory" "m_dir/config.json: is a directory" \
  "$YA" forward --model m_dir --ids "1 2" --out x.safetensors
mkdir dir.jsonl
expect_refused "train data is a directory" "dir.jsonl: is a directory" \
  "$YA" train --model m --data dir.jsonl --out o_train2 --max-steps 1 --warmup-steps 0 --distrust-mode off --threads 1
echo "fifo_inputs: all passed"
