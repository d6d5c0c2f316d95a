#!/usr/bin/env python3
"""peft_interop_check.py — our PEFT adapter and merged export against the real
libraries (run where transformers + peft are installed, e.g. the GPU machine;
SPEC §10.1, §10.2, issue 7 acceptance 1):

    tools/peft_interop_check.py BIN BASE_DIR ADAPTER_DIR MERGED_DIR [--ids N] [--seed S]

  BIN          the your_ai binary
  BASE_DIR     the base HF model directory
  ADAPTER_DIR  an adapter as `your_ai export --format peft` (or a checkpoint) wrote it
  MERGED_DIR   `your_ai export --format merged` of the same base + adapter

Checks, each on the same random ids (CPU, fp32 compute, eager attention, TF32 off):
  1. peft.PeftModel.from_pretrained(base, ADAPTER_DIR) loads every adapter tensor
     (no missing/unexpected LoRA keys) and its logits equal `your_ai forward
     --model BASE_DIR --adapter ADAPTER_DIR`;
  2. the adapter really changes the model: with PEFT's adapter disabled the logits
     move by much more than the tolerance (a silently ignored adapter fails);
  3. transformers loads MERGED_DIR (AutoModelForCausalLM) and its logits equal
     `your_ai forward --model MERGED_DIR`, and equal PEFT's base + adapter logits.
Tolerance: max|a−b|/max|b| ≤ 1e-4 when the stored weights are float32; 1e-2 for
bf16/f16 storage (the merged model rounds W + ΔW once to bf16: SPEC §10.2).
Prints one line per check; exits 1 on any mismatch, 2 on usage errors.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from transformers import AutoModelForCausalLM

try:
    from peft import PeftModel
except ImportError as e:  # pragma: no cover - reported, not hidden
    print(f"FAIL peft is not installed: {e}")
    sys.exit(1)


def read_logits(path):
    """`your_ai forward` output: one F32 tensor `logits` [T, V] in a safetensors file."""
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    info = header["logits"]
    assert info["dtype"] == "F32", info
    b, e = info["data_offsets"]
    return np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"]).astype(np.float64)


def ours(binary, model_dir, ids, adapter=None):
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "logits.safetensors")
        cmd = [binary, "forward", "--model", model_dir, "--ids", " ".join(map(str, ids)), "--out", out]
        if adapter:
            cmd += ["--adapter", adapter]
        subprocess.run(cmd, check=True)
        return read_logits(out)


def load_hf(model_dir):
    kwargs = {"attn_implementation": "eager"}
    try:  # transformers ≥ 4.56 / 5.x spell it dtype; older versions torch_dtype
        model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32, **kwargs)
    except TypeError:
        model = AutoModelForCausalLM.from_pretrained(model_dir, torch_dtype=torch.float32, **kwargs)
    model.eval()
    return model


def logits_of(model, ids):
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].double().numpy()


def rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary")
    ap.add_argument("base")
    ap.add_argument("adapter")
    ap.add_argument("merged")
    ap.add_argument("--ids", type=int, default=24, help="sequence length (default 24)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_grad_enabled(False)

    cfg = json.load(open(os.path.join(a.base, "config.json")))
    acfg = json.load(open(os.path.join(a.adapter, "adapter_config.json")))
    stored = cfg.get("torch_dtype") or cfg.get("dtype") or "float32"
    tol = 1e-4 if stored == "float32" else 1e-2
    ids = np.random.default_rng(a.seed).integers(0, cfg["vocab_size"], size=a.ids).tolist()
    failed = False

    def report(ok, msg):
        nonlocal failed
        failed |= not ok
        print(f"{'ok  ' if ok else 'FAIL'} {msg}")

    # 1. PEFT loads our adapter; its logits equal ours.
    base = load_hf(a.base)
    with open(os.path.join(a.adapter, "adapter_model.safetensors"), "rb") as f:
        header = json.loads(f.read(int.from_bytes(f.read(8), "little")))
    n_expected = len([k for k in header if k != "__metadata__"])
    peft_model = PeftModel.from_pretrained(base, a.adapter)
    peft_model.eval()
    lora_params = {k: v for k, v in peft_model.state_dict().items() if "lora_" in k}
    zero_b = [k for k, v in lora_params.items() if "lora_B" in k and float(v.abs().max()) == 0.0]
    r = acfg["r"]
    report(len(lora_params) == n_expected and not zero_b,
           f"PEFT loaded {len(lora_params)} LoRA tensors of the file's {n_expected} (r={r}, alpha={acfg['lora_alpha']}, "
           f"targets {acfg['target_modules']}); all-zero lora_B: {len(zero_b)}")
    p_logits = logits_of(peft_model, ids)
    o_logits = ours(a.binary, a.base, ids, adapter=a.adapter)
    e = rel(o_logits, p_logits)
    report(e <= tol, f"PeftModel vs your_ai forward --adapter: max rel err {e:.3e} (tol {tol:g}), "
                     f"argmax agree {np.mean(o_logits.argmax(-1) == p_logits.argmax(-1)):.3f}")

    # 2. The adapter matters (PEFT did not silently skip it).
    with peft_model.disable_adapter():
        b_logits = logits_of(peft_model, ids)
    moved = rel(p_logits, b_logits)
    report(moved > 10 * tol, f"adapter moves PEFT's logits by {moved:.3e} (must exceed {10 * tol:g})")
    del peft_model, base

    # 3. transformers loads the merged model; its logits equal ours and PEFT's.
    merged = load_hf(a.merged)
    m_logits = logits_of(merged, ids)
    om_logits = ours(a.binary, a.merged, ids)
    mcfg = json.load(open(os.path.join(a.merged, "config.json")))
    # an f32 merge is exact up to fp32 rounding whatever the base's dtype; a bf16/f16 merge rounds W' once
    mtol = 1e-4 if (mcfg.get("torch_dtype") or mcfg.get("dtype") or "float32") == "float32" else 1e-2
    e = rel(om_logits, m_logits)
    report(e <= mtol, f"merged: transformers vs your_ai forward: max rel err {e:.3e} (tol {mtol:g})")
    e = rel(m_logits, p_logits)
    report(e <= mtol, f"merged (transformers) vs PEFT base+adapter: max rel err {e:.3e} (tol {mtol:g})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
