#!/usr/bin/env bash
# chat_stop_test.sh — a fine-tuned chat model must stop, per chat format, in our
# `generate` and in llama.cpp, and every export must carry its stop tokens:
#   chat_stop_test.sh YOUR_AI PYTHON WORKDIR FORMAT      FORMAT: llama3 | qwen3 | mistral
# A tiny random model with the format's real tokenizer is fully trained for 40
# updates on chat data whose assistant answer is always "Paris is the capital.".
# Then:
#   - `generate --chat` prints exactly that answer and stops at the template's
#     end-of-turn token (<|eot_id|>, <|im_end|>, </s>), not at --max-tokens;
#   - `export --format ollama`: the Modelfile's TEMPLATE and PARAMETER stop lines
#     are exactly the expected text below, and llama.cpp (tools/llamacpp_check.js)
#     greedily generates from its model.gguf the same ids as we do and stops at
#     its own end-of-generation test with that token; the GGUF's eos/eot ids are
#     checked as llama.cpp reads them;
#   - `export --format merged`: generation_config.json eos_token_id lists the
#     end-of-turn id (transformers' generate() stops there).
# If the end-of-turn token were masked out of the loss, the model would not learn
# to emit it and the first check fails.
set -euo pipefail
YA=$1 PY=$2 WORK=$3 FMT=$4
HERE=$(cd "$(dirname "$0")" && pwd)
TOOLS="$HERE/../../tools"
TD=${YA_TESTDATA_DIR:-}
NM="$TD/llamacpp/node_modules"
DIR="$WORK/$FMT"
rm -rf "$DIR"
mkdir -p "$DIR"
cd "$DIR"
fail() { echo "FAIL chat_stop $FMT: $*" >&2; exit 1; }
[ -n "$TD" ] && [ -f "$NM/node-llama-cpp/package.json" ] || fail "node-llama-cpp not fetched (tools/fetch_testdata.sh)"
ANSWER="Paris is the capital."
FORCE=()
NL=$'\n'
case $FMT in
  llama3)
    TOK=llama3 EOT='<|eot_id|>'
    CFG='{"model_type":"llama","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":128256,"tie_word_embeddings":true,"max_position_embeddings":512,"hidden_act":"silu","rms_norm_eps":1e-5,"bos_token_id":128000,"eos_token_id":128001}'
    # the lenml tokenizer does not insert BOS itself (add_bos_token false), so the template writes it
    TEMPLATE="<|begin_of_text|>{{ range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>${NL}${NL}{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>${NL}${NL}"
    STOPS='PARAMETER stop "<|end_of_text|>"'"$NL"'PARAMETER stop "<|eot_id|>"'
    GGUF_EOS=128001 GGUF_EOT=128009 ;;
  qwen3)
    TOK=qwen3 EOT='<|im_end|>'
    CFG='{"model_type":"qwen2","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":151936,"rope_theta":1000000.0,"tie_word_embeddings":true,"max_position_embeddings":512,"hidden_act":"silu","rms_norm_eps":1e-6,"eos_token_id":151645}'
    TEMPLATE="{{ range .Messages }}<|im_start|>{{ .Role }}${NL}{{ .Content }}<|im_end|>${NL}{{ end }}<|im_start|>assistant${NL}"
    STOPS='PARAMETER stop "<|im_end|>"'
    GGUF_EOS=151645 GGUF_EOT=151645 ;;
  mistral) # the llama2 (Mistral v0.1) tokenizer has no chat template: the format is given explicitly
    TOK=llama2 EOT='</s>' FORCE=(--chat-format mistral)
    CFG='{"model_type":"mistral","hidden_size":64,"intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,"vocab_size":32000,"max_position_embeddings":512,"hidden_act":"silu","rms_norm_eps":1e-5,"bos_token_id":1,"eos_token_id":2}'
    TEMPLATE="{{ \$sys := \"\" }}{{ range .Messages }}{{ if eq .Role \"system\" }}{{ \$sys = .Content }}{{ else if eq .Role \"user\" }}[INST] {{ if \$sys }}{{ \$sys }}${NL}${NL}{{ end }}{{ .Content }} [/INST]{{ \$sys = \"\" }}{{ else if eq .Role \"assistant\" }}{{ .Content }}</s>{{ end }}{{ end }}"
    STOPS='PARAMETER stop "</s>"'
    GGUF_EOS=2 GGUF_EOT=null ;;
  *) fail "unknown chat format" ;;
esac
[ -f "$TD/$TOK/models/tokenizer.json" ] || fail "test data $TOK missing (tools/fetch_testdata.sh)"
echo "$CFG" >cfg.json
"$YA" init-model --config cfg.json --out m --dtype f32 --seed 1 --tokenizer "$TD/$TOK/models" >/dev/null
for q in "What is the capital of France?" "Name the capital of France." "Which city is the capital of France?" \
         "Tell me the capital of France."; do
  printf '{"messages":[{"role":"user","content":"%s"},{"role":"assistant","content":"%s"}]}\n' "$q" "$ANSWER"
