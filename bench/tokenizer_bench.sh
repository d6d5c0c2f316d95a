#!/usr/bin/env bash
# tokenizer_bench.sh — encode throughput of `your_ai tokenize` against the
# HuggingFace tokenizers library (single-threaded, same texts, same run) on
# ~3 MB of Brown-corpus English prose, one sentence per text, for the three
# test tokenizers. Prints a Markdown table for docs/BENCHMARKS.md.
#   bench/tokenizer_bench.sh [BUILD_DIR] [MAX_BYTES]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
MAX=${2:-3000000}
TD=${YA_TESTDATA_DIR:-$BUILD/testdata}
YA=$BUILD/your_ai
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
[ -f "$TD/brown/.ok" ] || "$ROOT/tools/fetch_testdata.sh" "$TD" >&2
node "$ROOT/tools/brown_text.js" "$TD/brown" "$MAX" |
  node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{for(const l of s.split("\n"))if(l)console.log(JSON.stringify({text:l}))})' >"$W/texts.jsonl"
echo "| tokenizer | texts | MB | tokens | your_ai tokens/s | your_ai MB/s | HF tokens/s | HF MB/s | ratio |"
echo "|---|---|---|---|---|---|---|---|---|"
for t in llama2 llama3 qwen3; do
  ours=$("$YA" tokenize --tokenizer "$TD/$t/models" --jsonl "$W/texts.jsonl" --stats 2>&1 >/dev/null | grep '^tokenize:')
  ref=$(RAYON_NUM_THREADS=1 node "$ROOT/bench/tokenizer_bench.js" "$TD/node/node_modules" "$TD/$t/models/tokenizer.json" \
        "$W/texts.jsonl" 2>&1 | grep '^hf:')
  # "... N texts, B bytes, T tokens, encode S s: X tokens/s, Y MB/s"
  read -r n b tk otps omb <<<"$(sed -E 's/.*: ([0-9]+) texts, ([0-9]+) bytes, ([0-9]+) tokens, encode [0-9.]+ s: ([0-9]+) tokens\/s, ([0-9.]+) MB\/s/\1 \2 \3 \4 \5/' <<<"$ours")"
  read -r _ _ htk htps hmb <<<"$(sed -E 's/.*: ([0-9]+) texts, ([0-9]+) bytes, ([0-9]+) tokens, encode [0-9.]+ s: ([0-9]+) tokens\/s, ([0-9.]+) MB\/s/\1 \2 \3 \4 \5/' <<<"$ref")"
  [ "$tk" = "$htk" ] || echo "warning: $t token counts differ: ours $tk, HF $htk" >&2
  ratio=$(awk -v a="$otps" -v b="$htps" 'BEGIN{printf "%.2fx", a/b}')
  mb=$(awk -v b="$b" 'BEGIN{printf "%.2f", b/1e6}')
  echo "| $t | $n | $mb | $tk | $otps | $omb | $htps | $hmb | $ratio |"
done
