#!/usr/bin/python3
"""check_experiment_tools.py — ctest `distrust_experiment_tools`: the two Python pieces of
tools/distrust_experiment.sh checked against independent computations.

permute_weights.py: every record keeps its text, position and other fields; the multiset of
(auth_weight, prov_entropy) pairs is unchanged; the same seed gives the same bytes, another
seed another permutation; --out == --in and a record without weights are refused.

distrust_aggregate.py on synthetic dumps: every run's Δ per band and distrust signal equal
a plain-Python loop over the samples (1e-12); an arm with a large consistent extra gain on
low-band documents passes the pre-registered criterion, an arm identical to uniform does
not (its difference interval is exactly [0, 0]); a run built to mirror the engine's
validate report passes the cross-check and a perturbed one fails it.

  tools/check_experiment_tools.py WORKDIR
"""
import json
import math
import os
import random
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PY = sys.executable
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        failures.append(what)


def write_jsonl(path, recs):
    with open(path, "w") as f:
        for r in recs:
            f.write(json.dumps(r) + "\n")


def read_jsonl(path):
    return [json.loads(l) for l in open(path)]


def test_permute(work):
    rng = random.Random(5)
    recs = [{"text": f"doc {i} " + "x" * rng.randrange(5, 50), "source_type": rng.choice(["wiki", "government", "news"]),
             "auth_weight": round(rng.random() * 0.99, 4), "prov_entropy": round(rng.random() * 7, 4), "id": i}
            for i in range(200)]
    src = os.path.join(work, "train.jsonl")
    write_jsonl(src, recs)
    tool = os.path.join(ROOT, "tools", "permute_weights.py")
    outs = {}
    for name, seed in (("a", 1), ("b", 1), ("c", 2)):
        out = os.path.join(work, f"perm-{name}.jsonl")
        r = subprocess.run([PY, tool, "--in", src, "--out", out, "--seed", str(seed)], capture_output=True, text=True)
        check(r.returncode == 0, f"permute_weights seed {seed} runs ({r.stderr.strip()})")
        outs[name] = out
    a = read_jsonl(outs["a"])
    check(len(a) == len(recs), "permuted file has every record")
    check(all(x["text"] == y["text"] and x["id"] == y["id"] and x["source_type"] == y["source_type"]
              for x, y in zip(a, recs)), "texts, order and other fields unchanged")
    check(all(list(x) == list(y) for x, y in zip(a, recs)), "key order unchanged")
    check(sorted((x["auth_weight"], x["prov_entropy"]) for x in a) ==
          sorted((x["auth_weight"], x["prov_entropy"]) for x in recs), "multiset of (w, H) pairs unchanged")
    moved = sum((x["auth_weight"], x["prov_entropy"]) != (y["auth_weight"], y["prov_entropy"]) for x, y in zip(a, recs))
    check(moved > 150, f"the pairs are actually permuted ({moved} of 200 moved)")
    check(open(outs["a"], "rb").read() == open(outs["b"], "rb").read(), "same seed, same bytes")
    check(open(outs["a"], "rb").read() != open(outs["c"], "rb").read(), "another seed, another permutation")
    r = subprocess.run([PY, tool, "--in", src, "--out", src, "--seed", "1"], capture_output=True, text=True)
    check(r.returncode != 0 and "must not be the input" in r.stderr, "--out == --in refused")
    bad = os.path.join(work, "bad.jsonl")
    write_jsonl(bad, recs[:3] + [{"text": "no weights"}])
    r = subprocess.run([PY, tool, "--in", bad, "--out", bad + ".out", "--seed", "1"], capture_output=True, text=True)
    check(r.returncode != 0 and f"{bad}:4: auth_weight" in r.stderr, "a record without weights is named by file:line")
    check(not os.path.exists(bad + ".out"), "no output file after an error")


