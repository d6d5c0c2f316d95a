#!/usr/bin/env bash
# cli_bad_inputs.sh BIN PYTHON
# Bad flags exit 2; bad files exit 1 with a message naming what is wrong.
# Model-loading cases run through `your_ai forward --load-only` (the loader every
# command shares: ya_config_load_dir + ya_weights_open_dir + ya_weights_require).
set -u
BIN=$1 PY=$2
T=$(mktemp -d /tmp/ya_cli_bad.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail=0
# expect RC "what" "substring of stderr" cmd...
expect() {
  local want=$1 what=$2 sub=$3; shift 3
  "$@" > "$T/out" 2> "$T/err"; local rc=$?
  if grep -qE 'AddressSanitizer|runtime error:|LeakSanitizer' "$T/err"; then echo "FAIL: $what: sanitizer report"; head -5 "$T/err"; fail=1
  elif [ $rc -ne "$want" ]; then echo "FAIL: $what: exit $rc, expected $want"; sed 's/^/   /' "$T/err" | head -3; fail=1
  elif [ -n "$sub" ] && ! grep -qF -- "$sub" "$T/err"; then echo "FAIL: $what: stderr lacks '$sub':"; sed 's/^/   /' "$T/err" | head -3; fail=1
  else echo "ok: $what (exit $rc): $(head -1 "$T/err")"; fi
}

# ---- init-model usage errors (exit 2) ----
expect 2 "no --preset/--config" "exactly one of" "$BIN" init-model --out "$T/x"
expect 2 "both --preset and --config" "exactly one of" "$BIN" init-model --preset tiny --config c.json --out "$T/x"
expect 2 "missing --out" "--out DIR is required" "$BIN" init-model --preset tiny
expect 2 "unknown preset" "unknown preset 'gpt9'" "$BIN" init-model --preset gpt9 --out "$T/x"
expect 2 "bad --dtype" "--dtype" "$BIN" init-model --preset tiny --dtype q4 --out "$T/x"
expect 2 "bad --shard-size" "--shard-size" "$BIN" init-model --preset tiny --shard-size 0 --out "$T/x"
expect 2 "bad --seed" "--seed" "$BIN" init-model --preset tiny --seed -1 --out "$T/x"
expect 2 "flag without value" "--out" "$BIN" init-model --preset tiny --out
expect 2 "unknown flag" "--bogus" "$BIN" init-model --preset tiny --out "$T/x" --bogus

# ---- init-model runtime errors (exit 1) ----
expect 1 "missing config file" "none.json" "$BIN" init-model --config "$T/none.json" --out "$T/x"
printf '{"model_type":"gpt2","hidden_size":64}' > "$T/gpt2.json"
expect 1 "unknown model_type" "'model_type' = 'gpt2'" "$BIN" init-model --config "$T/gpt2.json" --out "$T/x"
printf '{"model_type":"llama","hidden_size":64,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":100,"rms_norm_eps":1e-5}' > "$T/nof.json"
expect 1 "missing config field" "missing required field 'intermediate_size'" "$BIN" init-model --config "$T/nof.json" --out "$T/x"
printf '{"model_type":"llama",' > "$T/broken.json"
expect 1 "invalid JSON config" "broken.json:1:" "$BIN" init-model --config "$T/broken.json" --out "$T/x"
expect 1 "missing tokenizer" "--tokenizer" "$BIN" init-model --preset tiny --out "$T/tk" --tokenizer "$T/nope.json"

# ---- loading broken models (exit 1), if the forward command is built ----
if ! "$BIN" forward --help > /dev/null 2>&1; then
  echo "note: 'forward' not built; model-loading cases skipped"
  exit $fail
fi
cat > "$T/small.json" <<'JSON'
{"model_type":"llama","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,
 "num_key_value_heads":2,"vocab_size":4096,"rms_norm_eps":1e-5,"bos_token_id":1,"eos_token_id":2}
JSON
good="$T/good"
"$BIN" init-model --config "$T/small.json" --out "$good" --dtype f32 > /dev/null || { echo "FAIL: init-model"; exit 1; }
expect 0 "good model loads" "" "$BIN" forward --model "$good" --load-only
fresh() { rm -rf "$T/m"; cp -r "$good" "$T/m"; }
# edit_header FILE PYTHON-EXPR-ON-h: rewrites the JSON header (re-padded), data untouched
edit_header() {
  "$PY" - "$1" "$2" <<'PYEOF'
import json, struct, sys
path, expr = sys.argv[1], sys.argv[2]
b = open(path, "rb").read()
n = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + n])
exec(expr)
s = json.dumps(h, separators=(",", ":")).encode()
s += b" " * (n - len(s)) if len(s) <= n else b""
assert len(s) == n, "header grew"
open(path, "wb").write(b[:8] + s + b[8 + n:])
PYEOF
}
ST="$T/m/model.safetensors"
fresh; truncate -s -1 "$ST"
expect 1 "truncated file" "past the end of the data section" "$BIN" forward --model "$T/m" --load-only
fresh; printf '\xff\xff\xff\x00\x00\x00\x00\x00' | dd of="$ST" bs=1 conv=notrunc status=none
expect 1 "header length past EOF" "past the end of the file" "$BIN" forward --model "$T/m" --load-only
fresh; edit_header "$ST" 'k="model.norm.weight"; o=h[k]["data_offsets"]; h[k]["data_offsets"]=[o[0]-4,o[1]-4]'
expect 1 "overlapping offsets" "overlap" "$BIN" forward --model "$T/m" --load-only
fresh; edit_header "$ST" 'h["model.norm.weight"]["dtype"]="I32"'
expect 1 "non-float dtype" "model.norm.weight: dtype I32 not supported (expected F32, F16 or BF16)" "$BIN" forward --model "$T/m" --load-only
fresh; edit_header "$ST" 'k="model.layers.0.mlp.up_proj.weight"; h[k]["shape"]=h[k]["shape"][::-1]'
expect 1 "wrong shape" "model.layers.0.mlp.up_proj.weight: expected shape [128, 64], found [64, 128]" "$BIN" forward --model "$T/m" --load-only
fresh; edit_header "$ST" 'h["model.layers.1.mlp.down_proj.weight"]["shape"]=[64,129]'
expect 1 "dtype x shape != byte length" "needs" "$BIN" forward --model "$T/m" --load-only
fresh; edit_header "$ST" 'h["model.layers.1.self_attn.q_proj.wieght"]=h.pop("model.layers.1.self_attn.q_proj.weight")'
expect 1 "missing tensor" "model.layers.1.self_attn.q_proj.weight" "$BIN" forward --model "$T/m" --load-only
fresh; "$PY" -c "import json,sys; p=sys.argv[1]; c=json.load(open(p)); del c['hidden_size']; json.dump(c,open(p,'w'))" "$T/m/config.json"
expect 1 "missing config field" "missing required field 'hidden_size'" "$BIN" forward --model "$T/m" --load-only
fresh; sed -i 's/"model_type":"llama"/"model_type":"falcon"/' "$T/m/config.json"
expect 1 "unknown model_type" "'model_type' = 'falcon'" "$BIN" forward --model "$T/m" --load-only
rm -rf "$T/s"; "$BIN" init-model --config "$T/small.json" --out "$T/s" --dtype f32 --shard-size 1 > /dev/null
expect 0 "sharded model loads" "" "$BIN" forward --model "$T/s" --load-only
rm "$T/s/model-00001-of-"*.safetensors
expect 1 "index pointing to a missing shard" "model-00001-of-" "$BIN" forward --model "$T/s" --load-only
rm -rf "$T/s"; "$BIN" init-model --config "$T/small.json" --out "$T/s" --dtype f32 --shard-size 1 > /dev/null
sed -i 's/"model.norm.weight":"model-[0-9]*-of-/"model.norm.weight":"model-00001-of-/' "$T/s/model.safetensors.index.json"
expect 1 "index naming a tensor its shard lacks" "which does not contain it" "$BIN" forward --model "$T/s" --load-only
rm -rf "$T/e"; mkdir "$T/e"; cp "$good/config.json" "$T/e/"
expect 1 "no weights at all" "no model.safetensors.index.json or model.safetensors" "$BIN" forward --model "$T/e" --load-only

[ $fail -eq 0 ] && echo "cli_bad_inputs: all passed"
exit $fail
