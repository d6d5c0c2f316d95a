#!/usr/bin/python3
"""check_score_parity.py YOUR_AI CORPUS.jsonl WORKDIR — parity of `your_ai score`
with tools/ref_scorer.py (the Python port, which first must pass every SPEC §4.9
vector), on CORPUS plus the SPEC vectors, with and without --no-hybrid.

Every output line must have the same keys in the same order; scores and the
whole `detail` breakdown must agree within 1e-9 (relative for values > 1);
the 4-decimal auth_weight / prov_entropy, counts and strings must be identical.
Exit status 0 on full parity."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_scorer  # noqa: E402

EXACT_KEYS = {"auth_weight", "prov_entropy"}


def compare(path, a, b, exact, errs):
    if isinstance(b, bool) or b is None or isinstance(b, str):
        if a != b or type(a) is not type(b):
            errs.append("%s: C %r, Python %r" % (path, a, b))
    elif isinstance(b, (int, float)):
        if isinstance(a, bool) or not isinstance(a, (int, float)):
            errs.append("%s: C %r, Python %r" % (path, a, b))
        elif exact or isinstance(b, int) and not isinstance(b, bool) and isinstance(a, int):
            if a != b:
                errs.append("%s: C %r, Python %r (must be identical)" % (path, a, b))
        elif abs(a - b) > 1e-9 * max(1.0, abs(b)):
            errs.append("%s: C %r, Python %r (diff %.3g)" % (path, a, b, abs(a - b)))
    elif isinstance(b, list):
        if not isinstance(a, list) or len(a) != len(b):
            errs.append("%s: C %r, Python %r" % (path, a, b))
        else:
            for i, (x, y) in enumerate(zip(a, b)):
                compare("%s[%d]" % (path, i), x, y, exact, errs)
    elif isinstance(b, dict):
        if not isinstance(a, dict) or list(a.keys()) != list(b.keys()):
            errs.append("%s: keys C %s, Python %s" % (path, list(a) if isinstance(a, dict) else a, list(b)))
        else:
            for k in b:
                compare("%s.%s" % (path, k), a[k], b[k], k in EXACT_KEYS, errs)


def vectors_file(workdir):
    path = os.path.join(workdir, "spec_vectors.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for text, meta, _, _ in ref_scorer.VECTORS:
            doc = {"text": text}
            doc.update(meta or {})
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")
        for st in ("patent_pre1970", "no_such_type"):
            f.write(json.dumps({"text": ref_scorer.PATENT, "source_type": st}) + "\n")
        f.write(json.dumps({"text": "too short"}) + "\n")
    return path


def run_case(your_ai, src, workdir, opts):
    out = os.path.join(workdir, os.path.basename(src) + "".join(opts) + ".out.jsonl")
    cmd = [your_ai, "score", "--in", src, "--out", out, "--detail"] + opts
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print("FAIL: %s exited %d\n%s" % (" ".join(cmd), r.returncode, r.stderr))
        return 1, 0
    with open(src, encoding="utf-8") as f:
        docs = [json.loads(line) for line in f if line.strip()]
    with open(out, encoding="utf-8") as f:
        got = [json.loads(line) for line in f]
    if len(got) != len(docs):
        print("FAIL %s %s: %d output lines for %d documents" % (src, opts, len(got), len(docs)))
        return 1, 0
    bad = 0
    hybrid = "--no-hybrid" not in opts
    for i, (doc, g) in enumerate(zip(docs, got)):
        method, res = ref_scorer.score_record(doc, "text", hybrid)
        want = ref_scorer.annotate(doc, method, res, True)
        errs = []
        compare("line %d" % (i + 1), g, want, False, errs)
        if errs:
            bad += 1
            print("MISMATCH %s %s %s:\n  %s" % (os.path.basename(src), " ".join(opts), doc.get("id", i + 1),
                                                "\n  ".join(errs[:6])))
    return bad, len(docs)


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    your_ai, corpus, workdir = sys.argv[1:]
    os.makedirs(workdir, exist_ok=True)
    if ref_scorer.selftest() != 0:
        print("FAIL: the Python port does not pass the SPEC vectors; it cannot judge parity")
        return 1
    total_bad = total = 0
    for src in (corpus, vectors_file(workdir)):
        for opts in ([], ["--no-hybrid"]):
            bad, n = run_case(your_ai, src, workdir, opts)
            total_bad += bad
            total += n
    print("score parity: %d documents compared, %d mismatched" % (total, total_bad))
    return 1 if total_bad else 0


if __name__ == "__main__":
    sys.exit(main())
