#!/usr/bin/env bash
# clang_target_check.sh SRC_DIR — compiles every source file that holds a
# function with __attribute__((target(...))) (the run-time-selected AVX-512
# kernels) with clang and OpenMP, as `make fuzz` builds them: clang rejects
# AVX-512 values inside an OpenMP region of a target function ("changes the
# ABI": the region is outlined into a function without the target), which gcc
# accepts, so the gcc build alone does not see it. Skipped (77) without clang.
set -euo pipefail
SRC=$1
CC=${FUZZ_CC:-clang}
command -v "$CC" >/dev/null || { echo "clang_target_check.sh: $CC not found; skipped"; exit 77; }
mapfile -t files < <(grep -rl --include='*.c' '__attribute__((target(' "$SRC/src")
[ ${#files[@]} -gt 0 ] || { echo "clang_target_check.sh: no target-attributed sources under $SRC/src"; exit 0; }
inc=(-I"$SRC/include" -I"$SRC/src")
inc+=($(pkg-config --cflags openblas 2>/dev/null || true))
[ -f /usr/include/dnnl.h ] && inc+=(-DYA_HAVE_DNNL) # the bf16 GEMMs compile only with oneDNN
failed=0
for f in "${files[@]}"; do
  if "$CC" -std=gnu11 -fopenmp -O1 -Wall -Wextra -Wno-unused-parameter -fsanitize=fuzzer-no-link "${inc[@]}" \
      -c "$f" -o /dev/null; then
    echo "ok ${f#$SRC/}"
  else
    echo "FAIL ${f#$SRC/}: $CC cannot compile it with OpenMP (make fuzz would not build)"; failed=1
  fi
done
exit $failed