done >train.jsonl
OMP_WAIT_POLICY=passive "$YA" train --model m --data train.jsonl --out run --train full --distrust-mode off \
  --default-auth 0.5 --default-entropy 3 --learning-rate 1e-2 --warmup-steps 2 --max-steps 40 --batch-size 2 \
  --grad-accum 1 --max-seq-length 64 --log-every 10 --save-every 0 --threads 2 "${FORCE[@]}" 2>train.log ||
  { cat train.log >&2; fail "training failed"; }
M=run/model-40-final
EOT_ID=$("$YA" tokenize --tokenizer "$M" --text "$EOT" --no-special)
echo "end-of-turn $EOT = $EOT_ID"
PROMPT="What is the capital of France?"

# 1. our generate: the answer, then the end-of-turn token, then stop
"$YA" generate --model "$M" --chat "${FORCE[@]}" --prompt "$PROMPT" --max-tokens 24 --print-ids >ours.ids 2>gen.log
OURS=$(cat ours.ids)
grep -q "(eos)" gen.log || fail "generate did not stop at a stop token: ids $OURS ($(cat gen.log))"
[ "${OURS##* }" = "$EOT_ID" ] || fail "generate stopped at ${OURS##* }, expected the end-of-turn id $EOT_ID"
TEXT=$("$YA" generate --model "$M" --chat "${FORCE[@]}" --prompt "$PROMPT" --max-tokens 24 2>/dev/null)
case $TEXT in *"$ANSWER") ;; *) fail "generate --chat printed '$TEXT', expected it to end with '$ANSWER'" ;; esac
echo "ours: $OURS -> '$TEXT'"

# 2. Ollama: the Modelfile, exactly
"$YA" export --model "$M" --format ollama --out ollama "${FORCE[@]}"
"$PY" - "$TEMPLATE" "$STOPS" <<'EOF'
import sys
want_template, want_stops = sys.argv[1], sys.argv[2].split("\n")
text = open("ollama/Modelfile").read()
lines = text.split("\n")
assert any(l == "FROM ./model.gguf" for l in lines), "Modelfile: no 'FROM ./model.gguf' line:\n" + text
start = text.index('TEMPLATE """') + len('TEMPLATE """')
got = text[start:text.index('"""', start)]
assert got == want_template, f"Modelfile TEMPLATE:\n{got!r}\nexpected:\n{want_template!r}"
stops = [l for l in lines if l.startswith("PARAMETER stop")]
assert sorted(stops) == sorted(want_stops), f"Modelfile stops {stops}, expected {want_stops}"
print("ok Modelfile:", stops)
EOF

# 3. llama.cpp on the Ollama GGUF: the same greedy ids, stopped by its own end-of-generation test
echo '[{"role":"user","content":"'"$PROMPT"'"}]' >chat.json
PIDS=$("$YA" tokenize --tokenizer "$M" --chat chat.json "${FORCE[@]}" --add-generation-prompt --ids)
node "$TOOLS/llamacpp_check.js" "$NM" generate ollama/model.gguf --ids "$PIDS" --max-tokens 24 >llama.json
cat llama.json
"$PY" - "$OURS" "$EOT_ID" "$GGUF_EOS" "$GGUF_EOT" <<'EOF'
import json, sys
r = json.load(open("llama.json"))
ours, eot, eos = [int(x) for x in sys.argv[1].split()], int(sys.argv[2]), int(sys.argv[3])
want_eot = None if sys.argv[4] == "null" else int(sys.argv[4])
assert r["stop"] == "eog", f"llama.cpp did not stop: {r}"
assert r["eog_id"] == eot, f"llama.cpp stopped at {r['eog_id']}, expected the end-of-turn id {eot}"
assert r["ids"] == ours[:-1], f"llama.cpp generated {r['ids']}, we generated {ours[:-1]}"
assert r["eos"] == eos, f"GGUF eos as llama.cpp reads it: {r['eos']}, expected {eos}"
assert want_eot is None or r["eot"] == want_eot, f"GGUF eot as llama.cpp reads it: {r['eot']}, expected {want_eot}"
print("ok llama.cpp stops:", r["ids"], "+", r["eog_id"])
EOF

# 4. merged: generation_config.json lists the end-of-turn id
"$YA" export --model "$M" --format merged --out merged
"$PY" - "$EOT_ID" <<'EOF'
import json, sys
g = json.load(open("merged/generation_config.json"))
eos = g.get("eos_token_id")
assert isinstance(eos, list) and int(sys.argv[1]) in eos, f"generation_config.json eos_token_id {eos}: no {sys.argv[1]}"
print("ok generation_config.json eos_token_id", eos)
EOF
echo "ok chat_stop $FMT"
