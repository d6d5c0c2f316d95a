#!/usr/bin/env bash
# The Brown corpus recipe end to end (docs/DATA.md): import-text --format brown, a few messy
# lines added (duplicates, bad lines), prepare twice with the same seed (byte-identical
# train/val/stats), once with another seed (another order), and tools/check_prepare.py
# re-deriving every count from the raw files.
set -u
BIN=$1 BROWN=$2 PY=$3 CHECK=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok: $1"; }
bad() { echo "FAIL: $1"; fail=1; }
stat_is() { # dir python-expression description
  if "$PY" -c "import json,sys; s=json.load(open('$1/stats.json')); sys.exit(0 if ($2) else 1)"; then ok "$3"; else bad "$3 ($2)"; fi
}
[ -f "$BROWN/ca01" ] || { echo "Brown corpus not found in $BROWN (ctest fixture 'testdata')"; exit 1; }

"$BIN" import-text --format brown --input "$BROWN" --out "$tmp/raw" >"$tmp/import.txt" || { cat "$tmp/import.txt"; exit 1; }
[ "$(ls "$tmp/raw" | wc -l)" -eq 15 ] && ok "15 genre files" || bad "genre files: $(ls "$tmp/raw")"
docs=$(cat "$tmp/raw"/*.jsonl | wc -l)
grep -q "500 files, $docs documents" "$tmp/import.txt" && ok "500 Brown files -> $docs documents" || { bad "import summary"; cat "$tmp/import.txt"; }
# The recipe's documents hold no tags and no `` '' quote tokens; every one has year 1961.
"$PY" - "$tmp/raw" <<'PYEOF' && ok "documents are detagged, >= 100 code points, year 1961" || bad "document content"
import json, os, re, sys
d = sys.argv[1]
for name in os.listdir(d):
    for line in open(os.path.join(d, name), encoding="utf-8"):
        r = json.loads(line)
        t = r["text"]
        assert not re.search(r"\S/(?:at|nn|nns|np|vb|vbd|vbn|in|jj|cc|rb|pps|ppss|cs|dt|to|cd)(?:-tl|-hl)?(?:\s|$)", t), t[:200]
        assert "``" not in t and " '' " not in t, t[:200]  # (10'' for inches is a word)
        assert r["year"] == 1961 and r["source"].startswith("brown:c") and len(t) >= 100, r
PYEOF
# Messy additions to one genre file: 2 duplicates (case/whitespace variants), 2 bad lines, 1 short.
"$PY" - "$tmp/raw/brown_r_humor_literature.jsonl" <<'PYEOF'
import json, sys
path = sys.argv[1]
recs = [json.loads(l) for l in open(path, encoding="utf-8")]
with open(path, "ab") as f:
    f.write(json.dumps({"text": "  " + recs[0]["text"].upper() + "  "}).encode() + b"\n")
    f.write(json.dumps({"text": recs[1]["text"].replace(" ", "\u00a0\n ")}).encode() + b"\n")
    f.write(b'{"text": "unterminated\n')
    f.write(b'{"text": "\xc3\x28 invalid utf-8"}\n')
    f.write(json.dumps({"text": "Too short to keep."}).encode() + b"\n")
PYEOF

OV=$(grep -o -- '--source-type [^ ]*' "$tmp/import.txt" | tr '\n' ' ')
[ "$(echo "$OV" | grep -o -- '--source-type' | wc -l)" -eq 4 ] && ok "import prints the 4 overrides" || bad "overrides: $OV"
P="--input $tmp/raw --train-size 3000 --val-size 500 $OV"
"$BIN" prepare $P --output "$tmp/o1" >"$tmp/o1.txt" 2>"$tmp/o1.err" || { bad "prepare run 1"; cat "$tmp/o1.err"; }
"$BIN" prepare $P --output "$tmp/o2" --quiet 2>/dev/null || bad "prepare run 2"
"$BIN" prepare $P --output "$tmp/o3" --quiet --seed 1961 2>/dev/null || bad "prepare seed 1961"
OMP_NUM_THREADS=1 "$BIN" prepare $P --output "$tmp/o4" --quiet 2>/dev/null || bad "prepare on one thread"
cmp -s "$tmp/o1/train.jsonl" "$tmp/o4/train.jsonl" && ok "same output on one scoring thread" || bad "thread count changed the output"
for f in train.jsonl val.jsonl stats.json; do
  cmp -s "$tmp/o1/$f" "$tmp/o2/$f" && ok "$f byte-identical across runs" || bad "$f differs across runs"
done
cmp -s "$tmp/o1/train.jsonl" "$tmp/o3/train.jsonl" && bad "seed 1961 gave the same train.jsonl" || ok "another seed, another order"
for o in o1 o3; do
  "$PY" "$CHECK" --input "$tmp/raw" --output "$tmp/$o" $OV && ok "independent check of $o" || bad "independent check of $o"
done
stat_is "$tmp/o1" "s['totals']['duplicates'] == 2 and s['totals']['bad_lines'] == 2 and s['totals']['no_text'] == 1" "2 duplicates, 2 bad lines, 1 short counted"
stat_is "$tmp/o1" "s['totals']['lines'] == $docs + 5" "every line counted"
stat_is "$tmp/o1" "s['totals']['train'] == $(wc -l <"$tmp/o1/train.jsonl") == 3000 and s['totals']['val'] == $(wc -l <"$tmp/o1/val.jsonl") == 500" "stats agree with line counts"
stat_is "$tmp/o1" "len(s['by_source_type']) == 6 and all(v['val'] > 0 for v in s['by_source_type'].values())" "all 6 source types in val"
grep -q "brown_r_humor_literature.jsonl:.*: invalid JSON" "$tmp/o1.err" && ok "bad line reported as file:line" || bad "bad line report"
grep -q "^band" "$tmp/o1.txt" && ok "summary table printed" || bad "summary table"
exit $fail
