#!/usr/bin/env python3
"""torch_train_ref.py — plain-PyTorch reference for the training step (issue 5):
gradients of the LoRA factors (SPEC §7) or of every weight (--train full) of a
Llama-family model under the loss modes of SPEC §3.3, and a short AdamW run
(torch.optim.AdamW + clip_grad_norm_ + the SPEC §8 schedule via LambdaLR).

Written from the SPEC's math, independently of the C engine: a batched float64
forward (the model's stored weights upcast exactly), torch autograd for the
gradients. The model directory is read with tools/torch_llama_ref.py's loader.

  torch_train_ref.py case --model DIR --spec JSON --out FILE.safetensors

SPEC keys: train (lora|full), rank, alpha, targets (list of q,k,v,o,gate,up,down),
layers (-1 = all, N = last N), mode (off|additive|weighted), lambda, dalpha (the
distrust α), lens (row lengths; rows are right-padded to max(lens)), prompt
(leading unsupervised targets per row), sample_weights (per-row sample weights
s_i, default all 1: a row counts as s_i copies of itself), seed, and for an
optimizer run: steps, lr, warmup, max_steps, max_grad_norm, wd.

FILE receives (all float64 unless said): ids/targets [B,T] I32 (target -1 = no
loss), lens [B] I32, w/H [B] (per-sample authority weight and provenance
entropy), sample_weight [B] (only when the spec gives sample_weights), init.<key> F32 initial LoRA factors (PEFT keys), loss [1] (the step
objective at the initial parameters), distrust_mean [1], grad.<key> (its
gradient; HF names in full mode), and with steps > 0: losses [steps] (the
objective before each update) and final.<key> (parameters after the run).
Run with Debian's python3 (python3-torch).
"""
import argparse
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_llama_ref import inv_freq, load_model, rmsnorm, rope, write_safetensors  # noqa: E402

PROJ = ["q", "k", "v", "o", "gate", "up", "down"]
HF_PROJ = {"q": "self_attn.q_proj", "k": "self_attn.k_proj", "v": "self_attn.v_proj", "o": "self_attn.o_proj",
           "gate": "mlp.gate_proj", "up": "mlp.up_proj", "down": "mlp.down_proj"}


def dims(cfg):
    h = cfg["hidden_size"]
    n_h = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_h
    d = cfg.get("head_dim") or h // n_h
    return h, cfg["intermediate_size"], n_h, n_kv, d


def proj_shape(cfg, p):
    """(in, out) of projection p."""
    h, f, n_h, n_kv, d = dims(cfg)
    return {"q": (h, n_h * d), "k": (h, n_kv * d), "v": (h, n_kv * d), "o": (n_h * d, h),
            "gate": (h, f), "up": (h, f), "down": (f, h)}[p]


