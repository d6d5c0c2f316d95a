#!/usr/bin/env python3
"""check_validate_ppl.py — PyTorch parity for `your_ai validate` perplexity by group
(SPEC §11.2), the reference side of tests/eval.

Inputs: the model directory, the val JSONL file(s) given to validate, the
--dump-ids file validate wrote (the ids and loss targets our data loader produced
for every sample), and validate's report.json (run with --bootstrap 0).

Independently of the engine it:
  * runs the plain-PyTorch float64 Llama (tools/torch_llama_ref.py) on each
    sample's ids and computes Σ −log softmax(logits[t])[targets[t]] over targets ≥ 0;
  * reads source_type / auth_weight from the JSONL lines itself and forms the
    groups (all, each source_type, bands low < 0.3, mid [0.3, 0.7], high > 0.7);
  * pools NLL per group (Σnll / Σtokens) and compares with the report:
    relative difference ≤ --tol (default 1e-5) on every per-sample NLL and group NLL,
    exact sample and token counts, ppl = exp(nll).
With --adapter DIR (a PEFT adapter, applied as tools/torch_lora_ref.py does) the
samples' NLL is computed with the adapter, the base model's without, and the
report's base NLL, Δ = NLL_adapter − NLL_base per group and the distrust signal
Δ_low − Δ_high are checked too.
It also checks the ids start with BOS and, for text records, end with EOS (SPEC §5.5).
Exit 1 with a message on any mismatch.

Usage: check_validate_ppl.py --model DIR [--adapter DIR] --data VAL.jsonl [--data ...] --dump IDS.jsonl
                             --report R.json [--tol 1e-5]
"""
import argparse
import json
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_llama_ref as ref  # noqa: E402
import torch_lora_ref as lref  # noqa: E402


def band(w):
    if w is None:
        return None
    return "low" if w < 0.3 else ("high" if w > 0.7 else "mid")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--adapter")
    ap.add_argument("--data", action="append", required=True)
    ap.add_argument("--dump", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--tol", type=float, default=1e-5)
    a = ap.parse_args()

    cfg, W = ref.load_model(a.model)
    lora = lref.lora_table(*lref.load_adapter(a.adapter)) if a.adapter else None
    with open(os.path.join(a.model, "config.json")) as f:
        bos = json.load(f).get("bos_token_id")
    meta = {}
    for path in a.data:
        with open(path, encoding="utf-8") as f:
            for i, line in enumerate(f, 1):
                if line.strip():
                    meta[(path, i)] = json.loads(line)

    bad = []
    groups = {}  # (kind, name) -> [nll, tokens, samples, base nll]

    def add(key, nll, n, base_nll):
        g = groups.setdefault(key, [0.0, 0, 0, 0.0])
        g[0] += nll
        g[1] += n
        g[2] += 1
        g[3] += base_nll

    def sample_nll(ids, tg, table):
        logp = torch.log_softmax(ref.forward(cfg, W, ids, table), dim=-1)  # [T, V] float64
        return -sum(float(logp[t, y]) for t, y in enumerate(tg) if y >= 0)

    with open(a.dump) as f:
        samples = [json.loads(l) for l in f if l.strip()]
    if not samples:
        sys.exit("no samples in the dump")
    for s in samples:
        ids, tg = s["ids"], s["targets"]
        if bos is not None and ids[0] != bos:
            bad.append(f"{s['file']}:{s['line']}: first id {ids[0]} is not BOS {bos}")
        n = 0
        for t, y in enumerate(tg):
            if y >= 0:
                if t + 1 >= len(ids) or ids[t + 1] != y:
                    bad.append(f"{s['file']}:{s['line']}: target at {t} is {y}, the next id is not")
                n += 1
        nll = sample_nll(ids, tg, lora)
        base_nll = sample_nll(ids, tg, None) if lora else nll
        if n != s["n_tok"]:
            bad.append(f"{s['file']}:{s['line']}: {n} targets, engine counted {s['n_tok']}")
        if abs(nll - s["nll"]) > a.tol * abs(nll):
            bad.append(f"{s['file']}:{s['line']}: sample NLL engine {s['nll']!r} vs torch {nll!r}")
        rec = meta[(s["file"], s["line"])]
        add(("all", "all"), nll, n, base_nll)
        st = rec.get("source_type")
        add(("source_type", st if isinstance(st, str) else "(none)"), nll, n, base_nll)
        w = rec.get("auth_weight")
        b = band(w if isinstance(w, (int, float)) else None)
        if b:
            add(("auth_band", b), nll, n, base_nll)

    with open(a.report) as f:
        rep = json.load(f)
    got = {(g["kind"], g["name"]): g for g in rep["perplexity"]["groups"]}
    if set(got) != set(groups):
        bad.append(f"groups differ: engine {sorted(got)} vs reference {sorted(groups)}")
    worst = 0.0
    def close(what, got_v, want_v, scale):
        nonlocal worst
        rel = abs(got_v - want_v) / abs(scale)
        worst = max(worst, rel)
        if rel > a.tol:
            bad.append(f"{what}: engine {got_v!r} vs torch {want_v!r} (rel {rel:.3g})")

    for key, (nll, n, k, base_nll) in groups.items():
        g = got.get(key)
        if not g:
            continue
        ref_nll = nll / n
        close(f"group {key} NLL", g["nll"], ref_nll, ref_nll)
        if lora:
            if "base" not in g:
                bad.append(f"group {key}: no base numbers in the report")
                continue
            close(f"group {key} base NLL", g["base"]["nll"], base_nll / n, base_nll / n)
            # Δ is compared relative to the NLL scale: it is a difference of two such numbers.
            close(f"group {key} delta", g["delta"], (nll - base_nll) / n, ref_nll)
        if g["n_tokens"] != n or g["n_samples"] != k:
            bad.append(f"group {key}: counts engine ({g['n_samples']}, {g['n_tokens']}) vs reference ({k}, {n})")
        if abs(g["ppl"] - math.exp(g["nll"])) > 1e-12 * g["ppl"]:
            bad.append(f"group {key}: ppl {g['ppl']} != exp(nll)")
    if lora:
        sig = rep["perplexity"].get("distrust_signal")
        lo, hi = groups.get(("auth_band", "low")), groups.get(("auth_band", "high"))
        if lo and hi:
            want = (lo[0] - lo[3]) / lo[1] - (hi[0] - hi[3]) / hi[1]
            if sig is None:
                bad.append("no distrust_signal in the report")
            else:
                close("distrust signal", sig["value"], want, lo[0] / lo[1])
    for m in bad:
        print("MISMATCH", m, file=sys.stderr)
    print(f"{len(samples)} samples, {len(groups)} groups, worst group NLL rel diff {worst:.3g} (tol {a.tol})")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
