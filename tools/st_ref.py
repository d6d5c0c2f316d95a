#!/usr/bin/env python3
"""st_ref.py — independent references for the safetensors/model-I/O tests.

Run with Debian's python3 (torch + numpy), never the pyenv one:

  st_ref.py floats OUT        expected fp32 -> bf16 (torch) / f16 (numpy) bits for
                              edge cases and random patterns, and fp32 bits of all
                              65536 f16 and bf16 patterns (numpy / torch)
  st_ref.py check DIR [--max-shard-bytes N] [--dtype F32|F16|BF16]
                              parses an HF model directory with the few lines of
                              numpy below (the `safetensors` package is not
                              installed here), checks the writer rules of SPEC
                              §6.4 and the init-model layout/statistics, and prints
                              one line per tensor: name dtype shape sha256(fp32 LE
                              bytes via torch)
  st_ref.py rope CONFIG...    inv_freq (float64) of each config.json, one line per
                              config: transformers' default/linear/llama3 rules
                              re-implemented in torch float64
"""
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np
import torch

NP_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": np.uint16, "F64": np.float64,
             "I64": np.int64, "I32": np.int32, "I16": np.int16, "I8": np.int8, "U8": np.uint8,
             "BOOL": np.bool_}


def f32_bits(a):
    return np.asarray(a, dtype=np.float32).view(np.uint32)


def cmd_floats(out):
    rng = np.random.default_rng(12345)
    edge = [0.0, -0.0, 1.0, -1.0, 0.1, 1 / 3, 65504.0, 65505.0, 65519.0, 65520.0, 65536.0, 1e30, -1e30,
            3.4028235e38, float("inf"), float("-inf"), float("nan"), 2 ** -14, 2 ** -24, 2 ** -25,
            3 * 2 ** -26, 2 ** -26, 1.5 * 2 ** -24, 2.5 * 2 ** -24, 2 ** -14 - 2 ** -25, 1e-45, 1e-40,
            1.17549435e-38, 5.960464477539063e-08, 6.103515625e-05]
    bits = [int(b) for b in f32_bits(edge)]
    # bf16 ties: low 16 bits exactly 0x8000 with odd/even kept lsb, and neighbours
    for hi in rng.integers(0, 0x7f7f, 200):
        for lo in (0x7fff, 0x8000, 0x8001):
            bits.append(int(hi) << 16 | lo)
            bits.append(int(hi) << 16 | lo | 0x80000000)
    # f16 ties in the normal and subnormal ranges: half-ulp exactly
    for m in range(0, 1024, 7):
        for e in (103, 105, 110, 112, 113, 120, 142):
            base = (e << 23) | (m << 13)
            for lo in (0x0fff, 0x1000, 0x1001):
                bits.append(base | lo)
    bits += [int(b) for b in rng.integers(0, 2 ** 32, 20000, dtype=np.uint64)]
    x = np.array(bits, dtype=np.uint32).view(np.float32)
    bf = torch.from_numpy(x.copy()).to(torch.bfloat16).view(torch.int16).numpy().view(np.uint16)
    with np.errstate(over="ignore", invalid="ignore"):
        hf = x.astype(np.float16).view(np.uint16)
    allh = np.arange(65536, dtype=np.uint32).astype(np.uint16)
    from_f16 = allh.view(np.float16).astype(np.float32).view(np.uint32)
    from_bf16 = torch.from_numpy(allh.view(np.int16).copy()).view(torch.bfloat16).float().numpy().view(np.uint32)
    with open(out, "w") as f:
        f.write("# to16 f32bits bf16bits f16bits (NaN inputs: 'nan' instead of bits)\n")
        for b, xb, xh in zip(bits, bf, hf):
            if math.isnan(np.array([b], dtype=np.uint32).view(np.float32)[0]):
                f.write("to16 %08x nan nan\n" % b)
            else:
                f.write("to16 %08x %04x %04x\n" % (b, xb, xh))
        for h in range(65536):
            f.write("to32 %04x %08x %08x\n" % (h, from_f16[h], from_bf16[h]))


