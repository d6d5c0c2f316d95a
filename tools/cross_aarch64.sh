#!/usr/bin/env bash
# cross_aarch64.sh — builds the CPU engine for aarch64 (64-bit Arm Linux: the CPU of
# Apple-silicon Macs and Arm servers) with Debian's cross toolchain and runs a subset
# of the tests under qemu-user, comparing with the same float64 PyTorch references
# as the x86-64 tests (those run natively).
#   tools/cross_aarch64.sh [BUILD_DIR]        default build-aarch64
#   CROSS_SKIP_INSTALL=1                      do not touch the Debian packages
# Installs (when missing, as root or through sudo): gcc-aarch64-linux-gnu, qemu-user,
# and through multiarch (dpkg --add-architecture arm64) the arm64 -dev packages of the
# build's dependencies. oneDNN is not installed for arm64: `train --matmul bf16`
# is then refused with a message, which one of the tests checks.
# Exit status: 0 when every test of the subset passed, 1 otherwise, 2 on a setup problem.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build-aarch64}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
ARM_PKGS=(libopenblas-dev:arm64 libpcre2-dev:arm64 libjansson-dev:arm64 libutf8proc-dev:arm64 libyaml-dev:arm64 libgomp1:arm64 libc6-dev:arm64)

if [ -z "${CROSS_SKIP_INSTALL:-}" ]; then
  need=()
  command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
  command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
  for p in "${ARM_PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || need+=("$p"); done
  if [ ${#need[@]} -gt 0 ]; then
    SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
    echo "cross_aarch64: installing ${need[*]}"
    dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
    export DEBIAN_FRONTEND=noninteractive
    $SUDO apt-get update -q >/dev/null
    $SUDO apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null
  fi
fi
command -v aarch64-linux-gnu-gcc >/dev/null && command -v qemu-aarch64 >/dev/null \
  || { echo "cross_aarch64: aarch64-linux-gnu-gcc or qemu-aarch64 missing" >&2; exit 2; }

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/aarch64-linux-gnu.cmake" -DYA_CUDA=OFF \
  -DCMAKE_BUILD_TYPE=Release >"$BUILD.cmake.log" 2>&1 || { echo "cross_aarch64: cmake failed, see $BUILD.cmake.log" >&2; exit 2; }
cmake --build "$BUILD" -j "${CROSS_JOBS:-2}" --target your_ai test_backward test_train test_distrust_loss test_tokenizer \
  >"$BUILD.build.log" 2>&1 || { echo "cross_aarch64: build failed, see $BUILD.build.log" >&2; exit 2; }
file "$BUILD/your_ai" | grep -q "ARM aarch64" || { echo "cross_aarch64: $BUILD/your_ai is not an aarch64 binary" >&2; exit 2; }

# qemu-aarch64 finds the arm64 loader and libraries of the multiarch install in /;
# the wrappers let the test scripts run the binaries as if they were native.
export QEMU_LD_PREFIX=${QEMU_LD_PREFIX:-/}
WRAP="$BUILD/qemu"
mkdir -p "$WRAP"
for b in your_ai tests/backward/test_backward tests/train/test_train tests/distrust/test_distrust_loss \
         tests/tokenizer/test_tokenizer; do
  printf '#!/bin/sh\nexec qemu-aarch64 "%s" "$@"\n' "$BUILD/$b" >"$WRAP/$(basename "$b")"
  chmod +x "$WRAP/$(basename "$b")"
done
PY=${YA_TORCH_PYTHON:-/usr/bin/python3}
WORK="$BUILD/work"
rm -rf "$WORK"; mkdir -p "$WORK"
TRAIN_BASE='"max_position_embeddings":512,"hidden_act":"silu","bos_token_id":1,"eos_token_id":2,"rms_norm_eps":1e-5'

failed=()
run() { # run NAME command...
  local name=$1; shift
  if "$@" >"$WORK/$name.log" 2>&1; then echo "ok   $name"; else echo "FAIL $name (log: $WORK/$name.log)"; tail -5 "$WORK/$name.log" | sed 's/^/     /'; failed+=("$name"); fi
}
echo "cross_aarch64: $(qemu-aarch64 "$BUILD/your_ai" version) ($(file -b "$BUILD/your_ai" | cut -d, -f1-2))"
# the loss against its reference vectors; the tokenizer's unit tests
run distrust_loss "$WRAP/test_distrust_loss"
run tokenizer "$WRAP/test_tokenizer"
# forward pass vs the float64 PyTorch reference; 1 vs 2 threads; KV-cache greedy == reference
for c in parity_mha parity_gqa parity_ref_qwen2 kv_cache_greedy; do
  run "model_$c" "$ROOT/tests/model/model_test.sh" "$WRAP/your_ai" "$PY" "$WORK/model" "$c"
done
# backward ops vs torch autograd
for c in linear rmsnorm rope_llama3 attn_rep4 swiglu ce_weighted layer_lora; do
  run "backward_$c" "$ROOT/tests/backward/run_case.sh" "$PY" "$WRAP/test_backward" "$WORK/backward" "$c"
done
# a training step's gradients + 10 AdamW updates vs the reference
run train_lora_llama3_adamw "$ROOT/tests/train/run_case.sh" "$PY" "$WRAP/test_train" "$WORK/train" lora_llama3_adamw F32 \
  '{"model_type":"llama","hidden_size":32,"intermediate_size":48,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":67,"tie_word_embeddings":true,"rope_theta":500000.0,"rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":16},'"$TRAIN_BASE"'}' \
  '{"train":"lora","rank":4,"alpha":8,"targets":["q","k","v","o","gate","up","down"],"layers":-1,"mode":"off","lens":[9,7,9,5],"prompt":2,"steps":10,"lr":0.01,"warmup":3,"max_steps":10,"max_grad_norm":0.05,"wd":0.01}'
# tokenizer (needs the npm test data) and `train` end to end with exact resume
if [ -n "${YA_TESTDATA_DIR:-}" ] && [ -d "$YA_TESTDATA_DIR" ]; then
  run tokenizer_configs "$WRAP/test_tokenizer" "$YA_TESTDATA_DIR"
  run train_cpu_paths env YA_TESTDATA_DIR="$YA_TESTDATA_DIR" "$ROOT/tests/train/cpu_paths.sh" "$WRAP/your_ai" "$PY" "$WORK/cpu_paths"
else
  echo "skip tokenizer, train_cpu_paths: set YA_TESTDATA_DIR (tools/fetch_testdata.sh DIR)"
fi
if [ ${#failed[@]} -gt 0 ]; then echo "cross_aarch64: failed: ${failed[*]}"; exit 1; fi
echo "cross_aarch64: every test of the subset passed on aarch64 (qemu-user)"
