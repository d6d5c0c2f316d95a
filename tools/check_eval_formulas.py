#!/usr/bin/env python3
"""check_eval_formulas.py — the validate statistics against Python formulas (tests/eval).

Drives tests/eval/eval_formulas (one JSON request per line) and recomputes:
  * the 95% Wilson score interval by solving (p̂ − p)² = z²·p(1 − p)/n for p
    (the quadratic's two roots), a different route to the same interval than
    the engine's closed form;
  * the seeded bootstrap of a token-pooled NLL (SPEC §11.2): its own
    xoshiro256** seeded by SplitMix64 from (seed, FNV-1a-64(tag)) and Lemire's
    unbounded-rejection bounded integers (SPEC §5.3), resampling sample indices,
    then numpy.percentile (linear interpolation) at 2.5 and 97.5; paired
    differences when a base is given.
Exit 1 on any mismatch.

Usage: check_eval_formulas.py PATH/TO/eval_formulas
"""
import json
import math
import random
import subprocess
import sys

import numpy as np

M64 = (1 << 64) - 1
Z = 1.959963984540054


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def fnv1a64(tag):
    h = 0xCBF29CE484222325
    for b in tag.encode():
        h = ((h ^ b) * 0x100000001B3) & M64
    return h


def rotl(x, k):
    return ((x << k) | (x >> (64 - k))) & M64


class Xoshiro:
    def __init__(self, seed, tag):
        sm = (seed ^ fnv1a64(tag)) & M64
        self.s = []
        for _ in range(4):
            sm, v = splitmix64(sm)
            self.s.append(v)

    def next(self):
        s = self.s
        result = (rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    def below(self, bound):
        m = self.next() * bound
        low = m & M64
        if low < bound:
            threshold = ((1 << 64) - bound) % bound
            while low < threshold:
                m = self.next() * bound
                low = m & M64
        return m >> 64


def wilson_roots(k, n):
    p = k / n
    # (1 + z²/n) x² − (2p + z²/n) x + p² = 0
    a, b, c = 1 + Z * Z / n, -(2 * p + Z * Z / n), p * p
    disc = max(b * b - 4 * a * c, 0.0)
    return max((-b - math.sqrt(disc)) / (2 * a), 0.0), min((-b + math.sqrt(disc)) / (2 * a), 1.0)


def bootstrap(nll, tok, base, B, seed, tag):
    rng = Xoshiro(seed, tag)
    n = len(nll)
    draws = []
    for _ in range(B):
        s = sb = 0.0
        t = 0
        for _ in range(n):
            j = rng.below(n)
            s += nll[j]
            if base is not None:
                sb += base[j]
            t += tok[j]
        draws.append((s - sb) / t if base is not None else s / t)
    lo, hi = np.percentile(np.array(draws), [2.5, 97.5])
    return float(lo), float(hi), draws


def main():
    exe = sys.argv[1]
    rnd = random.Random(5)
    reqs = []
    for n in (1, 2, 5, 10, 24, 48, 100, 1000):
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            if 0 <= k <= n:
                reqs.append({"op": "wilson", "k": k, "n": n})
    for case in range(6):
        n = rnd.choice([1, 2, 3, 7, 20])
        tok = [rnd.randint(1, 50) for _ in range(n)]
        nll = [t * rnd.uniform(1.0, 4.0) for t in tok]
        base = [t * rnd.uniform(1.0, 4.0) for t in tok] if case % 2 else None
        reqs.append({"op": "bootstrap", "nll": nll, "n_tok": tok, "base": base, "B": rnd.choice([1, 10, 200]),
                     "seed": str(rnd.choice([0, 42, 2**63 + 5])), "tag": f"bootstrap:auth_band:case{case}"})
    out = subprocess.run([exe], input="\n".join(json.dumps(r) for r in reqs) + "\n", capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"eval_formulas failed: {out.stderr}")
    answers = [json.loads(l) for l in out.stdout.splitlines()]
    bad = 0
    for q, a in zip(reqs, answers):
        if q["op"] == "wilson":
            lo, hi = wilson_roots(q["k"], q["n"])
            if abs(lo - a["lo"]) > 1e-12 or abs(hi - a["hi"]) > 1e-12:
                print(f"MISMATCH wilson k={q['k']} n={q['n']}: engine ({a['lo']}, {a['hi']}) vs ({lo}, {hi})")
                bad += 1
        else:
            lo, hi, draws = bootstrap(q["nll"], q["n_tok"], q["base"], q["B"], int(q["seed"]), q["tag"])
            if max(abs(x - y) for x, y in zip(draws, a["draws"])) > 1e-12 * max(1.0, max(map(abs, draws))):
                print(f"MISMATCH bootstrap draws ({q['tag']})")
                bad += 1
            if abs(lo - a["lo"]) > 1e-12 * abs(lo) + 1e-15 or abs(hi - a["hi"]) > 1e-12 * abs(hi) + 1e-15:
                print(f"MISMATCH bootstrap interval ({q['tag']}): engine ({a['lo']}, {a['hi']}) vs ({lo}, {hi})")
                bad += 1
    if len(answers) != len(reqs):
        print(f"MISMATCH: {len(reqs)} requests, {len(answers)} answers")
        bad += 1
    print(f"{len(reqs)} cases, {bad} mismatches")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
