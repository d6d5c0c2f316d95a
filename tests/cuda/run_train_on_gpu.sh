#!/bin/bash
# run_train_on_gpu.sh — on a GPU machine: builds your_ai and the GPU training
# tests, runs ctest's GPU training cases (the GPU graph against the CPU one),
# the SIGKILL/SIGINT exact-resume test on the GPU (tests/train/resume_kill.sh),
# then tools/gpu_train_parity.sh (20 updates of one command on both devices,
# losses compared). Logs go to OUTDIR.
#   tests/cuda/run_train_on_gpu.sh OUTDIR
# Needs the test data (llama2 tokenizer, Brown corpus) in YA_TESTDATA_DIR (default
# build/testdata; carry a copy) and, on a machine without the -dev packages, a
# carried .gpu-deps/ (docs/CUDA.md).
set -u
out=${1:-/tmp/ya-gpu-train}
mkdir -p "$out"
export YA_TESTDATA_DIR=${YA_TESTDATA_DIR:-$PWD/build/testdata}
TD=$YA_TESTDATA_DIR
deps=$PWD/.gpu-deps
if [ -d "$deps" ]; then
    export PKG_CONFIG_PATH=$deps/lib/pkgconfig LD_LIBRARY_PATH=$deps/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    command -v pkg-config >/dev/null || export PATH=$deps/bin:$PATH
fi
b=${YA_GPU_BUILD:-/tmp/ya-build}
cmake -S . -B "$b" -DYA_TESTDATA_DIR="$TD" >"$out/cmake.log" 2>&1 || { tail -30 "$out/cmake.log"; exit 1; }
cmake --build "$b" -j16 --target your_ai test_cuda_train >"$out/build.log" 2>&1 ||
    { grep -E "error" "$out/build.log" | head -30; exit 1; }
rc=0
(cd "$b" && ctest -R "cuda_train" -V) >"$out/ctest.log" 2>&1 || rc=1
grep -E "objective|worst|repeatable|AdamW|Passed|Failed|FAIL|SKIP" "$out/ctest.log"
# exact resume after SIGKILL / SIGINT, on the GPU graph (with LoRA dropout)
YA_TESTDATA_DIR="$TD" YA_RESUME_DEVICE=cuda tests/train/resume_kill.sh "$b/your_ai" python3 \
    /tmp/ya-resume-kill >"$out/resume_kill.log" 2>&1 && echo "resume_kill on cuda: PASS" ||
    { echo "resume_kill on cuda: FAIL"; tail -5 "$out/resume_kill.log"; rc=1; }

# 20 LoRA updates of the same command on both devices: per-update losses within 1e-2
tools/gpu_train_parity.sh "$b" "$out/parity" >"$out/parity.log" 2>&1 || rc=1
tail -30 "$out/parity.log"
exit $rc
