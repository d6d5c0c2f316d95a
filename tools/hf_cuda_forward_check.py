#!/usr/bin/env python3
"""GPU logits parity (issue 6, acceptance 2): `your_ai forward --device cuda` against
HuggingFace transformers' LlamaForCausalLM / Qwen2 / Mistral on the same random weights,
on the GPU. Run where transformers and a GPU are (the GPU machine; see
tests/cuda/run_infer_on_gpu.sh):

    tools/hf_cuda_forward_check.py BIN WORKDIR [--torch-ref tools/torch_llama_ref.py]

For each case a model directory is written, either by `BIN init-model --config`
(transformers' own init: normal(0, 0.02), flat logits) or by torch_llama_ref.py write
(variance-preserving weights: peaked attention and logits, so RoPE, the causal mask and
GQA errors show). Every model is stored in bf16, so all sides start from identical weights.
Logits of 64 random ids are compared, rel = max|a - b| / max|b| over [T, V]:

    ours_cuda vs hf_bf16   transformers in bf16 on the GPU (eager attention)
    ours_cuda vs hf_fp32   transformers in fp32 on the GPU, TF32 off
    ours_cpu  vs hf_fp32   our CPU graph (fp32), as in docs/INTEROP.md
    hf_bf16   vs hf_fp32   transformers' own bf16 error: the scale to judge ours by

Also greedy decoding, 32 tokens: `BIN generate --device cuda` vs transformers bf16
generate(do_sample=False) and vs our CPU (identical prefix length reported; bf16 runs
may part at near ties, so this is printed, not judged).
Exit 1 if ours_cuda vs hf_bf16 or vs hf_fp32 exceeds 2e-2 for any case.
"""
import json
import os
import subprocess
import sys

import numpy as np
import torch
from transformers import AutoModelForCausalLM

TOL = 2e-2
N_IDS = 64
N_GEN = 32

CASES = [
    # name, writer, config
    ("llama-gqa-init", "init-model", {
        "model_type": "llama", "hidden_size": 512, "intermediate_size": 1376, "num_hidden_layers": 4,
        "num_attention_heads": 8, "num_key_value_heads": 2, "vocab_size": 4096, "rms_norm_eps": 1e-5,
        "max_position_embeddings": 1024, "hidden_act": "silu", "tie_word_embeddings": False}),
    ("llama3-rope-sharp", "torch-ref", {
        "model_type": "llama", "hidden_size": 256, "intermediate_size": 640, "num_hidden_layers": 3,
        "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 2048, "rms_norm_eps": 1e-5,
        "max_position_embeddings": 1024, "rope_theta": 500000.0,
        "rope_scaling": {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 64}}),
    ("qwen2-bias-tied-sharp", "torch-ref", {
        "model_type": "qwen2", "hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 1, "vocab_size": 1500, "rms_norm_eps": 1e-6,
        "max_position_embeddings": 1024, "rope_theta": 1000000.0, "tie_word_embeddings": True}),
    ("mistral-headdim128-sharp", "torch-ref", {
        "model_type": "mistral", "hidden_size": 256, "intermediate_size": 512, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 128, "vocab_size": 1000,
        "rms_norm_eps": 1e-5, "max_position_embeddings": 1024, "tie_word_embeddings": False}),
]


def read_logits(path):
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        header = json.loads(f.read(n))
        data = f.read()
    info = header["logits"]
    b, e = info["data_offsets"]
    return np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"]).astype(np.float64)


def rel(a, b):
    return float(np.abs(a - b).max() / np.abs(b).max())


def run(cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True)


def ours_forward(binary, d, ids, device, out):
    run([binary, "forward", "--model", d, "--ids", " ".join(map(str, ids)), "--out", out, "--device", device])
    return read_logits(out)


def ours_greedy(binary, d, ids, device):
    r = run([binary, "generate", "--model", d, "--ids", " ".join(map(str, ids)), "--print-ids", "--max-tokens",
             str(N_GEN), "--device", device])
    return [int(x) for x in r.stdout.split()], r.stderr.strip().splitlines()[-1]


