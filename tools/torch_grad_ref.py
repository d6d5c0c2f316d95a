#!/usr/bin/env python3
"""torch_grad_ref.py — plain-PyTorch autograd references (float64) for the
backward ops of the CPU backend (tests/backward, docs/BACKWARD.md).

Run with Debian's python3 (torch + numpy), never the pyenv one:

  torch_grad_ref.py CASE OUT.safetensors

writes the random inputs of CASE (float32, or BF16 where the engine reads a
stored BF16 weight) together with the float64 gradients that torch autograd
computes from exactly those values (upcast to float64). Every op is written
here from its mathematical definition (SPEC §6.2, §7, §3.3), independently of
the C code; the loss is Σ output·G with a random upstream gradient G, so the
gradient of every input is checked in every direction at once.

Cases: linear rmsnorm rope_default rope_llama3 attn_rep1 attn_rep4 attn_pos0
       swiglu embedding ce_weighted ce_bf16 layer_lora
"""
import json
import math
import struct
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)


# ---- tiny safetensors writer (the `safetensors` package is not installed) ----

def write_safetensors(path, tensors, meta):
    """tensors: list of (name, numpy array); float32/float64/int32 arrays keep
    their dtype, ('BF16', uint16 array) tuples are stored as BF16."""
    dt_names = {np.dtype(np.float32): "F32", np.dtype(np.float64): "F64", np.dtype(np.int32): "I32"}
    header, offset, blobs = {"__metadata__": {k: str(v) for k, v in meta.items()}}, 0, []
    for name, arr in tensors:
        if isinstance(arr, tuple):
            dt, arr = arr
        else:
            dt = dt_names[arr.dtype]
        raw = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
        blobs.append(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)


def bf16_bits(a32):
    """float32 → BF16 bits, round to nearest even (torch's own conversion)."""
    t = torch.from_numpy(np.ascontiguousarray(a32, dtype=np.float32)).to(torch.bfloat16)
    return t.view(torch.int16).numpy().view(np.uint16)


def bf16_value(bits):
    return (bits.astype(np.uint32) << 16).view(np.float32)


class Case:
    """Collects float32 inputs (as given to the engine) and float64 expected outputs."""

    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.out, self.meta = [], {}

    def rand(self, name, shape, scale=1.0):
        a = (self.rng.standard_normal(shape) * scale).astype(np.float32)
        self.out.append((name, a))
        return torch.from_numpy(a.astype(np.float64)).requires_grad_(True)

    def put(self, name, arr):
        self.out.append((name, arr))

    def expect(self, name, t):
        self.out.append((name, t.detach().numpy().astype(np.float64)))


# ---- the ops, from their definitions ------------------------------------------

def rmsnorm(x, w, eps):
    return w * (x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps))


def rope(x, cos, sin):
    """x [T, heads, d]; cos/sin [T, d/2]; HF rotate-half: i pairs with i + d/2."""
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]
    c, s = cos[:, None, :], sin[:, None, :]
    return torch.cat([a * c - b * s, b * c + a * s], dim=-1)


def attention(q, k, v, T, Tk, pos0, n_h, n_kv, d):
    """q [T, n_h*d], k/v [Tk, n_kv*d]; query t sees keys 0..pos0+t; q head j uses kv head j // n_rep."""
    n_rep = n_h // n_kv
    qh = q.view(T, n_h, d).transpose(0, 1)                                   # [n_h, T, d]
    kh = k.view(Tk, n_kv, d).transpose(0, 1).repeat_interleave(n_rep, 0)    # [n_h, Tk, d]
    vh = v.view(Tk, n_kv, d).transpose(0, 1).repeat_interleave(n_rep, 0)
    s = qh @ kh.transpose(1, 2) / math.sqrt(d)                              # [n_h, T, Tk]
    allowed = torch.arange(Tk)[None, :] <= (pos0 + torch.arange(T))[:, None]
    s = s.masked_fill(~allowed, float("-inf"))
    p = torch.softmax(s, dim=-1)
    return (p @ vh).transpose(0, 1).reshape(T, n_h * d)


def silu(x):
    return x * torch.sigmoid(x)


