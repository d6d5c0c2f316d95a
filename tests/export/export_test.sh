#!/usr/bin/env bash
# export_test.sh — adapters at inference and every export format, each against
# an independent reference (SPEC §7, §10):
#   export_test.sh YOUR_AI TORCH_PYTHON WORKDIR CASE GGUF_DUMP
# adapter_*   `forward --adapter` vs tools/torch_lora_ref.py (PyTorch, float64,
#             base + (α/r)·B(A·x) from the PEFT files): max rel ≤ 1e-5
# peft_*      exported keys/config/values vs SPEC §10.1 (torch_lora_ref.py check-peft)
# merged_*    merged dir layout + every weight vs W + (α/r)·B·A computed in numpy,
#             and merged logits vs base + adapter logits
# gguf_*      tools/gguf_ref.py (own parser, llama.cpp permute + Q8_0 reference,
#             metadata from config/tokenizer.json; our reader's dump must agree)
#             and, when the npm test data is there, @huggingface/gguf (gguf_check.js)
# gguf_q*_k*  K-quant mixes: gguf_ref.py (types by llama-quantize's rules, numpy-decoded
#             values) and llama.cpp itself: its quantizer must write the same bytes, and
#             its log-probs on the file must match our forward (llamacpp_kquant_checks)
# kquant_ggml our quantizers vs llama.cpp's library on synthetic rows, byte for byte
# Adapters come from torch_lora_ref.py make-adapter: random non-zero A AND B.
set -euo pipefail
YA=$1 PY=$2 WORK=$3 CASE=$4 DUMP=$5
HERE=$(cd "$(dirname "$0")" && pwd)
TOOLS="$HERE/../../tools"
LLAMA_REF="$TOOLS/torch_llama_ref.py"
LORA_REF="$TOOLS/torch_lora_ref.py"
GGUF_REF="$TOOLS/gguf_ref.py"
TD=${YA_TESTDATA_DIR:-}
DIR="$WORK/$CASE"
rm -rf "$DIR"
mkdir -p "$DIR"
cd "$DIR"
IDS="1 17 5 200 33 7 150 2 99 42 8 250 61 3 77 120 9 180 44 11"
fail() { echo "FAIL $CASE: $*" >&2; exit 1; }

