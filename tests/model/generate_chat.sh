#!/usr/bin/env bash
# generate --chat: the prompt goes through the tokenizer's chat template as one
# user turn with the generation prompt — the same ids `tokenize --chat --ids
# --add-generation-prompt` gives for that conversation, so greedy output equals
# generating from those ids. A tokenizer without a template needs --chat-format.
#   generate_chat.sh YOUR_AI WORKDIR   (needs the testdata fixture)
set -euo pipefail
YA=$1 WORK=$2
TD=${YA_TESTDATA_DIR:?}
rm -rf "$WORK"; mkdir -p "$WORK"; cd "$WORK"
fail() { echo "FAIL: $*" >&2; exit 1; }

check_same() { # model_dir chat_flag... : --chat output ids == --ids output ids
  local dir=$1; shift
  echo '[{"role":"user","content":"Which source is primary: a lab notebook or a press release?"}]' >msgs.json
  local ids
  ids=$("$YA" tokenize --tokenizer "$dir" --chat msgs.json --add-generation-prompt --ids "$@")
  [ -n "$ids" ] || fail "no ids from tokenize --chat"
  local a b
  a=$("$YA" generate --model "$dir" --prompt "Which source is primary: a lab notebook or a press release?" \
        --max-tokens 6 --print-ids --threads 1 "$@" --chat 2>/dev/null)
  b=$("$YA" generate --model "$dir" --ids "$ids" --max-tokens 6 --print-ids --threads 1 2>/dev/null)
  [ "$a" = "$b" ] || fail "$dir: --chat generated '$a', from the template's ids '$b'"
  echo "ok: $dir $* (prompt ids: $ids)"
}

# Llama 3 tokenizer: the template is recognised from tokenizer_config.json.
echo '{"model_type":"llama","hidden_size":32,"intermediate_size":64,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,"vocab_size":128256,"rms_norm_eps":1e-5,"rope_theta":500000.0,"hidden_act":"silu","tie_word_embeddings":true,"bos_token_id":128000,"eos_token_id":128009}' >l3.json
"$YA" init-model --config l3.json --out m3 --dtype f32 --seed 3 --tokenizer "$TD/llama3/models" >/dev/null
check_same m3

# Mistral v0.1 tokenizer: no chat_template, so --chat alone is a usage error, --chat-format works.
echo '{"model_type":"mistral","hidden_size":32,"intermediate_size":64,"num_hidden_layers":1,"num_attention_heads":2,"num_key_value_heads":1,"vocab_size":32000,"rms_norm_eps":1e-5,"hidden_act":"silu","bos_token_id":1,"eos_token_id":2}' >mi.json
"$YA" init-model --config mi.json --out mm --dtype f32 --seed 4 --tokenizer "$TD/llama2/models" >/dev/null
rc=0; "$YA" generate --model mm --prompt "Hello" --chat --max-tokens 2 2>err.txt >/dev/null || rc=$?
[ $rc -eq 2 ] || fail "--chat without a template: exit $rc, expected 2"
grep -q "chat-format" err.txt || fail "--chat without a template: message does not suggest --chat-format"
check_same mm --chat-format mistral
rc=0; "$YA" generate --model mm --ids "1 2" --chat --max-tokens 2 >/dev/null 2>&1 || rc=$?
[ $rc -eq 2 ] || fail "--chat with --ids: exit $rc, expected 2"
echo "generate_chat: all passed"
