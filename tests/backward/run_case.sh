#!/usr/bin/env bash
# run_case.sh — one backward-op case: the PyTorch reference writes inputs and
# float64 gradients (tools/torch_grad_ref.py), then test_backward checks ours.
#   run_case.sh TORCH_PYTHON TEST_BINARY WORKDIR CASE
set -euo pipefail
PY=$1 BIN=$2 WORK=$3 CASE=$4
HERE=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$WORK"
"$PY" "$HERE/../../tools/torch_grad_ref.py" "$CASE" "$WORK/$CASE.safetensors"
"$BIN" "$CASE" "$WORK/$CASE.safetensors"
