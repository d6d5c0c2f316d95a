#!/usr/bin/env bash
# cpu_paths.sh — the CLI side of the CPU-path guarantees (docs/RELIABILITY.md):
#  1. exact resume holds on the portable SIMD path too (YA_SIMD=portable, one
#     fixed thread count): 6 updates straight == 3 + --resume, byte for byte;
#  2. the portable and the AVX-512 paths (where the CPU has AVX-512F) train to
#     adapters within a stated tolerance of each other, not to the same bytes;
#  3. YA_SIMD other than auto|portable|avx512 is a usage error (exit 2) naming it;
#  4. `--matmul bf16` where oneDNN has no bf16 GEMM (ONEDNN_MAX_CPU_ISA=AVX2
#     stands in for a CPU without AVX-512) is a usage error naming the CPU, not a crash.
#   cpu_paths.sh YOUR_AI TORCH_PYTHON WORKDIR
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
YA=$1 PY=$2 WORK=$3
TOK=${YA_TESTDATA_DIR:?}/llama2/models/tokenizer.json
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }
. "$HERE/tiny_setup.sh"
tiny_model "$YA" "$TOK"
tiny_corpus "$PY" 2 20 40 "the patent describes a measurement of the voltage in the laboratory notebook while the letter from the archive records observations" train.jsonl:24
# Rows of 20–40 words: long enough for the attention's GEMM path and its AVX-512 softmax.
A="--model m --data train.jsonl --warmup-steps 1 --learning-rate 1e-2 --batch-size 2 --max-seq-length 64 --lora-rank 4 --threads 1 --max-steps 6 --save-every 3"
adapter=checkpoint-6-final/adapter_model.safetensors

# 1. exact resume on the portable path
YA_SIMD=portable "$YA" train $A --out p1 2>/dev/null
YA_SIMD=portable "$YA" train $A --out p2 2>/dev/null
rm -rf p2/checkpoint-6-final
YA_SIMD=portable "$YA" train $A --out p2 --resume auto 2>err.txt || { cat err.txt; fail "resume failed"; }
grep -q "resumed from p2/checkpoint-3" err.txt || fail "did not resume from checkpoint-3"
for f in adapter_model.safetensors optimizer.safetensors; do
  cmp "p1/checkpoint-6-final/$f" "p2/checkpoint-6-final/$f" || fail "portable path: resumed $f differs"
done
echo "ok: portable SIMD path, 6 updates straight == 3 + resume (adapter and optimizer bytes)"

# 2. the default path (AVX-512F where the CPU has it) against the portable one: within
#    1e-4 of the adapter's largest entry after 6 updates (the paths round exp differently).
"$YA" train $A --out d1 2>/dev/null
"$PY" - "p1/$adapter" "d1/$adapter" <<'PYEOF' || fail "portable and default paths drifted apart"
import json, struct, sys
import numpy as np
def read(p):
    b = open(p, "rb").read(); n = struct.unpack("<Q", b[:8])[0]; h = json.loads(b[8:8 + n])
    return {k: np.frombuffer(b[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]], np.float32)
            for k, v in h.items() if k != "__metadata__" and v["dtype"] == "F32"}
a, b = read(sys.argv[1]), read(sys.argv[2])
assert a.keys() == b.keys() and a, "different tensors"
rel = max(float(np.max(np.abs(a[k] - b[k]))) for k in a) / max(float(np.max(np.abs(b[k]))) for k in b)
print(f"portable vs default path after 6 updates: max|a-b|/max|b| = {rel:.3e} (tol 1e-4)")
sys.exit(0 if rel <= 1e-4 else 1)
PYEOF

# 3. an unknown YA_SIMD value
set +e
YA_SIMD=sse9 "$YA" forward --model m --ids "1 2 3" --out x.safetensors 2>err.txt
rc=$?
set -e
cat err.txt
[ $rc -eq 2 ] && grep -q "YA_SIMD='sse9'" err.txt || fail "YA_SIMD=sse9: exit $rc, expected 2 naming YA_SIMD"

# 4. --matmul bf16 without a bf16 GEMM for the CPU
set +e
ONEDNN_MAX_CPU_ISA=AVX2 "$YA" train $A --out b1 --matmul bf16 2>err.txt
rc=$?
set -e
cat err.txt
[ $rc -eq 2 ] || fail "--matmul bf16 without a bf16 GEMM: exit $rc, expected 2"
grep -Eq "no bf16 GEMM on this CPU|has no oneDNN" err.txt || fail "--matmul bf16: the message does not say why"
[ ! -e b1/checkpoint-6-final ] || fail "--matmul bf16 wrote a checkpoint"
echo "ok cpu_paths"
