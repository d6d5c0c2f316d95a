#!/bin/sh
# test_cli_score.sh YOUR_AI WORKDIR — CLI behaviour of `your_ai score` and `your_ai loss`:
# output fields and rounding, --text-field, --no-hybrid, bad lines skipped and counted,
# --on-bad-line fail (exit 1, file:line:), atomic --out, --threads order, usage errors
# (exit 2), constant memory on a large input, and the loss command's output/exit codes.
# Values are checked against SPEC §4.9 / §2.4 numbers, never against our own earlier output.
set -u
BIN=$1
W=$2
rm -rf "$W" && mkdir -p "$W" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
has() { grep -q -- "$2" "$1" || fail "$1 lacks '$2'"; }

PATENT='United States Patent 2,345,678\nFiled: March 15, 1923\nInventor: Thomas Edison\nThis patent describes an improved method for the measurement of electrical resistance in laboratory conditions. The experiment was conducted using primary measurement apparatus.'
ABSTRACT='Abstract: This paper presents results from our experimental study.\nIntroduction: We measured various parameters under controlled conditions.\nReferences: [1] Smith et al., 2019. [2] Jones, 2020.'
{
  printf '{"id": 1, "text": "%s", "source_type": "patent_pre1970"}\n' "$PATENT"
  printf '{"id": 2, "text": "%s"}\n' "$PATENT"
  printf '{"id": 3, "text": "too short"}\n'
  printf 'this is not json\n'
  printf '{"id": 5, "text": "%s"}\n' "$ABSTRACT"
  printf '\n'
  printf '{"id": 7, "text": NaN}\n'
  printf '{"id": 8, "text": 12345}\n'
  printf '[1, 2, 3]\n'
  printf '{"id": 10, "text": "bad utf8 \377 here"}\n'
  printf '{"id": 11, "body": "%s", "source_type": "wiki"}\n' "$ABSTRACT"
} > "$W/in.jsonl"

# --- default run: 5 good documents, 5 bad lines skipped and counted
"$BIN" score --in "$W/in.jsonl" --out "$W/out.jsonl" 2> "$W/err.txt"
rc=$?
[ $rc -eq 0 ] || fail "score exited $rc"
[ "$(wc -l < "$W/out.jsonl")" -eq 5 ] || fail "expected 5 output lines, got $(wc -l < "$W/out.jsonl")"
has "$W/err.txt" "in.jsonl:4:"
has "$W/err.txt" "in.jsonl:7:"
has "$W/err.txt" "in.jsonl:8: field 'text' must be a string"
has "$W/err.txt" "in.jsonl:9: not a JSON object"
has "$W/err.txt" "in.jsonl:10:"
has "$W/err.txt" "5 bad lines skipped"
has "$W/err.txt" "5 documents"
has "$W/err.txt" "hybrid 1, dynamic 2, default 2"
# SPEC §4.9 batch vectors: hybrid (0.035, 7.573383) → 4 decimals 0.035 / 7.5734; dynamic (0.0, 9.1)
sed -n 1p "$W/out.jsonl" > "$W/l1"
has "$W/l1" '"id":1,"text":'
has "$W/l1" '"source_type":"patent_pre1970","auth_weight":0.035,"prov_entropy":7.5734,"citation_count":0,"primary_source_count":5,"scoring_method":"hybrid","scorer":"ref-py-1"}'
sed -n 2p "$W/out.jsonl" > "$W/l2"
has "$W/l2" '"auth_weight":0.0,"prov_entropy":9.1,"citation_count":0,"primary_source_count":5,"scoring_method":"dynamic"'
sed -n 3p "$W/out.jsonl" > "$W/l3"
has "$W/l3" '{"id":3,"text":"too short","auth_weight":0.5,"prov_entropy":3.0,"scoring_method":"default","scorer":"ref-py-1"}'
# (0.323856.., 4.484962..) rounds to 0.3239 / 4.485; n_cit 2
sed -n 4p "$W/out.jsonl" > "$W/l4"
has "$W/l4" '"auth_weight":0.3239,"prov_entropy":4.485,"citation_count":2,'
grep -q '"detail"' "$W/out.jsonl" && fail "detail present without --detail"
# line 11 has no "text": default, even though it has a source_type
sed -n 5p "$W/out.jsonl" > "$W/l6"
has "$W/l6" '"scoring_method":"default"'

