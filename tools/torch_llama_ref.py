#!/usr/bin/env python3
"""torch_llama_ref.py — an independent plain-PyTorch Llama (Llama 2/3, Mistral, Qwen2)
written from the math in SPEC §6, used as the reference for the C forward pass.

It reads config.json and the safetensors weights itself (a small numpy parser:
Debian has no `safetensors` or `transformers` module) and computes logits in
float64 from the stored weights upcast exactly (bf16/f16 → f64), so the only
differences left against the C engine are the engine's fp32 rounding.

Subcommands:
  logits  --model DIR --ids "1 2 3" --out FILE.npy        reference logits [T, V] (float64)
  compare --model DIR --ids "1 2 3" --logits FILE.safetensors [--tol 1e-5]
          runs the reference and compares with the engine's `forward` output:
          rel = max|a − b| / max|b| over the whole [T, V] tensor; exit 1 if rel > tol.
  greedy  --model DIR --ids "1 2 3" --max-tokens N        greedy ids by full recompute each step
  runs    --a FILE.safetensors --b FILE.safetensors [--tol 1e-5]
          compares two engine `forward` outputs (e.g. two thread counts) with the
          same measure: exit 1 if max|a − b| / max|b| > tol.
  write   --config-json JSON --out DIR [--dtype F32|BF16|F16] [--seed N] [--shards K]
          writes a random model directory (config.json + safetensors), for shapes
          the engine's init-model does not produce.

Run with Debian's python3 (python3-torch), e.g. ${YA_TORCH_PYTHON}.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch

# ---- safetensors (SPEC §6.4) ------------------------------------------------

_NP_DTYPES = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32}


def read_safetensors(path):
    """Returns {name: float64 numpy array} for every tensor of one file."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        raw = data[base + b:base + e]
        shape = info["shape"]
        dt = info["dtype"]
        if dt == "BF16":
            u16 = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            arr = u16.view(np.float32)
        elif dt in _NP_DTYPES:
            arr = np.frombuffer(raw, dtype=np.dtype(_NP_DTYPES[dt]).newbyteorder("<"))
        else:
            raise SystemExit(f"{path}: tensor {name}: dtype {dt} not supported by the reference")
        out[name] = arr.astype(np.float64).reshape(shape)
    return out


def load_weights(model_dir):
    index = os.path.join(model_dir, "model.safetensors.index.json")
    if os.path.exists(index):
        with open(index) as f:
            weight_map = json.load(f)["weight_map"]
        tensors = {}
        for fname in sorted(set(weight_map.values())):
            part = read_safetensors(os.path.join(model_dir, fname))
            tensors.update({k: v for k, v in part.items() if weight_map.get(k) == fname})
        return tensors
    return read_safetensors(os.path.join(model_dir, "model.safetensors"))


def write_safetensors(path, tensors):
    """tensors: list of (name, dtype string, numpy array already in that dtype's bits)."""
    header, offset, blobs = {"__metadata__": {"format": "pt"}}, 0, []
    for name, dt, arr in tensors:
        raw = np.ascontiguousarray(arr).tobytes()
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


# ---- config (SPEC §6.1) -------------------------------------------------------

def rope_settings(cfg):
    """(theta, scaling dict or None) from either the top-level or the rope_parameters form."""
    rp = cfg.get("rope_parameters")
    theta = cfg.get("rope_theta", None)
    scaling = cfg.get("rope_scaling")
    if rp:
        theta = rp.get("rope_theta", theta)
        if rp.get("rope_type", rp.get("type", "default")) != "default":
            scaling = rp
    return (10000.0 if theta is None else float(theta)), scaling


