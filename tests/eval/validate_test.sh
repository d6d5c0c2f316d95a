#!/usr/bin/env bash
# validate_test.sh — `your_ai validate` end to end on a tiny Llama with the
# Mistral (llama2) vocabulary, checked against independent references.
#   validate_test.sh YOUR_AI TORCH_PYTHON WORKDIR CASE
# Cases:
#   ppl_parity      perplexity by group == plain-PyTorch float64 NLL on the ids our
#                   loader produced (tools/check_validate_ppl.py, rel ≤ 1e-5), with and
#                   without truncation; the seeded bootstrap is reproducible
#   mc_permutation  MC1 / MC1-norm / MC2 identical under permutations of every item's
#                   choices (and from the CSV form of the same benchmark)
#   suite           the prompt suite runs (rotations, positions, Wilson intervals in the report)
#   report_errors   report fields, --compare, the SVG parses (xmllint), exit codes 1/2 with file:line
#   adapter         --adapter: tuned, base, Δ and the distrust signal == PyTorch with the LoRA reference
set -euo pipefail
YA=$1 PY=$2 WORK=$3 CASE=$4
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT="$HERE/../.."
DIR="$WORK/$CASE"
rm -rf "$DIR"
mkdir -p "$DIR"
cd "$DIR"
fail() { echo "FAIL $CASE: $*" >&2; exit 1; }
# One thread: the CI machine is shared, and OpenMP spinning on a loaded machine is slow.
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 OMP_WAIT_POLICY=passive

# A model with variance-preserving random weights (sharp, sample-dependent logits:
# near-uniform init-model weights would make every NLL ≈ log V and the test weak).
make_model() {
  "$PY" "$ROOT/tools/torch_llama_ref.py" write --out m --seed 3 --config-json \
    '{"model_type":"llama","hidden_size":64,"intermediate_size":160,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":32000,"rms_norm_eps":1e-5,"max_position_embeddings":2048,"rope_theta":10000.0,"bos_token_id":1,"eos_token_id":2}'
  cp "${YA_TESTDATA_DIR:?}/llama2/models/tokenizer.json" "${YA_TESTDATA_DIR}/llama2/models/tokenizer_config.json" m/
}
# Val records across source types and all three bands (0.3 and 0.7 are mid), one without
# a source type, one without auth_weight, one long enough to be truncated.
make_val() {
  cat >val.jsonl <<'EOF'
{"text":"The patent of 1923 describes a method for sealing glass jars with a rubber ring.","source_type":"patent_pre1970","auth_weight":0.05,"prov_entropy":7.1}
{"text":"According to the WHO guidelines, adults should take regular exercise.","source_type":"medical_guidelines","auth_weight":0.85,"prov_entropy":1.2}
{"text":"Wikipedia says the river is about 300 km long and flows north.","source_type":"wiki","auth_weight":0.9,"prov_entropy":1.0}

{"text":"A letter written in 1851 by a farmer in Ohio describes the harvest.","source_type":"historical_book","auth_weight":0.2,"prov_entropy":6.0}
{"text":"Researchers reported in a preprint that the effect was small.","source_type":"preprint","auth_weight":0.5,"prov_entropy":3.0}
{"text":"No source type here, but a mid authority weight of exactly 0.3.","auth_weight":0.3,"prov_entropy":4.0}
{"text":"A boundary case at 0.7 belongs to the mid band as well.","source_type":"wiki","auth_weight":0.7,"prov_entropy":2.0}
{"text":"This one has no authority weight at all."}
{"text":"The ship's logbook for the voyage of 1842 records the weather every four hours, the position at noon, the sails set and taken in, the sighting of other vessels, the sickness of two sailors and the death of the cook, and it is the only record of the storm that sank the brig two days later.","source_type":"historical_book","auth_weight":0.1,"prov_entropy":6.5}
EOF
}
# json_get FILE PYTHON_EXPR: evaluates an expression over the loaded report r.
json_get() { "$PY" -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }
# expect_rc RC SUBSTRING cmd...: the command exits RC and names SUBSTRING on stderr.
expect_rc() {
  local want_rc=$1 want=$2
  shift 2
  set +e
  "$@" >out.txt 2>err.txt
  local rc=$?
  set -e
  [ "$rc" = "$want_rc" ] || { cat err.txt; fail "expected exit $want_rc, got $rc: $*"; }
  grep -qF -- "$want" err.txt || { cat err.txt; fail "stderr lacks '$want': $*"; }
}

