#!/bin/bash
# run_all_on_gpu.sh — every GPU check in one call (the device budget favours few
# calls): the op tests + op timings (run_on_gpu.sh, RUN_BENCH=1, no memcheck
# unless RUN_MEMCHECK=1), the training checks (run_train_on_gpu.sh), the
# inference test (run_infer_on_gpu.sh ONLY="infer ctest"), the NaN/Inf weight checks
# on the GPU inference path (tests/model/nonfinite_weights.sh, YA_DEVICE=cuda), and the demo pipeline on the
# GPU with a larger model (issue 6 acceptance 5: tools/demo.sh with DEVICE=cuda,
# the `small` preset, 300 pretraining + 100 LoRA updates). Logs go to OUTDIR.
#   YA_TESTDATA_DIR=<brown/, llama2/, llama3/> tests/cuda/run_all_on_gpu.sh OUTDIR
set -u
out=${1:-/tmp/ya-gpu-all}
mkdir -p "$out"
export YA_TESTDATA_DIR=${YA_TESTDATA_DIR:-$PWD/build/testdata}
export YA_GPU_BUILD=/tmp/ya-build
rc=0
RUN_BENCH=1 RUN_MEMCHECK=${RUN_MEMCHECK:-0} tests/cuda/run_on_gpu.sh "$out/ops" >"$out/ops.log" 2>&1 || rc=1
grep -E "FAIL|checks|differ|ok$" "$out/ops.log" | grep -v " ok$" | head -20
grep -E "TFLOP|GB/s" "$out/ops.log" | head -60
tests/cuda/run_train_on_gpu.sh "$out/train" >"$out/train.log" 2>&1 || rc=1
grep -E "objective|worst|repeatable|AdamW|resume_kill|PASS|FAIL|max rel" "$out/train.log"
cmake --build "$YA_GPU_BUILD" -j16 --target test_cuda_infer >"$out/build_infer.log" 2>&1 || rc=1
ONLY="infer ctest" BUILD=$YA_GPU_BUILD tests/cuda/run_infer_on_gpu.sh "$out/infer" >"$out/infer.log" 2>&1 || rc=1
grep -E "tests passed|Failed|FAIL|checks" "$out/infer.log" | head -5
# NaN/Inf weights on the GPU inference path: forward/generate/validate exit 1 naming the tensor
YA_DEVICE=cuda tests/model/nonfinite_weights.sh "$YA_GPU_BUILD/your_ai" "$out/nonfinite" >"$out/nonfinite.log" 2>&1 || rc=1
grep -E "FAIL|all passed" "$out/nonfinite.log" | head -3
d=/tmp/ya-gpu-demo
rm -rf "$d"
DEVICE=cuda PRESET=small SEQ=256 PRETRAIN_STEPS=300 LORA_STEPS=100 BATCH=16 NPM_DATA="$YA_TESTDATA_DIR" \
    tools/demo.sh "$YA_GPU_BUILD" "$d" >"$out/demo.log" 2>&1 || { echo "demo FAILED"; rc=1; }
grep -E "^step (1|5|50|100|150|200|250|300)/|val ce|^== " "$out/demo.log" | head -40
cp "$d/report.json" "$out/demo-report.json" 2>/dev/null
exit $rc