BASE='"max_position_embeddings":512,"hidden_act":"silu","bos_token_id":1,"eos_token_id":2,"rms_norm_eps":1e-5'
ref_model() { "$PY" "$LLAMA_REF" write --config-json "$1" --out m --dtype "$2" --seed 11 --shards "${3:-1}"; }
init_model() { echo "$1" >cfg.json; "$YA" init-model --config cfg.json --out m --dtype "$2" --seed 3 "${@:3}" >/dev/null; }
make_adapter() { "$PY" "$LORA_REF" make-adapter --model m --out ad "$@"; }
adapter_parity() { # [forward flags]
  "$YA" forward --model m --adapter ad --ids "$IDS" --out la.safetensors "$@"
  "$PY" "$LORA_REF" compare --model m --adapter ad --ids "$IDS" --logits la.safetensors --tol 1e-5
}
# gguf_checks FILE TYPE [--adapter DIR] -- npm expectations...
gguf_checks() {
  local file=$1 type=$2
  shift 2
  local extra=()
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do extra+=("$1"); shift; done
  [ $# -gt 0 ] && shift
  "$DUMP" "$file" >dump.json
  "$PY" "$GGUF_REF" check-model --model m --gguf "$file" --type "$type" --dump dump.json "${extra[@]}"
  npm_check "$file" "$@"
}
npm_check() { # FILE expectations...
  local nm="$TD/gguf/node_modules"
  if [ -n "$TD" ] && [ -d "$nm/@huggingface/gguf" ]; then
    "$DUMP" "$1" >dump_npm.json
    node "$TOOLS/gguf_check.js" "$nm" "$1" --dump dump_npm.json "${@:2}" | tail -3
  else
    echo "note: @huggingface/gguf not fetched (tools/fetch_testdata.sh); npm check skipped"
  fi
}
# llama.cpp itself (node-llama-cpp's prebuilt linux-x64 build, tools/fetch_testdata.sh llamacpp)
LLAMACPP_NM=${TD:+$TD/llamacpp/node_modules}
LLAMACPP_BINS=${TD:+$LLAMACPP_NM/@node-llama-cpp/linux-x64/bins/linux-x64}
BIN_DIR=$(dirname "$DUMP") # kquant_ggml_check, llamacpp_quantize, gguf_tensor_cmp are built beside gguf_dump
have_llamacpp() {
  [ -n "$TD" ] && [ -f "$TD/llamacpp/.ok" ] && ls "$LLAMACPP_BINS"/libllama*.so >/dev/null 2>&1 && return 0
  echo "note: llama.cpp (node-llama-cpp) not fetched (tools/fetch_testdata.sh llamacpp); llama.cpp checks skipped"
  return 1
}
# llamacpp_kquant_checks FILE FTYPE TOL [--adapter DIR]: with model m,
#  1. llama.cpp's own quantizer (llama_model_quantize) run on our F32 export of the same
#     weights must give the same file, tensor by tensor (types and bytes);
#  2. llama.cpp loads FILE and its next-token log-probs on $IDS match our forward on the
#     weights decoded back from FILE (gguf_ref.py dequantize-model) within TOL, while our
#     forward on the unquantized weights differs by more than TOL (the check can tell them apart).
llamacpp_kquant_checks() {
  local file=$1 ftype=$2 tol=$3 adapter=() adapter_flag=()
  [ "${4:-}" = "--adapter" ] && adapter=(--adapter "$5") && adapter_flag=("$5")
  have_llamacpp || return 0
  "$YA" export --model m "${adapter[@]}" --format gguf --out f32.gguf --dtype f32 2>/dev/null
  "$BIN_DIR/llamacpp_quantize" "$(ls "$LLAMACPP_BINS"/libllama*.so | head -1)" f32.gguf llamacpp.gguf "$ftype" \
    >llamacpp_quantize.log 2>&1 || { tail -20 llamacpp_quantize.log >&2; fail "llama_model_quantize failed"; }
  "$BIN_DIR/gguf_tensor_cmp" "$file" llamacpp.gguf general.file_type general.quantization_version ||
    fail "our $file differs from llama.cpp's quantization of the same weights"
  "$PY" "$GGUF_REF" dequantize-model --model m --gguf "$file" --out decoded
  "$YA" forward --model decoded --ids "$IDS" --out decoded_logits.safetensors
  "$YA" forward --model m "${adapter[@]}" --ids "$IDS" --out fp32_logits.safetensors
  node "$TOOLS/llamacpp_check.js" "$LLAMACPP_NM" logprobs "$file" --ids "$IDS" --out llamacpp_logprobs.f32
  "$PY" "$GGUF_REF" compare-logprobs --ours decoded_logits.safetensors --llamacpp llamacpp_logprobs.f32 --tol "$tol" \
    --control fp32_logits.safetensors
}
need_td() { [ -n "$TD" ] && [ -f "$TD/$1/models/tokenizer.json" ] || fail "test data $1 missing (fetch_testdata)"; }
. "$HERE/../expect_error.sh"

case $CASE in
  adapter_mha) # all 7 targets, all layers; greedy generation with the adapter == greedy on the merged model
    ref_model '{"model_type":"llama","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":257,'"$BASE"'}' F32
    make_adapter --rank 4 --alpha 8 --seed 1
    adapter_parity
    "$YA" export --model m --adapter ad --format merged --out merged
    a=$("$YA" generate --model m --adapter ad --ids "1 5 7 9" --max-tokens 16 --print-ids 2>/dev/null)
    b=$("$YA" generate --model merged --ids "1 5 7 9" --max-tokens 16 --print-ids 2>/dev/null)
    c=$("$YA" generate --model m --ids "1 5 7 9" --max-tokens 16 --print-ids 2>/dev/null)
    echo "adapter: $a"; echo "merged:  $b"; echo "base:    $c"
    [ "$a" = "$b" ] || fail "generate --adapter differs from generate on the merged model"
    [ "$a" != "$c" ] || fail "the adapter did not change generation" ;;
  adapter_gqa_bf16_partial) # GQA, head_dim != h/n_h, bf16 base, BF16 adapter with PEFT's ".default" keys,
                            # q/v/down only, last 2 of 3 layers (layers_to_transform), chunked forward
    ref_model '{"model_type":"llama","hidden_size":64,"intermediate_size":96,"num_hidden_layers":3,"num_attention_heads":4,"num_key_value_heads":2,"head_dim":32,"vocab_size":257,'"$BASE"'}' BF16
    make_adapter --rank 3 --alpha 5 --targets q_proj,v_proj,down_proj --layers 2 --dtype BF16 --default-suffix --seed 2
    adapter_parity --chunk 7
    adapter_parity --chunk 1 ;;
  adapter_qwen2) # qwen2: q/k/v biases, tied embeddings, rank 8
    ref_model '{"model_type":"qwen2","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":257,"rope_theta":1000000.0,"tie_word_embeddings":true,"max_position_embeddings":512,"hidden_act":"silu","rms_norm_eps":1e-6,"eos_token_id":2}' F32
    make_adapter --rank 8 --alpha 16 --seed 3
    adapter_parity ;;
  peft_export) # F32 (all layers) and BF16 (layers_to_transform) exports; the F32 export loads back to identical logits
    ref_model '{"model_type":"llama","hidden_size":64,"intermediate_size":96,"num_hidden_layers":3,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":257,'"$BASE"'}' F32
    make_adapter --rank 4 --alpha 8 --seed 4 --default-suffix
    "$YA" export --model m --adapter ad --format peft --out peft
    "$PY" "$LORA_REF" check-peft --adapter ad --exported peft
    "$YA" forward --model m --adapter ad --ids "$IDS" --out a.safetensors
    "$YA" forward --model m --adapter peft --ids "$IDS" --out b.safetensors
    cmp a.safetensors b.safetensors || fail "the exported adapter gives different logits"
    rm -rf ad && make_adapter --rank 2 --alpha 3 --targets k_proj,o_proj,gate_proj,up_proj --layers 1 --seed 5
    "$YA" export --model m --adapter ad --format peft --out peft_bf16 --dtype bf16 --base-model org/base
    "$PY" "$LORA_REF" check-peft --adapter ad --exported peft_bf16 --dtype BF16
    grep -q '"base_model_name_or_path":"org/base"' peft_bf16/adapter_config.json || fail "--base-model not written" ;;
  merged_f32) # merged logits == base + adapter logits (engine) and == the PyTorch reference
    ref_model '{"model_type":"llama","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":257,"attention_bias":true,'"$BASE"'}' F32
    make_adapter --rank 4 --alpha 8 --seed 6
    "$YA" export --model m --adapter ad --format merged --out merged
    "$PY" "$LORA_REF" check-merged --base m --adapter ad --merged merged --dtype F32
    "$YA" forward --model m --adapter ad --ids "$IDS" --out la.safetensors
    "$YA" forward --model merged --ids "$IDS" --out lm.safetensors
    "$PY" "$LORA_REF" compare-logits lm.safetensors la.safetensors --tol 1e-5
    "$PY" "$LORA_REF" compare --model m --adapter ad --ids "$IDS" --logits lm.safetensors --tol 1e-5 ;;
  merged_bf16_sharded)
    # bf16 base in shards, merged in bf16 (W' rounded once to bf16: relative weight error up to 2^-9,
    # so logits may move by ~1e-2 of max|logit| — the tolerance below) and in f32 (exact: 1e-5).
    init_model '{"model_type":"llama","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":6000,'"$BASE"'}' bf16 --shard-size 1
    make_adapter --rank 4 --alpha 8 --seed 7
    "$YA" export --model m --adapter ad --format merged --out merged --shard-size 1
    [ -f merged/model.safetensors.index.json ] || fail "no shards written"
    "$PY" "$LORA_REF" check-merged --base m --adapter ad --merged merged --dtype BF16
    "$YA" export --model m --adapter ad --format merged --out merged32 --dtype f32
    "$PY" "$LORA_REF" check-merged --base m --adapter ad --merged merged32 --dtype F32
    "$YA" forward --model m --adapter ad --ids "$IDS" --out la.safetensors
    "$YA" forward --model merged32 --ids "$IDS" --out l32.safetensors
    "$YA" forward --model merged --ids "$IDS" --out l16.safetensors
    "$PY" "$LORA_REF" compare-logits l32.safetensors la.safetensors --tol 1e-5
    "$PY" "$LORA_REF" compare-logits l16.safetensors la.safetensors --tol 2e-2 ;;
  merged_tied) # tied embeddings (no lm_head written), tokenizer + generation files copied byte for byte, f16 output
    ref_model '{"model_type":"llama","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":257,"tie_word_embeddings":true,'"$BASE"'}' F32
    echo '{"bos_token_id":1,"eos_token_id":[2],"do_sample":false}' >m/generation_config.json
    echo '{"tokenizer_class":"LlamaTokenizer"}' >m/tokenizer_config.json
    echo '{"bos_token":"<s>"}' >m/special_tokens_map.json
    echo '{"version":"1.0","model":{"type":"BPE","vocab":{},"merges":[]}}' >m/tokenizer.json
    printf 'not-a-real-sentencepiece-model' >m/tokenizer.model
    make_adapter --rank 4 --alpha 4 --seed 8
    "$YA" export --model m --adapter ad --format merged --out merged --dtype f16
    "$PY" "$LORA_REF" check-merged --base m --adapter ad --merged merged --dtype F16 ;;
  gguf_llama_f32) # SentencePiece tokenizer (Mistral vocab), GQA with head_dim != h/n_h (key_length), untied, bit-exact
    need_td llama2
    init_model '{"model_type":"llama","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"head_dim":32,"vocab_size":32000,'"$BASE"'}' f32 --tokenizer "$TD/llama2/models"
    "$YA" export --model m --format gguf --out out --dtype f32
    gguf_checks out/model.gguf F32 -- general.architecture=llama llama.block_count=2 llama.attention.head_count_kv=2 \
      llama.attention.key_length=32 tokenizer.ggml.model=llama tokenizer.ggml.tokens=#32000 tokenizer.ggml.scores=#32000 \
      tokenizer.ggml.bos_token_id=1 tokenizer.ggml.add_bos_token=true general.file_type=0 ;;
  gguf_llama_f16_adapter) # adapter merged into an F16 GGUF (mistral, linear rope scaling)
    need_td llama2
    init_model '{"model_type":"mistral","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":1,"vocab_size":32000,"rope_scaling":{"type":"linear","factor":2.0},'"$BASE"'}' bf16 --tokenizer "$TD/llama2/models"
    make_adapter --rank 4 --alpha 8 --seed 9
    "$YA" export --model m --adapter ad --format gguf --out out
    gguf_checks out/model.gguf F16 --adapter ad -- general.architecture=llama llama.rope.scaling.type=linear \
      llama.rope.scaling.factor=2 general.file_type=1 ;;
  gguf_q8_0) # Q8_0 vs the reference quantizer, bit for bit; f = 80 → ffn_down rows of 80 fall back to F16
    need_td llama2
    init_model '{"model_type":"llama","hidden_size":64,"intermediate_size":80,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":32000,'"$BASE"'}' f32 --tokenizer "$TD/llama2/models"
    "$YA" export --model m --format gguf --out q8.gguf --quant q8_0
    gguf_checks q8.gguf Q8_0 -- general.file_type=7 general.quantization_version=2 ;;
  gguf_q4_k_m) # K-quant mix Q4_K_M from an F32 base with an adapter merged: 8 layers, so attn_v/ffn_down of
    # layers 0, 3, 6, 7 get Q6_K (llama.cpp's "more bits" layers), the output Q6_K, the rest Q4_K.
    # Tolerances of the llama.cpp comparisons: llama.cpp rounds the activations to 8 bits (Q8_K blocks)
    # before every quantized matmul, which alone moves these models' log-probs by 0.1-0.2 (0.10 with a
    # Q8_0 export of the 8-layer model, whose decoded weights are exact); the weights' own quantization
    # error moves them further (the control: forward on the unquantized weights). Each tolerance sits
    # between the two as measured: Q4_K_M 0.20 | 0.5 | 1.67, Q5_K_M 0.15 | 0.4 | 0.82, Q6_K 0.11 | 0.18 | 0.28.
    need_td llama2
    ref_model '{"model_type":"llama","hidden_size":256,"intermediate_size":512,"num_hidden_layers":8,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":32000,'"$BASE"'}' F32
    cp "$TD"/llama2/models/tokenizer*.json m/
    make_adapter --rank 4 --alpha 8 --seed 12
    "$YA" export --model m --adapter ad --format gguf --out q4_k_m.gguf --quant q4_k_m
    gguf_checks q4_k_m.gguf Q4_K_M --adapter ad -- general.file_type=15 general.quantization_version=2
    llamacpp_kquant_checks q4_k_m.gguf 15 0.5 --adapter ad ;;
  gguf_q5_k_m) # Q5_K_M from a BF16 base, tied embeddings, hidden 288 (not a multiple of 256): the 288-wide
    # matrices fall back to Q5_1 (Q6_K ones to Q8_0), token_embd (the output) to Q8_0; ffn_down rows of 512
    # stay K-quants (Q6_K in layer 2, the "more bits" layer of 3). Tolerance: see gguf_q4_k_m.
    need_td llama2
    ref_model '{"model_type":"llama","hidden_size":288,"intermediate_size":512,"num_hidden_layers":3,"num_attention_heads":4,"vocab_size":32000,"tie_word_embeddings":true,'"$BASE"'}' BF16
    cp "$TD"/llama2/models/tokenizer*.json m/
    # tied N(0, 1) embeddings make the output one-hot: scale them to N(0, 1/h) so log-probs can be compared
    "$PY" -c "