def hf_model(d, dtype):
    m = AutoModelForCausalLM.from_pretrained(d, torch_dtype=dtype, attn_implementation="eager").to("cuda")
    m.eval()
    return m


def common_prefix(a, b):
    k = 0
    while k < min(len(a), len(b)) and a[k] == b[k]:
        k += 1
    return k


def main():
    args = [a for a in sys.argv[1:]]
    torch_ref = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_llama_ref.py")
    if "--torch-ref" in args:
        i = args.index("--torch-ref")
        torch_ref = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__)
        return 2
    binary, work = os.path.abspath(args[0]), args[1]
    os.makedirs(work, exist_ok=True)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    print(f"torch {torch.__version__}, transformers {__import__('transformers').__version__}, "
          f"{torch.cuda.get_device_name(0)}")
    failed = False
    for name, writer, cfg in CASES:
        d = os.path.join(work, name)
        if writer == "init-model":
            cfg_path = os.path.join(work, name + ".json")
            with open(cfg_path, "w") as fp:
                json.dump(cfg, fp)
            run([binary, "init-model", "--config", cfg_path, "--dtype", "bf16", "--seed", "7", "--out", d, "--force"])
        else:
            run([sys.executable, torch_ref, "write", "--config-json", json.dumps(cfg), "--out", d, "--dtype", "BF16",
                 "--seed", "7"])
        ids = np.random.default_rng(0).integers(0, cfg["vocab_size"], size=N_IDS).tolist()
        ours_cuda = ours_forward(binary, d, ids, "cuda", os.path.join(work, name + ".cuda.safetensors"))
        ours_cpu = ours_forward(binary, d, ids, "cpu", os.path.join(work, name + ".cpu.safetensors"))
        with torch.no_grad():
            x = torch.tensor([ids], device="cuda")
            m16 = hf_model(d, torch.bfloat16)
            hf16 = m16(x).logits[0].float().cpu().numpy().astype(np.float64)
            hf_gen = m16.generate(torch.tensor([ids[:8]], device="cuda"), max_new_tokens=N_GEN, do_sample=False,
                                  min_new_tokens=N_GEN, pad_token_id=0)[0, 8:].tolist()
            del m16
            m32 = hf_model(d, torch.float32)
            hf32 = m32(x).logits[0].cpu().numpy().astype(np.float64)
            del m32
            torch.cuda.empty_cache()
        r = {
            "ours_cuda vs hf_bf16": rel(ours_cuda, hf16),
            "ours_cuda vs hf_fp32": rel(ours_cuda, hf32),
            "ours_cpu vs hf_fp32": rel(ours_cpu, hf32),
            "hf_bf16 vs hf_fp32": rel(hf16, hf32),
        }
        ok = r["ours_cuda vs hf_bf16"] <= TOL and r["ours_cuda vs hf_fp32"] <= TOL
        failed |= not ok
        agree = np.mean(ours_cuda.argmax(-1) == hf32.argmax(-1))
        agree16 = np.mean(hf16.argmax(-1) == hf32.argmax(-1))
        print(f"{'ok  ' if ok else 'FAIL'} {name} ({writer}, bf16 weights, T={N_IDS}, max|logit| "
              f"{np.abs(hf32).max():.2f}): " + ", ".join(f"{k} {v:.3e}" for k, v in r.items()) +
              f"; argmax vs hf_fp32: ours_cuda {agree:.3f}, hf_bf16 {agree16:.3f}")
        g_cuda, speed = ours_greedy(binary, d, ids[:8], "cuda")
        g_cpu, _ = ours_greedy(binary, d, ids[:8], "cpu")
        print(f"     greedy {N_GEN} tokens: ours_cuda = hf_bf16 for the first {common_prefix(g_cuda, hf_gen)}, "
              f"ours_cuda = ours_cpu for the first {common_prefix(g_cuda, g_cpu)}, "
              f"hf_bf16 = ours_cpu for the first {common_prefix(hf_gen, g_cpu)}  [{speed}]")
    print("FAILED" if failed else f"all cases within {TOL:g}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