case "$CASE" in
  ppl_parity)
    make_model
    make_val
    "$YA" validate --model m --data val.jsonl --bootstrap 0 --dump-ids ids.jsonl --out r.json >summary.txt
    cat summary.txt
    "$PY" "$ROOT/tools/check_validate_ppl.py" --model m --data val.jsonl --dump ids.jsonl --report r.json --tol 1e-5
    # Two files: samples keep their file's metadata.
    printf '%s\n' '{"text":"A second file with a government record of 1931.","source_type":"government","auth_weight":0.95}' \
      '{"text":"And a low-authority diary entry from the same year.","source_type":"historical_book","auth_weight":0.15}' >val2.jsonl
    "$YA" validate --model m --data val.jsonl --data val2.jsonl --bootstrap 0 --dump-ids ids2.jsonl --out r2.json >/dev/null
    "$PY" "$ROOT/tools/check_validate_ppl.py" --model m --data val.jsonl --data val2.jsonl --dump ids2.jsonl --report r2.json
    # Truncation to 16 tokens: the loader keeps the first 16, and the reference scores the same ids.
    "$YA" validate --model m --data val.jsonl --bootstrap 0 --max-seq-length 16 --dump-ids ids16.jsonl --out r16.json >/dev/null
    "$PY" "$ROOT/tools/check_validate_ppl.py" --model m --data val.jsonl --dump ids16.jsonl --report r16.json --tol 1e-5
    [ "$(json_get r16.json 'max(len(__import__("json").loads(l)["ids"]) for l in open("ids16.jsonl"))')" = 16 ] \
      || fail "--max-seq-length 16 not applied"
    # The seeded bootstrap is reproducible, and another seed gives other intervals.
    "$YA" validate --model m --data val.jsonl --bootstrap 200 --seed 7 --out b1.json >/dev/null
    "$YA" validate --model m --data val.jsonl --bootstrap 200 --seed 7 --out b2.json >/dev/null
    "$YA" validate --model m --data val.jsonl --bootstrap 200 --seed 8 --out b3.json >/dev/null
    cmp b1.json b2.json || fail "same seed, different reports"
    [ "$(json_get b1.json 'r["perplexity"]["groups"][0]["nll_ci"]')" != "$(json_get b3.json 'r["perplexity"]["groups"][0]["nll_ci"]')" ] \
      || fail "the bootstrap seed has no effect"
    [ "$(json_get b1.json 'all(g["nll_ci"][0] - 1e-12 <= g["nll"] <= g["nll_ci"][1] + 1e-12 for g in r["perplexity"]["groups"])')" = True ] \
      || fail "a group's NLL lies outside its bootstrap interval" ;;

  mc_permutation)
    make_model
    BENCH="$ROOT/data/mc_sample.jsonl"
    "$YA" validate --model m --benchmark "$BENCH" --out r0.json >summary.txt
    cat summary.txt
    # Three permutations of every item's choices (seeded), and the CSV layout of the original.
    "$PY" - "$BENCH" <<'EOF'
import csv, json, random, sys
items = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
for k in range(3):
    rnd = random.Random(k)
    with open(f"perm{k}.jsonl", "w") as f:
        for it in items:
            p = list(range(len(it["choices"])))
            while p == sorted(p):
                rnd.shuffle(p)
            f.write(json.dumps(dict(it, choices=[it["choices"][j] for j in p], labels=[it["labels"][j] for j in p])) + "\n")
