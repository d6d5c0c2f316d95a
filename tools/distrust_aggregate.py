#!/usr/bin/env python3
"""distrust_aggregate.py — the statistics of the distrust experiment (tools/distrust_experiment.sh).

Inputs: the per-sample NLL dumps of `your_ai validate --dump-ids` (the base and every
arm × seed, all on the same val split), the val JSONL (source_type, auth_weight of each
line), the pretraining and LoRA metrics, and the validate reports (prompt suite).
Outputs in --out: results.md (the tables and the verdict, ready for docs/EXPERIMENTS.md),
results.json (the same numbers), per_sample.tsv (the NLLs every number is computed from)
and curves.svg (pretraining curve, LoRA loss curves, the signals).

Definitions (those of `your_ai validate`, docs/VALIDATION.md):
  band(i)    low auth_weight < 0.3, mid [0.3, 0.7], high > 0.7
  Δ_g(r)     Σ_{i∈g} (nll_r[i] − nll_base[i]) / Σ_{i∈g} tok[i]   (token-pooled, nats/token)
  signal(r)  Δ_low(r) − Δ_high(r)   (negative: the run moved toward low-authority text)
Per run, a 95% percentile interval from B document resamples (within each band, as validate).
Per arm: the mean signal over seeds and its spread (SD, min, max).
Arm differences D(a, c) = mean_seeds signal(a) − mean_seeds signal(c), with a hierarchical
bootstrap: each replicate resamples the val documents within each band (one draw shared by
every run, so documents stay paired) and the seeds with replacement (one draw shared by every
arm, since seed k of every arm has the same LoRA initialisation and data order), then
recomputes every run's signal on the resampled documents and every arm's mean over the
resampled seeds. The 95% interval is the 2.5/97.5 percentiles of D over the replicates.
Pre-registered success: for every weighted arm, D(weighted, uniform) and D(weighted,
permuted) have 95% intervals entirely below 0.
"""
import argparse
import json
import math
import os
import re
import sys

import numpy as np

BANDS = ("low", "mid", "high")


def band_of(w):
    if w is None or (isinstance(w, float) and math.isnan(w)):
        return None
    return "low" if w < 0.3 else ("high" if w > 0.7 else "mid")


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


def load_dump(path, n_val):
    """nll[n], tok[n] in val-line order, checked against the val file."""
    if not os.path.exists(path):
        sys.exit(f"{path}: missing (every run in runs.tsv needs its validate --dump-ids file)")
    recs = read_jsonl(path)
    if len(recs) != n_val:
        sys.exit(f"{path}: {len(recs)} samples, the val file has {n_val}")
    nll = np.array([r["nll"] for r in recs], dtype=np.float64)
    tok = np.array([r["n_tok"] for r in recs], dtype=np.float64)
    lines = [r["line"] for r in recs]
    return nll, tok, lines


def arm_sort_key(arm):
    order = {"uniform": 0, "additive": 1, "weighted": 2, "permuted": 3}
    base, _, lam = arm.partition("-")
    return (order.get(base, 9), float(lam) if lam else -1.0, arm)


def fmt(x, digits=4, sign=True):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    s = f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"
    return s.replace("-", "−")


def fmt_ci(lo, hi, digits=4):
    return f"[{fmt(lo, digits)}, {fmt(hi, digits)}]"


# ---- SVG ---------------------------------------------------------------------------------
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"]


