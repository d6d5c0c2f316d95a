#!/usr/bin/env bash
# llamacpp_test.sh — every GGUF variant we write, loaded by llama.cpp itself
# (npm node-llama-cpp@3.21.1, its prebuilt CPU build; tools/llamacpp_check.js)
# and its next-token distribution at every position compared with our
# `forward` on the same ids:
#   llamacpp_test.sh YOUR_AI PYTHON WORKDIR ARCH:TYPE
# ARCH: llama (SentencePiece vocab, GQA, head_dim != h/n_h), mistral (linear
# RoPE scaling), llama3 (Llama-3 RoPE → rope_freqs, tied, byte-level BPE), qwen2
# (q/k/v biases, tied, no Q/K permutation), or adapter-llama / adapter-qwen2
# (an F32 base GGUF + our GGUF LoRA adapter, applied by llama.cpp at load).
# TYPE: f32 | f16 | bf16 | q8_0, or any --quant our exporter takes — add a
# tolerance line below for a new one and a case to YA_LLAMACPP_CASES.
#
# Tolerance: max |Δ log p| over the whole vocabulary ≤ rel · max|logit|, and
# top-1 agreement ≥ min. ggml's CPU matmul rounds the activations to the
# weight's type too (f16, bf16, q8_0 blocks), so the error is about the type's
# unit roundoff u on both operands, relative to the logit scale; rel ≈ 8u
# (f32: accumulation order only). Measured on these models (llama, max|logit|≈16):
# f32 8e-6, f16 8e-4, bf16 8e-3, q8_0 2e-2 of max|logit|. The models are
# "sharpened" (matrices ×5, embeddings ×20) so the distributions are peaked,
# not near uniform, and an error is visible. Each case also proves the check
# can fail: a file made wrong on purpose (the adapter left out of the merge,
# or applied at scale 1.25 in llama.cpp) must be rejected.
set -euo pipefail
YA=$1 PY=$2 WORK=$3 CASE=$4
HERE=$(cd "$(dirname "$0")" && pwd)
TOOLS="$HERE/../../tools"
TD=${YA_TESTDATA_DIR:-}
NM="$TD/llamacpp/node_modules"
ARCH=${CASE%%:*} TYPE=${CASE#*:}
DIR="$WORK/${ARCH}_$TYPE"
rm -rf "$DIR"
mkdir -p "$DIR"
cd "$DIR"
fail() { echo "FAIL $CASE: $*" >&2; exit 1; }
[ -n "$TD" ] && [ -f "$NM/node-llama-cpp/package.json" ] ||
  fail "node-llama-cpp not fetched: run tools/fetch_testdata.sh ${TD:-build/testdata} llamacpp"
IDS="1 17 5 200 33 7 150 2 99 42 8 250 61 3 77 120 9 180 44 11"

#            type   rel   min top-1   export flags
tolerance() {
  case $1 in
    f32)    echo "1e-4 1.0 --dtype f32" ;;
    f16)    echo "4e-3 1.0 --dtype f16" ;;
    bf16)   echo "3e-2 0.9 --dtype bf16" ;;
    q8_0)   echo "8e-2 0.8 --quant q8_0" ;;
    # k-quants (another exporter change): super-block scales + 4..6-bit weights, q8_K activations
    q6_k)   echo "1.5e-1 0.75 --quant q6_k" ;;
    q5_k_m) echo "3e-1 0.6 --quant q5_k_m" ;;
    q4_k_m) echo "5e-1 0.5 --quant q4_k_m" ;;
    *) fail "no tolerance for type '$1': add a line to tolerance() in $0" ;;
  esac
}
read -r REL TOP1 FLAG VAL <<<"$(tolerance "$TYPE")"

