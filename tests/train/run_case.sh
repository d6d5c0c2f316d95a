#!/usr/bin/env bash
# run_case.sh — one training-step parity case: the PyTorch reference writes a
# random model (tools/torch_llama_ref.py write: non-zero biases) and the
# expected gradients / AdamW run (tools/torch_train_ref.py), then the test
# binary (test_train, or test_train_bf16 for --matmul bf16) checks the engine against them.
#   run_case.sh TORCH_PYTHON TEST_BINARY WORKDIR CASE DTYPE CONFIG_JSON SPEC_JSON
set -euo pipefail
PY=$1 BIN=$2 WORK=$3 CASE=$4 DTYPE=$5 CONFIG=$6 SPEC=$7
TOOLS=$(cd "$(dirname "$0")/../../tools" && pwd)
DIR="$WORK/$CASE"
rm -rf "$DIR"
mkdir -p "$DIR"
"$PY" "$TOOLS/torch_llama_ref.py" write --config-json "$CONFIG" --out "$DIR/m" --dtype "$DTYPE" --seed 3
"$PY" "$TOOLS/torch_train_ref.py" case --model "$DIR/m" --spec "$SPEC" --out "$DIR/ref.safetensors"
"$BIN" "$DIR/m" "$DIR/ref.safetensors" "$SPEC"
