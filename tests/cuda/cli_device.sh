#!/bin/sh
# cli_device.sh — `--device` handling of forward, generate and validate that
# holds on any machine: an unknown device is a usage error (exit 2) naming the
# flag, and --device cuda without a visible GPU (run with CUDA_VISIBLE_DEVICES=-1)
# is a runtime error (exit 1) saying why; --device auto falls back to the CPU
# and gives the CPU's logits bit for bit.
# Usage: cli_device.sh BIN WORKDIR
set -u
bin=$1 work=$2
rm -rf "$work" && mkdir -p "$work" || exit 1
fail=0
expect() { # expect CODE PATTERN -- command...
    code=$1 pat=$2
    shift 3
    out=$("$@" 2>&1)
    rc=$?
    if [ $rc -ne "$code" ] || { [ -n "$pat" ] && ! printf '%s' "$out" | grep -q -- "$pat"; }; then
        echo "FAIL (exit $rc, wanted $code and /$pat/): $*"
        echo "$out" | tail -3
        fail=1
    else
        echo "ok   exit $rc: $*"
    fi
}
"$bin" init-model --preset tiny --out "$work/m" --dtype bf16 >/dev/null || exit 1
for cmd in "forward --ids 1,2,3 --out $work/x.safetensors" "generate --ids 1,2,3 --print-ids --max-tokens 2" \
           "validate --prompts /dev/null --out $work/r.json"; do
    # shellcheck disable=SC2086
    expect 2 "unknown value 'tpu'" -- "$bin" $cmd --model "$work/m" --device tpu
    # shellcheck disable=SC2086
    expect 1 "no CUDA device\|no CUDA backend" -- "$bin" $cmd --model "$work/m" --device cuda
done
expect 0 "" -- "$bin" forward --model "$work/m" --ids 1,2,3 --out "$work/cpu.safetensors"
expect 0 "" -- "$bin" forward --model "$work/m" --ids 1,2,3 --out "$work/auto.safetensors" --device auto
cmp "$work/cpu.safetensors" "$work/auto.safetensors" || { echo "FAIL: --device auto without a GPU differs from cpu"; fail=1; }
exit $fail
