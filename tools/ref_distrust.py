#!/usr/bin/python3
"""ref_distrust.py — double-precision Python reference for the Empirical
Distrust loss (SPEC §2) and the weighted-mode math (SPEC §3.3 b), written
independently of the C code. Prints test cases on stdout for
tests/distrust/loss_grid_check.c, one per line, numbers as repr():

  L w H alpha loss component            scalar form
  B red n w1..wn H1..Hn alpha v1[..vn]  batch form (red: mean|sum|none)
  W lam wmin wmax n w1..wn H1..Hn alpha mu c what1..whatn omega1..omegan

Sums use math.fsum (exactly rounded), so the comparison also bounds the C
code's plain left-to-right accumulation error."""
import math
import random

EPS = 1e-8


def comp(w, h):
    return math.log(1.0 - w + EPS) + h


def loss(w, h, a):
    return a * comp(w, h) ** 2


def r(x):
    return repr(float(x))


def main():
    rng = random.Random(20251125)
    ws = [0.0, 0.01, 0.05, 0.1, 0.25, 0.3, 0.5, 0.7, 0.85, 0.9, 0.95, 0.98, 0.99]
    hs = [0.0, 0.1, 0.5, 1.0, 2.0, 2.302585, 3.5, 5.0, 5.5, 7.5, 8.9, 10.0, 25.0]
    alphas = [2.3, 2.5, 2.7, 2.9, 3.0]
    for w in ws:
        for h in hs:
            for a in alphas:
                print("L", r(w), r(h), r(a), r(loss(w, h, a)), r(comp(w, h)))
    for _ in range(300):
        w, h, a = rng.uniform(0, 0.99), rng.uniform(0, 12), rng.uniform(2.3, 3.0)
        print("L", r(w), r(h), r(a), r(loss(w, h, a)), r(comp(w, h)))
    for _ in range(40):
        n = rng.randint(1, 9)
        w = [rng.uniform(0, 0.99) for _ in range(n)]
        h = [rng.uniform(0, 10) for _ in range(n)]
        a = rng.choice(alphas)
        ls = [loss(wi, hi, a) for wi, hi in zip(w, h)]
        for red, vals in (("mean", [math.fsum(ls) / n]), ("sum", [math.fsum(ls)]), ("none", ls)):
            print("B", red, n, " ".join(map(r, w)), " ".join(map(r, h)), r(a), " ".join(map(r, vals)))
    for lam, n in ((0.6, 50), (0.0, 20), (1.0, 200), (0.3, 1000)):
        w = [rng.choice([rng.uniform(0, 0.3), rng.uniform(0.85, 0.99)]) for _ in range(n)]
        h = [rng.uniform(0, 9) for _ in range(n)]
        a, wmin, wmax = 2.7, 0.05, 20.0
        d = [loss(wi, hi, a) for wi, hi in zip(w, h)]
        mu = math.fsum(d) / n
        rr = [1.0 if mu == 0 else min(max(di / mu, wmin), wmax) for di in d]
        c = math.fsum(rr) / n
        what = [x / c for x in rr]
        omega = [(1 - lam) + lam * x for x in what]
        print("W", r(lam), r(wmin), r(wmax), n, " ".join(map(r, w)), " ".join(map(r, h)), r(a), r(mu), r(c),
              " ".join(map(r, what)), " ".join(map(r, omega)))


if __name__ == "__main__":
    main()
