#!/usr/bin/env python3
"""torch_lora_ref.py — PEFT LoRA adapters on top of the plain-PyTorch Llama of
tools/torch_llama_ref.py, written from SPEC §7 and §10.1/§10.2, as the
independent reference for `your_ai forward --adapter` and `your_ai export`.

Subcommands:
  make-adapter --model DIR --out DIR [--rank 4] [--alpha 8] [--targets q_proj,...]
               [--layers N] [--seed 0] [--dtype F32|BF16] [--default-suffix]
      writes adapter_model.safetensors + adapter_config.json exactly as PEFT
      saves them, with non-zero random A [r, in] AND B [out, r] (a trained
      adapter; B = 0 would hide every bug). --layers N adapts the last N blocks.
  compare --model DIR --adapter DIR --ids "1 2 3" --logits FILE [--tol 1e-5]
      reference logits of base + (alpha/r)·B(A·x) (float64, the projection
      computed factored, as PEFT does) vs the engine's `forward --adapter`.
  compare-logits A.safetensors B.safetensors [--tol 1e-5]
      max|a−b|/max|b| of two engine outputs (merged model vs base + adapter).
  check-peft --adapter DIR --exported DIR
      the exported PEFT directory has exactly SPEC §10.1's keys, shapes, dtype,
      metadata and config, and the same numbers as the source adapter.
  check-merged --base DIR --adapter DIR --merged DIR
      merged directory layout (SPEC §10.2): index total_size, format pt on
      every file, no LoRA tensors, no lm_head when tied, copied tokenizer /
      generation files, torch_dtype; and every weight == W + (α/r)·B·A computed
      here in float32 and rounded to the stored dtype (bit-exact for F32 and
      within one ulp of the stored dtype otherwise).

Run with Debian's python3 (python3-torch), e.g. ${YA_TORCH_PYTHON}.
"""
import argparse
import json
import math
import os
import re
import struct
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_llama_ref as ref  # noqa: E402

TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
MODULE = {"q_proj": "self_attn", "k_proj": "self_attn", "v_proj": "self_attn", "o_proj": "self_attn",
          "gate_proj": "mlp", "up_proj": "mlp", "down_proj": "mlp"}


def proj_shape(cfg, t):
    """(in, out) of projection t (HF W is [out, in])."""
    h, f = cfg["hidden_size"], cfg["intermediate_size"]
    n_h = cfg["num_attention_heads"]
    n_kv = cfg.get("num_key_value_heads") or n_h
    d = cfg.get("head_dim") or h // n_h
    return {"q_proj": (h, n_h * d), "k_proj": (h, n_kv * d), "v_proj": (h, n_kv * d), "o_proj": (n_h * d, h),
            "gate_proj": (h, f), "up_proj": (h, f), "down_proj": (f, h)}[t]


def read_header(path):
    with open(path, "rb") as fp:
        (n,) = struct.unpack("<Q", fp.read(8))
        return n, json.loads(fp.read(n).decode("utf-8"))


