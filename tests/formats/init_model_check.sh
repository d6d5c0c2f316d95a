#!/usr/bin/env bash
# init_model_check.sh BIN PYTHON ST_TOOL SRC_DIR
# `your_ai init-model` end to end, checked by an independent reader:
#  - tools/st_ref.py (numpy parser + torch) validates the layout (names/shapes from
#    config.json, 8-byte aligned data, exact tiling, format=pt, index total_size,
#    shard limits) and the init statistics, and hashes every tensor as fp32;
#  - st_tool dump hashes the same tensors through our reader; the lines must match;
#  - determinism: same seed → identical bytes for 1 and 2 threads; sharding does not
#    change any tensor; another seed changes them.
set -u
BIN=$1 PY=$2 ST_TOOL=$3 SRC=$4
T=$(mktemp -d /tmp/ya_init_model.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
ok() { echo "ok: $*"; }
bad() { echo "FAIL: $*"; fail=1; }

# cross_check DIR [st_ref args]: torch reader and ours agree tensor by tensor
cross_check() {
  local d=$1; shift
  if ! "$PY" "$SRC/tools/st_ref.py" check "$d" "$@" > "$d.py.txt"; then bad "st_ref check $d"; return; fi
  if ! "$ST_TOOL" dump "$d" > "$d.c.txt"; then bad "st_tool dump $d"; return; fi
  if diff -q "$d.py.txt" "$d.c.txt" >/dev/null; then ok "torch and our reader agree on $(wc -l < "$d.c.txt") tensors of $d"
  else bad "readers disagree on $d"; diff "$d.py.txt" "$d.c.txt" | head -5; fi
}
run() { "$BIN" init-model "$@" > /dev/null || bad "init-model $*"; }

run --preset tiny --out "$T/f32" --dtype f32 --seed 7
cross_check "$T/f32" --dtype F32

run --preset tiny --out "$T/bf16_t1" --dtype bf16 --seed 7 --threads 1
run --preset tiny --out "$T/bf16_t2" --dtype bf16 --seed 7 --threads 2
cross_check "$T/bf16_t1" --dtype BF16
for f in model.safetensors config.json generation_config.json; do
  cmp -s "$T/bf16_t1/$f" "$T/bf16_t2/$f" && ok "$f identical for 1 and 2 threads" || bad "$f differs between thread counts"
done
run --preset tiny --out "$T/bf16_s8" --dtype bf16 --seed 8
cmp -s "$T/bf16_t1/model.safetensors" "$T/bf16_s8/model.safetensors" && bad "seeds 7 and 8 gave the same weights" || ok "another seed, other weights"
# the bf16 weights are the f32 weights rounded: same stream
[ "$(sed -n 1p "$T/f32.c.txt" | cut -d' ' -f1)" = model.embed_tokens.weight ] || bad "unexpected first tensor"

# sharded: 3 MB limit → several shards, same tensors as the single file
run --preset tiny --out "$T/sharded" --dtype bf16 --seed 7 --shard-size 3
n=$(ls "$T/sharded"/model-*-of-*.safetensors 2>/dev/null | wc -l)
[ "$n" -gt 2 ] && ok "$n shards" || bad "expected several shards, got $n"
cross_check "$T/sharded" --dtype BF16 --max-shard-bytes 3000000
diff -q <(cut -d' ' -f1,4 "$T/sharded.c.txt") <(cut -d' ' -f1,4 "$T/bf16_t1.c.txt") >/dev/null \
  && ok "sharding leaves every tensor unchanged" || bad "sharded tensors differ from the single file"

# explicit head_dim + attention/mlp biases (f16), and a small qwen2 (q/k/v bias only)
run --config "$SRC/tests/config/data/explicit_head_dim.json" --out "$T/hd" --dtype f16 --seed 3
cross_check "$T/hd" --dtype F16
grep -q '"head_dim":96' "$T/hd/config.json" && ok "head_dim kept" || bad "head_dim not written"
cat > "$T/qwen2.json" <<'JSON'
{"model_type":"qwen2","hidden_size":128,"intermediate_size":256,"num_hidden_layers":2,"num_attention_heads":4,
 "num_key_value_heads":2,"vocab_size":1000,"rms_norm_eps":1e-6,"rope_theta":1000000.0,"tie_word_embeddings":true,
 "bos_token_id":151643,"eos_token_id":[151643,151645]}
JSON
run --config "$T/qwen2.json" --out "$T/qwen2" --dtype bf16
cross_check "$T/qwen2" --dtype BF16
grep -q '"eos_token_id":\[151643,151645\]' "$T/qwen2/generation_config.json" && ok "eos list in generation_config" || bad "generation_config eos"

# tokenizer copy; refusing to overwrite without --force
TOK=${YA_TESTDATA_DIR:-}/llama2/models
if [ -f "$TOK/tokenizer.json" ]; then
  run --preset tiny --out "$T/tok" --tokenizer "$TOK" --force
  cmp -s "$TOK/tokenizer.json" "$T/tok/tokenizer.json" && cmp -s "$TOK/tokenizer_config.json" "$T/tok/tokenizer_config.json" \
    && ok "tokenizer copied" || bad "tokenizer not copied"
fi
"$BIN" init-model --preset tiny --out "$T/f32" > /dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q -- "--force" "$T/err" && ok "existing model refused without --force" || bad "overwrite without --force: rc $rc"
run --preset tiny --out "$T/f32" --force --dtype f32 --seed 7
cmp -s "$T/f32/model.safetensors" "$T/bf16_t1/model.safetensors" && bad "--force did not rewrite" || ok "--force rewrites"

[ $fail -eq 0 ] && echo "init_model_check: all passed"
exit $fail