def make_experiment(work, seeds, arms, effect):
    """Synthetic val split + dumps. effect[arm] = extra NLL change per low-band token."""
    rng = random.Random(11)
    n = 150
    meta, tok, base = [], [], []
    for i in range(n):
        w = rng.choice([0.12, 0.18, 0.55, 0.8, 0.95])
        meta.append({"source_type": {0.12: "classical_literature", 0.18: "historical_book", 0.55: "academic_paper",
                                     0.8: "wiki", 0.95: "government"}[w], "auth_weight": w})
        t = rng.randrange(20, 300)
        tok.append(t)
        base.append(t * (4.0 + rng.random()))
    dumps = os.path.join(work, "nll")
    os.makedirs(dumps, exist_ok=True)
    write_jsonl(os.path.join(work, "val_meta.jsonl"), meta)
    write_jsonl(os.path.join(dumps, "base.jsonl"),
                [{"line": i + 1, "nll": base[i], "n_tok": tok[i]} for i in range(n)])
    nll = {}
    with open(os.path.join(work, "runs.tsv"), "w") as f:
        f.write("arm\tseed\tcheckpoint\n")
        for s in seeds:
            seed_rng = random.Random(100 + s)
            common = [tok[i] * (-0.02 + 0.01 * seed_rng.random()) for i in range(n)]  # shared by all arms of seed s
            for arm in arms:
                vals = []
                for i in range(n):
                    v = base[i] + common[i]
                    if meta[i]["auth_weight"] < 0.3:
                        e = effect.get(arm, 0.0)
                        v += tok[i] * (e[s] if isinstance(e, dict) else e)
                    vals.append(v)
                nll[(arm, s)] = vals
                write_jsonl(os.path.join(dumps, f"{arm}-s{s}.jsonl"),
                            [{"line": i + 1, "nll": vals[i], "n_tok": tok[i]} for i in range(n)])
                f.write(f"{arm}\t{s}\t/nowhere\n")
    return meta, tok, base, nll


def band(w):
    return "low" if w < 0.3 else ("high" if w > 0.7 else "mid")