def esc(s):
    return str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def panel(x0, y0, w, h, title, series, xlabel, ylabel, vline=None, hline=None):
    """series: [(label, xs, ys, color, dashed)] as polylines; returns SVG elements."""
    xs_all = [x for s in series for x in s[1]]
    ys_all = [y for s in series for y in s[2] if y is not None and math.isfinite(y)]
    if hline is not None:
        ys_all.append(hline)
    if not xs_all or not ys_all:
        return [f'<text x="{x0}" y="{y0 + 20}" font-size="12">{esc(title)}: no data</text>']
    xmin, xmax = min(xs_all), max(xs_all)
    ymin, ymax = min(ys_all), max(ys_all)
    if xmax == xmin:
        xmax = xmin + 1
    pad = (ymax - ymin) * 0.08 or abs(ymax) * 0.1 or 1.0
    ymin, ymax = ymin - pad, ymax + pad
    L, R, T, B = 60, 10, 24, 36
    pw, ph = w - L - R, h - T - B

    def X(x):
        return x0 + L + (x - xmin) / (xmax - xmin) * pw

    def Y(y):
        return y0 + T + (ymax - y) / (ymax - ymin) * ph

    out = [f'<rect x="{x0 + L}" y="{y0 + T}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>',
           f'<text x="{x0 + w / 2}" y="{y0 + 15}" font-size="13" text-anchor="middle">{esc(title)}</text>',
           f'<text x="{x0 + L + pw / 2}" y="{y0 + h - 6}" font-size="11" text-anchor="middle">{esc(xlabel)}</text>',
           f'<text x="{x0 + 12}" y="{y0 + T + ph / 2}" font-size="11" text-anchor="middle" '
           f'transform="rotate(-90 {x0 + 12} {y0 + T + ph / 2})">{esc(ylabel)}</text>']
    for k in range(5):
        yv = ymin + (ymax - ymin) * k / 4
        out.append(f'<text x="{x0 + L - 4}" y="{Y(yv) + 4:.1f}" font-size="10" text-anchor="end">{yv:.4g}</text>')
        xv = xmin + (xmax - xmin) * k / 4
        out.append(f'<text x="{X(xv):.1f}" y="{y0 + T + ph + 14}" font-size="10" text-anchor="middle">{xv:.4g}</text>')
    if hline is not None:
        out.append(f'<line x1="{x0 + L}" x2="{x0 + L + pw}" y1="{Y(hline):.1f}" y2="{Y(hline):.1f}" stroke="#bbb"/>')
    if vline is not None:
        out.append(f'<line x1="{X(vline):.1f}" x2="{X(vline):.1f}" y1="{y0 + T}" y2="{y0 + T + ph}" '
                   f'stroke="#888" stroke-dasharray="4 3"/>')
    for k, (label, xs, ys, color, dashed) in enumerate(series):
        pts = " ".join(f"{X(x):.1f},{Y(y):.1f}" for x, y in zip(xs, ys) if y is not None and math.isfinite(y))
        dash = ' stroke-dasharray="5 3"' if dashed else ""
        if len(xs) == 1:
            out.append(f'<circle cx="{X(xs[0]):.1f}" cy="{Y(ys[0]):.1f}" r="3" fill="{color}"/>')
        else:
            out.append(f'<polyline points="{pts}" fill="none" stroke="{color}" stroke-width="1.5"{dash}/>')
        out.append(f'<text x="{x0 + L + pw - 4}" y="{y0 + T + 14 + 13 * k}" font-size="11" text-anchor="end" '
                   f'fill="{color}">{esc(label)}</text>')
    return out