def inv_freq(cfg, d):
    theta, scaling = rope_settings(cfg)
    inv = [theta ** (-(2.0 * i) / d) for i in range(d // 2)]
    if not scaling:
        return inv
    kind = scaling.get("rope_type", scaling.get("type"))
    factor = float(scaling["factor"])
    if kind == "linear":
        return [x / factor for x in inv]
    if kind == "llama3":
        low, high = float(scaling["low_freq_factor"]), float(scaling["high_freq_factor"])
        orig = float(scaling["original_max_position_embeddings"])
        out = []
        for x in inv:
            wl = 2.0 * math.pi / x
            if wl < orig / high:
                out.append(x)
            elif wl > orig / low:
                out.append(x / factor)
            else:
                s = (orig / wl - low) / (high - low)
                out.append((1.0 - s) * x / factor + s * x)
        return out
    raise SystemExit(f"rope_scaling type {kind!r} not supported by the reference")


# ---- the model (SPEC §6.2), float64 ------------------------------------------------

def rmsnorm(x, w, eps):
    return w * (x / torch.sqrt((x * x).mean(-1, keepdim=True) + eps))


def rope(x, cos, sin):
    """x [T, heads, d]; cos/sin [T, d/2]; rotate-half pairs i with i + d/2."""
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]
    c, s = cos[:, None, :], sin[:, None, :]
    return torch.cat([a * c - b * s, b * c + a * s], dim=-1)


def forward(cfg, W, ids, lora=None):
    """lora (optional, tools/torch_lora_ref.py): {projection prefix: (A, B, scale)};
    each such projection adds scale·B(A·x), factored as PEFT computes it (SPEC §7)."""
    t = lambda name: torch.from_numpy(W[name])
    h = cfg["hidden_size"]
    n_h = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_h
    d = cfg.get("head_dim") or h // n_h
    eps = float(cfg["rms_norm_eps"])
    qwen2 = cfg["model_type"] == "qwen2"
    attn_bias = qwen2 or cfg.get("attention_bias", False)
    o_bias = (not qwen2) and cfg.get("attention_bias", False)
    mlp_bias = cfg.get("mlp_bias", False)
    T = len(ids)
    pos = torch.arange(T, dtype=torch.float64)
    ang = pos[:, None] * torch.tensor(inv_freq(cfg, d), dtype=torch.float64)[None, :]
    cos, sin = torch.cos(ang), torch.sin(ang)
    causal = torch.triu(torch.ones(T, T, dtype=torch.bool), diagonal=1)

    def lin(x, prefix, bias):
        y = x @ t(prefix + ".weight").T
        if lora and prefix in lora:
            A, B, scale = lora[prefix]
            y = y + scale * ((x @ torch.from_numpy(A).T) @ torch.from_numpy(B).T)
        return y + t(prefix + ".bias") if bias else y

    x = t("model.embed_tokens.weight")[torch.tensor(ids)]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        a = rmsnorm(x, t(p + "input_layernorm.weight"), eps)
        q = lin(a, p + "self_attn.q_proj", attn_bias).view(T, n_h, d)
        k = lin(a, p + "self_attn.k_proj", attn_bias).view(T, n_kv, d)
        v = lin(a, p + "self_attn.v_proj", attn_bias).view(T, n_kv, d)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        rep = n_h // n_kv
        k = k.repeat_interleave(rep, dim=1)  # q head j ↔ kv head j // rep
        v = v.repeat_interleave(rep, dim=1)
        s = torch.einsum("thd,shd->hts", q, k) / math.sqrt(d)
        s = s.masked_fill(causal[None], float("-inf"))
        o = torch.einsum("hts,shd->thd", torch.softmax(s, dim=-1), v).reshape(T, n_h * d)
        x = x + lin(o, p + "self_attn.o_proj", o_bias)
        m = rmsnorm(x, t(p + "post_attention_layernorm.weight"), eps)
        g = lin(m, p + "mlp.gate_proj", mlp_bias)
        u = lin(m, p + "mlp.up_proj", mlp_bias)
        x = x + lin(torch.nn.functional.silu(g) * u, p + "mlp.down_proj", mlp_bias)
    x = rmsnorm(x, t("model.norm.weight"), eps)
    head = "model.embed_tokens.weight" if cfg.get("tie_word_embeddings", False) else "lm_head.weight"
    return x @ t(head).T


def load_model(model_dir):
    with open(os.path.join(model_dir, "config.json")) as f:
        cfg = json.load(f)
    return cfg, load_weights(model_dir)


def parse_ids(s):
    return [int(x) for x in s.replace(",", " ").split()]


# ---- random model writer -------------------------------------------------------------

def write_model(cfg, out_dir, dtype, seed, shards):
    rng = np.random.default_rng(seed)
    h, f, V, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"], cfg["num_hidden_layers"]
    n_h = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_h
    d = cfg.get("head_dim") or h // n_h
    qwen2 = cfg["model_type"] == "qwen2"
    attn_bias = qwen2 or cfg.get("attention_bias", False)
    o_bias = (not qwen2) and cfg.get("attention_bias", False)
    mlp_bias = cfg.get("mlp_bias", False)
    shapes = [("model.embed_tokens.weight", [V, h])]
    for l in range(L):
        p = f"model.layers.{l}."
        shapes += [(p + "input_layernorm.weight", [h]), (p + "self_attn.q_proj.weight", [n_h * d, h]),
                   (p + "self_attn.k_proj.weight", [n_kv * d, h]), (p + "self_attn.v_proj.weight", [n_kv * d, h]),
                   (p + "self_attn.o_proj.weight", [h, n_h * d]), (p + "post_attention_layernorm.weight", [h]),
                   (p + "mlp.gate_proj.weight", [f, h]), (p + "mlp.up_proj.weight", [f, h]),
                   (p + "mlp.down_proj.weight", [h, f])]
        if attn_bias:
            shapes += [(p + "self_attn.q_proj.bias", [n_h * d]), (p + "self_attn.k_proj.bias", [n_kv * d]),
                       (p + "self_attn.v_proj.bias", [n_kv * d])]
        if o_bias:
            shapes += [(p + "self_attn.o_proj.bias", [h])]
        if mlp_bias:
            shapes += [(p + "mlp.gate_proj.bias", [f]), (p + "mlp.up_proj.bias", [f]), (p + "mlp.down_proj.bias", [h])]
    shapes.append(("model.norm.weight", [h]))
    if not cfg.get("tie_word_embeddings", False):
        shapes.append(("lm_head.weight", [V, h]))
    tensors = []
    for name, shape in shapes:
        # Variance-preserving scales (not HF's 0.02) so attention is peaked and
        # greedy decoding varies: a parity test must be able to see RoPE/mask/GQA errors.
        if name.endswith("norm.weight"):
            a = 1.0 + 0.1 * rng.standard_normal(shape)
        elif name == "model.embed_tokens.weight":
            a = rng.standard_normal(shape)
        elif name.endswith(".weight"):
            a = rng.standard_normal(shape) / math.sqrt(shape[1])
        else:
            a = 0.1 * rng.standard_normal(shape)
        a = a.astype(np.float32)
        if dtype == "BF16":  # round to nearest even, keep the bits
            u = a.view(np.uint32).astype(np.uint64)
            a = (((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF).astype(np.uint16)
        elif dtype == "F16":
            a = a.astype(np.float16)
        tensors.append((name, dtype, a))
    os.makedirs(out_dir, exist_ok=True)
    cfg = dict(cfg)
    cfg.setdefault("hidden_act", "silu")
    cfg["torch_dtype"] = {"F32": "float32", "BF16": "bfloat16", "F16": "float16"}[dtype]
    with open(os.path.join(out_dir, "config.json"), "w") as fp:
        json.dump(cfg, fp, indent=2)
    if shards <= 1:
        write_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)
        return
    per = (len(tensors) + shards - 1) // shards
    weight_map, total = {}, 0
    for k in range(shards):
        part = tensors[k * per:(k + 1) * per]
        fname = f"model-{k + 1:05d}-of-{shards:05d}.safetensors"
        write_safetensors(os.path.join(out_dir, fname), part)
        for name, _, a in part:
            weight_map[name] = fname
            total += a.nbytes
    with open(os.path.join(out_dir, "model.safetensors.index.json"), "w") as fp:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, fp, indent=2)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("logits")
    p.add_argument("--model", required=True)
    p.add_argument("--ids", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("compare")
    p.add_argument("--model", required=True)
    p.add_argument("--ids", required=True)
    p.add_argument("--logits", required=True)
    p.add_argument("--tol", type=float, default=1e-5)
    p = sub.add_parser("greedy")
    p.add_argument("--model", required=True)
    p.add_argument("--ids", required=True)
    p.add_argument("--max-tokens", type=int, required=True)
    p = sub.add_parser("runs")
    p.add_argument("--a", required=True)
    p.add_argument("--b", required=True)
    p.add_argument("--tol", type=float, default=1e-5)
    p = sub.add_parser("write")
    p.add_argument("--config-json", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--dtype", default="F32", choices=["F32", "BF16", "F16"])
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--shards", type=int, default=1)
    a = ap.parse_args()

    torch.set_grad_enabled(False)
    if a.cmd == "write":
        write_model(json.loads(a.config_json), a.out, a.dtype, a.seed, a.shards)
        return 0
    if a.cmd == "runs":
        x, y = read_safetensors(a.a)["logits"], read_safetensors(a.b)["logits"]
        if x.shape != y.shape:
            print(f"FAIL: {a.a} logits shape {list(x.shape)}, {a.b} {list(y.shape)}")
            return 1
        rel = float(np.max(np.abs(x - y)) / np.max(np.abs(y)))
        ok = rel <= a.tol
        print(f"{'ok' if ok else 'FAIL'}: {a.a} vs {a.b}: max|a-b|/max|b| = {rel:.3e} (tol {a.tol:g})")
        return 0 if ok else 1
    cfg, W = load_model(a.model)
    ids = parse_ids(a.ids)
    if a.cmd == "logits":
        np.save(a.out, forward(cfg, W, ids).numpy())
        return 0
    if a.cmd == "greedy":
        seq = list(ids)
        for _ in range(a.max_tokens):
            seq.append(int(torch.argmax(forward(cfg, W, seq)[-1])))
        print(" ".join(str(x) for x in seq[len(ids):]))
        return 0
    ref = forward(cfg, W, ids).numpy()
    got = read_safetensors(a.logits)["logits"]
    if got.shape[0] == 1 and ref.shape[0] > 1:  # `forward --last-only`
        ref = ref[-1:]
    if got.shape != ref.shape:
        print(f"FAIL {a.model}: engine logits shape {list(got.shape)}, reference {list(ref.shape)}")
        return 1
    rel = float(np.max(np.abs(got - ref)) / np.max(np.abs(ref)))
    ok = rel <= a.tol
    print(f"{'ok' if ok else 'FAIL'} {a.model}: logits {list(ref.shape)} max|a-b|/max|b| = {rel:.3e} "
          f"(tol {a.tol:g}); argmax agree {np.mean(got.argmax(-1) == ref.argmax(-1)) * 100:.0f}%")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