def read_st(path):
    """A minimal, strict safetensors parser (independent of ours)."""
    with open(path, "rb") as f:
        buf = f.read()
    (n,) = struct.unpack("<Q", buf[:8])
    assert 8 + n <= len(buf), f"{path}: header length past EOF"
    header = json.loads(buf[8:8 + n].decode("utf-8"))
    assert (8 + n) % 8 == 0, f"{path}: data section not 8-byte aligned"
    assert buf[8:8 + n].decode().rstrip(" ") == buf[8:8 + n].decode().strip(), f"{path}: bad padding"
    meta = header.pop("__metadata__", None)
    assert meta is not None and meta.get("format") == "pt", f"{path}: __metadata__.format must be pt"
    data = buf[8 + n:]
    out, pos = {}, 0
    for name, e in sorted(header.items(), key=lambda kv: kv[1]["data_offsets"][0]):
        b, en = e["data_offsets"]
        assert b == pos, f"{path}: {name} starts at {b}, expected {pos} (gap or overlap)"
        numel = int(np.prod(e["shape"], dtype=np.int64)) if e["shape"] else 1
        assert en - b == numel * np.dtype(NP_DTYPES[e["dtype"]]).itemsize, f"{path}: {name} byte length"
        raw = np.frombuffer(data[b:en], dtype=NP_DTYPES[e["dtype"]]).reshape(e["shape"])
        out[name] = (e["dtype"], list(e["shape"]), raw)
        pos = en
    assert pos == len(data), f"{path}: {len(data) - pos} trailing bytes after the last tensor"
    return out


def to_torch_f32(dtype, raw):
    if dtype == "BF16":
        return torch.from_numpy(raw.view(np.int16).copy()).view(torch.bfloat16).float()
    return torch.from_numpy(raw.astype(np.float32))


def expected_tensors(cfg):
    h, f, L = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    nh = cfg["num_attention_heads"]
    nkv = cfg.get("num_key_value_heads") or nh
    d = cfg.get("head_dim") or h // nh
    V = cfg["vocab_size"]
    qwen = cfg["model_type"] == "qwen2"
    attn_bias = qwen or cfg.get("attention_bias", False)
    o_bias = (not qwen) and cfg.get("attention_bias", False)
    mlp_bias = cfg.get("mlp_bias", False)
    t = {"model.embed_tokens.weight": [V, h], "model.norm.weight": [h]}
    if not cfg.get("tie_word_embeddings", False):
        t["lm_head.weight"] = [V, h]
    for i in range(L):
        p = f"model.layers.{i}."
        t[p + "input_layernorm.weight"] = [h]
        t[p + "post_attention_layernorm.weight"] = [h]
        for name, shape in (("q_proj", [nh * d, h]), ("k_proj", [nkv * d, h]), ("v_proj", [nkv * d, h]),
                            ("o_proj", [h, nh * d])):
            t[p + f"self_attn.{name}.weight"] = shape
            if (attn_bias and name != "o_proj") or (o_bias and name == "o_proj"):
                t[p + f"self_attn.{name}.bias"] = [shape[0]]
        for name, shape in (("gate_proj", [f, h]), ("up_proj", [f, h]), ("down_proj", [h, f])):
            t[p + f"mlp.{name}.weight"] = shape
            if mlp_bias:
                t[p + f"mlp.{name}.bias"] = [shape[0]]
    return t