def dot_panel(x0, y0, w, h, title, arms, per_seed, means, cis):
    """Per arm: each seed's signal (dots), the mean (bar) and the hierarchical interval vs 0."""
    vals = [v for a in arms for v in per_seed[a]] + [c for a in arms if cis.get(a) for c in cis[a]] + [0.0]
    ymin, ymax = min(vals), max(vals)
    pad = (ymax - ymin) * 0.1 or 0.01
    ymin, ymax = ymin - pad, ymax + pad
    L, R, T, B = 60, 10, 24, 40
    pw, ph = w - L - R, h - T - B

    def Y(y):
        return y0 + T + (ymax - y) / (ymax - ymin) * ph

    out = [f'<rect x="{x0 + L}" y="{y0 + T}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>',
           f'<text x="{x0 + w / 2}" y="{y0 + 15}" font-size="13" text-anchor="middle">{esc(title)}</text>',
           f'<line x1="{x0 + L}" x2="{x0 + L + pw}" y1="{Y(0):.1f}" y2="{Y(0):.1f}" stroke="#bbb"/>']
    for k in range(5):
        yv = ymin + (ymax - ymin) * k / 4
        out.append(f'<text x="{x0 + L - 4}" y="{Y(yv) + 4:.1f}" font-size="10" text-anchor="end">{yv:.3g}</text>')
    slot = pw / max(1, len(arms))
    for k, a in enumerate(arms):
        cx = x0 + L + slot * (k + 0.5)
        color = PALETTE[k % len(PALETTE)]
        if cis.get(a):
            lo, hi = cis[a]
            out.append(f'<line x1="{cx:.1f}" x2="{cx:.1f}" y1="{Y(lo):.1f}" y2="{Y(hi):.1f}" stroke="{color}" stroke-width="2"/>')
        out.append(f'<line x1="{cx - 14:.1f}" x2="{cx + 14:.1f}" y1="{Y(means[a]):.1f}" y2="{Y(means[a]):.1f}" '
                   f'stroke="{color}" stroke-width="3"/>')
        for j, v in enumerate(per_seed[a]):
            out.append(f'<circle cx="{cx + 20 + 5 * j:.1f}" cy="{Y(v):.1f}" r="3" fill="{color}" fill-opacity="0.6"/>')
        out.append(f'<text x="{cx:.1f}" y="{y0 + T + ph + 16}" font-size="11" text-anchor="middle">{esc(a)}</text>')
    return out


