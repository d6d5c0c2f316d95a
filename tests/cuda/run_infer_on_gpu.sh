#!/bin/bash
# run_infer_on_gpu.sh — the inference checks of the CUDA backend on a GPU
# machine (docs/CUDA.md, "Inference"); logs go to OUTDIR:
#   infer.txt     test_cuda_infer: GPU vs CPU graph (one chunk, chunks, KV-cache
#                 decoding, greedy, adapter merge); at the end, time permitting,
#                 infer_memcheck.txt: the same under compute-sanitizer memcheck
#   hf.txt        tools/hf_cuda_forward_check.py: `forward --device cuda` vs
#                 transformers bf16 and fp32 on the GPU (needs torch + transformers)
#   validate.txt  `validate --device cuda` vs `--device cpu` (perplexity groups,
#                 multiple choice, prompt suite) on a model with the Mistral vocabulary;
#                 "adapter": the same with --adapter (tuned and base passes, deltas),
#                 and forward/generate --adapter on both devices
#   speed.txt     generate throughput, GPU vs CPU, on a random Llama-3.2-1B-shaped model
# Usage, from the repository root:  tests/cuda/run_infer_on_gpu.sh OUTDIR
# ONLY="infer ctest hf validate adapter speed asan" runs some parts (asan only when named); PY picks the Python with torch
# (default python3); BUILD an existing build directory (default: configure one).
# Needs build/testdata/llama2/models (tokenizer) for validate.txt; a machine
# without the -dev packages uses a carried .gpu-deps/ folder (docs/CUDA.md).
set -u
out=${1:-/tmp/ya-gpu-infer}
mkdir -p "$out"
root=$PWD
deps=$PWD/.gpu-deps
if [ -d "$deps" ]; then
    export PKG_CONFIG_PATH=$deps/lib/pkgconfig LD_LIBRARY_PATH=$deps/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    command -v pkg-config >/dev/null || export PATH=$deps/bin:$PATH
fi
nvidia-smi -L | tee "$out/env.txt"
PY=${PY:-python3}
want() { [ -z "${ONLY:-}" ] || [[ " $ONLY " == *" $1 "* ]]; }
secs() { date +%s.%N; }
b=${BUILD:-/tmp/ya-build-infer}
if [ -z "${BUILD:-}" ]; then
    cmake -S . -B $b -DYA_TESTDATA_DIR=$b/testdata >"$out/cmake.log" 2>&1 || { tail -30 "$out/cmake.log"; exit 1; }
    cmake --build $b -j16 --target your_ai test_cuda_infer >"$out/build.log" 2>&1 ||
        { grep -E "error" "$out/build.log" | head -40; exit 1; }
fi
rc=0

if want infer; then
echo "=== test_cuda_infer"
$b/tests/cuda/test_cuda_infer >"$out/infer.txt" 2>&1 || rc=1
cat "$out/infer.txt"
fi

if want ctest; then
echo "=== ctest (registration: exit codes, labels, the no-GPU CLI checks)"
(cd $b && ctest -R "test_cuda_infer|cli_device_nogpu" --output-on-failure) 2>&1 | tee "$out/ctest.txt" | tail -6
fi

if want hf; then
echo "=== hf_cuda_forward_check"
timeout 240 $PY tools/hf_cuda_forward_check.py $b/your_ai /tmp/ya-hf-work 2>"$out/hf_stderr.txt" | tee "$out/hf.txt"
[ "${PIPESTATUS[0]}" = 0 ] || { rc=1; tail -5 "$out/hf_stderr.txt"; }
fi