BASE='"max_position_embeddings":512,"hidden_act":"silu","bos_token_id":1,"eos_token_id":2,"rms_norm_eps":1e-5'
case $ARCH in
  llama|adapter-llama)
    TOK=llama2 CFG='{"model_type":"llama","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"head_dim":32,"vocab_size":32000,'"$BASE"'}' ;;
  mistral)
    TOK=llama2 CFG='{"model_type":"mistral","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":1,"vocab_size":32000,"rope_scaling":{"type":"linear","factor":2.0},'"$BASE"'}' ;;
  llama3)
    TOK=llama3 CFG='{"model_type":"llama","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":128256,"rope_theta":500000.0,"rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":64},"tie_word_embeddings":true,"max_position_embeddings":512,"hidden_act":"silu","rms_norm_eps":1e-5,"bos_token_id":128000,"eos_token_id":128001}' ;;
  qwen2|adapter-qwen2)
    TOK=qwen3 CFG='{"model_type":"qwen2","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":151936,"rope_theta":1000000.0,"tie_word_embeddings":true,"max_position_embeddings":512,"hidden_act":"silu","rms_norm_eps":1e-6,"eos_token_id":151645}' ;;
  *) fail "unknown arch '$ARCH'" ;;
esac
[ -f "$TD/$TOK/models/tokenizer.json" ] || fail "test data $TOK missing (tools/fetch_testdata.sh)"
echo "$CFG" >cfg.json
"$YA" init-model --config cfg.json --out m --dtype f32 --seed 3 --tokenizer "$TD/$TOK/models" >/dev/null
# Peaked distributions: matrices ×5, embeddings/lm_head ×20, random biases (init-model writes zeros).
"$PY" - <<EOF
import sys, numpy as np
sys.path.insert(0, "$TOOLS")
import torch_llama_ref as r
W = r.read_safetensors("m/model.safetensors")
rng = np.random.default_rng(0)
def sharpen(k, v):
    if k.endswith("bias"): return rng.standard_normal(v.shape) * 0.1
    if "embed_tokens" in k or "lm_head" in k: return v * 20
    return v * 5 if v.ndim == 2 else v
r.write_safetensors("m/model.safetensors", [(k, "F32", sharpen(k, v).astype(np.float32)) for k, v in W.items()])
EOF
check() { node "$TOOLS/llamacpp_check.js" "$NM" compare "$@" --ids "$IDS" --rel-tol "$REL" --min-top1 "$TOP1"; }

case $ARCH in
  adapter-*)
    [ "$TYPE" = f32 ] || [ "$TYPE" = f16 ] || [ "$TYPE" = bf16 ] || fail "GGUF adapters are f32, f16 or bf16"
    "$PY" "$TOOLS/torch_lora_ref.py" make-adapter --model m --out ad --rank 4 --alpha 8 --seed 12
    "$YA" export --model m --format gguf --dtype f32 --out base.gguf
    "$YA" export --model m --adapter ad --format gguf-adapter --dtype "$TYPE" --out adapter.gguf
    "$YA" forward --model m --adapter ad --ids "$IDS" --out ours.safetensors
    "$YA" forward --model m --ids "$IDS" --out ours_base.safetensors
    # negatives: llama.cpp with the adapter at scale 1.25; our base without the adapter
    check base.gguf --ours ours.safetensors --lora adapter.gguf --lora-scale 1 --wrong-lora-scale 1.25 \
      --wrong ours_base.safetensors ;;
  *)
    "$YA" export --model m --format gguf "$FLAG" "$VAL" --out model.gguf
    "$YA" forward --model m --ids "$IDS" --out ours.safetensors
    # negative: our logits with a small LoRA delta the GGUF lacks (a lost merge)
    "$PY" "$TOOLS/torch_lora_ref.py" make-adapter --model m --out ad --rank 2 --alpha 0.5 --seed 13
    "$YA" forward --model m --adapter ad --ids "$IDS" --out ours_adapted.safetensors
    check model.gguf --ours ours.safetensors --wrong ours_adapted.safetensors ;;
esac
echo "ok $CASE"
