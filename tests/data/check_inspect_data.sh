#!/bin/sh
# check_inspect_data.sh — `your_ai inspect-data` end to end:
#  1. masks and token ids against tools/data_reference.js (HF tokenizers + an
#     independent re-implementation of the SPEC §5.4/§5.5 rules) for text,
#     completions and chat data, pad and pack batching;
#  2. resuming from a printed cursor reproduces the uninterrupted batches;
#  3. bad lines: file:line: reason, exit codes, skip counts.
# Usage: check_inspect_data.sh YOUR_AI NODE_MODULES TESTDATA_DIR SOURCE_DIR SCRATCH_DIR
set -u
YA=$1 NM=$2 TD=$3 SRC=$4 OUT=$5
MISTRAL=$TD/llama2/models QWEN=$TD/qwen3/models
REF="node $SRC/tools/data_reference.js $NM"
D=$SRC/tests/data
mkdir -p "$OUT"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# compare MODEL DATA "inspect flags" "reference flags"
compare() {
  n=$(grep -c . "$2")
  if ! "$YA" inspect-data --model "$1" --data "$2" --json --batches "$n" --distrust-mode off $3 \
      > "$OUT/inspect.jsonl" 2> "$OUT/inspect.err"; then
    fail "inspect-data $2 $3: $(cat "$OUT/inspect.err")"
    return
  fi
  $REF "$1" "$2" "$OUT/inspect.jsonl" $4 || fail "reference mismatch: $2 $3"
}

compare "$MISTRAL" "$D/ref_text.jsonl" "--batch-size 1 --max-seq-length 24" "--max-seq-length 24"
compare "$MISTRAL" "$D/ref_text.jsonl" "--batch-size 3 --no-append-eos" "--no-append-eos"
compare "$MISTRAL" "$D/ref_text.jsonl" "--batching pack --batch-size 2 --max-seq-length 48" "--max-seq-length 48"
compare "$MISTRAL" "$D/ref_completions.jsonl" "--batch-size 2 --max-seq-length 24" "--max-seq-length 24"
compare "$MISTRAL" "$D/ref_completions.jsonl" "--batch-size 1 --mask-prompt off" "--mask-prompt off"
compare "$MISTRAL" "$D/ref_chat.jsonl" "--batch-size 1 --chat-format mistral" "--chat-format mistral"
compare "$MISTRAL" "$D/ref_chat.jsonl" "--batch-size 2 --chat-format mistral --train-on all-assistant" \
  "--chat-format mistral --train-on all-assistant"
compare "$QWEN" "$D/ref_chat.jsonl" "--batch-size 1 --chat-format chatml --train-on all-assistant" \
  "--chat-format chatml --train-on all-assistant"
compare "$QWEN" "$D/ref_completions.jsonl" "--batching pack --batch-size 1 --max-seq-length 64 --chat-format chatml" \
  "--chat-format chatml --max-seq-length 64"

LLAMA3=$TD/llama3/models # its template is detected from tokenizer_config.json
compare "$LLAMA3" "$D/ref_chat.jsonl" "--batch-size 1 --train-on all-assistant" "--chat-format llama3 --train-on all-assistant"

# ShareGPT conversations (mixed with a messages line), sample weights, a weight-0 line dropped
compare "$QWEN" "$D/ref_sharegpt.jsonl" "--batch-size 1 --chat-format chatml --train-on all-assistant" \
  "--chat-format chatml --train-on all-assistant"
compare "$MISTRAL" "$D/ref_sharegpt.jsonl" "--batch-size 2 --chat-format mistral" "--chat-format mistral"
compare "$LLAMA3" "$D/ref_sharegpt.jsonl" "--batch-size 1" "--chat-format llama3"
"$YA" inspect-data --model "$QWEN" --data "$D/ref_sharegpt.jsonl" --distrust-mode off --batches 3 --batch-size 1 \
  --seed 1 > "$OUT/sharegpt.txt" 2> "$OUT/sharegpt.err" || fail "inspect-data sharegpt listing: $(cat "$OUT/sharegpt.err")"
grep -q "ref_sharegpt.jsonl:4: dropped: its weight is 0" "$OUT/sharegpt.err" || fail "weight 0 not reported as dropped"
grep -q "chat records: 1 chat:messages, 2 chat:sharegpt (0 with tools)" "$OUT/sharegpt.err" || fail "no chat record counts"
grep -q "sample weights: 2 kept samples with a weight other than 1, 1 dropped with weight 0" "$OUT/sharegpt.err" \
  || fail "no sample weight summary"
grep -q "chat:sharegpt, tokens \[0, [0-9]*), [0-9]* supervised, weight 2," "$OUT/sharegpt.txt" \
  || fail "listing lacks kind/weight: $(head -5 "$OUT/sharegpt.txt")"
grep -q "supervised tokens: \[" "$OUT/sharegpt.txt" || fail "listing lacks the supervised spans"