import sys, numpy as np; sys.path.insert(0, '$TOOLS'); import torch_llama_ref as r
W = r.read_safetensors('m/model.safetensors')
W['model.embed_tokens.weight'] = W['model.embed_tokens.weight'] / np.sqrt(288)
u = lambda v: v.astype(np.float32).view(np.uint32).astype(np.uint64)
r.write_safetensors('m/model.safetensors', [(k, 'BF16', (((u(v) + 0x7FFF + ((u(v) >> 16) & 1)) >> 16) & 0xFFFF).astype(np.uint16)) for k, v in W.items()])"
    "$YA" export --model m --format gguf --out q5_k_m.gguf --quant q5_k_m
    gguf_checks q5_k_m.gguf Q5_K_M -- general.file_type=17
    llamacpp_kquant_checks q5_k_m.gguf 17 0.4 ;;
  gguf_q6_k) # Q6_K everywhere, arch qwen2 (biases, no Q/K permutation), intermediate 544: ffn_down rows of
    # 544 fall back to Q8_0 (544 = 17·32); SentencePiece vocabulary. Tolerance: see gguf_q4_k_m.
    need_td llama2
    ref_model '{"model_type":"qwen2","hidden_size":256,"intermediate_size":544,"num_hidden_layers":4,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":32000,"rope_theta":1000000.0,"max_position_embeddings":512,"hidden_act":"silu","rms_norm_eps":1e-6,"bos_token_id":1,"eos_token_id":2}' F32
    cp "$TD"/llama2/models/tokenizer*.json m/
    "$YA" export --model m --format gguf --out q6_k.gguf --quant q6_k
    gguf_checks q6_k.gguf Q6_K -- general.file_type=18
    llamacpp_kquant_checks q6_k.gguf 18 0.18 ;;
  kquant_ggml) # our block quantizers vs llama.cpp's ggml_quantize_chunk, byte for byte (16 distributions)
    have_llamacpp || { echo "ok $CASE (skipped)"; exit 0; }
    "$BIN_DIR/kquant_ggml_check" "$LLAMACPP_BINS/libggml-base.so" ;;
  gguf_bf16_qwen2) # qwen2: no Q/K permutation, q/k/v biases, byte-level tokenizer (pre qwen2), tied, BF16
    need_td qwen3
    init_model '{"model_type":"qwen2","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":151936,"rope_theta":1000000.0,"tie_word_embeddings":true,"max_position_embeddings":512,"hidden_act":"silu","rms_norm_eps":1e-6,"eos_token_id":151645}' f32 --tokenizer "$TD/qwen3/models"
    # init-model writes zero biases: give them values so a missing or permuted bias is seen
    "$PY" -c "
