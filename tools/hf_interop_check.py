#!/usr/bin/env python3
"""Interop check against HuggingFace transformers (run where transformers is installed,
e.g. the GPU machine): for each model directory written by `your_ai init-model`,
load it with AutoModelForCausalLM.from_pretrained, compute logits for fixed ids, and
compare with `your_ai forward` on the same ids.

    tools/hf_interop_check.py BIN MODEL_DIR [MODEL_DIR ...]

Prints one line per model: max |ours - hf| / max |hf|, and exits 1 if any exceeds the
tolerance (1e-4 for f32-stored weights: transformers' fp32 matmuls may use TF32 on GPU,
so the comparison runs on the CPU; 1e-2 for bf16/f16-stored weights compared in fp32).
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch
from transformers import AutoModelForCausalLM


def read_logits(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    info = header["logits"]
    assert info["dtype"] == "F32", info
    b, e = info["data_offsets"]
    return np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"])


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    binary, dirs = sys.argv[1], sys.argv[2:]
    torch.backends.cuda.matmul.allow_tf32 = False
    worst_fail = False
    for d in dirs:
        cfg = json.load(open(os.path.join(d, "config.json")))
        vocab = cfg["vocab_size"]
        rng = np.random.default_rng(0)
        ids = rng.integers(0, vocab, size=24).tolist()
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "logits.safetensors")
            subprocess.run([binary, "forward", "--model", d, "--ids", " ".join(map(str, ids)), "--out", out], check=True)
            ours = read_logits(out)
        model = AutoModelForCausalLM.from_pretrained(d, torch_dtype=torch.float32, attn_implementation="eager")
        model.eval()
        with torch.no_grad():
            hf = model(torch.tensor([ids])).logits[0].float().numpy()
        err = float(np.abs(ours - hf).max() / np.abs(hf).max())
        tol = 1e-4 if cfg.get("torch_dtype", "float32") == "float32" else 1e-2
        ok = err <= tol
        worst_fail |= not ok
        print(f"{'ok  ' if ok else 'FAIL'} {d}: model_type={cfg['model_type']} dtype={cfg.get('torch_dtype')} "
              f"max rel err {err:.3e} (tol {tol:g}), argmax agree {np.mean(ours.argmax(-1) == hf.argmax(-1)):.3f}")
    return 1 if worst_fail else 0


if __name__ == "__main__":
    sys.exit(main())
