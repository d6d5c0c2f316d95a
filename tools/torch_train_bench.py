#!/usr/bin/env python3
"""torch_train_bench.py — the PyTorch CPU peer of `your_ai train` for the
training-throughput benchmark (issue 5, acceptance 5; bench/train_cpu_bench.sh).

A realistic fp32 PyTorch LoRA fine-tuning loop, written the way one would with
transformers + PEFT on a CPU, but self-contained (no transformers/peft needed):

- an nn.Module Llama of the shape in an HF config.json (RMSNorm, RoPE, grouped
  query attention with HF's eager attention — softmax(QK^T/sqrt(d) + causal
  mask) V, since torch 1.13 has no scaled_dot_product_attention — SwiGLU MLP,
  untied or tied lm_head), every base weight frozen, fp32;
- PEFT-style LoRA on all 7 linear modules of every block (q,k,v,o,gate,up,down):
  y = W x + (alpha/r) B(A x), A kaiming-uniform, B zeros, dropout 0;
- cross-entropy over all B*T next-token targets (logits [B*T, V] materialised,
  as HF's LlamaForCausalLM does), loss.backward(), clip_grad_norm_(1.0),
  torch.optim.AdamW(lr 5e-5, wd 0.01), zero_grad(set_to_none=True).

Weights are random (throughput does not depend on their values), so the peer's
peak RSS is its own fp32 model + activations + autograd buffers, nothing from
loading. Input ids are random in [0, V) with a fixed seed.

  torch_train_bench.py --config CONFIG.json [--batch 4] [--seq 256] [--rank 16]
                       [--alpha 32] [--steps 6] [--threads 2] [--seed 0] [--autocast-bf16]

--autocast-bf16 runs forward and loss under torch.autocast("cpu", dtype=torch.bfloat16)
(the backward follows the forward's dtypes): the PyTorch peer of `your_ai train --matmul
bf16`. Weights, LoRA parameters, gradients and AdamW stay fp32; autocast rounds the inputs
of linear/matmul to bf16 (PyTorch 1.13 runs those through oneDNN, whose kernels use
AVX512-BF16 / AMX where the CPU has them).

Prints one JSON line: the per-update wall times, tok/s over updates 2..steps
(the first update is warm-up: allocator, OpenMP pool, first-touch pages),
trainable/total parameter counts and ru_maxrss. Run with Debian's python3
(python3-torch 1.13).
"""
import argparse
import json
import math
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LoraLinear(nn.Module):
    """A frozen nn.Linear plus PEFT's LoRA branch (dropout 0)."""

    def __init__(self, fin, fout, r, alpha):
        super().__init__()
        self.base = nn.Linear(fin, fout, bias=False)
        self.base.weight.requires_grad_(False)
        nn.init.normal_(self.base.weight, std=0.02)
        self.lora_A = nn.Linear(fin, r, bias=False)
        self.lora_B = nn.Linear(r, fout, bias=False)
        nn.init.kaiming_uniform_(self.lora_A.weight, a=math.sqrt(5))
        nn.init.zeros_(self.lora_B.weight)
        self.scale = alpha / r

    def forward(self, x):
        return self.base(x) + self.lora_B(self.lora_A(x)) * self.scale


class RMSNorm(nn.Module):
    def __init__(self, h, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(h), requires_grad=False)
        self.eps = eps

    def forward(self, x):
        var = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(var + self.eps))


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Block(nn.Module):
    def __init__(self, cfg, r, alpha):
        super().__init__()
        h, f = cfg["hidden_size"], cfg["intermediate_size"]
        self.n_h = cfg["num_attention_heads"]
        self.n_kv = cfg.get("num_key_value_heads") or self.n_h
        self.d = cfg.get("head_dim") or h // self.n_h
        eps = float(cfg["rms_norm_eps"])
        self.input_layernorm = RMSNorm(h, eps)
        self.post_attention_layernorm = RMSNorm(h, eps)
        self.q_proj = LoraLinear(h, self.n_h * self.d, r, alpha)
        self.k_proj = LoraLinear(h, self.n_kv * self.d, r, alpha)
        self.v_proj = LoraLinear(h, self.n_kv * self.d, r, alpha)
        self.o_proj = LoraLinear(self.n_h * self.d, h, r, alpha)
        self.gate_proj = LoraLinear(h, f, r, alpha)
        self.up_proj = LoraLinear(h, f, r, alpha)
        self.down_proj = LoraLinear(f, h, r, alpha)

    def forward(self, x, cos, sin, mask):
        B, T, _ = x.shape
        a = self.input_layernorm(x)
        q = self.q_proj(a).view(B, T, self.n_h, self.d).transpose(1, 2)  # [B, n_h, T, d]
        k = self.k_proj(a).view(B, T, self.n_kv, self.d).transpose(1, 2)  # [B, n_kv, T, d]
        v = self.v_proj(a).view(B, T, self.n_kv, self.d).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = self.n_h // self.n_kv
        k = k.repeat_interleave(rep, dim=1)  # HF repeat_kv
        v = v.repeat_interleave(rep, dim=1)
        s = torch.matmul(q, k.transpose(2, 3)) / math.sqrt(self.d) + mask  # [B, n_h, T, T]
        p = F.softmax(s, dim=-1, dtype=torch.float32)
        o = torch.matmul(p, v).transpose(1, 2).reshape(B, T, self.n_h * self.d)
        x = x + self.o_proj(o)
        m = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(m)) * self.up_proj(m))