import sys, numpy as np; sys.path.insert(0, '$TOOLS'); import torch_llama_ref as r
W = r.read_safetensors('m/model.safetensors'); rng = np.random.default_rng(0)
out = [(k, 'F32', (rng.standard_normal(v.shape) * 0.1 if k.endswith('bias') else v).astype(np.float32)) for k, v in W.items()]
r.write_safetensors('m/model.safetensors', out)"
    "$YA" export --model m --format gguf --out out --dtype bf16
    gguf_checks out/model.gguf BF16 -- general.architecture=qwen2 qwen2.rope.freq_base=1000000 tokenizer.ggml.model=gpt2 \
      tokenizer.ggml.pre=qwen2 tokenizer.ggml.tokens=#151936 tokenizer.ggml.eos_token_id=151645 general.file_type=32 ;;
  gguf_llama3_rope) # llama3 rope → rope_freqs.weight; byte-level tokenizer (pre llama-bpe); tied
    need_td llama3
    init_model '{"model_type":"llama","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":128256,"rope_theta":500000.0,"rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":64},"tie_word_embeddings":true,"max_position_embeddings":512,"hidden_act":"silu","rms_norm_eps":1e-5,"bos_token_id":128000,"eos_token_id":128001}' bf16 --tokenizer "$TD/llama3/models"
    "$YA" export --model m --format gguf --out out
    # this tokenizer.json (lenml) has a ByteLevel post-processor only (no BOS template): add_bos_token false
    gguf_checks out/model.gguf F16 -- tokenizer.ggml.model=gpt2 tokenizer.ggml.pre=llama-bpe tokenizer.ggml.merges=#280147 \
      tokenizer.ggml.bos_token_id=128000 tokenizer.ggml.add_bos_token=false ;;
  gguf_adapter) # GGUF LoRA adapters: llama (q/k lora_b rows permuted) and qwen2 (not permuted)
    ref_model '{"model_type":"llama","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":257,'"$BASE"'}' F32
    make_adapter --rank 4 --alpha 8 --seed 10
    "$YA" export --model m --adapter ad --format gguf-adapter --out out
    "$DUMP" out/adapter.gguf >dump.json
    "$PY" "$GGUF_REF" check-adapter --model m --adapter ad --gguf out/adapter.gguf --dump dump.json
    npm_check out/adapter.gguf general.type=adapter adapter.type=lora adapter.lora.alpha=8 general.architecture=llama
    rm -rf m ad out
    ref_model '{"model_type":"qwen2","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":257,"rope_theta":1000000.0,"max_position_embeddings":512,"hidden_act":"silu","rms_norm_eps":1e-6,"eos_token_id":2}' F32
    make_adapter --rank 2 --alpha 4 --targets q_proj,k_proj --layers 1 --seed 11
    "$YA" export --model m --adapter ad --format gguf-adapter --out out/a.gguf
    "$DUMP" out/a.gguf >dump.json
    "$PY" "$GGUF_REF" check-adapter --model m --adapter ad --gguf out/a.gguf --dump dump.json ;;
  errors) # wrong shapes, missing tensors, bad configs and bad flags are reported by name
    ref_model '{"model_type":"llama","hidden_size":64,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":257,'"$BASE"'}' F32
    mkdir other && "$PY" "$LLAMA_REF" write --config-json '{"model_type":"llama","hidden_size":32,"intermediate_size":96,"num_hidden_layers":2,"num_attention_heads":4,"vocab_size":257,'"$BASE"'}' --out other
    "$PY" "$LORA_REF" make-adapter --model other --out bad_shape --rank 4
    expect_error 1 "lora_A.weight" "$YA" forward --model m --adapter bad_shape --ids "1 2" --out x.safetensors
    make_adapter --rank 4
    cp -r ad missing && "$PY" -c "
