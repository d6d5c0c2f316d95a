#!/bin/sh
# check_long_lines.sh — bounded memory per input byte for huge JSONL lines:
#  1. a line longer than --max-line-bytes is a bad line "FILE:LINE: line is N bytes,
#     longer than the limit M (raise with --max-line-bytes)", refused without being
#     held in memory (peak RSS far below the line's size), skippable;
#  2. with the limit raised, an 8 MB document under --max-seq-length 32 is tokenised
#     only as far as needed (BPE stops; normalising and pre-tokenising still read it
#     all): peak RSS within 10x the line for the SentencePiece-style Mistral tokenizer
#     (BPE of the whole document, one pre-token, took ~50x) and 30x for byte-level
#     Qwen3 (its pre-token list), and the ids are those of a short prefix of the text;
#  3. 8 MB without a space (one pre-token) is bounded the same way.
# Memory, not wall-clock time, is asserted (ru_maxrss of the finished child);
# under AddressSanitizer the RSS checks are skipped (its allocator's RSS differs).
# Usage: check_long_lines.sh YOUR_AI TESTDATA_DIR SCRATCH_DIR
set -u
YA=$1 TD=$2 OUT=$3
MISTRAL=$TD/llama2/models QWEN=$TD/qwen3/models
mkdir -p "$OUT"
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
asan=0
grep -q __asan_init "$YA" 2> /dev/null && asan=1

# run_rss FILE_PREFIX CMD... : runs CMD (stdout FILE_PREFIX.out, stderr FILE_PREFIX.err);
# prints "RC PEAK_KIB"
run_rss() {
  p=$1
  shift
  ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" python3 -c '
import resource, subprocess, sys
with open(sys.argv[1] + ".out", "wb") as o, open(sys.argv[1] + ".err", "wb") as e:
    rc = subprocess.call(sys.argv[2:], stdout=o, stderr=e)
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$p" "$@"
}
check_rss() { # check_rss WHAT PEAK_KIB LIMIT_KIB
  [ $asan = 1 ] && return
  [ "$2" -le "$3" ] || fail "$1: peak RSS $2 KiB, more than $3 KiB"
  echo "$1: peak RSS $2 KiB (limit $3)"
}

python3 - "$OUT" << 'PY'
import json, random, sys
out = sys.argv[1]
random.seed(7)
words = ["alpha", "beta", "gamma", "delta", "the", "of", "and", "river", "mountain", "quickly", "Zebra,", "1984"]
text = " ".join(random.choice(words) for _ in range(1_300_000))  # ~8 MB
with open(out + "/big.jsonl", "w") as f:
    f.write(json.dumps({"text": text}) + "\n")
with open(out + "/big_prefix.jsonl", "w") as f:  # the same document's first 2000 bytes
    f.write(json.dumps({"text": text[:2000]}) + "\n")
with open(out + "/mixed.jsonl", "w") as f:
    f.write(json.dumps({"text": "a short document"}) + "\n")
    f.write(json.dumps({"text": text}) + "\n")
    f.write(json.dumps({"text": "another short one"}) + "\n")
with open(out + "/nospace.jsonl", "w") as f:
    f.write(json.dumps({"text": "".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(8_000_000))}) + "\n")
PY
size=$(wc -c < "$OUT/big.jsonl")
kib=$((size / 1024))

# 1. the 8 MB line is under the default 16 MiB limit: lower the limit to 1 MiB
set -- $(run_rss "$OUT/r1" "$YA" inspect-data --model "$MISTRAL" --data "$OUT/big.jsonl" --distrust-mode off \
  --max-seq-length 32 --max-line-bytes 1048576)
[ "$1" = 1 ] || fail "a line over --max-line-bytes: exit $1, expected 1"
grep -q "big.jsonl:1: line is $size bytes, longer than the limit 1048576 (raise with --max-line-bytes)" "$OUT/r1.err" ||
  fail "message: $(cat "$OUT/r1.err")"
refused_big=$2
# the same refusal of a 2 KB line: refusing 8 MB may not cost more than 1 MiB beyond it
set -- $(run_rss "$OUT/r1p" "$YA" inspect-data --model "$MISTRAL" --data "$OUT/big_prefix.jsonl" --distrust-mode off \
  --max-seq-length 32 --max-line-bytes 1024)
