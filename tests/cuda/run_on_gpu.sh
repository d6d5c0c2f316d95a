#!/bin/bash
# run_on_gpu.sh — builds the CUDA backend and its tests on a GPU machine and
# runs them: the ctest cases (label gpu + the no-GPU error checks), the op
# table check twice (two fresh seeds), and the op check under
# compute-sanitizer memcheck (RUN_MEMCHECK=0 skips it; RUN_ASAN=1: also under
# ASan+UBSan; RUN_BENCH=1: the op timings of cuda_ops_bench). Logs go to OUTDIR.
# Usage, from the repository root:  tests/cuda/run_on_gpu.sh OUTDIR
# A machine without the -dev packages can use a carried .gpu-deps/ folder
# (headers, static libs, pkg-config files; docs/CUDA.md).
set -u
out=${1:-/tmp/ya-gpu-out}
mkdir -p "$out"
deps=$PWD/.gpu-deps
if [ -d "$deps" ]; then
    export PKG_CONFIG_PATH=$deps/lib/pkgconfig LD_LIBRARY_PATH=$deps/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    command -v pkg-config >/dev/null || export PATH=$deps/bin:$PATH
fi
{
    nvidia-smi -L; nvcc --version | tail -2; cmake --version | head -1; gcc --version | head -1
    for h in cblas.h jansson.h pcre2.h utf8proc.h; do
        printf '%s: ' $h; (ls /usr/include/$h /usr/include/x86_64-linux-gnu/$h 2>/dev/null || echo missing) | head -1
    done
    command -v pkg-config || echo "pkg-config missing"
} >"$out/env.txt" 2>&1
cat "$out/env.txt"
b=/tmp/ya-build
cmake -S . -B $b -DYA_TESTDATA_DIR=$b/testdata >"$out/cmake.log" 2>&1 || { tail -30 "$out/cmake.log"; exit 1; }
cmake --build $b -j16 --target test_cuda_ops test_cuda_nogpu cuda_ops_bench >"$out/build.log" 2>&1 ||
    { grep -E "error|Error" "$out/build.log" | head -40; exit 1; }
grep -E "warning" "$out/build.log" | grep -v "redefinition for option" | head -20
rc=0
if cmake --build $b -j16 --target your_ai >"$out/build_cli.log" 2>&1; then
    { echo "--- your_ai devices"; $b/your_ai devices; echo "exit $?"
      echo "--- CUDA_VISIBLE_DEVICES=-1 your_ai devices"; CUDA_VISIBLE_DEVICES=-1 $b/your_ai devices; echo "exit $?"; } 2>&1 | tee "$out/devices.txt"
else
    echo "your_ai did not link (see build_cli.log):"; grep -E "error" "$out/build_cli.log" | head -5
fi
(cd $b && ctest -R "cuda|devices" --output-on-failure) 2>&1 | tee "$out/ctest.log" | tail -15
for i in 1 2; do
    $b/tests/cuda/test_cuda_ops >"$out/ops$i.txt" 2>&1 || rc=1
done
cat "$out/ops1.txt"; echo "--- second seed:"; grep -E "FAIL|checks|seed" "$out/ops2.txt"
if [ "${RUN_MEMCHECK:-1}" = 1 ] && command -v compute-sanitizer >/dev/null; then
    timeout 300 compute-sanitizer --tool memcheck --leak-check no --report-api-errors no $b/tests/cuda/test_cuda_ops >"$out/memcheck.txt" 2>&1
    echo "memcheck exit $?"; grep -E "ERROR SUMMARY|checks" "$out/memcheck.txt"
fi
if [ "${RUN_BENCH:-0}" = 1 ]; then
    echo "--- cuda_ops_bench"; $b/tests/cuda/cuda_ops_bench 2>&1 | tee "$out/bench.txt"
fi
if [ "${RUN_ASAN:-0}" = 1 ]; then
    # Host-side ASan+UBSan over the same test (CUDA needs the shadow gap left unprotected).
    a=/tmp/ya-asan
    cmake -S . -B $a -DYA_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DYA_TESTDATA_DIR=$a/testdata >"$out/asan_cmake.log" 2>&1 &&
        cmake --build $a -j16 --target test_cuda_ops >"$out/asan_build.log" 2>&1 &&
        ASAN_OPTIONS=protect_shadow_gap=0:detect_leaks=0 $a/tests/cuda/test_cuda_ops >"$out/asan.txt" 2>&1
    echo "asan exit $?"; grep -E "ERROR|runtime error|checks" "$out/asan.txt" | head -5
fi
exit $rc