# --- --text-field body, --detail, --no-hybrid
"$BIN" score --in "$W/in.jsonl" --out "$W/body.jsonl" --text-field body --detail --no-hybrid --quiet 2> "$W/err2.txt"
[ $? -eq 0 ] || fail "score --text-field exited non-zero"
[ -s "$W/err2.txt" ] && ! grep -q "in.jsonl:" "$W/err2.txt" && fail "--quiet printed a summary"
tail -n 1 "$W/body.jsonl" > "$W/lb"
has "$W/lb" '"scoring_method":"dynamic"'
has "$W/lb" '"detail":{"authority_weight":0.3238560'
# the reference's Counter order: lab_notebook before measurement, metadata's wiki (+2) last
has "$W/lb" '"citation_count":2,"primary_source_count":1,"institutional_score":0.0,"consensus_score":0.0,"source_type_distribution":{"lab_notebook":0.2,"measurement":0.2,"academic_paper":0.2,"wiki":0.4}}}'

# --- --on-bad-line fail: exit 1 naming file:line, no output file left behind
"$BIN" score --in "$W/in.jsonl" --out "$W/fail.jsonl" --on-bad-line fail 2> "$W/err3.txt"
rc=$?
[ $rc -eq 1 ] || fail "--on-bad-line fail exited $rc, want 1"
has "$W/err3.txt" "in.jsonl:4: invalid JSON"
[ -e "$W/fail.jsonl" ] && fail "a failed run left $W/fail.jsonl"
ls "$W" | grep -q tmp && fail "temporary file left behind"

# --- atomic overwrite keeps the old file on failure
echo old > "$W/keep.jsonl"
"$BIN" score --in "$W/in.jsonl" --out "$W/keep.jsonl" --on-bad-line fail 2> /dev/null
[ "$(cat "$W/keep.jsonl")" = old ] || fail "failed run replaced the existing output"

# --- stdout, threads keep order
"$BIN" score --in "$W/in.jsonl" --out - --quiet > "$W/stdout.jsonl" 2> /dev/null || fail "--out - failed"
cmp -s "$W/stdout.jsonl" "$W/out.jsonl" || fail "--out - differs from the file output"
"$BIN" score --in "$W/in.jsonl" --out "$W/thr.jsonl" --threads 2 --quiet 2> /dev/null || fail "--threads 2 failed"
cmp -s "$W/thr.jsonl" "$W/out.jsonl" || fail "--threads 2 output differs"

# --- usage errors exit 2
"$BIN" score --in "$W/in.jsonl" 2> /dev/null; [ $? -eq 2 ] || fail "missing --out: want exit 2"
"$BIN" score --in "$W/in.jsonl" --out - --on-bad-line maybe 2> /dev/null; [ $? -eq 2 ] || fail "bad policy: want exit 2"
"$BIN" score --bogus 2> /dev/null; [ $? -eq 2 ] || fail "unknown flag: want exit 2"
"$BIN" score --in "$W/in.jsonl" --out "$W" 2> /dev/null; [ $? -eq 2 ] || fail "--out DIR: want exit 2"
"$BIN" score --in "$W/missing.jsonl" --out - 2> /dev/null; [ $? -eq 1 ] || fail "missing input: want exit 1"
"$BIN" score --help | grep -q -- "--text-field NAME" || fail "--help lacks --text-field"

