#!/usr/bin/env bash
# prepare end to end on generated corpora: determinism, dedup, caps, rebalance and split
# counts, bad lines, overrides and every hard error. tools/check_prepare.py re-derives
# the counts independently; the rebalance numbers below are worked out from SPEC §5.2.
set -u
BIN=$1 PY=$2 CHECK=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
expect_rc() { # want description cmd...
  local want=$1 what=$2; shift 2
  "$@" >"$tmp/out.txt" 2>"$tmp/err.txt"
  local rc=$?
  if [ "$rc" -eq "$want" ]; then ok "$what (exit $rc)"; else bad "$what: exit $rc, want $want"; cat "$tmp/err.txt"; fi
}
stat_is() { # dir python-expression description
  if "$PY" -c "import json,sys; s=json.load(open('$1/stats.json')); sys.exit(0 if ($2) else 1)"; then ok "$3"; else bad "$3 ($2)"; fi
}

mkdir -p "$tmp/raw" "$tmp/empty" "$tmp/wikionly"
"$PY" - "$tmp/raw" "$tmp/wikionly" <<'PYEOF'
import json, os, sys
raw, wikionly = sys.argv[1], sys.argv[2]
def w(path, lines):
    with open(path, "wb") as f:
        for l in lines:
            f.write((l if isinstance(l, bytes) else json.dumps(l, ensure_ascii=False).encode()) + b"\n")
# low authority: pre-1970 prose (hybrid w = 0.7*0.10 + 0.3*dynamic, dynamic small: year < 1970)
books = [{"text": f"Chapter {i}. The farmer walked along the river road in the year 1850 and thought about "
                  f"the harvest, the rain and the long winter ahead number {i} \u00e9t\u00e9.", "year": 1850, "id_in_file": i}
         for i in range(30)]
lines = list(books)
ascii_upper = "".join(c.upper() if c.isascii() else c for c in books[0]["text"])
lines.insert(5, {"text": ascii_upper.replace(" ", "  \u00a0")})                # duplicate: ASCII case + whitespace
lines.append({"text": books[3]["text"].upper()})  # NOT a duplicate: \u00e9 -> \u00c9 is not ASCII lowercasing
lines.insert(9, {"text": "  " + books[1]["text"] + "\n"})                       # duplicate: trimmed
lines.insert(12, {"content": books[2]["text"]})                                 # duplicate via another field
lines.insert(3, b"{not json")                                                    # bad line
lines.insert(7, b'{"text": "bad \xff utf-8"}')                                 # bad line
lines.insert(8, b"[1, 2, 3]")                                                    # bad line: not an object
lines.insert(11, {"text": "x" * 99})                                            # too short after extraction
lines.insert(13, {"text": "y" * 60, "content": "z" * 200})                     # 60 > 50 is chosen, then too short
lines.insert(2, b"   ")                                                          # blank: not a line at all
w(os.path.join(raw, "gutenberg_books.jsonl"), lines)
wiki = [{"text": f"Article {i}: the city council approved the annual budget of department {i} after a public "
                 f"hearing, and the mayor signed it on Tuesday evening.", "url": f"https://example.org/{i}"}
        for i in range(400)]
w(os.path.join(raw, "wikipedia_en.jsonl"), wiki)
w(os.path.join(wikionly, "wikipedia_en.jsonl"), wiki)
arxiv = [{"abstract": f"We study problem {i} of graph colouring with bounded degree and give an algorithm whose "
                      f"running time improves the best known bound for every fixed degree.",
          "title": f"On problem {i}", "year": 2003, "authors": ["A", "B"], "n": None, "ok": True}
         for i in range(300)]
w(os.path.join(raw, "arxiv_abs.jsonl"), arxiv)
w(os.path.join(raw, "misc_notes.jsonl"), [{"text": f"Internal note {i}: " + "the committee met and adopted the minutes " * 3}
                                          for i in range(20)])
open(os.path.join(raw, "empty.jsonl"), "w").close()
open(os.path.join(raw, "notes.txt"), "w").write("not jsonl\n")
PYEOF

A="--input $tmp/raw --train-size 600 --val-size 20 --min-examples 100"
# caps at train size 600: low 200, mid 120, high 100 → 31 + 120 + 100 = 251 examples;
# low 31 of 251 < 20% → T = floor(31/0.25) = 124, high_t = floor(0.35*124) = 43, mid_t = 124-31-43 = 50.
expect_rc 0 "prepare seed 42" "$BIN" prepare $A --output "$tmp/o1"
cp "$tmp/out.txt" "$tmp/o1.txt"
expect_rc 0 "prepare seed 42 again" "$BIN" prepare $A --output "$tmp/o2" --quiet
for f in train.jsonl val.jsonl stats.json; do
  if cmp -s "$tmp/o1/$f" "$tmp/o2/$f"; then ok "$f byte-identical across runs"; else bad "$f differs across runs"; fi
done
expect_rc 0 "prepare seed 7" "$BIN" prepare $A --output "$tmp/o3" --seed 7 --quiet
if cmp -s "$tmp/o1/train.jsonl" "$tmp/o3/train.jsonl"; then bad "seed 7 gave the same train.jsonl"; else ok "another seed, another order"; fi
for o in o1 o3; do
  if "$PY" "$CHECK" --input "$tmp/raw" --output "$tmp/$o"; then ok "independent check of $o"; else bad "independent check of $o"; fi
