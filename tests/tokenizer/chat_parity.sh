#!/usr/bin/env bash
# chat_parity.sh — our built-in chat renderers against a Jinja interpreter
# (transformers.js, via tools/hf_chat_render.js) applying the real template:
# the Llama 3 template of the fetched tokenizer_config.json, and the standard
# ChatML template (chatml.jinja). Qwen3's template is beyond that interpreter and
# Mistral's is not in the test data; those renders are checked by hand in
# test_tokenizer.c.
#   chat_parity.sh YOUR_AI TESTDATA_DIR WORK_DIR
set -uo pipefail
YA=$1 TD=$(cd "$2" && pwd) W=$3
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
mkdir -p "$W"
fail=0 n=0
conv() { printf '%s' "$2" >"$W/$1.json"; }
conv plain '[{"role":"user","content":"Hello"}]'
conv system '[{"role":"system","content":"You are terse."},{"role":"user","content":"What is 2+2?"},{"role":"assistant","content":"4"}]'
conv multi '[{"role":"user","content":"  spaced  \n"},{"role":"assistant","content":"\nok\t"},{"role":"user","content":"caf\u00e9 \ud83d\ude00 \u4f60\u597d"},{"role":"assistant","content":"line1\nline2\n\n"}]'
conv tokens '[{"role":"user","content":"<|eot_id|> and <|im_end|> inside"},{"role":"assistant","content":""}]'
convs=(plain system multi tokens)
for fmt in llama3 chatml; do
  if [ $fmt = llama3 ]; then tmpl=llama3 dir=$TD/llama3/models; else tmpl=$HERE/chatml.jinja dir=$TD/qwen3/models; fi
  files=()
  for c in "${convs[@]}"; do files+=("$W/$c.json"); done
  node "$ROOT/tools/hf_chat_render.js" "$TD" "$tmpl" "$W/$fmt.ref" "${files[@]}" || { echo "reference failed"; exit 1; }
  for c in "${convs[@]}"; do
    for gen in 0 1; do
      flag=()
      [ $gen = 1 ] && flag=(--add-generation-prompt)
      "$YA" tokenize --tokenizer "$dir" --chat "$W/$c.json" --chat-format $fmt "${flag[@]}" >"$W/$fmt.ours.$c.$gen" || fail=1
      n=$((n + 1))
      if ! cmp -s "$W/$fmt.ref.$c.$gen" "$W/$fmt.ours.$c.$gen"; then
        echo "FAIL $fmt $c gen=$gen"
        echo "  ref:  $(od -c "$W/$fmt.ref.$c.$gen" | head -5)"
        echo "  ours: $(od -c "$W/$fmt.ours.$c.$gen" | head -5)"
        fail=1
      fi
    done
  done
done
echo "chat_parity: $n renders compared"
exit $fail
