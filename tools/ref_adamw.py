#!/usr/bin/env python3
"""ref_adamw.py — independent reference for ten AdamW updates with global-norm
clipping and the SPEC §8 warmup+cosine schedule.

Usage: ref_adamw.py DIR
  DIR/meta.json   {"sizes":[...], "steps":S_run, "lr0":..., "warmup":W, "max_steps":S,
                   "max_norm":..., "weight_decay":..., "beta1":..., "beta2":..., "eps":...,
                   "kind":"adamw"|"adamw-mlx"}
  DIR/p0.f32      initial parameters, the tensors of `sizes` concatenated (little-endian f32)
  DIR/grads.f32   steps × n gradients, one full set per update
Writes DIR/ref_p.f32, ref_m.f32, ref_v.f32 (after the last update) and
DIR/ref.json {"lr":[...], "norm":[...]} (lr used and pre-clip norm of each update).

"adamw": torch.optim.AdamW (bias-corrected, decoupled decay) with
torch.nn.utils.clip_grad_norm_. torch clips with coef = min(1, max_norm/(norm+1e-6));
SPEC §8 scales by max_norm/(norm+1e-6) only when norm >= max_norm. The two agree
except for norms in [max_norm-1e-6, max_norm), where torch's factor differs from
1 by < 1e-6 relative; the inputs here keep norms away from that sliver.
"adamw-mlx": the MLX formula written out directly in numpy float32 (no bias
correction): p *= 1-lr*wd; m = b1*m+(1-b1)*g; v = b2*v+(1-b2)*g^2; p -= lr*m/(sqrt(v)+eps).
The schedule is re-derived here from SPEC §8, not taken from the engine.
"""
import json
import math
import os
import sys

import numpy as np
import torch


def lr_at(u, lr0, warmup, max_steps):
    if warmup > 0 and u < warmup:
        return 1e-7 + (lr0 - 1e-7) * u / warmup
    return lr0 * 0.5 * (1.0 + math.cos(math.pi * (u - warmup) / (max_steps - warmup)))


def main():
    d = sys.argv[1]
    meta = json.load(open(os.path.join(d, "meta.json")))
    sizes = meta["sizes"]
    n = sum(sizes)
    steps = meta["steps"]
    p0 = np.fromfile(os.path.join(d, "p0.f32"), dtype="<f4")
    grads = np.fromfile(os.path.join(d, "grads.f32"), dtype="<f4").reshape(steps, n)
    assert p0.size == n
    offs = np.cumsum([0] + sizes)
    lrs, norms = [], []
    if meta["kind"] == "adamw":
        params = [torch.nn.Parameter(torch.from_numpy(p0[offs[i]:offs[i + 1]].copy())) for i in range(len(sizes))]
        opt = torch.optim.AdamW(params, lr=meta["lr0"], betas=(meta["beta1"], meta["beta2"]), eps=meta["eps"],
                                weight_decay=meta["weight_decay"])
        for u in range(steps):
            for i, p in enumerate(params):
                p.grad = torch.from_numpy(grads[u, offs[i]:offs[i + 1]].copy())
            if meta["max_norm"] > 0:
                norm = float(torch.nn.utils.clip_grad_norm_(params, meta["max_norm"]))
            else:
                norm = float(torch.norm(torch.stack([torch.norm(p.grad) for p in params])))
            lr = lr_at(u, meta["lr0"], meta["warmup"], meta["max_steps"])
            for g in opt.param_groups:
                g["lr"] = lr
            opt.step()
            lrs.append(lr)
            norms.append(norm)
        out_p = np.concatenate([p.detach().numpy() for p in params])
        out_m = np.concatenate([opt.state[p]["exp_avg"].numpy() for p in params])
        out_v = np.concatenate([opt.state[p]["exp_avg_sq"].numpy() for p in params])
    else:
        f32 = np.float32
        p = p0.copy()
        m = np.zeros(n, dtype=f32)
        v = np.zeros(n, dtype=f32)
        b1, b2 = meta["beta1"], meta["beta2"]
        for u in range(steps):
            g = grads[u].copy()
            norm = math.sqrt(float(np.sum(g.astype(np.float64) ** 2)))
            if meta["max_norm"] > 0 and norm >= meta["max_norm"]:
                g = g * f32(meta["max_norm"] / (norm + 1e-6))
            lr = lr_at(u, meta["lr0"], meta["warmup"], meta["max_steps"])
            p = p * f32(1.0 - lr * meta["weight_decay"])
            m = f32(b1) * m + f32(1.0 - b1) * g
            v = f32(b2) * v + f32(1.0 - b2) * g * g
            p = p - f32(lr) * m / (np.sqrt(v) + f32(meta["eps"]))
            lrs.append(lr)
            norms.append(norm)
        out_p, out_m, out_v = p, m, v
    out_p.astype("<f4").tofile(os.path.join(d, "ref_p.f32"))
    out_m.astype("<f4").tofile(os.path.join(d, "ref_m.f32"))
    out_v.astype("<f4").tofile(os.path.join(d, "ref_v.f32"))
    json.dump({"lr": lrs, "norm": norms}, open(os.path.join(d, "ref.json"), "w"))


if __name__ == "__main__":
    main()