class Llama(nn.Module):
    def __init__(self, cfg, r, alpha):
        super().__init__()
        h, V = cfg["hidden_size"], cfg["vocab_size"]
        self.embed_tokens = nn.Embedding(V, h)
        self.embed_tokens.weight.requires_grad_(False)
        nn.init.normal_(self.embed_tokens.weight, std=0.02)
        self.layers = nn.ModuleList(Block(cfg, r, alpha) for _ in range(cfg["num_hidden_layers"]))
        self.norm = RMSNorm(h, float(cfg["rms_norm_eps"]))
        self.tied = cfg.get("tie_word_embeddings", False)
        if not self.tied:
            self.lm_head = nn.Linear(h, V, bias=False)
            self.lm_head.weight.requires_grad_(False)
            nn.init.normal_(self.lm_head.weight, std=0.02)
        d = cfg.get("head_dim") or h // cfg["num_attention_heads"]
        theta = float(cfg.get("rope_theta", 10000.0))
        self.register_buffer("inv_freq", 1.0 / theta ** (torch.arange(0, d, 2, dtype=torch.float32) / d))

    def forward(self, ids, labels):
        B, T = ids.shape
        pos = torch.arange(T, dtype=torch.float32)
        ang = torch.outer(pos, self.inv_freq)
        emb = torch.cat((ang, ang), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]  # [1, 1, T, d]
        mask = torch.full((T, T), float("-inf")).triu(1)[None, None]  # [1, 1, T, T]
        x = self.embed_tokens(ids)
        for layer in self.layers:
            x = layer(x, cos, sin, mask)
        x = self.norm(x)
        w = self.embed_tokens.weight if self.tied else self.lm_head.weight
        logits = F.linear(x, w).float()  # [B, T, V]
        # Shifted next-token loss as LlamaForCausalLM: row t predicts token t+1.
        return F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), labels[:, 1:].reshape(-1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", required=True)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=256)
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--alpha", type=float, default=32.0)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--autocast-bf16", action="store_true", help="forward under torch.autocast(cpu, bfloat16)")
    a = ap.parse_args()
    if a.steps < 2:
        ap.error("--steps must be >= 2 (the first update is warm-up)")
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    with open(a.config, encoding="utf-8") as f:
        cfg = json.load(f)
    model = Llama(cfg, a.rank, a.alpha)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    n_train = sum(p.numel() for p in params)
    n_total = sum(p.numel() for n, p in model.named_parameters())
    opt = torch.optim.AdamW(params, lr=5e-5, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    g = torch.Generator().manual_seed(a.seed)
    times, losses = [], []
    for _ in range(a.steps):
        ids = torch.randint(0, cfg["vocab_size"], (a.batch, a.seq), generator=g)
        t0 = time.perf_counter()
        if a.autocast_bf16:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = model(ids, ids)
        else:
            loss = model(ids, ids)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        times.append(time.perf_counter() - t0)
        losses.append(loss.item())
    timed = sum(times[1:])
    tokens = a.batch * a.seq * (a.steps - 1)
    print(json.dumps({
        "peer": "torch", "torch": torch.__version__, "autocast_bf16": a.autocast_bf16, "threads": torch.get_num_threads(),
        "batch": a.batch, "seq": a.seq, "rank": a.rank, "params": n_total, "trainable": n_train,
        "step_s": [round(t, 4) for t in times], "loss": [round(v, 4) for v in losses],
        "tok_per_s": tokens / timed,
        "ru_maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