done
stat_is "$tmp/o1" "s['totals']['duplicates'] == 3 and s['files'][1]['duplicates'] == 3" "3 duplicates counted for gutenberg_books.jsonl"
stat_is "$tmp/o1" "s['totals']['bad_lines'] == 3 and s['files'][1]['no_text'] == 2" "3 bad lines, 2 without usable text"
stat_is "$tmp/o1" "[(f['file'], f['cap'], f['kept']) for f in s['files']] == [('arxiv_abs.jsonl', 120, 120), ('gutenberg_books.jsonl', 200, 31), ('wikipedia_en.jsonl', 100, 100)]" "caps by prior: 600//5, 600//3, 600//6"
stat_is "$tmp/o1" "s['skipped_files'] == ['misc_notes.jsonl']" "unmatched file skipped"
stat_is "$tmp/o1" "s['rebalance']['applied'] and s['rebalance']['before'] == {'low': 31, 'mid': 120, 'high': 100} and s['rebalance']['after'] == {'low': 31, 'mid': 50, 'high': 43}" "rebalance 31/120/100 -> 31/50/43"
# stratified: val 20 over 31/50/43 (of 124): 5.0/8.06/6.94 → floors 5/8/6, the largest remainder
# (wiki, .94) gets the last one → 5/8/7; train = min(600, 124-20) = 104 = all the rest: 26/42/36
stat_is "$tmp/o1" "[(t, v['train'], v['val']) for t, v in s['by_source_type'].items()] == [('classical_literature', 26, 5), ('preprint', 42, 8), ('wiki', 36, 7)]" "stratified split 26/42/36 + 5/8/7"
if [ "$(wc -l <"$tmp/o1/train.jsonl")" -eq 104 ] && [ "$(wc -l <"$tmp/o1/val.jsonl")" -eq 20 ]; then ok "line counts 104/20"; else bad "line counts"; fi
grep -q "rebalance: T=124" "$tmp/o1.txt" && grep -q "gutenberg_books.jsonl" "$tmp/o1.txt" && ok "summary table printed" || bad "summary table"

# flags: override, static priors, unstratified / no rebalance
O="--source-type misc_notes.jsonl=government"
expect_rc 0 "override misc_notes.jsonl=government" "$BIN" prepare $A $O --output "$tmp/o4" --quiet
"$PY" "$CHECK" --input "$tmp/raw" --output "$tmp/o4" $O && ok "check with override" || bad "check with override"
stat_is "$tmp/o4" "s['files'][2]['file'] == 'misc_notes.jsonl' and s['files'][2]['source_type'] == 'government' and s['skipped_files'] == []" "override brings the file in"
expect_rc 0 "static priors" "$BIN" prepare $A --no-dynamic-scoring --output "$tmp/o5" --quiet
"$PY" "$CHECK" --input "$tmp/raw" --output "$tmp/o5" --static && ok "check static" || bad "check static"
expect_rc 0 "no rebalance, no stratify" "$BIN" prepare $A --no-rebalance --no-stratify --output "$tmp/o6" --quiet
"$PY" "$CHECK" --input "$tmp/raw" --output "$tmp/o6" --no-rebalance --no-stratify && ok "check unstratified" || bad "check unstratified"
stat_is "$tmp/o6" "s['totals']['train'] == 231 and s['totals']['val'] == 20" "no rebalance: 251 - 20 = 231 train"

# bad lines under --on-bad-line fail
expect_rc 1 "--on-bad-line fail" "$BIN" prepare $A --on-bad-line fail --output "$tmp/o7"
grep -q "gutenberg_books.jsonl:5: invalid JSON" "$tmp/err.txt" && ok "names file:line" || { bad "bad-line message"; cat "$tmp/err.txt"; }
[ ! -e "$tmp/o7/train.jsonl" ] && ok "nothing written on error" || bad "output written on error"

# hard errors
expect_rc 1 "N <= val_size" "$BIN" prepare $A --val-size 124 --output "$tmp/o8"
grep -q "val-size" "$tmp/err.txt" && ok "message names --val-size" || bad "val-size message"
expect_rc 1 "rebalance with n_low = 0" "$BIN" prepare --input "$tmp/wikionly" --output "$tmp/o9" --train-size 6000 --val-size 10 --min-examples 10
grep -q "no low-authority" "$tmp/err.txt" && ok "message names the low band" || bad "n_low message"
expect_rc 0 "n_low = 0 with --no-rebalance" "$BIN" prepare --input "$tmp/wikionly" --output "$tmp/o9" --train-size 6000 --val-size 10 --min-examples 10 --no-rebalance --quiet
expect_rc 1 "fewer than --min-examples (default 1000)" "$BIN" prepare --input "$tmp/raw" --output "$tmp/o10"
grep -q "at least 1000" "$tmp/err.txt" && ok "min-examples message" || bad "min-examples message"
expect_rc 1 "empty input directory" "$BIN" prepare --input "$tmp/empty" --output "$tmp/o11"
expect_rc 1 "missing input directory" "$BIN" prepare --input "$tmp/nope" --output "$tmp/o11"

# usage errors
expect_rc 2 "no --input" "$BIN" prepare --output "$tmp/o12"
expect_rc 2 "malformed --source-type" "$BIN" prepare $A --output "$tmp/o12" --source-type misc_notes.jsonl
expect_rc 2 "unknown source type" "$BIN" prepare $A --output "$tmp/o12" --source-type misc_notes.jsonl=blogs
expect_rc 2 "override for a missing file" "$BIN" prepare $A --output "$tmp/o12" --source-type nothere.jsonl=wiki
expect_rc 2 "bad --on-bad-line" "$BIN" prepare $A --output "$tmp/o12" --on-bad-line maybe
expect_rc 2 "bad --train-size" "$BIN" prepare $A --output "$tmp/o12" --train-size 0
expect_rc 0 "--help" "$BIN" prepare --help
exit $fail