def forward_nll(cfg, W, lora, scale, ids):
    """Per-position −log p(next) for every (b, t) against targets given later: returns log-softmax [B, T, V]."""
    h, f, n_h, n_kv, d = dims(cfg)
    eps = float(cfg["rms_norm_eps"])
    qwen2 = cfg["model_type"] == "qwen2"
    attn_bias = qwen2 or cfg.get("attention_bias", False)
    o_bias = (not qwen2) and cfg.get("attention_bias", False)
    mlp_bias = cfg.get("mlp_bias", False)
    B, T = ids.shape
    pos = torch.arange(T, dtype=torch.float64)
    ang = pos[:, None] * torch.tensor(inv_freq(cfg, d), dtype=torch.float64)[None, :]
    cos, sin = torch.cos(ang), torch.sin(ang)
    causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)

    def lin(x, l, p, bias):
        name = f"model.layers.{l}.{HF_PROJ[p]}"
        y = x @ W[name + ".weight"].T
        if bias:
            y = y + W[name + ".bias"]
        if (l, p) in lora:
            A, Bm = lora[(l, p)]
            y = y + scale * ((x @ A.T) @ Bm.T)  # PEFT: W x + (α/r)·B(A x)
        return y

    x = W["model.embed_tokens.weight"][torch.from_numpy(ids).long()]  # [B, T, h]
    for l in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{l}."
        a = rmsnorm(x, W[pre + "input_layernorm.weight"], eps)
        outs = []
        for b in range(B):
            q = lin(a[b], l, "q", attn_bias).view(T, n_h, d)
            k = lin(a[b], l, "k", attn_bias).view(T, n_kv, d)
            v = lin(a[b], l, "v", attn_bias).view(T, n_kv, d)
            q, k = rope(q, cos, sin), rope(k, cos, sin)
            rep = n_h // n_kv
            k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
            s = torch.einsum("thd,shd->hts", q, k) / math.sqrt(d)
            s = s.masked_fill(causal[None], float("-inf"))
            outs.append(torch.einsum("hts,shd->thd", torch.softmax(s, dim=-1), v).reshape(T, n_h * d))
        x = x + lin(torch.stack(outs), l, "o", o_bias)
        m = rmsnorm(x, W[pre + "post_attention_layernorm.weight"], eps)
        g = lin(m, l, "gate", mlp_bias)
        u = lin(m, l, "up", mlp_bias)
        x = x + lin(torch.nn.functional.silu(g) * u, l, "down", mlp_bias)
    x = rmsnorm(x, W["model.norm.weight"], eps)
    head = "model.embed_tokens.weight" if cfg.get("tie_word_embeddings", False) else "lm_head.weight"
    return torch.log_softmax(x @ W[head].T, dim=-1)


def distrust(w, H, alpha):
    """ℓ(w, H; α) = α·(ln(1 − w + 1e-8) + H)² (SPEC §2), per sample."""
    return alpha * (np.log(1.0 - w + 1e-8) + H) ** 2


def omegas(w, H, alpha, lam, w_min=0.05, w_max=20.0):
    """SPEC §3.3 b, dataset statistics over the given samples."""
    dd = distrust(w, H, alpha)
    mu = dd.mean()
    r = np.ones_like(dd) if mu == 0 else np.clip(dd / mu, w_min, w_max)
    return (1.0 - lam) + lam * (r / r.mean())


def objective(logp, targets, mode, om, sw):
    """The step loss whose gradient the engine must produce. sw: sample weights s_i;
    a sample of weight s_i counts as s_i copies of itself in the batch."""
    mask = torch.from_numpy(targets >= 0)
    tgt = torch.from_numpy(np.where(targets >= 0, targets, 0)).long()
    nll = -logp.gather(-1, tgt[..., None])[..., 0] * mask  # [B, T]
    s = torch.from_numpy(sw)
    n_i = mask.sum(1)  # each row is one sample (pad mode)
    if mode in ("off", "additive"):  # token-pooled: Σ_i s_i Σ_t nll / Σ_i s_i n_i
        return (s * nll.sum(1)).sum() / (s * n_i).sum()
    ce_i = nll.sum(1) / n_i  # weighted: Σ_i s_i ω_i CE_i / Σ_i s_i
    return (s * torch.from_numpy(om) * ce_i).sum() / s.sum()


def schedule(u, lr0, W, S):
    if W > 0 and u < W:
        return 1e-7 + (lr0 - 1e-7) * u / W
    return lr0 * 0.5 * (1.0 + math.cos(math.pi * (u - W) / (S - W)))