with open("bench.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["id", "question", "choices", "labels", "category"])
    for it in items:
        w.writerow([it["id"], it["question"], " ||| ".join(it["choices"]), " ".join(map(str, it["labels"])), it.get("category", "")])
EOF
    for k in 0 1 2; do "$YA" validate --model m --benchmark perm$k.jsonl --out r_perm$k.json >/dev/null; done
    "$YA" validate --model m --benchmark bench.csv --out r_csv.json >/dev/null
    "$PY" - r0.json r_perm0.json r_perm1.json r_perm2.json r_csv.json <<'EOF'
import json, sys
reps = [json.load(open(p))["multiple_choice"] for p in sys.argv[1:]]
ref = reps[0]
assert ref["n_items"] == 10, ref["n_items"]
for p, r in zip(sys.argv[2:], reps[1:]):
    for key in ("mc1", "mc1_norm", "mc2"):
        if r[key] != ref[key]:
            sys.exit(f"FAIL {p}: {key} {r[key]!r} != {ref[key]!r}")
    for a, b in zip(ref["items"], r["items"]):
        if (a["mc1"], a["mc1_norm"], a["mc2"]) != (b["mc1"], b["mc1_norm"], b["mc2"]):
            sys.exit(f"FAIL {p}: item {a['id']} scores differ")
        if sorted(a["ll"]) != sorted(b["ll"]):
            sys.exit(f"FAIL {p}: item {a['id']} choice log-likelihoods are not a permutation")
print("MC scores identical under", len(reps) - 1, "reorderings:", {k: ref[k] for k in ("mc1", "mc1_norm", "mc2")})
EOF
    ;;

  suite)
    make_model
    SUITE="$ROOT/data/prompt_suite.jsonl"
    # The llama2 tokenizer_config has no chat template: plain prompts, with a warning.
    "$YA" validate --model m --prompts "$SUITE" --max-new-tokens 2 --out plain.json >/dev/null 2>err.txt
    grep -q "no recognised chat template" err.txt || fail "no warning about the missing chat template"
    "$YA" validate --model m --prompts "$SUITE" --chat-format mistral --max-new-tokens 6 --out r.json >summary.txt
    cat summary.txt
    "$PY" - r.json "$SUITE" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))["prompt_suite"]
items = [json.loads(l) for l in open(sys.argv[2]) if l.strip()]
cats = {i["category"] for i in items}
assert cats == {"source_preference", "citation_chain", "calibration", "refusal_hedging"}, cats
runs = sum(len(i["choices"]) if i["type"] == "mc" else 1 for i in items)
assert r["n_items"] == len(items) and r["n_runs"] == runs == len(r["runs"]), (r["n_runs"], runs)
mc_runs = sum(len(i["choices"]) for i in items if i["type"] == "mc")
assert sum(r["mc_positions"].values()) == mc_runs, r["mc_positions"]
for c in r["categories"]:
    lo, hi = c["ci"]
    assert 0 <= lo <= c["rate"] <= hi <= 1, c
assert {c["name"] for c in r["categories"]} == cats
# every mc item was asked under each rotation exactly once
for i in items:
    if i["type"] == "mc":
        rots = sorted(u["rotation"] for u in r["runs"] if u["id"] == i["id"])
        assert rots == list(range(len(i["choices"]))), (i["id"], rots)
        for u in r["runs"]:
            if u["id"] == i["id"]:
                assert u["expected"] == (i["answer_index"] + u["rotation"]) % len(i["choices"])
print("suite ok:", r["passed"], "/", r["n_runs"])
EOF
    ;;

  report_errors)
    make_model
    make_val
    "$YA" validate --model m --data val.jsonl --benchmark "$ROOT/data/mc_sample.jsonl" --bootstrap 50 \
      --out base.json >/dev/null
    "$YA" validate --model m --data val.jsonl --by auth_band --benchmark "$ROOT/data/mc_sample.jsonl" --bootstrap 50 \
      --compare base.json --plot p.svg --out r.json >summary.txt
    cat summary.txt
    grep -q "distrust signal" summary.txt && fail "no base: the distrust signal must not be printed"
    grep -q "vs compare" summary.txt || fail "--compare column missing"
    "$PY" - r.json <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
for k in ("schema", "model", "adapter", "data", "perplexity", "multiple_choice", "compare"):
    assert k in r, k
assert r["schema"] == "your_ai.validate/1"
kinds = {g["kind"] for g in r["perplexity"]["groups"]}
assert kinds == {"all", "auth_band"}, kinds
for g in r["perplexity"]["groups"]:
    for k in ("name", "n_samples", "n_tokens", "nll", "ppl", "nll_ci", "ppl_ci"):
        assert k in g, k