import sys; sys.path.insert(0, '$TOOLS'); import torch_llama_ref as r, numpy as np
W = r.read_safetensors('missing/adapter_model.safetensors')
r.write_safetensors('missing/adapter_model.safetensors', [(k, 'F32', v.astype(np.float32)) for k, v in W.items() if 'layers.1.mlp.up_proj.lora_B' not in k])"
    expect_error 1 "missing tensor 'base_model.model.model.layers.1.mlp.up_proj.lora_B.weight'" \
      "$YA" export --model m --adapter missing --format peft --out p
    cp -r ad dora && sed -i 's/"use_dora": false/"use_dora": true/' dora/adapter_config.json
    expect_error 1 "use_dora" "$YA" generate --model m --adapter dora --ids "1 2" --max-tokens 2 --print-ids
    expect_error 1 "adapter_config.json" "$YA" forward --model m --adapter /nonexistent --ids "1" --out x.safetensors
    expect_error 2 "--format" "$YA" export --model m --adapter ad --format onnx --out o
    expect_error 2 "needs --adapter" "$YA" export --model m --format peft --out o
    expect_error 2 "--quant" "$YA" export --model m --adapter ad --format merged --quant q8_0 --out o
    # Ollama: no chat template to map (this model has no tokenizer) → name --chat-format, write nothing
    expect_error 2 "--chat-format" "$YA" export --model m --format ollama --out ol
    [ ! -e ol ] && ! ls -d ol.tmp-* 2>/dev/null || fail "a failed Ollama export left files behind"
    expect_error 2 "--chat-format" "$YA" export --model m --format gguf --chat-format llama3 --out o
    expect_error 2 "--chat-format" "$YA" export --model m --format ollama --chat-format alpaca --out ol
    mkdir ol && touch ol/keep && expect_error 1 "give --force" "$YA" export --model m --format ollama --chat-format chatml --out ol

    expect_error 2 "q4_k_m" "$YA" export --model m --format gguf --quant q4_k --out o ;;
  *) fail "unknown case" ;;
esac
echo "ok $CASE"