def to_bf16_bits(a):
    u = np.asarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    return (((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF).astype(np.uint16)


def load_adapter(adir):
    with open(os.path.join(adir, "adapter_config.json")) as fp:
        acfg = json.load(fp)
    T = ref.read_safetensors(os.path.join(adir, "adapter_model.safetensors"))
    T = {k.replace(".default.weight", ".weight"): v for k, v in T.items()}
    return acfg, T


def lora_key(layer, t, ab):
    return f"base_model.model.model.layers.{layer}.{MODULE[t]}.{t}.lora_{ab}.weight"


def make_adapter(a):
    with open(os.path.join(a.model, "config.json")) as fp:
        cfg = json.load(fp)
    L = cfg["num_hidden_layers"]
    targets = a.targets.split(",")
    layers = list(range(L - a.layers, L)) if a.layers > 0 else list(range(L))
    rng = np.random.default_rng(a.seed)
    tensors = []
    for l in layers:
        for t in targets:
            i, o = proj_shape(cfg, t)
            A = (rng.uniform(-1, 1, (a.rank, i)) / math.sqrt(i)).astype(np.float32)
            B = (0.5 * rng.standard_normal((o, a.rank)) / math.sqrt(a.rank)).astype(np.float32)
            suffix = ".default.weight" if a.default_suffix else ".weight"
            for ab, arr in (("A", A), ("B", B)):
                key = lora_key(l, t, ab).replace(".weight", suffix)
                tensors.append((key, a.dtype, to_bf16_bits(arr) if a.dtype == "BF16" else arr))
    os.makedirs(a.out, exist_ok=True)
    ref.write_safetensors(os.path.join(a.out, "adapter_model.safetensors"), tensors)
    acfg = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": a.model, "r": a.rank,
            "lora_alpha": a.alpha, "lora_dropout": 0.0, "bias": "none", "fan_in_fan_out": False,
            "target_modules": targets, "use_rslora": False, "use_dora": False, "modules_to_save": None,
            "inference_mode": True}
    if len(layers) != L:
        acfg["layers_to_transform"] = layers
    with open(os.path.join(a.out, "adapter_config.json"), "w") as fp:
        json.dump(acfg, fp, indent=2)
    return 0


def lora_table(acfg, AT):
    """{projection prefix "model.layers.N.self_attn.q_proj": (A, B, alpha/r)} for torch_llama_ref.forward."""
    scale = acfg["lora_alpha"] / acfg["r"]
    out = {}
    for k in AT:
        m = re.match(r"base_model\.model\.(model\.layers\.\d+\.\w+\.\w+)\.lora_A\.weight$", k)
        if m:
            out[m.group(1)] = (AT[k], AT[k.replace("lora_A", "lora_B")], scale)
    assert out, "adapter has no lora_A tensors"
    return out


def compare(a):
    cfg, W = ref.load_model(a.model)
    acfg, AT = load_adapter(a.adapter)
    ids = ref.parse_ids(a.ids)
    want = ref.forward(cfg, W, ids, lora_table(acfg, AT)).numpy()
    base = ref.forward(cfg, W, ids).numpy()
    got = ref.read_safetensors(a.logits)["logits"]
    if got.shape != want.shape:
        print(f"FAIL: engine logits {list(got.shape)}, reference {list(want.shape)}")
        return 1
    rel = float(np.max(np.abs(got - want)) / np.max(np.abs(want)))
    delta = float(np.max(np.abs(want - base)) / np.max(np.abs(want)))
    ok = rel <= a.tol and delta > 100 * a.tol
    print(f"{'ok' if ok else 'FAIL'} adapter {a.adapter}: max|a-b|/max|b| = {rel:.3e} (tol {a.tol:g}); "
          f"the adapter moves the logits by {delta:.3e} (must be >> tol)")
    return 0 if ok else 1


def compare_logits(a):
    x = ref.read_safetensors(a.a)["logits"]
    y = ref.read_safetensors(a.b)["logits"]
    if x.shape != y.shape:
        print(f"FAIL: shapes {list(x.shape)} vs {list(y.shape)}")
        return 1
    rel = float(np.max(np.abs(x - y)) / np.max(np.abs(y)))
    ok = rel <= a.tol
    print(f"{'ok' if ok else 'FAIL'} {a.a} vs {a.b}: max|a-b|/max|b| = {rel:.3e} (tol {a.tol:g})")
    return 0 if ok else 1


def check_peft(a):
    errors = []
    acfg, AT = load_adapter(a.adapter)
    with open(os.path.join(a.exported, "adapter_config.json")) as fp:
        ecfg = json.load(fp)
    want_cfg = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "r": acfg["r"], "lora_alpha": acfg["lora_alpha"],
                "bias": "none", "fan_in_fan_out": False, "use_rslora": False, "use_dora": False,
                "modules_to_save": None, "inference_mode": True}
    for k, v in want_cfg.items():
        if ecfg.get(k, "<absent>") != v:
            errors.append(f"adapter_config.json: {k} = {ecfg.get(k, '<absent>')!r}, expected {v!r}")
    for k in ("base_model_name_or_path", "lora_dropout", "target_modules"):
        if k not in ecfg:
            errors.append(f"adapter_config.json: {k} missing")
    if sorted(ecfg.get("target_modules", [])) != sorted(acfg["target_modules"]):
        errors.append(f"target_modules {ecfg.get('target_modules')} != {acfg['target_modules']}")
    if ecfg.get("layers_to_transform") != acfg.get("layers_to_transform"):
        errors.append(f"layers_to_transform {ecfg.get('layers_to_transform')} != {acfg.get('layers_to_transform')}")
    path = os.path.join(a.exported, "adapter_model.safetensors")
    _, hdr = read_header(path)
    if hdr.get("__metadata__", {}).get("format") != "pt":
        errors.append(f"{path}: __metadata__.format is not pt")
    ET = ref.read_safetensors(path)
    if set(ET) != set(AT):
        errors.append(f"keys differ: extra {sorted(set(ET) - set(AT))[:3]}, missing {sorted(set(AT) - set(ET))[:3]}")
    pat = re.compile(r"base_model\.model\.model\.layers\.\d+\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)"
                     r"\.lora_[AB]\.weight$")
    for k in ET:
        if not pat.match(k):
            errors.append(f"key {k} is not a SPEC §10.1 key")
        if k in AT:
            if ET[k].shape != AT[k].shape:
                errors.append(f"{k}: shape {ET[k].shape} != {AT[k].shape}")
            elif a.dtype == "F32" and not np.array_equal(ET[k], AT[k]):
                errors.append(f"{k}: values differ")
            elif a.dtype == "BF16" and np.max(np.abs(ET[k] - AT[k])) > 2 ** -8 * np.max(np.abs(AT[k])):
                errors.append(f"{k}: bf16 values off by more than one bf16 ulp")
        if hdr[k]["dtype"] != a.dtype:
            errors.append(f"{k}: dtype {hdr[k]['dtype']}, expected {a.dtype}")
    for e in errors:
        print("FAIL", e)
    if not errors:
        print(f"ok PEFT export {a.exported}: {len(ET)} tensors, config matches SPEC §10.1")
    return 1 if errors else 0