assert r["perplexity"]["distrust_signal"] is None
for d in r["compare"]["perplexity"]:
    assert d["delta_nll"] == 0.0, d  # same model, same data
assert r["compare"]["multiple_choice"]["delta_mc2"] == 0.0
EOF
    if command -v xmllint >/dev/null; then xmllint --noout p.svg || fail "SVG is not well-formed"
    else "$PY" -c "import xml.etree.ElementTree as E,sys; E.parse(sys.argv[1])" p.svg || fail "SVG is not well-formed"; fi
    [ "$(grep -c '<rect' p.svg)" -ge 9 ] || fail "SVG lacks bars (4 groups x 2 + background)"
    # usage errors: exit 2
    expect_rc 2 "--out FILE is required" "$YA" validate --model m --data val.jsonl
    expect_rc 2 "nothing to evaluate" "$YA" validate --model m --out x.json
    expect_rc 2 "--by must be" "$YA" validate --model m --data val.jsonl --by colour --out x.json
    expect_rc 2 "unknown option" "$YA" validate --model m --data val.jsonl --out x.json --frobnicate
    expect_rc 2 "--no-base only" "$YA" validate --model m --data val.jsonl --out x.json --no-base
    # runtime errors: exit 1, naming file:line
    printf '%s\n' '{"text":"fine","auth_weight":0.5}' '{"text":"bad","auth_weight":' >bad.jsonl
    expect_rc 1 "bad.jsonl:2:" "$YA" validate --model m --data bad.jsonl --out x.json
    printf '%s\n' '{"text":"fine","auth_weight":0.5}' '{"text":"out of range","auth_weight":1.5}' >bad2.jsonl
    expect_rc 1 "bad2.jsonl:2:" "$YA" validate --model m --data bad2.jsonl --out x.json
    printf '%s\n' '{"question":"q","choices":["a","b"],"labels":[1,0]}' '{"question":"q","choices":["a"],"labels":[1]}' >badmc.jsonl
    expect_rc 1 "badmc.jsonl:2:" "$YA" validate --model m --benchmark badmc.jsonl --out x.json
    printf '%s\n' '{"id":"x","category":"c","type":"free"}' >badsuite.jsonl
    expect_rc 1 "badsuite.jsonl:1:" "$YA" validate --model m --prompts badsuite.jsonl --out x.json
    expect_rc 1 "nope" "$YA" validate --model nope --data val.jsonl --out x.json
    [ ! -e x.json ] || fail "a failed run left a report behind" ;;

  adapter)
    make_model
    make_val
    "$PY" "$ROOT/tools/torch_lora_ref.py" make-adapter --model m --out ad --rank 4 --alpha 8 --seed 1
    "$YA" validate --model m --adapter ad --data val.jsonl --bootstrap 100 --dump-ids ids.jsonl --plot p.svg \
      --out r.json >summary.txt
    cat summary.txt
    grep -q "distrust signal" summary.txt || fail "no distrust signal line"
    "$PY" "$ROOT/tools/check_validate_ppl.py" --model m --adapter ad --data val.jsonl --dump ids.jsonl --report r.json
    [ "$(json_get r.json 'r["adapter"]')" = ad ] || fail "report lacks the adapter"
    [ "$(json_get r.json 'all(g["delta_ci"][0] - 1e-12 <= g["delta"] <= g["delta_ci"][1] + 1e-12 for g in r["perplexity"]["groups"])')" = True ] \
      || fail "a Δ lies outside its paired bootstrap interval"
    xmllint --noout p.svg 2>/dev/null || "$PY" -c "import xml.etree.ElementTree as E,sys; E.parse(sys.argv[1])" p.svg
    # --no-base: no base numbers, no signal
    "$YA" validate --model m --adapter ad --no-base --data val.jsonl --bootstrap 0 --out nb.json >/dev/null
    [ "$(json_get nb.json 'r["perplexity"]["distrust_signal"] is None and "base" not in r["perplexity"]["groups"][0]')" = True ] \
      || fail "--no-base still evaluated the base" ;;
  *) fail "unknown case" ;;
esac
echo "ok $CASE"