if want validate || want adapter; then
v=/tmp/ya-validate && rm -rf $v && mkdir -p $v
(
    cd $v || exit 1
    $PY "$root/tools/torch_llama_ref.py" write --out m --seed 3 --dtype BF16 --config-json \
        '{"model_type":"llama","hidden_size":256,"intermediate_size":640,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":32000,"rms_norm_eps":1e-5,"max_position_embeddings":2048,"rope_theta":10000.0,"bos_token_id":1,"eos_token_id":2}' &&
        cp "$root/build/testdata/llama2/models/tokenizer.json" "$root/build/testdata/llama2/models/tokenizer_config.json" m/ || exit 1
    cat >val.jsonl <<'EOF'
{"text":"The patent of 1923 describes a method for sealing glass jars with a rubber ring.","source_type":"patent_pre1970","auth_weight":0.05}
{"text":"According to the WHO guidelines, adults should take regular exercise.","source_type":"medical_guidelines","auth_weight":0.85}
{"text":"Wikipedia says the river is about 300 km long and flows north.","source_type":"wiki","auth_weight":0.9}
{"text":"A letter written in 1851 by a farmer in Ohio describes the harvest.","source_type":"historical_book","auth_weight":0.2}
{"text":"Researchers reported in a preprint that the effect was small.","source_type":"preprint","auth_weight":0.5}
{"text":"The ship's logbook for the voyage of 1842 records the weather every four hours, the position at noon, the sails set and taken in, the sighting of other vessels, the sickness of two sailors and the death of the cook, and it is the only record of the storm that sank the brig two days later.","source_type":"historical_book","auth_weight":0.1}
EOF
    # validate_pair TAG [--adapter DIR]: validate on both devices, then the comparison.
    # The CPU run uses one thread: the model is tiny, and OpenMP on 16 threads only adds overhead.
    validate_pair() {
        tag=$1
        shift
        echo "=== validate --device cuda vs cpu ($tag)"
        for dev in cpu cuda; do
            t0=$(secs)
            OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$b/your_ai" validate --model m "$@" --data val.jsonl \
                --benchmark "$root/data/mc_sample.jsonl" --prompts "$root/data/prompt_suite.jsonl" --chat-format mistral \
                --max-new-tokens 16 --bootstrap 0 --device $dev --out r_${tag}_$dev.json >summary_${tag}_$dev.txt \
                2>err_${tag}_$dev.txt || { echo "validate --device $dev failed:"; tail -5 err_${tag}_$dev.txt; }
            echo "validate --device $dev: $(awk "BEGIN{printf \"%.2f\", $(secs) - $t0}") s"
        done
        $PY - r_${tag}_cpu.json r_${tag}_cuda.json <<'EOF'
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
worst = 0.0
for ga, gb in zip(a["perplexity"]["groups"], b["perplexity"]["groups"]):
    pairs = [("", ga["nll"], gb["nll"])]
    if "base" in ga:
        pairs.append(("base ", ga["base"]["nll"], gb["base"]["nll"]))
    for tag, x, y in pairs:
        d = abs(y - x) / x
        worst = max(worst, d)
        print(f"  {tag}nll {ga['kind']:>11}/{ga['name']:<18} cpu {x:10.6f}  cuda {y:10.6f}  rel diff {d:.2e}")
    if "delta" in ga:
        print(f"  delta {ga['kind']:>11}/{ga['name']:<18} cpu {ga['delta']:+.6f}  cuda {gb['delta']:+.6f}")
print(f"  perplexity: worst relative NLL difference {worst:.2e} (bf16 tolerance 1e-2): {'ok' if worst <= 1e-2 else 'FAIL'}")
sa, sb = a["perplexity"].get("distrust_signal"), b["perplexity"].get("distrust_signal")
if sa:
    print(f"  distrust signal cpu {sa['value']:+.6f}  cuda {sb['value']:+.6f}")
def mc(m):
    return {k: m.get(k) for k in ("mc1", "mc1_norm", "mc2")}
ma, mb = a["multiple_choice"], b["multiple_choice"]
print("  multiple choice cpu", mc(ma), "cuda", mc(mb))
if "base" in ma:
    print("  multiple choice base cpu", mc(ma["base"]), "cuda", mc(mb["base"]))
dll = max(abs(x - y) / max(1.0, abs(x)) for p, q in zip(ma["items"], mb["items"]) for x, y in zip(p["ll"], q["ll"]))
print(f"  multiple choice: worst relative log-likelihood difference {dll:.2e}")
def suite(r):
    return {k: r.get(k) for k in ("passed", "n_runs", "pass_rate")}
pa, pb = a["prompt_suite"], b["prompt_suite"]
print("  prompt suite cpu", suite(pa), "cuda", suite(pb))
if "base" in pa:
    print("  prompt suite base cpu", suite(pa["base"]), "cuda", suite(pb["base"]))
ra = [x.get("answer") for x in pa.get("runs", [])]
rb = [x.get("answer") for x in pb.get("runs", [])]
if ra:
    print(f"  prompt suite: {sum(x == y for x, y in zip(ra, rb))}/{len(ra)} answers identical cpu vs cuda")
EOF
    }
    if want validate; then validate_pair plain; fi
    if want adapter; then
        $PY "$root/tools/torch_lora_ref.py" make-adapter --model m --out ad --rank 4 --alpha 8 --seed 1 || exit 1
        echo "=== forward / generate --adapter, cuda vs cpu"
        ids="1 415 2924 302 272 8302 7040 349 5755 28723 661 349 1215 2475 304 272 2935 4891 754 272"
        for dev in cpu cuda; do
            "$b/your_ai" forward --model m --adapter ad --ids "$ids" --out fa_$dev.safetensors --device $dev || echo "forward $dev failed"
            "$b/your_ai" forward --model m --ids "$ids" --out fb_$dev.safetensors --device $dev || echo "forward $dev failed"
            "$b/your_ai" generate --model m --adapter ad --ids "$ids" --print-ids --max-tokens 32 --device $dev \
                >ga_$dev.txt 2>/dev/null || echo "generate $dev failed"
        done
        $PY - <<'EOF'
import json
import numpy as np
def read(p):
    with open(p, "rb") as f:
        n = int.from_bytes(f.read(8), "little"); h = json.loads(f.read(n)); d = f.read()
    i = h["logits"]; b, e = i["data_offsets"]
    return np.frombuffer(d[b:e], dtype="<f4").reshape(i["shape"]).astype(np.float64)
rel = lambda a, b: float(np.abs(a - b).max() / np.abs(b).max())
a_cpu, a_gpu, b_cpu = read("fa_cpu.safetensors"), read("fa_cuda.safetensors"), read("fb_cpu.safetensors")
print(f"  forward --adapter: cuda vs cpu rel err {rel(a_gpu, a_cpu):.3e} (the adapter moves the cpu logits by {rel(a_cpu, b_cpu):.3e})")
g = [open(f"ga_{d}.txt").read().split() for d in ("cpu", "cuda")]
k = 0
while k < min(map(len, g)) and g[0][k] == g[1][k]:
    k += 1
print(f"  generate --adapter greedy: first {k}/{len(g[0])} tokens identical cpu vs cuda")
EOF
        validate_pair adapter --adapter ad
    fi
) 2>&1 | tee "$out/validate.txt"
fi