def inv_freq(d, theta, llama3=None):
    inv = [theta ** (-(2.0 * i) / d) for i in range(d // 2)]
    if not llama3:
        return inv
    factor, low, high, orig = llama3
    out = []
    for x in inv:  # SPEC §6.1
        wl = 2.0 * math.pi / x
        if wl < orig / high:
            out.append(x)
        elif wl > orig / low:
            out.append(x / factor)
        else:
            s = (orig / wl - low) / (high - low)
            out.append((1.0 - s) * x / factor + s * x)
    return out


def rope_tables(c, positions, d, theta, llama3=None):
    """cos/sin [T, d/2] computed in float64, stored float32; returns the float32 values as float64 tensors."""
    inv = np.array(inv_freq(d, theta, llama3))
    ang = np.asarray(positions, dtype=np.float64)[:, None] * inv[None, :]
    cos, sin = np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)
    c.put("cos", cos)
    c.put("sin", sin)
    return torch.from_numpy(cos.astype(np.float64)), torch.from_numpy(sin.astype(np.float64))


# ---- cases -------------------------------------------------------------------------

def case_linear(c):
    M, K, N = 7, 13, 70  # N > 64: db crosses a column block
    x, w, b = c.rand("x", (M, K)), c.rand("w", (N, K), 0.3), c.rand("b", (N,))
    G = c.rand("dy", (M, N))
    (((x @ w.T) + b) * G).sum().backward()
    c.expect("dx", x.grad), c.expect("dw", w.grad), c.expect("db", b.grad)


def case_rmsnorm(c):
    M, h, eps = 5, 100, 1e-5  # h > 64: dw crosses a column block
    c.meta["eps"] = eps
    x = c.rand("x", (M, h))
    with torch.no_grad():  # rows of very different scales
        x.mul_(torch.tensor([0.01, 1.0, 3.0, 0.5, 20.0])[:, None])
    c.out[-1] = ("x", x.detach().numpy().astype(np.float32))
    x = torch.from_numpy(c.out[-1][1].astype(np.float64)).requires_grad_(True)
    w, G = c.rand("w", (h,)), c.rand("dy", (M, h))
    (rmsnorm(x, w, eps) * G).sum().backward()
    c.expect("dx", x.grad), c.expect("dw", w.grad)


def case_rope(c, llama3):
    T, n_heads, d = 7, 3, 16
    if llama3:
        cos, sin = rope_tables(c, range(100, 100 + T), d, 500000.0, (8.0, 1.0, 4.0, 8192.0))
    else:
        cos, sin = rope_tables(c, range(T), d, 10000.0)
    x, G = c.rand("x", (T, n_heads, d)), c.rand("dy", (T, n_heads, d))
    (rope(x, cos, sin) * G).sum().backward()
    c.expect("dx", x.grad)


def case_attention(c, T, Tk, pos0, n_h, n_kv, d):
    c.meta.update(T=T, Tk=Tk, pos0=pos0, n_h=n_h, n_kv=n_kv, d=d)
    q, k, v = c.rand("q", (T, n_h * d)), c.rand("k", (Tk, n_kv * d)), c.rand("v", (Tk, n_kv * d))
    G = c.rand("dout", (T, n_h * d))
    out = attention(q, k, v, T, Tk, pos0, n_h, n_kv, d)
    (out * G).sum().backward()
    c.expect("out", out), c.expect("dq", q.grad), c.expect("dk", k.grad), c.expect("dv", v.grad)


def case_swiglu(c):
    n = 257
    g = (c.rng.uniform(-12, 12, n)).astype(np.float32)
    g[:6] = [-100.0, -30.0, 0.0, 30.0, 100.0, -1e-3]
    c.put("gate", g)
    gate = torch.from_numpy(g.astype(np.float64)).requires_grad_(True)
    up, G = c.rand("up", (n,)), c.rand("dout", (n,))
    (silu(gate) * up * G).sum().backward()
    c.expect("dgate", gate.grad), c.expect("dup", up.grad)


def case_embedding(c):
    V, h, T = 10, 70, 20
    ids = c.rng.integers(0, V - 2, T).astype(np.int32)  # repeats; the last two rows never used
    ids[:4] = [3, 3, 0, 3]
    c.put("ids", ids)
    table = c.rand("table", (V, h))
    G = c.rand("dout", (T, h))
    (table[torch.from_numpy(ids.astype(np.int64))] * G).sum().backward()
    c.expect("dtable", table.grad)


def case_ce(c, weighted, bf16):
    """Shifted (targets given per row), masked, weighted CE fused with the lm_head."""
    T, h, V = 11, 16, 37
    x = c.rand("x", (T, h))
    w32 = (c.rng.standard_normal((V, h)) * 0.7).astype(np.float32)
    if bf16:
        bits = bf16_bits(w32)
        c.put("w", ("BF16", bits))
        w32 = bf16_value(bits)
    else:
        c.put("w", w32)
    w = torch.from_numpy(w32.astype(np.float64)).requires_grad_(True)
    targets = c.rng.integers(0, V, T).astype(np.int32)
    targets[2] = V - 1
    targets[4] = 0
    logp = torch.log_softmax(x @ w.T, dim=-1)                          # [T, V]
    tgt = torch.from_numpy(targets.astype(np.int64).clip(0, V - 1))
    nll = -logp[torch.arange(T), tgt]                                   # [T]
    if weighted:
        # SPEC §3.3(b): rows belong to samples; CE_i = mean over the sample's supervised rows,
        # L = (1/N_step)·Σ_i ω_i·CE_i. Unsupervised rows (prompt, padding, last position) excluded.
        sample = [0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2]
        supervised = [0, 1, 1, 0, 1, 1, 0, 1, 1, 1, 0]
        omega = [0.4, 2.1, 0.5]
        N_step = 4  # one more sample of the step lives in another micro-batch
        loss = 0.0
        for i, om in enumerate(omega):
            rows = [t for t in range(T) if sample[t] == i and supervised[t]]
            loss = loss + om * nll[rows].mean()
        loss = loss / N_step
        n_i = [sum(1 for t in range(T) if sample[t] == i and supervised[t]) for i in range(3)]
        weight = np.array([omega[sample[t]] / (n_i[sample[t]] * N_step) if supervised[t] else 0.0
                           for t in range(T)], dtype=np.float32)
    else:
        supervised = [1] * T
        supervised[3] = supervised[T - 1] = 0
        n_tok = sum(supervised)
        loss = sum(nll[t] for t in range(T) if supervised[t]) / n_tok
        weight = np.array([1.0 / n_tok if s else 0.0 for s in supervised], dtype=np.float32)
    for t in range(T):
        if not supervised[t]:
            targets[t] = -1  # must never be read
    c.put("targets", targets)
    c.put("weight", weight)
    loss.backward()
    row_nll = torch.where(torch.tensor(supervised, dtype=torch.bool), nll, torch.zeros(T))
    c.expect("loss", loss.reshape(1)), c.expect("nll", row_nll)
    c.expect("dx", x.grad), c.expect("dw", w.grad)


def case_layer_lora(c):
    """One decoder layer (SPEC §6.2) with q/k/v biases and LoRA on q_proj (SPEC §7, dropout 0)."""
    T, h, n_h, n_kv, d, f, r, eps = 6, 32, 4, 2, 8, 48, 4, 1e-5
    lora_scale = 2.0
    c.meta.update(T=T, h=h, n_h=n_h, n_kv=n_kv, d=d, f=f, r=r, eps=eps, lora_scale=lora_scale)
    cos, sin = rope_tables(c, range(T), d, 500000.0, (8.0, 1.0, 4.0, 8192.0))
    x = c.rand("x", (T, h))
    wn1, wn2 = c.rand("attn_norm", (h,)), c.rand("mlp_norm", (h,))
    s = 1 / math.sqrt(h)
    wq, bq = c.rand("wq", (n_h * d, h), s), c.rand("bq", (n_h * d,), 0.1)
    wk, bk = c.rand("wk", (n_kv * d, h), s), c.rand("bk", (n_kv * d,), 0.1)
    wv, bv = c.rand("wv", (n_kv * d, h), s), c.rand("bv", (n_kv * d,), 0.1)
    wo = c.rand("wo", (h, n_h * d), 1 / math.sqrt(n_h * d))
    wg, wu = c.rand("wg", (f, h), s), c.rand("wu", (f, h), s)
    wd = c.rand("wd", (h, f), 1 / math.sqrt(f))
    A, B = c.rand("lora_a", (r, h), s), c.rand("lora_b", (n_h * d, r), 0.2)  # B ≠ 0 so dA is not trivially 0
    G = c.rand("dout", (T, h))
    a = rmsnorm(x, wn1, eps)
    q = a @ wq.T + bq + lora_scale * ((a @ A.T) @ B.T)
    k = a @ wk.T + bk
    v = a @ wv.T + bv
    q = rope(q.view(T, n_h, d), cos, sin).reshape(T, n_h * d)
    k = rope(k.view(T, n_kv, d), cos, sin).reshape(T, n_kv * d)
    h1 = x + attention(q, k, v, T, T, 0, n_h, n_kv, d) @ wo.T
    m = rmsnorm(h1, wn2, eps)
    out = h1 + (silu(m @ wg.T) * (m @ wu.T)) @ wd.T
    (out * G).sum().backward()
    c.expect("out", out)
    for name, t in [("x", x), ("attn_norm", wn1), ("mlp_norm", wn2), ("wq", wq), ("bq", bq), ("wk", wk),
                    ("bk", bk), ("wv", wv), ("bv", bv), ("wo", wo), ("wg", wg), ("wu", wu), ("wd", wd),
                    ("lora_a", A), ("lora_b", B)]:
        c.expect("d_" + name, t.grad)


CASES = {
    "linear": (1, case_linear),
    "rmsnorm": (2, case_rmsnorm),
    "rope_default": (3, lambda c: case_rope(c, False)),
    "rope_llama3": (4, lambda c: case_rope(c, True)),
    "attn_rep1": (5, lambda c: case_attention(c, 9, 9, 0, 4, 4, 16)),
    "attn_rep4": (6, lambda c: case_attention(c, 9, 9, 0, 8, 2, 16)),
    "attn_pos0": (7, lambda c: case_attention(c, 5, 12, 7, 4, 2, 8)),
    "swiglu": (8, case_swiglu),
    "embedding": (9, case_embedding),
    "ce_weighted": (10, lambda c: case_ce(c, True, False)),
    "ce_bf16": (11, lambda c: case_ce(c, False, True)),
    "layer_lora": (12, case_layer_lora),
}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in CASES:
        sys.exit(f"usage: torch_grad_ref.py CASE OUT.safetensors\n  cases: {' '.join(CASES)}")
    seed, fn = CASES[sys.argv[1]]
    c = Case(1000 + seed)
    fn(c)
    write_safetensors(sys.argv[2], c.out, c.meta)


if __name__ == "__main__":
    main()