# resume: batches 3..7 after restoring batch 2's cursor_after equal the uninterrupted ones
for mode in pad pack; do
  "$YA" inspect-data --model "$MISTRAL" --data "$D/ref_text.jsonl" --json --batches 8 --batch-size 2 \
    --batching $mode --max-seq-length 40 --seed 7 > "$OUT/straight.jsonl" 2>/dev/null || fail "straight run ($mode)"
  cursor=$(sed -n 3p "$OUT/straight.jsonl" | jq -c .cursor_after)
  "$YA" inspect-data --model "$MISTRAL" --data "$D/ref_text.jsonl" --json --batches 5 --batch-size 2 \
    --batching $mode --max-seq-length 40 --seed 7 --cursor "$cursor" > "$OUT/resumed.jsonl" 2>/dev/null \
    || fail "resumed run ($mode)"
  a=$(sed -n '4,8p' "$OUT/straight.jsonl" | jq -c 'del(.batch)')
  b=$(jq -c 'del(.batch)' "$OUT/resumed.jsonl")
  [ "$a" = "$b" ] || fail "resume ($mode): batches after the cursor differ"
  # a cursor from another seed is refused (exit 1)
  "$YA" inspect-data --model "$MISTRAL" --data "$D/ref_text.jsonl" --batches 1 --batching $mode --seed 8 \
    --cursor "$cursor" > /dev/null 2> "$OUT/seed.err"
  [ $? -eq 1 ] && grep -q "seed" "$OUT/seed.err" || fail "cursor with another seed not refused ($mode)"
done

# bad lines
BAD=$OUT/bad.jsonl
printf '%s\n' '{"text":"fine","auth_weight":0.1,"prov_entropy":5}' '{"text":"x",' '' \
  '{"text":"y","auth_weight":1.5,"prov_entropy":5}' '{"text":"z"}' '{"text":"ok","auth_weight":0.2,"prov_entropy":4}' > "$BAD"
"$YA" inspect-data --model "$MISTRAL" --data "$BAD" > /dev/null 2> "$OUT/bad.err"
[ $? -eq 1 ] || fail "bad line under the default policy must exit 1"
grep -q "^your_ai inspect-data: error: $BAD:2: invalid JSON" "$OUT/bad.err" || fail "fail message: $(cat "$OUT/bad.err")"
"$YA" inspect-data --model "$MISTRAL" --data "$BAD" --on-bad-line skip --batches 1 > /dev/null 2> "$OUT/skip.err"
[ $? -eq 0 ] || fail "skip policy must exit 0: $(cat "$OUT/skip.err")"
grep -q "^$BAD:2: invalid JSON" "$OUT/skip.err" || fail "skip: line 2 not reported"
grep -q "^$BAD:4: auth_weight 1.5 is outside \[0, 0.99\]" "$OUT/skip.err" || fail "skip: line 4 not reported"
grep -q "^$BAD:5: missing 'auth_weight'" "$OUT/skip.err" || fail "skip: line 5 not reported"
grep -q "3 bad lines skipped" "$OUT/skip.err" || fail "skip: no count"
grep -q "2 samples" "$OUT/skip.err" || fail "skip: sample count"
# missing w/H completed by the defaults
"$YA" inspect-data --model "$MISTRAL" --data "$BAD" --on-bad-line skip --default-auth 0.5 --default-entropy 3 --json \
  --batches 1 --batch-size 3 2> "$OUT/def.err" | jq -e '[.samples[] | select(.w == 0.5 and .h == 3)] | length == 1' \
  > /dev/null || fail "defaults: $(cat "$OUT/def.err")"
# --score equals what `your_ai score` writes (SPEC §4.8: dynamic, hybrid, default cases)
SC=$OUT/unscored.jsonl
printf '%s\n' '{"text":"United States Patent 2,345,678\nFiled: March 15, 1923\nInventor: Thomas Edison\nThis patent describes an improved method for the measurement of electrical resistance."}' \
  '{"text":"According to Wikipedia and the World Health Organization (WHO), the scientific consensus is clear. Experts agree.","source_type":"wiki"}' \
  '{"text":"too short"}' > "$SC"
"$YA" score --in "$SC" --out "$OUT/scored.jsonl" 2> /dev/null || fail "your_ai score"
want=$(jq -c '[.auth_weight, .prov_entropy]' "$OUT/scored.jsonl" | tr -d '\n')
got=$("$YA" inspect-data --model "$MISTRAL" --data "$SC" --score --json --batches 1 --batch-size 3 2> /dev/null \
  | jq -c '.samples | sort_by(.line) | .[] | [.w, .h]' | tr -d '\n')
[ -n "$want" ] && [ "$want" = "$got" ] || fail "--score: loader $got, your_ai score $want"

# usage errors exit 2
"$YA" inspect-data --model "$MISTRAL" --data "$BAD" --batching zigzag > /dev/null 2>&1
[ $? -eq 2 ] || fail "--batching zigzag must exit 2"
"$YA" inspect-data --data "$BAD" > /dev/null 2>&1
[ $? -eq 2 ] || fail "missing --model must exit 2"
"$YA" inspect-data --model "$MISTRAL" --data "$BAD" --default-auth 1.5 > /dev/null 2>&1
[ $? -eq 2 ] || fail "--default-auth 1.5 must exit 2"

[ $fails -eq 0 ] && echo "check_inspect_data: all checks passed"
exit $((fails > 0))