if want speed; then
echo "=== throughput (random Llama-3.2-1B shape, bf16 stored)"
s=/tmp/ya-speed
rm -rf $s
if timeout 120 $b/your_ai init-model --preset llama3-1b --dtype bf16 --out $s >/dev/null 2>"$out/speed_init.txt"; then
    ids=$(seq -s ' ' 100 611) # 512 prompt ids
    {
        echo "generate --device cuda, 512-token prompt, 256 new tokens:"
        timeout 120 $b/your_ai generate --model $s --ids "$ids" --print-ids --max-tokens 256 --device cuda 2>&1 >/dev/null | tail -1
        echo "generate --device cuda, 8-token prompt, 256 new tokens:"
        timeout 120 $b/your_ai generate --model $s --ids "1 2 3 4 5 6 7 8" --print-ids --max-tokens 256 --device cuda 2>&1 >/dev/null | tail -1
        echo "generate --device cpu (16 threads), 8-token prompt, 16 new tokens:"
        timeout 120 $b/your_ai generate --model $s --ids "1 2 3 4 5 6 7 8" --print-ids --max-tokens 16 --device cpu 2>&1 >/dev/null | tail -1
        echo "forward --device cuda, 2048 tokens (includes the upload):"
        t0=$(secs)
        timeout 120 $b/your_ai forward --model $s --ids "$(seq -s ' ' 1000 3047)" --last-only \
            --out /tmp/ya-speed-logits.safetensors --device cuda 2>&1 | tail -1
        echo "$(awk "BEGIN{printf \"%.2f\", $(secs) - $t0}") s wall"
    } 2>&1 | tee "$out/speed.txt"
else
    echo "init-model llama3-1b failed:"; tail -3 "$out/speed_init.txt"
fi
rm -rf $s
fi

if [[ " ${ONLY:-} " == *" asan "* ]]; then
    # Host-side ASan+UBSan over test_cuda_infer (CUDA needs the shadow gap left unprotected).
    echo "=== test_cuda_infer under ASan+UBSan"
    a=/tmp/ya-asan-infer
    cmake -S . -B $a -DYA_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo -DYA_TESTDATA_DIR=$a/testdata >"$out/asan_cmake.log" 2>&1 &&
        cmake --build $a -j16 --target test_cuda_infer >"$out/asan_build.log" 2>&1 &&
        ASAN_OPTIONS=protect_shadow_gap=0:detect_leaks=0 $a/tests/cuda/test_cuda_infer >"$out/asan.txt" 2>&1
    echo "asan exit $?"; grep -E "ERROR|runtime error|checks|leak" "$out/asan.txt" | head -5
fi

# Last, in whatever time MEMCHECK_BUDGET (seconds since the start, default 330) leaves.
left=$(( ${MEMCHECK_BUDGET:-330} - SECONDS ))
if want infer && command -v compute-sanitizer >/dev/null && [ $left -gt 20 ]; then
    echo "=== compute-sanitizer memcheck of test_cuda_infer (${left} s at most)"
    timeout $left compute-sanitizer --tool memcheck --leak-check no --report-api-errors no $b/tests/cuda/test_cuda_infer \
        >"$out/infer_memcheck.txt" 2>&1
    echo "memcheck exit $?"; grep -E "ERROR SUMMARY|checks" "$out/infer_memcheck.txt"
fi
exit $rc