[ "$1" = 1 ] || fail "a 2 KB line over --max-line-bytes 1024: exit $1"
check_rss "refusing 8 MB vs 2 KB" "$refused_big" $(($2 + 1024 + 1024))
# skippable: the short lines around it are trained on
set -- $(run_rss "$OUT/r1s" "$YA" inspect-data --model "$MISTRAL" --data "$OUT/mixed.jsonl" --distrust-mode off \
  --max-line-bytes 1048576 --on-bad-line skip --json)
[ "$1" = 0 ] || fail "--on-bad-line skip: exit $1: $(cat "$OUT/r1s.err")"
grep -q "mixed.jsonl:2: line is $size bytes" "$OUT/r1s.err" || fail "skip message: $(cat "$OUT/r1s.err")"
grep -q "2 samples" "$OUT/r1s.err" || fail "expected 2 samples: $(cat "$OUT/r1s.err")"
# the same limit and message in `score` (its own fast reader)
"$YA" score --in "$OUT/mixed.jsonl" --out "$OUT/scored.jsonl" --max-line-bytes 1048576 --on-bad-line fail \
  > /dev/null 2> "$OUT/score.err"
[ $? = 1 ] || fail "score: a line over --max-line-bytes under --on-bad-line fail: expected exit 1"
grep -q "mixed.jsonl:2: line is $size bytes, longer than the limit 1048576 (raise with --max-line-bytes)" \
  "$OUT/score.err" || fail "score message: $(cat "$OUT/score.err")"
"$YA" score --in "$OUT/mixed.jsonl" --out "$OUT/scored.jsonl" --max-line-bytes 1048576 > /dev/null 2>&1 ||
  fail "score --on-bad-line skip (its default) with a long line"
[ "$(wc -l < "$OUT/scored.jsonl")" = 2 ] || fail "score: expected the 2 short lines scored"
# bad values of the flag are usage errors
"$YA" inspect-data --model "$MISTRAL" --data "$OUT/big.jsonl" --max-line-bytes abc > /dev/null 2>&1
[ $? = 2 ] || fail "--max-line-bytes abc: expected exit 2"

# 2. limit raised: tokenised only as far as --max-seq-length needs
for m in "$MISTRAL" "$QWEN"; do
  name=$(basename "$(dirname "$m")")
  per_byte=10
  [ "$m" = "$QWEN" ] && per_byte=30
  set -- $(run_rss "$OUT/r2$name" "$YA" inspect-data --model "$m" --data "$OUT/big.jsonl" --distrust-mode off \
    --max-seq-length 32 --batches 1 --json)
  [ "$1" = 0 ] || fail "$name: 8 MB line, --max-seq-length 32: exit $1: $(cat "$OUT/r2$name.err")"
  grep -q "1 truncated), 32 tokens" "$OUT/r2$name.err" || fail "$name: stats: $(cat "$OUT/r2$name.err")"
  check_rss "$name: 8 MB line" "$2" $((80000 + kib * per_byte))
  "$YA" inspect-data --model "$m" --data "$OUT/big_prefix.jsonl" --distrust-mode off --max-seq-length 32 --batches 1 \
    --json > "$OUT/r2p$name.out" 2> /dev/null || fail "$name: prefix document"
  python3 -c '
import json, sys
a = json.loads(open(sys.argv[1]).readline())["ids"]
b = json.loads(open(sys.argv[2]).readline())["ids"]
sys.exit(0 if a == b and len(a[0]) == 32 else 1)' "$OUT/r2$name.out" "$OUT/r2p$name.out" ||
    fail "$name: the ids of the 8 MB document differ from those of its first 2000 bytes"
done

# 3. one 8 MB pre-token
for m in "$MISTRAL" "$QWEN"; do
  name=$(basename "$(dirname "$m")")
  set -- $(run_rss "$OUT/r3$name" "$YA" inspect-data --model "$m" --data "$OUT/nospace.jsonl" --distrust-mode off \
    --max-seq-length 32 --batches 1)
  [ "$1" = 0 ] || fail "$name: 8 MB without a space: exit $1: $(cat "$OUT/r3$name.err")"
  check_rss "$name: 8 MB pre-token" "$2" $((80000 + kib * 20))  # main: BPE of 8 M symbols, ~50x
done

[ $fails = 0 ] && echo "check_long_lines: all passed"
exit $((fails > 0))
