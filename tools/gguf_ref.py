#!/usr/bin/env python3
"""gguf_ref.py — an independent check of `your_ai export --format gguf|gguf-adapter`,
written from SPEC §10.3 and llama.cpp's conventions (not from our C code):

  * its own GGUF v3 parser (header, KVs, tensor infos, alignment, offsets);
  * expected tensors computed here from the HF safetensors: names, dims
    (fastest first), types (1-D F32; Q8_0 rows not a multiple of 32 → F16),
    data: the base (+ (α/r)·B·A when an adapter is merged) in float32,
    the Q/K rows permuted with llama.cpp convert_hf_to_gguf.py's
    `LlamaModel.permute` (reshape(n_head, 2, d/2, …).swapaxes(1, 2)) for arch
    llama only, and converted to F16/BF16 (round to nearest even) or to Q8_0
    with llama.cpp's reference quantizer (gguf-py's numpy version);
  * expected metadata from config.json and tokenizer.json;
  * optionally, the JSON dump of OUR reader (tests/export/gguf_dump) must equal
    this parser's view (every KV and tensor: the reader round-trips the file).

  * for the K-quant mixes (Q4_K_M, Q5_K_M, Q6_K): the type of every tensor from
    llama-quantize's rules (restated in kquant_mix_type), and the values decoded
    by numpy decoders of the block layouts within a relative RMS error per type
    (the bytes themselves are compared with llama.cpp's own quantizer by
    tests/export/gguf_tensor_cmp when its library was fetched);

  check-model   --model DIR [--adapter DIR] --gguf FILE --type F32|F16|BF16|Q8_0|Q4_K_M|Q5_K_M|Q6_K [--dump JSON]
  check-adapter --model DIR --adapter DIR --gguf FILE [--dump JSON]
  dequantize-model --model DIR --gguf FILE --out DIR
      the GGUF's weights decoded by this file's decoders, back in --model's HF
      layout, as an F32 model our `forward` can run
  compare-logprobs --ours LOGITS.safetensors --llamacpp LOGPROBS.f32 --tol T [--control LOGITS.safetensors]
      max |log p − log p'| between our forward and llama.cpp (tools/llamacpp_check.js logprobs)
      ≤ T; with --control, another forward (the unquantized weights) must differ by more than T

Without an adapter every tensor must match bit for bit; with one, merged
weights are compared after decoding (our sgemm and numpy sum in different
orders), within one unit of the output type's rounding.
Run with Debian's python3 (numpy), e.g. ${YA_TORCH_PYTHON}.
"""
import argparse
import hashlib
import json
import math
import os
import struct
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_llama_ref as ref  # noqa: E402  (safetensors reading)

GGML = {"F32": 0, "F16": 1, "Q8_0": 8, "BF16": 30}
FILE_TYPE = {"F32": 0, "F16": 1, "Q8_0": 7, "BF16": 32, "Q4_K_M": 15, "Q5_K_M": 17, "Q6_K": 18}
# K-quant mixes (llama-quantize's Q4_K_M, Q5_K_M, Q6_K): the base type of their matrices
KQUANT_MIX = {"Q4_K_M": 12, "Q5_K_M": 13, "Q6_K": 14}
# ggml block types: values per block, bytes per block
BLOCK = {0: (1, 4), 1: (1, 2), 30: (1, 2), 6: (32, 22), 7: (32, 24), 8: (32, 34), 12: (256, 144), 13: (256, 176),
         14: (256, 210)}
SCALAR = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}


# ---- parser --------------------------------------------------------------------

