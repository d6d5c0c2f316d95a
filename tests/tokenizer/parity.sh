#!/usr/bin/env bash
# parity.sh — `your_ai tokenize` against HuggingFace tokenizers (Node binding)
# on the three fetched tokenizer.json files: encode with and without special
# tokens, and decode (with and without skipping special tokens) of HF's ids.
#   parity.sh YOUR_AI TESTDATA_DIR WORK_DIR
set -euo pipefail
YA=$1 TD=$(cd "$2" && pwd) W=$3
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
NM=$TD/node/node_modules
mkdir -p "$W"

# The exact files the expectations were established on.
sha256sum -c --quiet - <<SUMS
fc4f0bd70b3709312d9d1d9e5ba674794b6bc5abc17429897a540f93882f25fc  $TD/llama2/models/tokenizer.json
c05a3c2174e9edd5be19dc5a0748c42a9037bec2811ce062728bfd71f8702d78  $TD/llama3/models/tokenizer.json
aeb13307a71acd8fe81861d94ad54ab689df773318809eed3cbe794b4492dae4  $TD/qwen3/models/tokenizer.json
747ec99bae3fd9d7bf9c3b9172e5ca0d82ca0d23d64a58ef1752b612f196817b  $TD/llama2/models/tokenizer_config.json
c058e1ff967585f08c1c4dc1577c68a825a482b38bc0b2bff059ab113bf603bf  $TD/llama3/models/tokenizer_config.json
5a7303fcb1a27ede63134a2cbd61d5282c247ca6d769ce4746d4ffa124aedd63  $TD/qwen3/models/tokenizer_config.json
SUMS

CORPUS=$W/corpus.jsonl
node "$HERE/gen_corpus.js" "$HERE/strings.jsonl" "$TD/brown" >"$CORPUS"
echo "corpus: $(wc -l <"$CORPUS") strings"
fail=0
# run MODES with HF and with us on INPUT; our decode reads HF's encode ids
check() { # name tokenizer_path modes input
  local name=$1 tokp=$2 modes=$3 input=$4 J=$2
  [ -d "$tokp" ] && J=$tokp/tokenizer.json
  node "$ROOT/tools/hf_tokenize.js" "$NM" "$J" "$modes" "$input" "$W/$name.ref"
  for m in ${modes//,/ }; do
    case $m in
      encode) "$YA" tokenize --tokenizer "$tokp" --jsonl "$input" >"$W/$name.ours.$m" || fail=1 ;;
      encode-nospecial) "$YA" tokenize --tokenizer "$tokp" --no-special --jsonl "$input" >"$W/$name.ours.$m" || fail=1 ;;
      decode) "$YA" tokenize --tokenizer "$tokp" --decode --jsonl "$W/$name.ref.encode" >"$W/$name.ours.$m" || fail=1 ;;
      decode-skip) "$YA" tokenize --tokenizer "$tokp" --decode --skip-special --jsonl "$W/$name.ref.encode" >"$W/$name.ours.$m" || fail=1 ;;
    esac
    node "$HERE/compare.js" "$name $m" "$input" "$W/$name.ours.$m" "$W/$name.ref.$m" || fail=1
  done
}
for t in llama2 llama3 qwen3; do
  check $t "$TD/$t/models" encode,encode-nospecial,decode,decode-skip "$CORPUS"
done

# Variants of the real files with one component swapped (variants.js), on the
# hand-written strings plus strings aimed at the added-token options.
VC=$W/variants_corpus.jsonl
cat "$HERE/strings.jsonl" "$HERE/strings_added.jsonl" >"$VC"
for v in $(node "$HERE/variants.js" "$TD" "$W/variants"); do
  modes=encode
  case $v in *added*|*unk*|*metaspace*) modes=encode,decode,decode-skip ;; esac
  check "$v" "$W/variants/$v/tokenizer.json" $modes "$VC" 2>"$W/$v.stderr"
done
exit $fail
