#!/usr/bin/env bash
# cli.sh — `your_ai tokenize` as a command: exit codes (0 ok, 1 runtime, 2 usage),
# error messages naming file:line, --text/--decode, and --chat rendering.
# Expected ids are the HF tokenizers library's (checked by hand with tools/hf_tokenize.js).
#   cli.sh YOUR_AI TESTDATA_DIR WORK_DIR
set -uo pipefail
YA=$1 TD=$2 W=$3
mkdir -p "$W"
fail=0
expect() { # description expected_rc command...
  local what=$1 want=$2
  shift 2
  "$@" >"$W/out" 2>"$W/err"
  local rc=$?
  if [ $rc -ne "$want" ]; then echo "FAIL $what: exit $rc, expected $want"; cat "$W/err"; fail=1; fi
}
has() { # description file needle
  grep -qF -- "$3" "$2" || { echo "FAIL $1: '$3' not in: $(head -c 300 "$2")"; fail=1; }
}
L2=$TD/llama2/models Q3=$TD/qwen3/models
expect "no flags" 2 "$YA" tokenize
expect "two inputs" 2 "$YA" tokenize --tokenizer "$L2" --text a --jsonl x
expect "unknown flag" 2 "$YA" tokenize --tokenizer "$L2" --text a --bogus
expect "missing file" 1 "$YA" tokenize --tokenizer "$W/none.json" --text a
has "missing file" "$W/err" "none.json"
echo '{"model": {"type": "WordLevel"' >"$W/bad.json"
expect "malformed json" 1 "$YA" tokenize --tokenizer "$W/bad.json" --text a
has "malformed json" "$W/err" "bad.json:2:0: invalid JSON"
expect "encode" 0 "$YA" tokenize --tokenizer "$L2" --text "Hello world"
has "encode" "$W/out" "1 22557 1526"
expect "encode no special" 0 "$YA" tokenize --tokenizer "$L2/tokenizer.json" --no-special --text "Hello world"
[ "$(cat "$W/out")" = "22557 1526" ] || { echo "FAIL no special: $(cat "$W/out")"; fail=1; }
expect "decode" 0 "$YA" tokenize --tokenizer "$L2" --decode --text "1 22557 1526"
[ "$(cat "$W/out")" = "<s> Hello world" ] || { echo "FAIL decode: $(cat "$W/out")"; fail=1; }
expect "decode skip" 0 "$YA" tokenize --tokenizer "$L2" --decode --skip-special --text "1 22557 1526"
[ "$(cat "$W/out")" = "Hello world" ] || { echo "FAIL decode skip: $(cat "$W/out")"; fail=1; }
printf '{"text": "a"}\n\n{"text": 5}\n' >"$W/bad.jsonl"
expect "bad line" 1 "$YA" tokenize --tokenizer "$L2" --jsonl "$W/bad.jsonl"
has "bad line" "$W/err" "bad.jsonl:3:"
printf '[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]' >"$W/chat.json"
expect "chat" 0 "$YA" tokenize --tokenizer "$Q3" --chat "$W/chat.json" --add-generation-prompt
[ "$(cat "$W/out")" = "$(printf '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n')" ] ||
  { echo "FAIL chat: $(cat "$W/out")"; fail=1; }
expect "chat ids" 0 "$YA" tokenize --tokenizer "$Q3" --chat "$W/chat.json" --ids
has "chat ids" "$W/out" "151644 8948 198"
expect "chat without template" 2 "$YA" tokenize --tokenizer "$L2" --chat "$W/chat.json"
has "chat without template" "$W/err" "--chat-format"
expect "chat forced" 0 "$YA" tokenize --tokenizer "$L2" --chat "$W/chat.json" --chat-format mistral
[ "$(cat "$W/out")" = "$(printf '<s>[INST] Be brief.\n\nHi [/INST]')" ] || { echo "FAIL chat forced: $(cat "$W/out")"; fail=1; }
expect "bad chat format" 2 "$YA" tokenize --tokenizer "$L2" --chat "$W/chat.json" --chat-format jinja
[ $fail = 0 ] && echo "cli.sh: all checks passed"
exit $fail