def parse_gguf(path):
    data = open(path, "rb").read()
    pos = [0]

    def take(fmt):
        v = struct.unpack_from(fmt, data, pos[0])
        pos[0] += struct.calcsize(fmt)
        return v[0]

    def string():
        n = take("<Q")
        s = data[pos[0]:pos[0] + n]
        if len(s) != n:
            raise SystemExit(f"{path}: string past the end")
        pos[0] += n
        return s.decode("utf-8")

    def value(t):
        if t == 8:
            return string()
        if t == 9:
            et, n = take("<I"), take("<Q")
            return {"arr_type": et, "items": [value(et) for _ in range(n)]}
        return take(SCALAR[t])

    assert data[:4] == b"GGUF", "bad magic"
    pos[0] = 4
    version, n_t, n_kv = take("<I"), take("<Q"), take("<Q")
    kv = {}
    order = []
    for _ in range(n_kv):
        k = string()
        t = take("<I")
        kv[k] = (t, value(t))
        order.append(k)
    tensors = {}
    for _ in range(n_t):
        name = string()
        nd = take("<I")
        dims = [take("<Q") for _ in range(nd)]
        tensors[name] = {"dims": dims, "type": take("<I"), "offset": take("<Q")}
    align = kv.get("general.alignment", (4, 32))[1]
    start = (pos[0] + align - 1) // align * align
    for name, t in tensors.items():
        numel = int(np.prod(t["dims"]))
        per, size = BLOCK[t["type"]]
        nbytes = numel // per * size
        t["bytes"] = data[start + t["offset"]:start + t["offset"] + nbytes]
        assert len(t["bytes"]) == nbytes, f"{name}: data past the end of the file"
    return {"version": version, "kv": kv, "order": order, "tensors": tensors, "alignment": align,
            "data_offset": start, "header_end": pos[0]}


# ---- expected data --------------------------------------------------------------

def llama_permute(w, n_head):
    """convert_hf_to_gguf.py LlamaModel.permute (n_head already the kv count for k)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def f32_to_bf16_bytes(a):
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return (((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF).astype("<u2").tobytes()


def np_roundf(n):
    """C roundf (half away from zero), as gguf-py's quants.np_roundf."""
    a = abs(n)
    floored = np.floor(a)
    b = floored + np.floor(2 * (a - floored))
    return np.sign(n) * b


def quantize_q8_0(a):
    """llama.cpp quantize_row_q8_0_ref: per 32 values d = max|x|/127 (f32, stored f16), q = roundf(x/d)."""
    blocks = np.ascontiguousarray(a, dtype=np.float32).reshape(-1, 32)
    d = np.abs(blocks).max(axis=-1, keepdims=True) / np.float32(127)
    with np.errstate(divide="ignore"):
        inv = np.where(d == 0, np.float32(0), np.float32(1) / d).astype(np.float32)
    q = np_roundf((blocks * inv).astype(np.float32)).astype(np.int8)
    out = np.empty((blocks.shape[0], 34), dtype=np.uint8)
    out[:, :2] = d.astype("<f2").view(np.uint8)
    out[:, 2:] = q.view(np.uint8)
    return out.tobytes()


