#!/usr/bin/env bash
# nonfinite_weights.sh — a NaN or Inf in a base weight never passes silently: forward,
# generate and validate stop with exit 1 and name the tensor and the element (the
# logits are checked; the weights are scanned only on that error path), and validate
# writes no report. The element is planted here with plain python3 (struct), so the
# expected name and index are independent of the engine.
#   nonfinite_weights.sh YOUR_AI WORKDIR   (needs the testdata fixture)
# YA_DEVICE=cuda runs the same checks on the GPU inference path (tests/cuda/run_all_on_gpu.sh).
set -euo pipefail
YA=$1 WORK=$2
DEV=(--device "${YA_DEVICE:-cpu}")
TOK=${YA_TESTDATA_DIR:?}/llama2/models/tokenizer.json
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

echo '{"model_type":"llama","hidden_size":16,"intermediate_size":32,"num_hidden_layers":2,"num_attention_heads":2,"num_key_value_heads":1,"vocab_size":32000,"max_position_embeddings":64,"hidden_act":"silu","bos_token_id":1,"eos_token_id":2,"rms_norm_eps":1e-5,"tie_word_embeddings":true}' >cfg.json
for dt in f32 bf16; do "$YA" init-model --config cfg.json --out m_$dt --dtype $dt --seed 1 --tokenizer "$TOK" >/dev/null; done
printf '%s\n' '{"text": "the patent describes a measurement of the voltage"}' '{"text": "a letter from the archive"}' >val.jsonl

# plant NAME ELEMENT VALUE DIR: overwrite one element of a tensor in DIR/model.safetensors
plant() {
  python3 - "$@" <<'PYEOF'
import json, struct, sys
name, elem, value, d = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
path = d + "/model.safetensors"
raw = bytearray(open(path, "rb").read())
n = struct.unpack("<Q", raw[:8])[0]
t = json.loads(raw[8:8 + n])[name]
base = 8 + n + t["data_offsets"][0]
if t["dtype"] == "F32":
    raw[base + 4 * elem: base + 4 * elem + 4] = struct.pack("<f", value)
elif t["dtype"] == "BF16":
    raw[base + 2 * elem: base + 2 * elem + 2] = struct.pack("<f", value)[2:]
else:
    sys.exit("unexpected dtype " + t["dtype"])
open(path, "wb").write(raw)
PYEOF
}

expect_named() { # what needle... -- cmd...
  local what=$1; shift
  local needles=()
  while [ "$1" != "--" ]; do needles+=("$1"); shift; done
  shift
  local rc=0
  "$@" >out.txt 2>err.txt || rc=$?
  [ $rc -eq 1 ] || { cat err.txt >&2; fail "$what: exit $rc, expected 1"; }
  for n in "${needles[@]}"; do grep -qF -- "$n" err.txt || { cat err.txt >&2; fail "$what: the message lacks '$n'"; }; done
  echo "ok: $what: $(head -c 300 err.txt)"
}

# the intact models run (so the failures below are caused by the planted value)
for dt in f32 bf16; do
  "$YA" forward "${DEV[@]}" --model m_$dt --ids "1 450 3" --out ok_$dt.safetensors --threads 1 || fail "intact $dt model fails"
done
"$YA" validate "${DEV[@]}" --model m_f32 --data val.jsonl --out ok_report.json --bootstrap 0 --threads 1 >/dev/null || fail "intact validate fails"

# NaN in layer 0's up_proj (f32, [f, h] = [32, 16]): element 123 = row 7, column 11
cp -r m_f32 m_nan; plant model.layers.0.mlp.up_proj.weight 123 nan m_nan
expect_named "forward, NaN in up_proj" "model.layers.0.mlp.up_proj.weight: NaN at element 123 [row 7, column 11]" \
  "logits are not finite" -- "$YA" forward "${DEV[@]}" --model m_nan --ids "1 450 3" --out x.safetensors --threads 1
[ ! -e x.safetensors ] || fail "forward wrote logits although they are not finite"
expect_named "forward --last-only, NaN in up_proj" "model.layers.0.mlp.up_proj.weight: NaN at element 123" \
  -- "$YA" forward "${DEV[@]}" --model m_nan --ids "1 450 3" --last-only --out x.safetensors --threads 1
expect_named "generate, NaN in up_proj" "model.layers.0.mlp.up_proj.weight: NaN at element 123" \
  -- "$YA" generate "${DEV[@]}" --model m_nan --ids "1 450 3" --max-tokens 3 --threads 1
expect_named "generate --prompt, NaN in up_proj" "model.layers.0.mlp.up_proj.weight: NaN at element 123" \
  -- "$YA" generate "${DEV[@]}" --model m_nan --prompt "the patent" --max-tokens 3 --threads 1
expect_named "validate, NaN in up_proj" "model.layers.0.mlp.up_proj.weight: NaN at element 123" \
  -- "$YA" validate "${DEV[@]}" --model m_nan --data val.jsonl --out report.json --bootstrap 0 --threads 1
[ ! -e report.json ] || fail "validate wrote a report (ppl null) for a NaN model"

# +Inf in the final norm of a bf16 model (1-D: no row/column), seen by every position
cp -r m_bf16 m_inf; plant model.norm.weight 5 inf m_inf
expect_named "forward, Inf in the bf16 final norm" "model.norm.weight: Inf at element 5" \
  -- "$YA" forward "${DEV[@]}" --model m_inf --ids "1 450 3" --out x.safetensors --threads 1
expect_named "validate, Inf in the bf16 final norm" "model.norm.weight: Inf at element 5" \
  -- "$YA" validate "${DEV[@]}" --model m_inf --data val.jsonl --out report.json --bootstrap 0 --threads 1
[ ! -e report.json ] || fail "validate wrote a report for an Inf model"

[ "${YA_DEVICE:-cpu}" = cpu ] || { echo "nonfinite_weights ($YA_DEVICE): all passed"; exit 0; }
# finite weights whose product overflows: a final-norm gain of 3e38 (the largest float
# is 3.4e38) makes the normalised state Inf. Every weight is finite, and the message says so.
cp -r m_f32 m_big
python3 - m_big <<'PYEOF'
import json, struct, sys
path = sys.argv[1] + "/model.safetensors"
raw = bytearray(open(path, "rb").read())
n = struct.unpack("<Q", raw[:8])[0]
t = json.loads(raw[8:8 + n])["model.norm.weight"]
b, e = 8 + n + t["data_offsets"][0], 8 + n + t["data_offsets"][1]
raw[b:e] = struct.pack("<f", 3e38) * ((e - b) // 4)
open(path, "wb").write(raw)
PYEOF
expect_named "forward, overflow with finite weights" "although every weight is finite" \
  -- "$YA" forward "${DEV[@]}" --model m_big --ids "1 450 3" --out x.safetensors --threads 1
echo "nonfinite_weights: all passed"
