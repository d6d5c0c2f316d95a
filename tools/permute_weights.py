#!/usr/bin/env python3
"""permute_weights.py — the random-permutation control of the distrust experiment.

Reads a training JSONL and writes a copy in which the (auth_weight, prov_entropy) pairs
are shuffled across records by a seeded permutation: every record keeps its text, its
place in the file and every other field, and the multiset of per-record weights is the
same, so `--distrust-mode weighted` re-weights the samples exactly as strongly as on the
original file, only not by their distrust scores.

  tools/permute_weights.py --in train.jsonl --out train.permuted.jsonl --seed 1

Deterministic: the permutation is Python's random.Random(seed).shuffle of 0..n-1 (the same
on every CPython 3, no third-party module needed on a bare GPU host). The key
order of every record is kept (json.loads preserves it). The output is written beside its
final name, fsync'ed and renamed; the input is never overwritten.
"""
import argparse
import json
import os
import random
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--in", dest="inp", required=True, help="training JSONL with auth_weight and prov_entropy")
    ap.add_argument("--out", required=True, help="output JSONL (must differ from --in)")
    ap.add_argument("--seed", type=int, required=True, help="permutation seed")
    a = ap.parse_args()
    if os.path.abspath(a.inp) == os.path.abspath(a.out):
        sys.exit("permute_weights: --out must not be the input file")
    recs = []
    with open(a.inp, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            r = json.loads(line)
            for k in ("auth_weight", "prov_entropy"):
                if not isinstance(r.get(k), (int, float)) or isinstance(r.get(k), bool):
                    sys.exit(f"{a.inp}:{lineno}: {k} missing or not a number")
            recs.append(r)
    if not recs:
        sys.exit(f"{a.inp}: no records")
    pairs = [(r["auth_weight"], r["prov_entropy"]) for r in recs]
    perm = list(range(len(recs)))
    random.Random(a.seed).shuffle(perm)
    tmp = f"{a.out}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        for r, j in zip(recs, perm):
            r["auth_weight"], r["prov_entropy"] = pairs[j]
            f.write(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, a.out)
    moved = sum(1 for i, j in enumerate(perm) if pairs[i] != pairs[j])
    print(f"permute_weights: {len(recs)} records, {moved} got another record's weights (seed {a.seed})")


if __name__ == "__main__":
    main()
