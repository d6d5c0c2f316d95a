#!/usr/bin/env bash
# fuzz.sh — what `make fuzz` runs: build every tests/fuzz/fuzz_*.c as a libFuzzer
# binary (clang, -fsanitize=fuzzer,address,undefined over the project libraries)
# and run each one for a while from its seed corpus.
#
#   tools/fuzz.sh [BUILD_DIR]            default build-fuzz
#   FUZZ_SECONDS=30                      time per target (default 30)
#   FUZZ_TARGETS="fuzz_config ..."       only these targets (default: all)
#   FUZZ_JOBS=1                          parallel fuzzing processes per target
#
# Targets declare what they link and where their seeds are (see
# tests/fuzz/CMakeLists.txt): `fuzz-libs: ya_base`, `fuzz-seeds: tests/...`.
# The evolving corpus lives in BUILD_DIR/corpus/NAME (seeded from the declared
# seeds); crash reproducers land in BUILD_DIR/crashes/NAME/. Copy a reproducer
# into tests/fuzz/corpus/NAME/ to keep it as a regression input: the gcc replay
# ctest (fuzz_replay_NAME) then runs it on every `make test`.
# Exit status: 0 if no target crashed, 1 otherwise (2 on a build problem).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-build-fuzz}
case "$BUILD" in /*) ;; *) BUILD="$ROOT/$BUILD" ;; esac
SECONDS_PER=${FUZZ_SECONDS:-30}
JOBS=${FUZZ_JOBS:-1}
CC=${FUZZ_CC:-clang}

command -v "$CC" >/dev/null || { echo "fuzz.sh: $CC not found (libFuzzer needs clang: apt-get install clang)" >&2; exit 2; }

mkdir -p "$BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_C_COMPILER="$CC" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DYA_SANITIZE=ON \
  -DYA_FUZZ=ON -DYA_CUDA=OFF -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link" >"$BUILD/fuzz-cmake.log" 2>&1 \
  || { echo "fuzz.sh: cmake failed, see $BUILD/fuzz-cmake.log" >&2; exit 2; }

targets=()
for src in "$ROOT"/tests/fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  if [ -n "${FUZZ_TARGETS:-}" ] && ! [[ " $FUZZ_TARGETS " == *" $name "* ]]; then continue; fi
  targets+=("$name")
done
[ ${#targets[@]} -gt 0 ] || { echo "fuzz.sh: no fuzz targets selected" >&2; exit 2; }

crashed=()
for name in "${targets[@]}"; do
  if ! cmake --build "$BUILD" --target "$name" -j "${FUZZ_BUILD_JOBS:-2}" >"$BUILD/$name.build.log" 2>&1; then
    echo "fuzz.sh: $name: build failed (see $BUILD/$name.build.log)"; crashed+=("$name(build)"); continue
  fi
  corpus="$BUILD/corpus/$name" crashes="$BUILD/crashes/$name"
  mkdir -p "$corpus" "$crashes"
  seeds=$(grep -m1 -o 'fuzz-seeds:.*' "$ROOT/tests/fuzz/$name.c" | sed 's/fuzz-seeds:[[:space:]]*//')
  for s in $seeds; do
    if [ -d "$ROOT/$s" ]; then cp -n "$ROOT/$s"/* "$corpus"/ 2>/dev/null; elif [ -f "$ROOT/$s" ]; then cp -n "$ROOT/$s" "$corpus"/; fi
  done
  echo "== $name: ${SECONDS_PER}s, corpus $(ls "$corpus" | wc -l) inputs"
  # -jobs makes libFuzzer write fuzz-N.log into the working directory: run from the build dir.
  par=()
  [ "$JOBS" -gt 1 ] && par=(-jobs="$JOBS" -workers="$JOBS")
  (cd "$BUILD" && "$BUILD/tests/fuzz/$name" "$corpus" -max_total_time="$SECONDS_PER" "${par[@]}" \
    -artifact_prefix="$crashes/" -print_final_stats=1 >"$BUILD/$name.fuzz.log" 2>&1)
  rc=$?
  grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' "$BUILD/$name.fuzz.log" | sed 's/^/   /'
  # slow-unit-* files only record the slowest input (seconds on a loaded machine): reported,
  # not a failure; crash-, leak-, timeout- and oom- reproducers are.
  slow=$(ls "$crashes" | grep -c '^slow-unit-' || true)
  [ "$slow" -gt 0 ] && echo "   note: $slow slow input(s) kept in $crashes ($(grep -m1 -o 'Slowest unit: [0-9]* s' "$BUILD/$name.fuzz.log"))"
  if [ $rc -ne 0 ] || ls "$crashes" | grep -v '^slow-unit-' | grep -q .; then
    echo "   CRASH: $name (exit $rc); reproducers in $crashes, log $BUILD/$name.fuzz.log"
    grep -m3 -E 'ERROR|SUMMARY|runtime error' "$BUILD/$name.fuzz.log" | sed 's/^/   /'
    # The first stack frames too: CI keeps only this output, not the log.
    grep -m8 -E '^[[:space:]]+#[0-9]+ ' "$BUILD/$name.fuzz.log" | sed 's/^[[:space:]]*/     /'
    crashed+=("$name")
  else
    echo "   ok"
  fi
done
if [ ${#crashed[@]} -gt 0 ]; then echo "fuzz.sh: failures: ${crashed[*]}"; exit 1; fi
echo "fuzz.sh: ${#targets[@]} targets ran ${SECONDS_PER}s each without a crash"