def check_merged(a):
    errors = []
    with open(os.path.join(a.base, "config.json")) as fp:
        bcfg = json.load(fp)
    with open(os.path.join(a.merged, "config.json")) as fp:
        mcfg = json.load(fp)
    acfg, AT = load_adapter(a.adapter)
    scale = acfg["lora_alpha"] / acfg["r"]
    files = sorted(os.listdir(a.merged))
    index = os.path.join(a.merged, "model.safetensors.index.json")
    st_files = [f for f in files if f.endswith(".safetensors")]
    if os.path.exists(index):
        with open(index) as fp:
            idx = json.load(fp)
        total = 0
        for f in sorted(set(idx["weight_map"].values())):
            _, hdr = read_header(os.path.join(a.merged, f))
            for k, v in hdr.items():
                if k != "__metadata__":
                    total += v["data_offsets"][1] - v["data_offsets"][0]
        if idx["metadata"].get("total_size") != total:
            errors.append(f"index total_size {idx['metadata'].get('total_size')} != {total} tensor bytes")
        if sorted(set(idx["weight_map"].values())) != st_files:
            errors.append(f"index names {sorted(set(idx['weight_map'].values()))}, directory has {st_files}")
    elif st_files != ["model.safetensors"]:
        errors.append(f"no index but safetensors files {st_files}")
    dtypes = set()
    for f in st_files:
        _, hdr = read_header(os.path.join(a.merged, f))
        if hdr.get("__metadata__", {}).get("format") != "pt":
            errors.append(f"{f}: __metadata__ format is not pt")
        for k, v in hdr.items():
            if k == "__metadata__":
                continue
            dtypes.add(v["dtype"])
            if "lora" in k:
                errors.append(f"{f}: LoRA tensor {k} in a merged model")
            if k == "lm_head.weight" and bcfg.get("tie_word_embeddings"):
                errors.append(f"{f}: lm_head.weight written although the embeddings are tied")
    # generation_config.json: the base's keys unchanged, except bos_token_id (config.json's) and eos_token_id,
    # a list holding every base eos id (config.json's and generation_config.json's), so generation stops
    gpath, bgen = os.path.join(a.merged, "generation_config.json"), {}
    if os.path.exists(os.path.join(a.base, "generation_config.json")):
        with open(os.path.join(a.base, "generation_config.json")) as fp:
            bgen = json.load(fp)
    if not os.path.exists(gpath):
        errors.append("generation_config.json not written")
    else:
        with open(gpath) as fp:
            mgen = json.load(fp)
        for k in set(bgen) | set(mgen):
            if k not in ("eos_token_id", "bos_token_id") and bgen.get(k) != mgen.get(k):
                errors.append(f"generation_config.json {k}: {mgen.get(k)!r} != base {bgen.get(k)!r}")
        as_list = lambda v: v if isinstance(v, list) else [] if v is None else [v]
        want_eos = as_list(bcfg.get("eos_token_id")) + as_list(bgen.get("eos_token_id"))
        got_eos = mgen.get("eos_token_id")
        if not isinstance(got_eos, list) or not set(want_eos) <= set(got_eos):
            errors.append(f"generation_config.json eos_token_id {got_eos!r}: expected a list holding {want_eos}")
        if "bos_token_id" in bcfg and mgen.get("bos_token_id") != bcfg["bos_token_id"]:
            errors.append(f"generation_config.json bos_token_id {mgen.get('bos_token_id')!r} != {bcfg['bos_token_id']}")
    for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "tokenizer.model"):
        if os.path.exists(os.path.join(a.base, f)):
            if not os.path.exists(os.path.join(a.merged, f)):
                errors.append(f"{f} not copied")
            elif open(os.path.join(a.base, f), "rb").read() != open(os.path.join(a.merged, f), "rb").read():
                errors.append(f"{f} differs from the base's")
    want_dtype = {"F32": "float32", "BF16": "bfloat16", "F16": "float16"}[a.dtype]
    if mcfg.get("torch_dtype") != want_dtype:
        errors.append(f"config.json torch_dtype {mcfg.get('torch_dtype')!r}, expected {want_dtype!r}")
    if dtypes - {a.dtype}:
        errors.append(f"merged tensors have dtypes {sorted(dtypes)}, expected {a.dtype}")
    for k in set(bcfg) | set(mcfg):
        if k not in ("torch_dtype", "dtype") and bcfg.get(k) != mcfg.get(k):
            errors.append(f"config.json {k}: {mcfg.get(k)!r} != base {bcfg.get(k)!r}")
    # Every weight: W' = W + s·B·A in float32 from the upcast base (SPEC §10.2).
    BW = ref.load_weights(a.base)
    MW = ref.load_weights(a.merged)
    if set(BW) != set(MW):
        errors.append(f"tensor names differ: {sorted(set(BW) ^ set(MW))[:4]}")
    n_merged = 0
    for name, w in BW.items():
        if name not in MW:
            continue
        want = w.astype(np.float32)
        prefix = "base_model.model." + name[:-len(".weight")]
        if prefix + ".lora_A.weight" in AT:
            A = AT[prefix + ".lora_A.weight"].astype(np.float32)
            B = AT[prefix + ".lora_B.weight"].astype(np.float32)
            want = want + np.float32(scale) * (B @ A)
            n_merged += 1
        got = MW[name].astype(np.float32)
        if a.dtype == "F32":
            tol = 1e-6 * max(1.0, float(np.max(np.abs(want))))  # sgemm vs numpy summation order
        else:
            tol = (2 ** -8 if a.dtype == "BF16" else 2 ** -11) * float(np.max(np.abs(want)))
        err = float(np.max(np.abs(got - want))) if got.shape == want.shape else float("inf")
        if err > tol:
            errors.append(f"{name}: merged weight off by {err:.3e} (tol {tol:.3e})")
    if n_merged != len([k for k in AT if "lora_A" in k]):
        errors.append(f"only {n_merged} weights were adapted")
    for e in errors[:20]:
        print("FAIL", e)
    if not errors:
        print(f"ok merged {a.merged}: {len(MW)} tensors ({n_merged} merged), {len(st_files)} safetensors file(s)")
    return 1 if errors else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("make-adapter")
    p.add_argument("--model", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--rank", type=int, default=4)
    p.add_argument("--alpha", type=float, default=8.0)
    p.add_argument("--targets", default=",".join(TARGETS))
    p.add_argument("--layers", type=int, default=-1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dtype", default="F32", choices=["F32", "BF16"])
    p.add_argument("--default-suffix", action="store_true")
    p = sub.add_parser("compare")
    p.add_argument("--model", required=True)
    p.add_argument("--adapter", required=True)
    p.add_argument("--ids", required=True)
    p.add_argument("--logits", required=True)
    p.add_argument("--tol", type=float, default=1e-5)
    p = sub.add_parser("compare-logits")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--tol", type=float, default=1e-5)
    p = sub.add_parser("check-peft")
    p.add_argument("--adapter", required=True)
    p.add_argument("--exported", required=True)
    p.add_argument("--dtype", default="F32", choices=["F32", "BF16"])
    p = sub.add_parser("check-merged")
    p.add_argument("--base", required=True)
    p.add_argument("--adapter", required=True)
    p.add_argument("--merged", required=True)
    p.add_argument("--dtype", default="F32", choices=["F32", "BF16", "F16"])
    a = ap.parse_args()
    torch.set_grad_enabled(False)
    return {"make-adapter": make_adapter, "compare": compare, "compare-logits": compare_logits,
            "check-peft": check_peft, "check-merged": check_merged}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