def run_case(a):
    spec = json.loads(a.spec)
    cfg, Wnp = load_model(a.model)
    rng = np.random.default_rng(spec.get("seed", 1))
    V, L = cfg["vocab_size"], cfg["num_hidden_layers"]
    lens = spec["lens"]
    B, T = len(lens), max(lens)
    ids = np.zeros((B, T), dtype=np.int32)
    targets = np.full((B, T), -1, dtype=np.int32)
    prompt = spec.get("prompt", 0)
    for b, n in enumerate(lens):
        ids[b, :n] = rng.integers(0, V, n)
        targets[b, prompt:n - 1] = ids[b, prompt + 1:n]  # row t predicts token t+1; padding and the last: none
    w = rng.uniform(0.05, 0.95, B)
    H = rng.uniform(0.5, 6.0, B)
    mode, lam, dalpha = spec.get("mode", "off"), spec.get("lambda", 0.6), spec.get("dalpha", 2.7)
    om = omegas(w, H, dalpha, lam)
    sw = np.array(spec.get("sample_weights", [1.0] * B), dtype=np.float64)
    assert sw.shape == (B,), "sample_weights needs one value per row"

    W = {k: torch.from_numpy(v) for k, v in Wnp.items()}
    lora, params, out = {}, [], []
    if spec["train"] == "lora":
        r, alpha = spec["rank"], spec["alpha"]
        scale = alpha / r
        n_layers = spec.get("layers", -1)
        first = 0 if n_layers < 0 else L - n_layers
        for l in range(first, L):
            for p in PROJ:
                if p not in spec["targets"]:
                    continue
                fin, fout = proj_shape(cfg, p)
                A = rng.uniform(-1 / math.sqrt(fin), 1 / math.sqrt(fin), (r, fin)).astype(np.float32)
                Bm = (0.05 * rng.standard_normal((fout, r))).astype(np.float32)
                if spec.get("zero_b", False):
                    Bm[:] = 0
                key = f"base_model.model.model.layers.{l}.{HF_PROJ[p]}"
                for suffix, arr in (("lora_A.weight", A), ("lora_B.weight", Bm)):
                    out.append((f"init.{key}.{suffix}", "F32", arr))
                    t = torch.from_numpy(arr.astype(np.float64)).requires_grad_(True)
                    params.append((f"{key}.{suffix}", t))
                lora[(l, p)] = (params[-2][1], params[-1][1])
    else:
        scale = 0.0
        for name in sorted(W):
            W[name] = W[name].clone().requires_grad_(True)
            params.append((name, W[name]))

    loss = objective(forward_nll(cfg, W, lora, scale, ids), targets, mode, om, sw)
    grads = torch.autograd.grad(loss, [t for _, t in params])
    out += [("ids", "I32", ids), ("targets", "I32", targets), ("lens", "I32", np.array(lens, dtype=np.int32)),
            ("w", "F64", w), ("H", "F64", H), ("loss", "F64", np.array([loss.item()])),
            ("distrust_mean", "F64", np.array([distrust(w, H, dalpha).mean()]))]
    if "sample_weights" in spec:
        out.append(("sample_weight", "F64", sw))
    out += [(f"grad.{n}", "F64", g.detach().numpy()) for (n, _), g in zip(params, grads)]

    steps = spec.get("steps", 0)
    if steps:
        lr0, warm, S = spec["lr"], spec["warmup"], spec["max_steps"]
        tensors = [t for _, t in params]
        opt = torch.optim.AdamW(tensors, lr=lr0, betas=(0.9, 0.999), eps=1e-8, weight_decay=spec["wd"])
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda u: schedule(u, lr0, warm, S) / lr0)
        losses = []
        for _ in range(steps):
            opt.zero_grad()
            loss = objective(forward_nll(cfg, W, lora, scale, ids), targets, mode, om, sw)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(tensors, spec["max_grad_norm"])
            opt.step()
            sched.step()
            losses.append(loss.item())
        out.append(("losses", "F64", np.array(losses)))
        out += [(f"final.{n}", "F64", t.detach().numpy()) for n, t in params]
    write_safetensors(a.out, out)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("case")
    p.add_argument("--model", required=True)
    p.add_argument("--spec", required=True)
    p.add_argument("--out", required=True)
    a = ap.parse_args()
    torch.manual_seed(0)
    return run_case(a)


if __name__ == "__main__":
    sys.exit(main())