def run_aggregate(work, extra=()):
    out = os.path.join(work, "out")
    r = subprocess.run([PY, os.path.join(ROOT, "tools", "distrust_aggregate.py"), "--runs", os.path.join(work, "runs.tsv"),
                        "--dumps", os.path.join(work, "nll"), "--val", os.path.join(work, "val_meta.jsonl"),
                        "--bootstrap", "300", "--out", out, *extra], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
    return r, out


def test_aggregate(work):
    seeds = [1, 2, 3]
    arms = ["uniform", "additive", "weighted-1.0", "permuted-1.0"]
    meta, tok, base, nll = make_experiment(work, seeds, arms, {"weighted-1.0": -0.05})
    # A report shaped like `validate`'s for one run, from the same numbers (the engine's schema).
    k_run = ("weighted-1.0", 2)

    def delta(vals, sel):
        num = sum(vals[i] - base[i] for i in range(len(base)) if sel(i))
        return num / sum(tok[i] for i in range(len(base)) if sel(i))

    groups = [{"kind": "all", "name": "all", "delta": delta(nll[k_run], lambda i: True)}]
    for b in ("low", "mid", "high"):
        groups.append({"kind": "auth_band", "name": b, "delta": delta(nll[k_run], lambda i, b=b: band(meta[i]["auth_weight"]) == b)})
    sig = groups[1]["delta"] - groups[3]["delta"]
    rep = {"perplexity": {"groups": groups, "distrust_signal": {"value": sig, "ci": [sig - 0.01, sig + 0.01]}}}
    json.dump(rep, open(os.path.join(work, "cross.json"), "w"))
    rep["perplexity"]["distrust_signal"]["value"] = sig + 1e-4
    json.dump(rep, open(os.path.join(work, "cross-bad.json"), "w"))

    r, out = run_aggregate(work, ["--crosscheck", os.path.join(work, "cross.json"), "--crosscheck-run", "weighted-1.0-s2"])
    check(r.returncode == 0, "aggregate runs")
    res = json.load(open(os.path.join(out, "results.json")))
    worst = 0.0
    for (arm, s), vals in nll.items():
        lo = delta(vals, lambda i: band(meta[i]["auth_weight"]) == "low")
        hi = delta(vals, lambda i: band(meta[i]["auth_weight"]) == "high")
        mid = delta(vals, lambda i: band(meta[i]["auth_weight"]) == "mid")
        got = res["runs"][f"{arm}-s{s}"]
        worst = max(worst, abs(got["signal"] - (lo - hi)), abs(got["groups"]["auth_band:low"]["delta"] - lo),
                    abs(got["groups"]["auth_band:mid"]["delta"] - mid))
        lo_ci, hi_ci = got["signal_ci"]
        check(lo_ci <= got["signal"] <= hi_ci or math.isclose(lo_ci, hi_ci, abs_tol=1e-12),
              f"{arm}-s{s}: point value inside its document interval")
    check(worst < 1e-12, f"per-run Δ and signals equal the plain loop (worst {worst:.1e})")
    mean_w = sum(res["runs"][f"weighted-1.0-s{s}"]["signal"] for s in seeds) / 3
    check(abs(res["arm_signal"]["weighted-1.0"]["mean"] - mean_w) < 1e-12, "arm mean = mean of the seeds' signals")
    comp = {(c["arm"], c["vs"]): c for c in res["comparisons"]}
    check(set(comp) == {("weighted-1.0", "uniform"), ("weighted-1.0", "permuted-1.0")}, "the pre-registered comparisons")
    c = comp[("weighted-1.0", "uniform")]
    check(abs(c["diff"] - (-0.05)) < 1e-9 and c["ci"][1] < 0, f"a −0.05 low-band effect is found: D {c['diff']:.4f}, CI {c['ci']}")
    check(res["verdict"].startswith("VERDICT: SUCCESS"), "verdict SUCCESS for a clear effect")
    check(res["crosscheck"]["pass"], "cross-check passes on the engine-shaped report")
    md = open(os.path.join(out, "results.md")).read()
    check("VERDICT: SUCCESS" in md and "| weighted-1.0 − uniform |" in md, "results.md has the verdict and the table")
    svg = open(os.path.join(out, "curves.svg")).read()
    check(svg.startswith("<svg") and svg.rstrip().endswith("</svg>"), "curves.svg written")

    r, out = run_aggregate(work, ["--crosscheck", os.path.join(work, "cross-bad.json"), "--crosscheck-run", "weighted-1.0-s2"])
    res = json.load(open(os.path.join(out, "results.json")))
    check(r.returncode == 0 and not res["crosscheck"]["pass"], "cross-check fails on a report that differs by 1e-4")

    # No effect: the weighted arm equals uniform in every sample.
    shutil.rmtree(work)
    os.makedirs(work)
    make_experiment(work, seeds, arms, {})
    r, out = run_aggregate(work)
    res = json.load(open(os.path.join(out, "results.json")))
    c = {(x["arm"], x["vs"]): x for x in res["comparisons"]}[("weighted-1.0", "uniform")]
    check(c["diff"] == 0.0 and c["ci"] == [0.0, 0.0], f"identical arms: D 0, CI [0, 0] ({c['ci']})")
    check(res["verdict"].startswith("VERDICT: NOT DEMONSTRATED"), "verdict NOT DEMONSTRATED without an effect")

    # An effect that differs between seeds (−0.03, −0.01, +0.02 nats/token): the interval must
    # come from the seed level — with three seeds, the all-same resamples have probability
    # 1/27 > 2.5% each, so it is exactly [−0.03, +0.02] (a documents-only bootstrap would
    # give the single value −0.0067).
    shutil.rmtree(work)
    os.makedirs(work)
    make_experiment(work, seeds, arms, {"weighted-1.0": {1: -0.03, 2: -0.01, 3: 0.02}})
    r, out = run_aggregate(work)
    res = json.load(open(os.path.join(out, "results.json")))
    c = {(x["arm"], x["vs"]): x for x in res["comparisons"]}[("weighted-1.0", "uniform")]
    check(abs(c["diff"] - (-0.02 / 3)) < 1e-9 and abs(c["ci"][0] + 0.03) < 1e-9 and abs(c["ci"][1] - 0.02) < 1e-9,
          f"seed-level spread enters the interval: D {c['diff']:.4f}, CI {c['ci']}")
    check(abs(res["arm_signal"]["weighted-1.0"]["sd"] - res["arm_signal"]["uniform"]["sd"]) > 1e-3,
          "the seed SD of the arm reflects its per-seed effects")

    # A missing seed is an error that names the arm.

    os.remove(os.path.join(work, "nll", "permuted-1.0-s3.jsonl"))
    r, _ = run_aggregate(work)
    check(r.returncode != 0 and "permuted-1.0-s3.jsonl" in r.stderr, "a missing dump is named")


def main():
    work = sys.argv[1]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "permute"))
    os.makedirs(os.path.join(work, "aggregate"))
    test_permute(os.path.join(work, "permute"))
    test_aggregate(os.path.join(work, "aggregate"))
    print(f"{len(failures)} failed" if failures else "all passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