def dequant(t):
    b, ty = t["bytes"], t["type"]
    if ty == 0:
        return np.frombuffer(b, "<f4").astype(np.float64)
    if ty == 1:
        return np.frombuffer(b, "<f2").astype(np.float64)
    if ty == 30:
        return (np.frombuffer(b, "<u2").astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    blk = np.frombuffer(b, np.uint8).reshape(-1, 34)
    d = blk[:, :2].copy().view("<f2").astype(np.float64)
    return (blk[:, 2:].view(np.int8).astype(np.float64) * d).reshape(-1)


def f16(b):
    return np.ascontiguousarray(b).view("<f2").astype(np.float32)


def dequant_kquant(b, ty):
    """Decoders written from the block layouts of ggml-common.h (Q5_0, Q5_1, Q4_K, Q5_K, Q6_K), in float32."""
    per, size = BLOCK[ty]
    blk = np.frombuffer(b, np.uint8).reshape(-1, size)
    nb = blk.shape[0]
    if ty in (6, 7):  # Q5_0 / Q5_1: 4 low bits in nibbles (values j and j+16 share qs[j]), bit 4 of value j in qh bit j
        d = f16(blk[:, 0:2])
        off = 2 if ty == 6 else 4
        qh = np.ascontiguousarray(blk[:, off:off + 4]).view("<u4").astype(np.uint32)
        qs = blk[:, off + 4:off + 20].astype(np.uint32)
        low = np.concatenate([qs & 0xF, qs >> 4], axis=1)
        high = (qh >> np.arange(32, dtype=np.uint32)) & 1
        q = (low | (high << 4)).astype(np.float32)
        if ty == 6:
            return ((q - 16) * d).reshape(-1)
        return (q * d + f16(blk[:, 2:4])).reshape(-1)
    if ty in (12, 13):  # Q4_K / Q5_K: 8 sub-blocks of 32, 6-bit scales and mins packed in 12 bytes
        d, dmin = f16(blk[:, 0:2]), f16(blk[:, 2:4])
        s = blk[:, 4:16].astype(np.uint32)
        sc = np.empty((nb, 8), np.uint32)
        mn = np.empty((nb, 8), np.uint32)
        sc[:, :4], mn[:, :4] = s[:, 0:4] & 63, s[:, 4:8] & 63
        sc[:, 4:] = (s[:, 8:12] & 0xF) | ((s[:, 0:4] >> 6) << 4)
        mn[:, 4:] = (s[:, 8:12] >> 4) | ((s[:, 4:8] >> 6) << 4)
        qs = blk[:, 16:144] if ty == 12 else blk[:, 48:176]
        q = np.empty((nb, 8, 32), np.uint32)
        for c in range(4):  # 64 values per 32 bytes: low nibbles, then high nibbles
            q[:, 2 * c] = qs[:, 32 * c:32 * c + 32] & 0xF
            q[:, 2 * c + 1] = qs[:, 32 * c:32 * c + 32] >> 4
            if ty == 13:
                qh = blk[:, 16:48].astype(np.uint32)
                q[:, 2 * c] |= ((qh >> (2 * c)) & 1) << 4
                q[:, 2 * c + 1] |= ((qh >> (2 * c + 1)) & 1) << 4
        d1 = (d * sc.astype(np.float32))[:, :, None]
        m1 = (dmin * mn.astype(np.float32))[:, :, None]
        return (d1 * q.astype(np.float32) - m1).reshape(-1)
    # Q6_K: 16 sub-blocks of 16, int8 scales; per 128 values ql[64] and qh[32]
    ql, qh = blk[:, 0:128].astype(np.int32), blk[:, 128:192].astype(np.int32)
    sc = np.ascontiguousarray(blk[:, 192:208]).view(np.int8).astype(np.float32)
    d = f16(blk[:, 208:210])
    y = np.empty((nb, 256), np.float32)
    for n in range(2):
        L, H = ql[:, 64 * n:64 * n + 64], qh[:, 32 * n:32 * n + 32]
        quarters = [(L[:, :32] & 0xF) | ((H & 3) << 4), (L[:, 32:] & 0xF) | (((H >> 2) & 3) << 4),
                    (L[:, :32] >> 4) | (((H >> 4) & 3) << 4), (L[:, 32:] >> 4) | (((H >> 6) & 3) << 4)]
        for k, qv in enumerate(quarters):
            for half in range(2):
                scale = sc[:, 8 * n + 2 * k + half][:, None]
                y[:, 128 * n + 32 * k + 16 * half:128 * n + 32 * k + 16 * half + 16] = \
                    d * scale * (qv[:, 16 * half:16 * half + 16] - 32).astype(np.float32)
    return y.reshape(-1)


def type_name(ty):
    return {0: "F32", 1: "F16", 30: "BF16", 6: "Q5_0", 7: "Q5_1", 8: "Q8_0", 12: "Q4_K", 13: "Q5_K", 14: "Q6_K"}[ty]


def decode(t):
    """Any tensor of a GGUF file → float64 values."""
    if t["type"] in (6, 7, 12, 13, 14):
        return dequant_kquant(t["bytes"], t["type"]).astype(np.float64)
    return dequant(t)


def kquant_mix_type(mix, name, shape, layer, n_layers, tied, is_70b):
    """The type llama-quantize gives a tensor in a K-quant mix (no imatrix), written from its documented rules."""
    row = shape[-1]
    if len(shape) < 2 or not name.endswith("weight") or "_norm.weight" in name:
        return 0
    base = KQUANT_MIX[mix]
    more_bits = layer >= 0 and (layer < n_layers // 8 or layer >= 7 * n_layers // 8 or (layer - n_layers // 8) % 3 == 2)
    ty = base
    if name == "output.weight" or (tied and name == "token_embd.weight"):
        ty = 8 if row % 256 else 14
    elif "attn_v.weight" in name or "ffn_down" in name:
        if mix != "Q6_K" and more_bits:
            ty = 14
        if "attn_v" in name and is_70b and ty == 12:
            ty = 13
    if ty in (12, 13, 14) and row % 256:
        ty = {12: 6, 13: 7, 14: 8}[ty]
    return ty if row % 32 == 0 else 1


# relative RMS error of a tensor's decoded values a K-quant mix may show (random normal weights give
# about 0.07 for Q4_K, 0.035 Q5_K, 0.018 Q6_K, 0.04 Q5_0, 0.035 Q5_1, 0.004 Q8_0); a misplaced bit field gives ~1
KQUANT_RMS_TOL = {12: 0.12, 13: 0.06, 14: 0.03, 6: 0.07, 7: 0.06, 8: 0.008, 1: 1e-3}


def encode(a, ty):
    if ty == 0:
        return np.ascontiguousarray(a, dtype="<f4").tobytes()
    if ty == 1:
        return np.ascontiguousarray(a, dtype=np.float32).astype("<f2").tobytes()
    if ty == 30:
        return f32_to_bf16_bytes(a)
    return quantize_q8_0(a)


def hf_to_gguf_names(cfg):
    L = cfg["num_hidden_layers"]
    m = {"model.embed_tokens.weight": "token_embd.weight", "model.norm.weight": "output_norm.weight"}
    if not cfg.get("tie_word_embeddings", False):
        m["lm_head.weight"] = "output.weight"
    sub = {"input_layernorm.weight": "attn_norm.weight", "post_attention_layernorm.weight": "ffn_norm.weight",
           "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
           "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
           "mlp.down_proj": "ffn_down"}
    for l in range(L):
        for hf, gg in sub.items():
            if hf.endswith(".weight"):
                m[f"model.layers.{l}.{hf}"] = f"blk.{l}.{gg}"
            else:
                for suffix in ("weight", "bias"):
                    m[f"model.layers.{l}.{hf}.{suffix}"] = f"blk.{l}.{gg}.{suffix}"
    return m


def dims_of(cfg):
    h = cfg["hidden_size"]
    n_h = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_h
    d = cfg.get("head_dim") or h // n_h
    return h, n_h, n_kv, d


def rope_settings(cfg):
    theta, scaling = ref.rope_settings(cfg)
    return theta, scaling


def llama3_rope_freqs(cfg):
    h, n_h, n_kv, d = dims_of(cfg)
    theta, sc = rope_settings(cfg)
    factor, lo, hi = sc["factor"], sc["low_freq_factor"], sc["high_freq_factor"]
    orig = sc["original_max_position_embeddings"]
    out = []
    for i in range(d // 2):
        inv = theta ** (-2.0 * i / d)
        wl = 2 * math.pi / inv
        if wl < orig / hi:
            out.append(1.0)
        elif wl > orig / lo:
            out.append(factor)
        else:
            s = (orig / wl - lo) / (hi - lo)
            out.append(1.0 / ((1 - s) / factor + s))
    return np.array(out, dtype=np.float32)


# ---- checks ------------------------------------------------------------------------

class Errors(list):
    def check(self, cond, msg):
        if not cond:
            self.append(msg)


def check_layout(g, errors):
    errors.check(g["version"] == 3, f"version {g['version']}")
    errors.check(g["alignment"] == 32, f"alignment {g['alignment']}")
    errors.check(g["data_offset"] % 32 == 0, "data blob not aligned")
    ends = []
    for name, t in g["tensors"].items():
        errors.check(t["offset"] % 32 == 0, f"{name}: offset {t['offset']} not aligned")
        ends.append((t["offset"], t["offset"] + len(t["bytes"]), name))
    ends.sort()
    for (b0, e0, n0), (b1, e1, n1) in zip(ends, ends[1:]):
        errors.check(e0 <= b1, f"{n0} and {n1} overlap")
        errors.check(b1 - e0 < 32, f"gap of {b1 - e0} bytes between {n0} and {n1}")


def check_dump(g, dump_path, errors):
    """Our reader's view (gguf_dump) == this parser's view, key by key, tensor by tensor."""
    with open(dump_path) as fp:
        d = json.load(fp)
    errors.check(d["version"] == g["version"] and d["alignment"] == g["alignment"] and
                 d["data_offset"] == g["data_offset"], "reader: header fields differ")
    errors.check([e["key"] for e in d["kv"]] == g["order"], "reader: KV keys/order differ")
    for e in d["kv"]:
        t, v = g["kv"].get(e["key"], (None, None))
        if t is None:
            continue
        errors.check(e["type"] == t, f"reader: {e['key']}: type {e['type']} != {t}")
        if t == 9:
            errors.check(e.get("arr_type") == v["arr_type"], f"reader: {e['key']}: array type differs")
            errors.check(e["value"] == v["items"], f"reader: {e['key']}: array values differ")
        else:
            errors.check(e["value"] == v, f"reader: {e['key']}: {e['value']!r} != {v!r}")
    names = [t["name"] for t in d["tensors"]]
    errors.check(names == list(g["tensors"]), "reader: tensor names/order differ")
    for t in d["tensors"]:
        mine = g["tensors"].get(t["name"])
        if not mine:
            continue
        errors.check(t["dims"] == mine["dims"] and t["type"] == mine["type"] and t["offset"] == mine["offset"],
                     f"reader: {t['name']}: info differs")
        errors.check(t["sha256"] == hashlib.sha256(mine["bytes"]).hexdigest(), f"reader: {t['name']}: bytes differ")


def expect_kv(g, key, t, v, errors):
    got = g["kv"].get(key)
    if got is None:
        errors.append(f"missing key {key}")
        return
    if got[0] != t:
        errors.append(f"{key}: type {got[0]}, expected {t}")
        return
    if t == 6:
        errors.check(got[1] == struct.unpack("<f", struct.pack("<f", v))[0], f"{key}: {got[1]} != {v}")
    else:
        errors.check(got[1] == v, f"{key}: {got[1]!r} != {v!r}")


def check_tokenizer(g, model_dir, cfg, errors):
    path = os.path.join(model_dir, "tokenizer.json")
    if not os.path.exists(path):
        errors.check(not any(k.startswith("tokenizer.") for k in g["kv"]), "tokenizer keys without tokenizer.json")
        return
    tj = json.load(open(path, encoding="utf-8"))
    V = cfg["vocab_size"]
    model = tj["model"]
    spm = bool(model.get("byte_fallback")) or (tj.get("decoder") or {}).get("type") != "ByteLevel"
    tokens = [f"[PAD{i}]" for i in range(V)]
    types = [5] * V
    for tok, i in model["vocab"].items():
        tokens[i] = tok
        types[i] = 6 if spm and len(tok) == 6 and tok.startswith("<0x") and tok.endswith(">") else 1
    for a in tj.get("added_tokens", []):
        tokens[a["id"]] = a["content"]
        types[a["id"]] = 3 if a.get("special") else 4
    if spm and model.get("unk_token") in tokens:
        types[tokens.index(model["unk_token"])] = 2
    expect_kv(g, "tokenizer.ggml.model", 8, "llama" if spm else "gpt2", errors)
    pre = "default" if spm else ("qwen2" if cfg["model_type"] == "qwen2" else "llama-bpe")
    expect_kv(g, "tokenizer.ggml.pre", 8, pre, errors)
    got_tokens = g["kv"].get("tokenizer.ggml.tokens", (None, {"items": []}))[1]["items"]
    errors.check(got_tokens == tokens, f"tokens differ (first mismatch at "
                 f"{next((i for i, (a, b) in enumerate(zip(got_tokens, tokens)) if a != b), len(got_tokens))})")
    got_types = g["kv"].get("tokenizer.ggml.token_type", (None, {"items": []}))[1]["items"]
    errors.check(got_types == types, "token_type differs")
    merges = [m if isinstance(m, str) else " ".join(m) for m in model.get("merges", [])]
    if spm:
        scores = [0.0] * V
        for k, m in enumerate(merges):
            a, b = m.split(" ", 1)
            i = model["vocab"].get(a + b)
            if i is not None and scores[i] == 0.0:
                scores[i] = -float(k + 1)
        got = g["kv"].get("tokenizer.ggml.scores", (None, {"items": []}))[1]["items"]
        errors.check(len(got) == V and all(abs(x - y) <= 1e-7 * abs(y) for x, y in zip(got, scores)), "scores differ")
        errors.check("tokenizer.ggml.merges" not in g["kv"], "llama tokenizer with merges")
    else:
        got = g["kv"].get("tokenizer.ggml.merges", (None, {"items": []}))[1]["items"]
        errors.check(got == merges, "merges differ")
    if cfg.get("bos_token_id") is not None:
        expect_kv(g, "tokenizer.ggml.bos_token_id", 4, cfg["bos_token_id"], errors)
    eos = cfg.get("eos_token_id")
    if eos is not None:
        expect_kv(g, "tokenizer.ggml.eos_token_id", 4, eos[0] if isinstance(eos, list) else eos, errors)
    errors.check("tokenizer.ggml.add_bos_token" in g["kv"], "add_bos_token missing")


def check_model(a):
    errors = Errors()
    g = parse_gguf(a.gguf)
    check_layout(g, errors)
    if a.dump:
        check_dump(g, a.dump, errors)
    cfg, W = ref.load_model(a.model)
    h, n_h, n_kv, d = dims_of(cfg)
    arch = "qwen2" if cfg["model_type"] == "qwen2" else "llama"
    theta, scaling = rope_settings(cfg)
    expect_kv(g, "general.architecture", 8, arch, errors)
    expect_kv(g, "general.file_type", 4, FILE_TYPE[a.type], errors)
    if a.type in KQUANT_MIX:
        expect_kv(g, "general.quantization_version", 4, 2, errors)
    expect_kv(g, f"{arch}.context_length", 4, cfg.get("max_position_embeddings") or 4096, errors)
    expect_kv(g, f"{arch}.embedding_length", 4, h, errors)
    expect_kv(g, f"{arch}.block_count", 4, cfg["num_hidden_layers"], errors)
    expect_kv(g, f"{arch}.feed_forward_length", 4, cfg["intermediate_size"], errors)
    expect_kv(g, f"{arch}.attention.head_count", 4, n_h, errors)
    expect_kv(g, f"{arch}.attention.head_count_kv", 4, n_kv, errors)
    expect_kv(g, f"{arch}.attention.layer_norm_rms_epsilon", 6, cfg["rms_norm_eps"], errors)
    expect_kv(g, f"{arch}.rope.freq_base", 6, theta, errors)
    expect_kv(g, f"{arch}.rope.dimension_count", 4, d, errors)
    expect_kv(g, f"{arch}.vocab_size", 4, cfg["vocab_size"], errors)
    if d != h // n_h:
        expect_kv(g, f"{arch}.attention.key_length", 4, d, errors)
        expect_kv(g, f"{arch}.attention.value_length", 4, d, errors)
    rope_type = (scaling or {}).get("rope_type") or (scaling or {}).get("type")
    if rope_type == "linear":
        expect_kv(g, f"{arch}.rope.scaling.type", 8, "linear", errors)
        expect_kv(g, f"{arch}.rope.scaling.factor", 6, scaling["factor"], errors)
    check_tokenizer(g, a.model, cfg, errors)

    lora = {}
    if a.adapter:
        import torch_lora_ref as lr
        acfg, AT = lr.load_adapter(a.adapter)
        lora = lr.lora_table(acfg, AT)
    names = hf_to_gguf_names(cfg)
    expected = {}
    for hf, w in W.items():
        if hf not in names:
            errors.append(f"HF tensor {hf} has no GGUF name")
            continue
        x = w.astype(np.float32)
        prefix = hf[:-len(".weight")]
        merged = prefix in lora
        if merged:
            A, B, s = lora[prefix]
            x = x + np.float32(s) * (B.astype(np.float32) @ A.astype(np.float32))
        gname = names[hf]
        if arch == "llama" and (".attn_q." in gname or ".attn_k." in gname):
            x = llama_permute(x, n_h if ".attn_q." in gname else n_kv)
        if a.type in KQUANT_MIX:
            layer = int(gname.split(".")[1]) if gname.startswith("blk.") else -1
            L = cfg["num_hidden_layers"]
            is_70b = L == 80 and (arch == "qwen2" or n_h != n_kv)
            ty = kquant_mix_type(a.type, gname, x.shape, layer, L, cfg.get("tie_word_embeddings", False), is_70b)
        else:
            ty = GGML["F32"] if x.ndim == 1 else GGML[a.type]
            if ty == 8 and x.shape[-1] % 32:
                ty = 1
        expected[gname] = (list(reversed(x.shape)), ty, x, merged)
    if rope_type == "llama3":
        expected["rope_freqs.weight"] = ([d // 2], 0, llama3_rope_freqs(cfg), True)
    errors.check(set(expected) == set(g["tensors"]),
                 f"tensor names: missing {sorted(set(expected) - set(g['tensors']))[:4]}, "
                 f"extra {sorted(set(g['tensors']) - set(expected))[:4]}")
    n_exact = 0
    n_types = {}
    for name, (dims, ty, x, approx) in expected.items():
        t = g["tensors"].get(name)
        if not t:
            continue
        if t["dims"] != dims or t["type"] != ty:
            errors.append(f"{name}: dims {t['dims']} type {t['type']}, expected {dims} type {ty}")
            continue
        if a.type in KQUANT_MIX and ty != 0:
            got = decode(t).reshape(x.shape)
            ref_rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) or 1.0
            rel = float(np.sqrt(np.mean((got - x) ** 2))) / ref_rms
            errors.check(rel <= KQUANT_RMS_TOL[ty], f"{name}: decoded {type_name(ty)} is off by {rel:.4f} RMS of the "
                                                    f"weights (tol {KQUANT_RMS_TOL[ty]})")
            n_types[type_name(ty)] = n_types.get(type_name(ty), 0) + 1
            continue
        if not approx:
            ok = t["bytes"] == encode(x, ty)
            errors.check(ok, f"{name}: bytes differ from the reference conversion")
            n_exact += ok
        else:
            got = dequant(t)
            want = np.frombuffer(encode(x, ty), np.uint8)
            want = dequant({"bytes": want.tobytes(), "type": ty})
            scale = float(np.max(np.abs(want))) or 1.0
            ulp = {0: 1e-6, 1: 2 ** -10, 30: 2 ** -7, 8: 1.0 / 127}[ty]
            err = float(np.max(np.abs(got - want))) / scale
            errors.check(err <= ulp, f"{name}: off by {err:.3e} of max (tol {ulp:.1e})")
    for e in errors[:20]:
        print("FAIL", e)
    if not errors:
        decoded = ", decoded within tolerance: " + ", ".join(f"{v} {k}" for k, v in sorted(n_types.items())) \
            if n_types else ""
        print(f"ok GGUF {a.gguf}: {len(g['kv'])} keys, {len(g['tensors'])} tensors ({n_exact} bit-exact{decoded}), "
              f"type {a.type}, arch {arch}")
    return 1 if errors else 0


def check_adapter(a):
    import torch_lora_ref as lr
    errors = Errors()
    g = parse_gguf(a.gguf)
    check_layout(g, errors)
    if a.dump:
        check_dump(g, a.dump, errors)
    with open(os.path.join(a.model, "config.json")) as fp:
        cfg = json.load(fp)
    h, n_h, n_kv, d = dims_of(cfg)
    arch = "qwen2" if cfg["model_type"] == "qwen2" else "llama"
    acfg, AT = lr.load_adapter(a.adapter)
    expect_kv(g, "general.architecture", 8, arch, errors)
    expect_kv(g, "general.type", 8, "adapter", errors)
    expect_kv(g, "adapter.type", 8, "lora", errors)
    expect_kv(g, "adapter.lora.alpha", 6, acfg["lora_alpha"], errors)
    names = hf_to_gguf_names(cfg)
    expected = {}
    for k, w in AT.items():
        # base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight → blk.N.attn_q.weight.lora_a
        base = k[len("base_model.model."):].replace(".lora_A.weight", ".weight").replace(".lora_B.weight", ".weight")
        gname = names[base] + (".lora_a" if ".lora_A." in k else ".lora_b")
        x = w.astype(np.float32)
        if ".lora_B." in k and arch == "llama" and (".attn_q." in gname or ".attn_k." in gname):
            x = llama_permute(x, n_h if ".attn_q." in gname else n_kv)
        expected[gname] = (list(reversed(x.shape)), x)
    errors.check(set(expected) == set(g["tensors"]), "adapter tensor names differ: "
                 f"{sorted(set(expected) ^ set(g['tensors']))[:4]}")
    for name, (dims, x) in expected.items():
        t = g["tensors"].get(name)
        if t:
            errors.check(t["dims"] == dims and t["type"] == 0, f"{name}: dims {t['dims']} type {t['type']}")
            errors.check(t["bytes"] == encode(x, 0), f"{name}: bytes differ")
    for e in errors[:20]:
        print("FAIL", e)
    if not errors:
        print(f"ok GGUF adapter {a.gguf}: {len(g['tensors'])} tensors, alpha {acfg['lora_alpha']}")
    return 1 if errors else 0


def dequantize_model(a):
    """The GGUF's weights, decoded, back in the HF layout of --model (names, Q/K rows un-permuted) as an F32 model."""
    g = parse_gguf(a.gguf)
    cfg, W = ref.load_model(a.model)
    h, n_h, n_kv, d = dims_of(cfg)
    llama = cfg["model_type"] != "qwen2"
    out = []
    for hf, gname in hf_to_gguf_names(cfg).items():
        if hf not in W:
            continue
        t = g["tensors"].get(gname)
        if t is None:
            raise SystemExit(f"{a.gguf}: no tensor {gname} (for {hf})")
        x = decode(t).astype(np.float32).reshape(W[hf].shape)
        if llama and (".attn_q." in gname or ".attn_k." in gname):
            heads = n_h if ".attn_q." in gname else n_kv
            x = x.reshape(heads, x.shape[0] // heads // 2, 2, *x.shape[1:]).swapaxes(1, 2).reshape(x.shape)
        out.append((hf, "F32", np.ascontiguousarray(x)))
    os.makedirs(a.out, exist_ok=True)
    c = dict(cfg)
    c["torch_dtype"] = "float32"
    with open(os.path.join(a.out, "config.json"), "w") as fp:
        json.dump(c, fp)
    ref.write_safetensors(os.path.join(a.out, "model.safetensors"), out)
    print(f"ok {a.gguf} -> {a.out}: {len(out)} tensors decoded to F32")
    return 0


def log_softmax(z):
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def compare_logprobs(a):
    """llama.cpp's next-token log-probs (tools/llamacpp_check.js logprobs) vs our forward's logits, over the tokens that
    carry probability (p ≥ 1e-6 by our forward; the far tail only measures float underflow)."""
    def max_diff(logits_path):
        ours = log_softmax(ref.read_safetensors(logits_path)["logits"].astype(np.float64))
        theirs = np.fromfile(a.llamacpp, "<f4").astype(np.float64)
        if theirs.size != ours.size:
            raise SystemExit(f"{a.llamacpp}: {theirs.size} values, {logits_path} has {ours.size}")
        theirs = theirs.reshape(ours.shape)
        mask = ours >= math.log(1e-6)
        return float(np.max(np.abs(ours - theirs)[mask])), int(mask.sum())
    diff, n = max_diff(a.ours)
    n_pos = ref.read_safetensors(a.ours)["logits"].shape[0]
    if n < 10 * n_pos:
        print(f"FAIL {a.ours}: only {n} (position, token) pairs have p >= 1e-6: the model is too peaked to compare")
        return 1
    ok = diff <= a.tol
    print(f"{'ok' if ok else 'FAIL'} llama.cpp vs {a.ours}: max |dlogp| = {diff:.4f} over {n} (position, token) "
          f"pairs (tol {a.tol:g})")
    if a.control:
        cdiff, _ = max_diff(a.control)
        cok = cdiff > a.tol
        print(f"{'ok' if cok else 'FAIL'} control {a.control}: max |dlogp| = {cdiff:.4f} must exceed the tolerance "
              f"(the check tells these weights from the ones llama.cpp ran)")
        ok = ok and cok
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("check-model")
    p.add_argument("--model", required=True)
    p.add_argument("--adapter")
    p.add_argument("--gguf", required=True)
    p.add_argument("--type", required=True, choices=list(GGML) + list(KQUANT_MIX))
    p.add_argument("--dump")
    p = sub.add_parser("check-adapter")
    p.add_argument("--model", required=True)
    p.add_argument("--adapter", required=True)
    p.add_argument("--gguf", required=True)
    p.add_argument("--dump")
    p = sub.add_parser("dequantize-model")
    p.add_argument("--model", required=True)
    p.add_argument("--gguf", required=True)
    p.add_argument("--out", required=True)
    p = sub.add_parser("compare-logprobs")
    p.add_argument("--ours", required=True)
    p.add_argument("--llamacpp", required=True)
    p.add_argument("--tol", type=float, required=True)
    p.add_argument("--control")
    a = ap.parse_args()
    cmds = {"check-model": check_model, "check-adapter": check_adapter, "dequantize-model": dequantize_model,
            "compare-logprobs": compare_logprobs}
    return cmds[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
