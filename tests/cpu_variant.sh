#!/usr/bin/env bash
# cpu_variant.sh VARIANT COMMAND [ARGS...] — runs a test command on another CPU
# code path than this machine would pick by itself, so every path the engine can
# take on some x86-64 CPU is tested on any one machine:
#   simd-portable     YA_SIMD=portable: the ops' plain C + libm forms instead of AVX-512F
#   blas-skylakex     OPENBLAS_CORETYPE=SkylakeX: OpenBLAS's AVX-512 kernels (Intel Xeon)
#   blas-haswell      OPENBLAS_CORETYPE=Haswell: its AVX2/FMA kernels (what AMD Zen gets)
#   blas-sandybridge  OPENBLAS_CORETYPE=Sandybridge: its AVX kernels without FMA (older CPUs)
#   onednn-avx512     ONEDNN_MAX_CPU_ISA=AVX512_CORE: bf16 GEMMs emulated on AVX-512 (Skylake-class Xeon)
#   onednn-avx512bf16 ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16: native bf16, no AMX (AMD Zen 4, Cooper Lake)
#   onednn-avx2       ONEDNN_MAX_CPU_ISA=AVX2: no bf16 GEMM at all (older CPUs): --matmul bf16 is refused
# Variants combine with '+': simd-portable+blas-sandybridge.
# The setting applies to this one command only. A variant this CPU cannot run
# (forcing an OpenBLAS kernel whose instructions it lacks would crash) exits 77,
# which ctest reports as skipped; an unknown variant is a usage error (2).
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: cpu_variant.sh VARIANT COMMAND [ARGS...]" >&2; exit 2; }
variant=$1
shift

flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
need() { # need FLAG... : skip (77) unless the CPU has every flag
  for f in "$@"; do
    if [[ "$flags" != *" $f "* ]]; then
      echo "cpu_variant.sh: $variant: this CPU has no $f; skipped" >&2
      exit 77
    fi
  done
}

IFS='+' read -r -a parts <<<"$variant"
for p in "${parts[@]}"; do
  case $p in
    simd-portable) export YA_SIMD=portable ;;
    blas-skylakex) need avx512f avx512cd avx512bw avx512dq avx512vl; export OPENBLAS_CORETYPE=SkylakeX ;;
    blas-haswell) need avx2 fma; export OPENBLAS_CORETYPE=Haswell ;;
    blas-sandybridge) need avx; export OPENBLAS_CORETYPE=Sandybridge ;;
    onednn-avx512) need avx512f avx512bw avx512vl avx512dq; export ONEDNN_MAX_CPU_ISA=AVX512_CORE ;;
    onednn-avx512bf16) need avx512f avx512bw avx512vl avx512dq avx512_bf16; export ONEDNN_MAX_CPU_ISA=AVX512_CORE_BF16 ;;
    onednn-avx2) need avx2; export ONEDNN_MAX_CPU_ISA=AVX2 ;;
    *) echo "cpu_variant.sh: unknown variant '$p' (expected simd-portable, blas-skylakex, blas-haswell, blas-sandybridge, onednn-avx512, onednn-avx512bf16, onednn-avx2)" >&2; exit 2 ;;
  esac
done
echo "cpu_variant.sh: $variant: YA_SIMD=${YA_SIMD:-auto} OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-(auto)} ONEDNN_MAX_CPU_ISA=${ONEDNN_MAX_CPU_ISA:-(auto)}"
exec "$@"
