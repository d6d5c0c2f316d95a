#!/bin/sh
# check_chat_tools.sh — chat conversations with tools (tool schemas, assistant
# tool_calls, "tool" results) rendered by the qwen3 template against the real
# Qwen3 chat_template run by Jinja2 set up as HF transformers sets it up
# (tools/hf_chat_render.py): the rendered text byte for byte and its token ids
# (HF tokenizers via tools/hf_tokenize.js), with and without the generation
# prompt; templates without tools refuse them naming the field.
# Usage: check_chat_tools.sh YOUR_AI PYTHON NODE_MODULES TESTDATA_DIR SOURCE_DIR SCRATCH_DIR
set -u
YA=$1 PY=$2 NM=$3 TD=$4 SRC=$5 OUT=$6
QWEN=$TD/qwen3/models
mkdir -p "$OUT"
fails=0 n=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

# one JSON file per line of ref_tools.jsonl
i=0 convs=""
while IFS= read -r line; do
  [ -n "$line" ] || continue
  i=$((i + 1))
  printf '%s' "$line" > "$OUT/conv$i.json"
  convs="$convs $OUT/conv$i.json"
done < "$SRC/tests/data/ref_tools.jsonl"

# shellcheck disable=SC2086
"$PY" "$SRC/tools/hf_chat_render.py" "$QWEN/tokenizer_config.json" "$OUT/ref" $convs || { echo "reference failed"; exit 1; }
: > "$OUT/ref_texts.jsonl"
: > "$OUT/ours_ids.txt"
for k in $(seq 1 $i); do
  for gen in 0 1; do
    flag=""
    [ $gen = 1 ] && flag=--add-generation-prompt
    n=$((n + 1))
    # shellcheck disable=SC2086
    if ! "$YA" tokenize --tokenizer "$QWEN" --chat "$OUT/conv$k.json" --chat-format qwen3 $flag > "$OUT/ours.conv$k.$gen" 2> "$OUT/err"; then
      fail "conv$k gen=$gen: $(cat "$OUT/err")"
      continue
    fi
    if ! cmp -s "$OUT/ref.conv$k.$gen" "$OUT/ours.conv$k.$gen"; then
      fail "conv$k gen=$gen: rendered text differs from the template's"
      diff "$OUT/ref.conv$k.$gen" "$OUT/ours.conv$k.$gen" | head -10 >&2
    fi
    "$PY" -c 'import json,sys; print(json.dumps({"text": open(sys.argv[1], encoding="utf-8").read()}))' \
      "$OUT/ref.conv$k.$gen" >> "$OUT/ref_texts.jsonl"
    # shellcheck disable=SC2086
    "$YA" tokenize --tokenizer "$QWEN" --chat "$OUT/conv$k.json" --chat-format qwen3 $flag --ids >> "$OUT/ours_ids.txt" \
      || fail "conv$k gen=$gen: --ids"
  done
done
# token ids: HF tokenizers on the reference text = our ids of our render
node "$SRC/tools/hf_tokenize.js" "$NM" "$QWEN/tokenizer.json" encode-nospecial "$OUT/ref_texts.jsonl" "$OUT/hf" \
  || fail "hf_tokenize.js"
"$PY" -c 'import json,sys; [print(" ".join(map(str, json.loads(l)["ids"]))) for l in open(sys.argv[1]) if l.strip()]' \
  "$OUT/hf.encode-nospecial" > "$OUT/hf_ids.txt"
cmp -s "$OUT/hf_ids.txt" "$OUT/ours_ids.txt" || fail "token ids differ from HF tokenizers on the template's text"
[ "$(grep -c . "$OUT/hf_ids.txt")" -eq "$n" ] || fail "expected $n id lines"

# templates that render no tools refuse them, naming the field (exit 1)
for fmt in llama3 chatml mistral; do
  "$YA" tokenize --tokenizer "$QWEN" --chat "$OUT/conv1.json" --chat-format $fmt > /dev/null 2> "$OUT/err"
  [ $? -eq 1 ] && grep -q "'tools': the $fmt chat template does not render tools" "$OUT/err" \
    || fail "$fmt with tools: $(cat "$OUT/err")"
  "$YA" tokenize --tokenizer "$QWEN" --chat "$OUT/conv4.json" --chat-format $fmt > /dev/null 2> "$OUT/err"
  [ $? -eq 1 ] && grep -q "messages\[1\].tool_calls: the $fmt chat template does not render tool calls" "$OUT/err" \
    || fail "$fmt with tool calls: $(cat "$OUT/err")"
done
# a training line with tools under a template without them: file:line: reason
"$YA" inspect-data --model "$QWEN" --data "$SRC/tests/data/ref_tools.jsonl" --chat-format chatml --distrust-mode off \
  > /dev/null 2> "$OUT/err"
[ $? -eq 1 ] && grep -q "ref_tools.jsonl:1: 'tools': the chatml chat template does not render tools" "$OUT/err" \
  || fail "inspect-data chatml with tools: $(cat "$OUT/err")"
# the kinds and the tool count in inspect-data's summary
"$YA" inspect-data --model "$QWEN" --data "$SRC/tests/data/ref_tools.jsonl" --distrust-mode off --batches 0 \
  > /dev/null 2> "$OUT/err" || fail "inspect-data qwen3 with tools: $(cat "$OUT/err")"
grep -q "chat records: 5 chat:messages, 0 chat:sharegpt (4 with tools)" "$OUT/err" || fail "summary: $(cat "$OUT/err")"

[ $fails -eq 0 ] && echo "check_chat_tools: $n renders equal the template's text and HF's ids; refusals named"
exit $((fails > 0))