# ---- main --------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", required=True, help="runs.tsv: arm, seed, checkpoint")
    ap.add_argument("--dumps", required=True, help="directory with base.jsonl and ARM-sSEED.jsonl dumps")
    ap.add_argument("--val", required=True, help="the val JSONL the dumps were computed on")
    ap.add_argument("--reports", help="directory of validate reports (prompt suite)")
    ap.add_argument("--crosscheck", help="a full validate report (with base) of one run")
    ap.add_argument("--crosscheck-run", help="its run name ARM-sSEED")
    ap.add_argument("--pretrain", help="pretraining metrics.jsonl")
    ap.add_argument("--logs", help="directory with lora-ARM-sSEED.metrics.jsonl")
    ap.add_argument("--additive-check", help="the additive == uniform check lines")
    ap.add_argument("--bootstrap", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20261207)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    val = read_jsonl(a.val)
    n = len(val)
    bands = np.array([band_of(r.get("auth_weight")) or "none" for r in val])
    stypes = np.array([r.get("source_type") or "(none)" for r in val])
    base_nll, tok, base_lines = load_dump(os.path.join(a.dumps, "base.jsonl"), n)
    if base_lines != list(range(1, n + 1)):
        sys.exit(f"{a.dumps}/base.jsonl: samples are not the val lines 1..{n} in order")

    runs = []  # (arm, seed, name)
    with open(a.runs) as f:
        next(f)
        for line in f:
            arm, seed, _ = line.rstrip("\n").split("\t")
            runs.append((arm, int(seed), f"{arm}-s{seed}"))
    arms = sorted({r[0] for r in runs}, key=arm_sort_key)
    seeds = sorted({r[1] for r in runs})
    for arm in arms:
        got = sorted(s for r_arm, s, _ in runs if r_arm == arm)
        if got != seeds:
            sys.exit(f"{a.runs}: arm {arm} has seeds {got}, expected {seeds} (every arm needs every seed)")
    name_index = {(arm, s): k for k, (arm, s, _) in enumerate(runs)}
    nll = np.empty((len(runs), n))
    for k, (_, _, name) in enumerate(runs):
        r_nll, r_tok, r_lines = load_dump(os.path.join(a.dumps, name + ".jsonl"), n)
        if r_lines != base_lines or not np.array_equal(r_tok, tok):
            sys.exit(f"{name}: its samples or token counts differ from the base dump's")
        nll[k] = r_nll
    d = nll - base_nll  # [R, n] per-sample Δ·tokens

    groups = [("all", "all", np.ones(n, bool))]
    groups += [("auth_band", b, bands == b) for b in BANDS if (bands == b).any()]
    groups += [("source_type", s, stypes == s) for s in sorted(set(stypes))]
    for b in ("low", "high"):
        if not (bands == b).any():
            sys.exit(f"{a.val}: no {b}-band document: the distrust signal is undefined")

    # --- point values per run ---
    def delta(mask):
        return d[:, mask].sum(1) / tok[mask].sum()

    per_run = {}
    for kind, name, mask in groups:
        per_run[(kind, name)] = {"delta": delta(mask),
                                 "ppl": np.exp(nll[:, mask].sum(1) / tok[mask].sum()),
                                 "base_ppl": float(np.exp(base_nll[mask].sum() / tok[mask].sum())),
                                 "n": int(mask.sum()), "tokens": int(tok[mask].sum())}
    signal = per_run[("auth_band", "low")]["delta"] - per_run[("auth_band", "high")]["delta"]  # [R]

    # --- bootstrap: shared document resamples within each band, seeds resampled jointly ---
    rng = np.random.Generator(np.random.PCG64(a.seed))
    B = a.bootstrap
    low_idx, high_idx = np.flatnonzero(bands == "low"), np.flatnonzero(bands == "high")

    def band_draws(idx):
        m = len(idx)
        W = rng.multinomial(m, np.full(m, 1.0 / m), size=B).astype(np.float64)  # [B, m] counts
        return (W @ d[:, idx].T) / (W @ tok[idx])[:, None]  # [B, R] Δ of each run

    sig_draws = band_draws(low_idx) - band_draws(high_idx)  # [B, R]
    run_ci = np.percentile(sig_draws, [2.5, 97.5], axis=0)  # document-level interval per run
    seed_draw = rng.integers(0, len(seeds), size=(B, len(seeds)))  # [B, S] seed indices

    def arm_draws(arm):
        cols = np.array([name_index[(arm, s)] for s in seeds])  # [S] run index per seed
        per_seed = sig_draws[:, cols]  # [B, S]
        return np.take_along_axis(per_seed, seed_draw, axis=1).mean(1)  # [B]

    arm_stats = {}
    draws = {arm: arm_draws(arm) for arm in arms}
    for arm in arms:
        vals = np.array([signal[name_index[(arm, s)]] for s in seeds])
        arm_stats[arm] = {"mean": float(vals.mean()), "sd": float(vals.std(ddof=1)) if len(vals) > 1 else float("nan"),
                          "min": float(vals.min()), "max": float(vals.max()), "per_seed": vals.tolist(),
                          "ci": np.percentile(draws[arm], [2.5, 97.5]).tolist()}

    weighted = [x for x in arms if x.startswith("weighted-")]
    permuted = [x for x in arms if x.startswith("permuted-")]
    comparisons = []
    for w in weighted:
        for c in (["uniform"] if "uniform" in arms else []) + permuted:
            diff = draws[w] - draws[c]
            point = arm_stats[w]["mean"] - arm_stats[c]["mean"]
            lo, hi = np.percentile(diff, [2.5, 97.5])
            comparisons.append({"arm": w, "vs": c, "diff": float(point), "ci": [float(lo), float(hi)],
                                "p_ge_0": float((diff >= 0).mean()), "excludes_0_below": bool(hi < 0)})
    # Extra, not pre-registered: the permutation control against uniform.
    extra = []
    for p in permuted:
        if "uniform" in arms:
            diff = draws[p] - draws["uniform"]
            lo, hi = np.percentile(diff, [2.5, 97.5])
            extra.append({"arm": p, "vs": "uniform", "diff": arm_stats[p]["mean"] - arm_stats["uniform"]["mean"],
                          "ci": [float(lo), float(hi)]})

    if not weighted or not comparisons:
        verdict = "VERDICT: not evaluable (the run has no weighted arm or nothing to compare it with)"
    elif all(c["excludes_0_below"] for c in comparisons):
        verdict = ("VERDICT: SUCCESS — every weighted arm's distrust signal is more negative than uniform's and the "
                   "permutation control's, each 95% interval of the difference below 0")
    else:
        failed = [f'{c["arm"]} vs {c["vs"]}' for c in comparisons if not c["excludes_0_below"]]
        verdict = ("VERDICT: NOT DEMONSTRATED — the pre-registered criterion fails for " + ", ".join(failed) +
                   " (95% interval of the difference not entirely below 0)")

    # --- cross-check against the engine's own full report ---
    cross = None
    if a.crosscheck and a.crosscheck_run:
        rep = json.load(open(a.crosscheck))
        arm_x, seed_x = a.crosscheck_run.rsplit("-s", 1)
        k = name_index[(arm_x, int(seed_x))]
        eng = rep["perplexity"]["distrust_signal"]["value"]
        ours = float(signal[k])
        gd = {(g["kind"], g["name"]): g.get("delta") for g in rep["perplexity"]["groups"]}
        worst = max(abs(gd[key] - float(per_run[key]["delta"][k])) for key in per_run if gd.get(key) is not None)
        ok = abs(eng - ours) <= 1e-6 and worst <= 1e-6
        cross = {"run": a.crosscheck_run, "engine_signal": eng, "aggregate_signal": ours,
                 "max_group_delta_diff": worst, "engine_signal_ci": rep["perplexity"]["distrust_signal"]["ci"],
                 "pass": ok}

    # --- prompt suite (first seed of each arm, and the base) ---
    prompts = {}
    if a.reports:
        first = seeds[0]
        for arm in arms:
            p = os.path.join(a.reports, f"{arm}-s{first}.json")
            if os.path.exists(p):
                ps = json.load(open(p)).get("prompt_suite")
                if ps:
                    prompts[arm] = ps
        p = os.path.join(a.reports, "base-prompts.json")
        if os.path.exists(p):
            ps = json.load(open(p)).get("prompt_suite")
            if ps:
                prompts["base"] = ps

    # --- curves ---
    pre_train, pre_val, base_step = [], [], None
    if a.pretrain and os.path.exists(a.pretrain):
        for r in read_jsonl(a.pretrain):
            if r.get("split") == "train":
                pre_train.append((r["step"], r["ce"]))
            elif r.get("split") == "val":
                pre_val.append((r["step"], r["ce"]))
        if pre_val:
            base_step = min(pre_val, key=lambda t: t[1])[0]
    lora_curves = {}
    if a.logs:
        for arm in arms:
            per = []
            for s in seeds:
                p = os.path.join(a.logs, f"lora-{arm}-s{s}.metrics.jsonl")
                if os.path.exists(p):
                    per.append({r["step"]: r["ce"] for r in read_jsonl(p) if r.get("split") == "train"})
            if per:
                steps = sorted(set.intersection(*(set(x) for x in per)))
                lora_curves[arm] = (steps, [float(np.mean([x[t] for x in per])) for t in steps])

    additive = open(a.additive_check).read().strip() if a.additive_check and os.path.exists(a.additive_check) else ""

    # --- write results.md ---
    os.makedirs(a.out, exist_ok=True)
    md = []
    md.append(f"Val split: {n} documents, {int(tok.sum())} scored tokens; bands "
              + ", ".join(f"{b} {int((bands == b).sum())}" for b in BANDS) + f". Seeds: {' '.join(map(str, seeds))}. "
              f"Bootstrap: {B} replicates.")
    if pre_val:
        md.append("")
        md.append(f"Pretraining: validation CE {pre_val[0][1]:.4f} (update {pre_val[0][0]}) → best "
                  f"{min(v for _, v in pre_val):.4f} (update {base_step}, the base) → {pre_val[-1][1]:.4f} "
                  f"(update {pre_val[-1][0]}, the last).")
        md.append("")
        md.append("| update | " + " | ".join(str(s) for s, _ in pre_val) + " |")
        md.append("|---|" + "---|" * len(pre_val))
        md.append("| val CE | " + " | ".join(f"{v:.3f}" for _, v in pre_val) + " |")
    md.append("")
    md.append("**Distrust signal per arm** (Δ_low − Δ_high, nats/token; mean over seeds, seed SD and range; "
              "95% hierarchical-bootstrap interval over seeds and documents):")
    md.append("")
    md.append("| arm | mean signal | 95% interval | seed SD | min | max | per seed |")
    md.append("|---|---|---|---|---|---|---|")
    for arm in arms:
        s = arm_stats[arm]
        md.append(f"| {arm} | **{fmt(s['mean'])}** | {fmt_ci(*s['ci'])} | {fmt(s['sd'], sign=False)} | "
                  f"{fmt(s['min'])} | {fmt(s['max'])} | " + ", ".join(fmt(v) for v in s["per_seed"]) + " |")
    md.append("")
    md.append("**Pre-registered comparisons** (D = mean signal of the weighted arm − that of the other arm; "
              "success needs every interval entirely below 0):")
    md.append("")
    md.append("| comparison | D | 95% interval | share of replicates with D ≥ 0 | below 0? |")
    md.append("|---|---|---|---|---|")
    for c in comparisons:
        md.append(f"| {c['arm']} − {c['vs']} | **{fmt(c['diff'])}** | {fmt_ci(*c['ci'])} | {c['p_ge_0']:.3f} | "
                  f"{'yes' if c['excludes_0_below'] else 'no'} |")
    for c in extra:
        md.append(f"| ({c['arm']} − {c['vs']}, not pre-registered) | {fmt(c['diff'])} | {fmt_ci(*c['ci'])} | | |")
    md.append("")
    md.append(verdict)
    md.append("")
    md.append("**Every run** (Δ per band vs the base, nats/token; signal with its 95% document-bootstrap interval):")
    md.append("")
    md.append("| run | Δ all | Δ low | Δ mid | Δ high | signal | 95% interval |")
    md.append("|---|---|---|---|---|---|---|")
    for arm in arms:
        for s in seeds:
            k = name_index[(arm, s)]
            row = [fmt(float(per_run[(kind, b)]["delta"][k])) if (kind, b) in per_run else "—"
                   for kind, b in (("all", "all"), ("auth_band", "low"), ("auth_band", "mid"), ("auth_band", "high"))]
            md.append(f"| {arm} s{s} | " + " | ".join(row) + f" | {fmt(float(signal[k]))} | "
                      f"{fmt_ci(run_ci[0, k], run_ci[1, k])} |")
    md.append("")
    md.append("**Perplexity per group** (base, then each arm's mean over seeds; Δ mean ± seed SD in nats/token):")
    md.append("")
    md.append("| group | n | base ppl | " + " | ".join(arms) + " |")
    md.append("|---|---|---|" + "---|" * len(arms))
    for kind, name, _ in groups:
        g = per_run[(kind, name)]
        cells = []
        for arm in arms:
            ks = [name_index[(arm, s)] for s in seeds]
            dv = g["delta"][ks]
            sd = f" ± {dv.std(ddof=1):.4f}" if len(ks) > 1 else ""
            cells.append(f"{float(np.mean(g['ppl'][ks])):.2f} ({fmt(float(dv.mean()))}{sd})")
        label = name if kind != "auth_band" else f"band {name}"
        md.append(f"| {label} | {g['n']} | {g['base_ppl']:.2f} | " + " | ".join(cells) + " |")
    if additive:
        md.append("")
        md.append("additive vs uniform adapters (cmp):")
        md.append("")
        for line in additive.splitlines():
            md.append(f"- {line}")
    if cross:
        md.append("")
        md.append(f"Engine cross-check ({cross['run']}: `validate` with its own base pass): distrust signal "
                  f"{cross['engine_signal']:+.6f} vs {cross['aggregate_signal']:+.6f} here, largest group-Δ "
                  f"difference {cross['max_group_delta_diff']:.2e}: {'PASS' if cross['pass'] else 'FAIL'}.")
    if prompts:
        md.append("")
        md.append(f"**Prompt suite** (secondary; seed {seeds[0]} of each arm; pass rate with 95% Wilson interval):")
        md.append("")
        md.append("| model | runs | passed | pass rate | 95% interval |")
        md.append("|---|---|---|---|---|")
        for k in (["base"] if "base" in prompts else []) + [x for x in arms if x in prompts]:
            ps = prompts[k]
            ci = ps.get("pass_rate_ci") or [float("nan")] * 2
            md.append(f"| {k} | {ps['n_runs']} | {ps['passed']} | {ps['pass_rate']:.3f} | "
                      f"[{ci[0]:.3f}, {ci[1]:.3f}] |")
    text = "\n".join(md) + "\n"
    _write(os.path.join(a.out, "results.md"), text)

    res = {"n_val": n, "tokens": int(tok.sum()), "seeds": seeds, "arms": arms, "bootstrap": B,
           "arm_signal": arm_stats, "comparisons": comparisons, "extra_comparisons": extra, "verdict": verdict,
           "runs": {name: {"signal": float(signal[k]), "signal_ci": [float(run_ci[0, k]), float(run_ci[1, k])],
                           "groups": {f"{kind}:{g}": {"delta": float(per_run[(kind, g)]["delta"][k]),
                                                       "ppl": float(per_run[(kind, g)]["ppl"][k])}
                                      for kind, g, _ in groups}}
                    for k, (_, _, name) in enumerate(runs)},
           "base_ppl": {f"{kind}:{g}": per_run[(kind, g)]["base_ppl"] for kind, g, _ in groups},
           "pretrain_val": pre_val, "base_step": base_step, "crosscheck": cross, "additive_check": additive,
           "prompt_suite": {k: {"pass_rate": v["pass_rate"], "ci": v.get("pass_rate_ci"), "n_runs": v["n_runs"]}
                            for k, v in prompts.items()}}
    _write(os.path.join(a.out, "results.json"), json.dumps(res, indent=1) + "\n")

    cols = ["line", "source_type", "auth_weight", "band", "n_tok", "base"] + [name for _, _, name in runs]
    rows = ["\t".join(cols)]
    for i in range(n):
        rows.append("\t".join([str(i + 1), stypes[i], str(val[i].get("auth_weight")), bands[i], str(int(tok[i])),
                               f"{base_nll[i]:.6f}"] + [f"{nll[k, i]:.6f}" for k in range(len(runs))]))
    _write(os.path.join(a.out, "per_sample.tsv"), "\n".join(rows) + "\n")

    # --- curves.svg: three panels ---
    W, H = 900, 300
    els = []
    series = []
    if pre_train:
        series.append(("train CE", [s for s, _ in pre_train], [v for _, v in pre_train], PALETTE[0], False))
    if pre_val:
        series.append(("val CE", [s for s, _ in pre_val], [v for _, v in pre_val], PALETTE[3], False))
    els += panel(0, 0, W, H, "Pretraining (full): cross-entropy; dashed line = the chosen base", series,
                 "update", "CE (nats/token)", vline=base_step)
    series = [(arm, xs, ys, PALETTE[k % len(PALETTE)], arm == "additive")
              for k, (arm, (xs, ys)) in enumerate(sorted(lora_curves.items(), key=lambda t: arm_sort_key(t[0])))]
    els += panel(0, H, W, H, "LoRA arms: training CE (mean over seeds)", series, "update", "CE (nats/token)")
    els += dot_panel(0, 2 * H, W, H, "Distrust signal per arm: seeds (dots), mean (bar), 95% hierarchical interval",
                     arms, {x: arm_stats[x]["per_seed"] for x in arms}, {x: arm_stats[x]["mean"] for x in arms},
                     {x: arm_stats[x]["ci"] for x in arms})
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{3 * H}" font-family="sans-serif">\n'
           f'<rect width="{W}" height="{3 * H}" fill="white"/>\n' + "\n".join(els) + "\n</svg>\n")
    _write(os.path.join(a.out, "curves.svg"), svg)

    print(text)
    if cross and not cross["pass"]:
        print(f"WARNING: the engine cross-check differs (signal {cross['engine_signal']} vs {cross['aggregate_signal']})")


def _write(path, text):
    tmp = f"{path}.tmp-{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


if __name__ == "__main__":
    main()
