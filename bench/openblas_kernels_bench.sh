#!/usr/bin/env bash
# openblas_kernels_bench.sh — what OpenBLAS's own kernel choice costs on this machine
# (docs/TRAINING.md, "CPU speed"): fp32 sgemm 1024×1024×1024 on one thread under the
# kernel family OpenBLAS picks by itself and under each family the CPU can run
# (OPENBLAS_CORETYPE=SkylakeX / Haswell / Sandybridge), best of 3 runs of 5 products;
# then (TRAIN=1, the default) `your_ai train` on the `small` preset, 4 updates of
# 4 × 256 tokens, --threads 1, with OpenBLAS's choice against the best family.
# The peer of each line is OpenBLAS's own choice in the same run (the ratio column).
#   bench/openblas_kernels_bench.sh [BUILD_DIR]        TRAIN=0 skips the training part
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
TD=${YA_TESTDATA_DIR:-$BUILD/testdata}
YA=$BUILD/your_ai
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT

cat >"$W/sgemm.c" <<'CEOF'
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
int main(void) {
    const int n = 1024, reps = 5;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
    for (int i = 0; i < n * n; i++) a[i] = (float)(i % 97) / 97.0f, b[i] = (float)(i % 89) / 89.0f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n); /* warm-up */
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < reps; r++) cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    printf("%s %.1f\n", openblas_get_corename(), reps * 2.0 * n * n * n / s / 1e9);
    free(a), free(b), free(c);
    return 0;
}
CEOF
cc -O2 "$W/sgemm.c" -o "$W/sgemm" $(pkg-config --cflags --libs openblas)

flags=" $(grep -m1 '^flags' /proc/cpuinfo | cut -d: -f2) "
has() { for f in "$@"; do [[ "$flags" == *" $f "* ]] || return 1; done; }
families=("")
has avx512f avx512cd avx512bw avx512dq avx512vl && families+=(SkylakeX)
has avx2 fma && families+=(Haswell)
has avx && families+=(Sandybridge)

echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
printf '%-24s %-14s %14s %8s\n' "OPENBLAS_CORETYPE" "kernels" "sgemm GFLOP/s" "ratio"
base=0 best_family="" best_gf=0
for fam in "${families[@]}"; do
  gf=0 name=""
  for _ in 1 2 3; do
    read -r name g < <(env ${fam:+OPENBLAS_CORETYPE=$fam} OPENBLAS_NUM_THREADS=1 "$W/sgemm")
    gf=$(awk -v a="$gf" -v b="$g" 'BEGIN{print (b > a) ? b : a}')
  done
  [ -z "$fam" ] && base=$gf
  if [ -n "$fam" ] && awk -v a="$gf" -v b="$best_gf" 'BEGIN{exit !(a > b)}'; then best_family=$fam best_gf=$gf; fi
  printf '%-24s %-14s %14s %7.2fx\n' "${fam:-(OpenBLAS chooses)}" "$name" "$gf" "$(awk -v a="$gf" -v b="$base" 'BEGIN{print a / b}')"
done

[ "${TRAIN:-1}" = 1 ] || exit 0
[ -x "$YA" ] || { echo "openblas_kernels_bench: $YA not found (build the your_ai target first)" >&2; exit 2; }
[ -f "$TD/llama2/models/tokenizer.json" ] || "$ROOT/tools/fetch_testdata.sh" "$TD" >&2
cd "$W"
"$YA" init-model --preset small --out m --tokenizer "$TD/llama2/models/tokenizer.json" >/dev/null
. "$ROOT/tests/train/tiny_setup.sh"
tiny_corpus python3 3 150 250 "the patent describes a measurement of the voltage in the laboratory notebook while the letter from the archive records" train.jsonl:40
printf '\n%-24s %10s %10s %8s\n' "OPENBLAS_CORETYPE" "train s" "tok/s" "ratio"
t_base=0
for fam in "" ${best_family:+"$best_family"}; do
  s=$(date +%s.%N)
  env ${fam:+OPENBLAS_CORETYPE=$fam} "$YA" train --model m --data train.jsonl --out "o${fam}" --max-steps 4 --warmup-steps 1 \
    --batch-size 4 --max-seq-length 256 --threads 1 --log-every 1 >/dev/null 2>"log${fam}"
  t=$(awk -v s="$s" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e - s}')
  [ -z "$fam" ] && t_base=$t
  tps=$(grep '^step 4/4' "log${fam}" | sed 's/.*| \([0-9.]*\) tok\/s.*/\1/')
  printf '%-24s %10s %10s %7.2fx\n' "${fam:-(OpenBLAS chooses)}" "$t" "$tps" "$(awk -v a="$t_base" -v b="$t" 'BEGIN{print a / b}')"
done