def cmd_check(d, max_shard=None, want_dtype=None):
    cfg = json.load(open(os.path.join(d, "config.json")))
    index_path = os.path.join(d, "model.safetensors.index.json")
    tensors = {}
    if os.path.exists(index_path):
        idx = json.load(open(index_path))
        files = sorted(set(idx["weight_map"].values()))
        k = len(files)
        assert files == [f"model-{i:05d}-of-{k:05d}.safetensors" for i in range(1, k + 1)], files
        total = 0
        for fn in files:
            part = read_st(os.path.join(d, fn))
            nbytes = sum(r.nbytes for _, _, r in part.values())
            total += nbytes
            if max_shard is not None:
                assert nbytes <= max_shard or len(part) == 1, f"{fn}: {nbytes} bytes > {max_shard}"
            for name, v in part.items():
                assert idx["weight_map"].get(name) == fn, f"{name} not mapped to {fn}"
                tensors[name] = v
        assert set(idx["weight_map"]) == set(tensors)
        assert idx["metadata"]["total_size"] == total, (idx["metadata"]["total_size"], total)
        assert not os.path.exists(os.path.join(d, "model.safetensors")), "stale model.safetensors beside shards"
    else:
        tensors = read_st(os.path.join(d, "model.safetensors"))
    want = expected_tensors(cfg)
    assert set(want) == set(tensors), f"names differ: missing {set(want) - set(tensors)}, extra {set(tensors) - set(want)}"
    torch_dtype = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}
    for name in sorted(tensors):
        dt, shape, raw = tensors[name]
        assert shape == want[name], f"{name}: shape {shape}, expected {want[name]}"
        if want_dtype:
            assert dt == want_dtype, f"{name}: dtype {dt}, expected {want_dtype}"
        assert cfg.get("torch_dtype") == torch_dtype[dt], f"torch_dtype {cfg.get('torch_dtype')} vs {dt}"
        x = to_torch_f32(dt, raw)
        if name.endswith("norm.weight"):
            assert bool((x == 1).all()), f"{name}: norms must be ones"
        elif name.endswith(".bias"):
            assert bool((x == 0).all()), f"{name}: biases must be zeros"
        else:
            n = x.numel()
            mean, std = x.double().mean().item(), x.double().std().item()
            # normal(0, 0.02): 6-sigma bands for the sample mean and std
            assert abs(mean) < 6 * 0.02 / math.sqrt(n), f"{name}: mean {mean}"
            assert abs(std - 0.02) < 6 * 0.02 / math.sqrt(2 * n) + 2e-4, f"{name}: std {std}"
            assert float(x.abs().max()) < 0.02 * 7, f"{name}: max {float(x.abs().max())}"
            z = (x.double() - mean) / std
            kurt = (z ** 4).mean().item()  # 3 for a normal (uniform: 1.8)
            assert abs(kurt - 3) < 6 * math.sqrt(24 / n) + 0.01, f"{name}: kurtosis {kurt}"
        digest = hashlib.sha256(x.contiguous().numpy().astype("<f4").tobytes()).hexdigest()
        print(name, dt, "[" + ",".join(map(str, shape)) + "]", digest)


def inv_freq(cfg):
    rp = cfg.get("rope_parameters")
    theta = cfg.get("rope_theta", 10000.0)
    rs = cfg.get("rope_scaling")
    if rp:
        theta = rp.get("rope_theta", theta)
        rs = rp
    h, nh = cfg["hidden_size"], cfg["num_attention_heads"]
    d = cfg.get("head_dim") or h // nh
    inv = 1.0 / (theta ** (torch.arange(0, d, 2, dtype=torch.float64) / d))
    rtype = (rs or {}).get("rope_type", (rs or {}).get("type", "default"))
    if rtype == "linear":
        inv = inv / rs["factor"]
    elif rtype == "llama3":
        # transformers' _compute_llama3_parameters, in float64
        factor, lo, hi = rs["factor"], rs["low_freq_factor"], rs["high_freq_factor"]
        orig = rs["original_max_position_embeddings"]
        low_freq_wavelen, high_freq_wavelen = orig / lo, orig / hi
        wavelen = 2 * math.pi / inv
        inv_llama = torch.where(wavelen > low_freq_wavelen, inv / factor, inv)
        smooth = (orig / wavelen - lo) / (hi - lo)
        smoothed = (1 - smooth) * inv_llama / factor + smooth * inv_llama
        medium = ~(wavelen < high_freq_wavelen) & ~(wavelen > low_freq_wavelen)
        inv = torch.where(medium, smoothed, inv_llama)
    return inv


def cmd_rope(paths):
    for p in paths:
        v = inv_freq(json.load(open(p)))
        print(p, " ".join(repr(float(x)) for x in v))


def main():
    if len(sys.argv) >= 3 and sys.argv[1] == "floats":
        cmd_floats(sys.argv[2])
    elif len(sys.argv) >= 3 and sys.argv[1] == "check":
        args = sys.argv[3:]
        ms = int(args[args.index("--max-shard-bytes") + 1]) if "--max-shard-bytes" in args else None
        dt = args[args.index("--dtype") + 1] if "--dtype" in args else None
        cmd_check(sys.argv[2], ms, dt)
    elif len(sys.argv) >= 3 and sys.argv[1] == "rope":
        cmd_rope(sys.argv[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