# --- streaming: peak RSS must not grow with the input. Scoring 8x more documents
# (~17 MB more input) may not raise the peak by more than 4 MB.
peak_rss() { # peak_rss N -> prints the peak RSS (KiB) of scoring N documents
  TEXT="$ABSTRACT" awk -v n="$1" 'BEGIN { t = ENVIRON["TEXT"]; for (i = 0; i < n; i++) printf "{\"i\": %d, \"text\": \"%s %d\"}\n", i, t, i }' > "$W/big.jsonl"
  # (ASan keeps freed memory in a quarantine that would look like growth: turn it off)
  # The kernel's exact high-water mark of the finished child (ru_maxrss, KiB), not a
  # sampled VmHWM: a short run could exit between two samples and look smaller.
  peak=$(ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" python3 -c '
import resource, subprocess, sys
rc = subprocess.call(sys.argv[1:], stderr=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss if rc == 0 else -1)' \
    "$BIN" score --in "$W/big.jsonl" --out "$W/big.out" --quiet)
  [ "$(wc -l < "$W/big.out")" -eq "$1" ] || peak=-1
  echo "$peak"
}
if grep -q __asan_init "$BIN" 2> /dev/null; then
  # Under AddressSanitizer the process's RSS follows ASan's allocator and shadow memory,
  # which grow with the addresses touched (seen: +20..50 MB at 80k documents, varying with
  # machine load): the memory bound is checked in the plain build only.
  echo "streaming: RSS check skipped under AddressSanitizer"
else
  small=$(peak_rss 10000)
  large=$(peak_rss 80000)
  echo "streaming: peak RSS ${small} KiB for 10000 documents, ${large} KiB for 80000"
  [ "$small" -ge 0 ] && [ "$large" -ge 0 ] || fail "scoring the large inputs failed or lost lines"
  if [ "$small" -gt 0 ] && [ "$large" -gt $((small + 4096)) ]; then fail "peak RSS grows with the input"; fi
fi
rm -f "$W/big.jsonl" "$W/big.out"

# --- loss command
"$BIN" loss --auth 0.05 --entropy 7.5 > "$W/loss.txt" || fail "loss exited non-zero"
has "$W/loss.txt" "^loss: 149.8047"
has "$W/loss.txt" "^component: 7.44870"
has "$W/loss.txt" "GOOD: Low authority_weight (0.05)"
has "$W/loss.txt" "High provenance_entropy (7.5 bits)"
has "$W/loss.txt" "Estimated loss contribution: 149.80"
"$BIN" loss --auth 0.9 --entropy 1.0 --alpha 3.0 > "$W/loss2.txt" || fail "loss --alpha 3.0 failed"
has "$W/loss2.txt" "^loss: 5.0901"  # 5.09018..., SPEC prints 5.0902
has "$W/loss2.txt" "WARNING: Very high authority_weight (0.90)"
"$BIN" loss --auth 0.05,0.5,0.9 --entropy 7.5,5,1 > "$W/loss3.txt" || fail "batch loss failed"
has "$W/loss3.txt" "^loss: 68.156"
"$BIN" loss --auth 0.05,0.5,0.9 --entropy 7.5,5,1 --reduction sum > "$W/loss4.txt" || fail "batch sum failed"
has "$W/loss4.txt" "^loss: 204.468"
"$BIN" loss --auth 0.05,0.5,0.9 --entropy 7.5,5,1 --reduction none > "$W/loss5.txt" || fail "batch none failed"
has "$W/loss5.txt" "^losses: 149.8047"
for args in "--auth -0.1 --entropy 5" "--auth 1.0 --entropy 5" "--auth 1.5 --entropy 5" "--auth 0.5 --entropy -1" \
            "--auth 0.5 --entropy 5 --alpha 2.0" "--auth 0.5 --entropy 5 --alpha 3.5" "--auth 0.5 --entropy 5 --alpha 1.0" \
            "--auth nan --entropy 5" "--auth 0.5 --entropy inf" "--auth 0.1,0.2 --entropy 1" \
            "--auth 0.1,2 --entropy 1,1" "--auth 0.5 --entropy 5 --reduction max" "--auth x --entropy 1" "--entropy 1"; do
  # shellcheck disable=SC2086
  "$BIN" loss $args > /dev/null 2> "$W/lerr.txt"
  rc=$?
  [ $rc -eq 2 ] || fail "loss $args: exit $rc, want 2"
done
"$BIN" loss --auth 1.5 --entropy 5 2> "$W/lerr.txt"
has "$W/lerr.txt" "outside valid range"
has "$W/lerr.txt" "E_AUTH_RANGE"
"$BIN" loss --auth 0.5 --entropy -1 2> "$W/lerr.txt"
has "$W/lerr.txt" "cannot be negative"
"$BIN" loss --auth 0.1,2 --entropy 1,1 2> "$W/lerr.txt"
has "$W/lerr.txt" "authority_weights\[1\]"

if [ $fails -ne 0 ]; then
  echo "cli_score_loss: $fails failure(s)"
  exit 1
fi
echo "cli_score_loss: all checks passed"
