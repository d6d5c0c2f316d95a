#!/usr/bin/env bash
# peft_interop_cases.sh — builds the inputs of tools/peft_interop_check.py (SPEC
# §10.1/§10.2, issue 7 acceptance 1) and, with --run, runs the check on them.
#   tools/peft_interop_cases.sh BIN TORCH_PYTHON OUT [--run PYTHON_WITH_TRANSFORMERS]
# Three cases, each BASE (tools/torch_llama_ref.py write) + a random non-zero
# adapter (tools/torch_lora_ref.py make-adapter) exported with `BIN export`:
#   a  llama f32, GQA, head_dim != h/n_h, all 7 targets, all layers  (PEFT F32, merged F32)
#   b  qwen2 bf16, tied, q/v/o/down on the last 2 of 3 layers       (PEFT BF16, merged BF16)
#   c  mistral f16, all targets                                      (PEFT F32, merged F32)
# The GPU machine lacks our build dependencies: build BIN with -DYA_CUDA=OFF here
# and carry it with its shared libraries (LD_LIBRARY_PATH), or build it there.
set -euo pipefail
BIN=$(realpath "$1") PY=$2 OUT=$3
T=$(cd "$(dirname "$0")" && pwd)
B='"max_position_embeddings":512,"hidden_act":"silu","bos_token_id":1,"eos_token_id":2,"rms_norm_eps":1e-5'
mkdir -p "$OUT"
cd "$OUT"
rm -rf a_* b_* c_*
"$PY" "$T/torch_llama_ref.py" write --out a_base --dtype F32 --seed 1 --config-json \
  '{"model_type":"llama","hidden_size":64,"intermediate_size":96,"num_hidden_layers":3,"num_attention_heads":4,"num_key_value_heads":2,"head_dim":32,"vocab_size":257,'"$B"'}'
"$PY" "$T/torch_lora_ref.py" make-adapter --model a_base --out a_src --rank 4 --alpha 8 --seed 1
"$BIN" export --model a_base --adapter a_src --format peft --out a_peft
"$BIN" export --model a_base --adapter a_src --format merged --out a_merged
"$PY" "$T/torch_llama_ref.py" write --out b_base --dtype BF16 --seed 2 --config-json \
  '{"model_type":"qwen2","hidden_size":64,"intermediate_size":96,"num_hidden_layers":3,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":257,"rope_theta":1000000.0,"tie_word_embeddings":true,"max_position_embeddings":512,"hidden_act":"silu","rms_norm_eps":1e-6,"eos_token_id":2}'
"$PY" "$T/torch_lora_ref.py" make-adapter --model b_base --out b_src --rank 8 --alpha 16 \
  --targets q_proj,v_proj,o_proj,down_proj --layers 2 --seed 2
"$BIN" export --model b_base --adapter b_src --format peft --out b_peft --dtype bf16
"$BIN" export --model b_base --adapter b_src --format merged --out b_merged
"$PY" "$T/torch_llama_ref.py" write --out c_base --dtype F16 --seed 3 --config-json \
  '{"model_type":"mistral","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":1,"vocab_size":257,"sliding_window":4096,'"$B"'}'
"$PY" "$T/torch_lora_ref.py" make-adapter --model c_base --out c_src --rank 2 --alpha 4 --seed 3
"$BIN" export --model c_base --adapter c_src --format peft --out c_peft
"$BIN" export --model c_base --adapter c_src --format merged --out c_merged --dtype f32
if [ "${4:-}" = "--run" ]; then
  rc=0
  for c in a b c; do
    echo "== case $c"
    "${5:?python with transformers + peft}" "$T/peft_interop_check.py" "$BIN" "${c}_base" "${c}_peft" "${c}_merged" || rc=1
  done
  exit $rc
fi
