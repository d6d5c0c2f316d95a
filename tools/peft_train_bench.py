#!/usr/bin/env python3
"""peft_train_bench.py — the HF transformers + PEFT peer of `your_ai train --device cuda`
for the GPU LoRA training benchmark (issue 6, acceptance 4; bench/cuda_train_bench.sh).

One process per configuration. The peer is what a performance-minded user writes:

- `LlamaConfig` with exactly the numbers of our `init-model --preset` shape (src/model/presets.c,
  copied into PRESETS below) or of a config.json (`--config`, e.g. the one init-model wrote):
  vocab 128256, rope_theta 5e5, llama3 rope scaling, tie_word_embeddings as the preset says;
  `AutoModelForCausalLM.from_config(..., dtype=bfloat16, attn_implementation="sdpa")` built
  directly on the GPU (a `torch.device("cuda")` context: no slow CPU init), then every weight
  re-drawn on the GPU (normal(0, 0.02), RMSNorm weights 1: transformers' _init_weights) so the
  numbers never depend on what a transformers version does or skips at init;
- PEFT `LoraConfig(r=16, lora_alpha=32, lora_dropout=0, target_modules=q,k,v,o,gate,up,down)`
  through `get_peft_model` (PEFT's default autocast_adapter_dtype keeps the adapters in fp32);
- `torch.optim.AdamW(fused=True)` (lr 5e-5, wd 0.01), `clip_grad_norm_(1.0)` as HF Trainer's
  default and our trainer's `--max-grad-norm 1.0`, `zero_grad(set_to_none=True)`;
- loss = `model(input_ids=ids, labels=ids).loss`: LlamaForCausalLM's shifted next-token CE over
  all B·T positions, random token ids (throughput does not depend on the values);
- `--recompute 1`: `gradient_checkpointing_enable(use_reentrant=False)` +
  `enable_input_require_grads()` (what PEFT's docs and prepare_model_for_kbit_training do);
- `--compile 1`: `torch.compile(model)` (default mode unless `--compile-mode`).

Timing: `--warmup` updates first (compilation happens there; their wall time is reported as
`warmup_s`), then `--steps` updates, each bracketed by torch.cuda.synchronize() + perf_counter.
tok/s = B·T·steps / their summed time. Memory: torch.cuda.max_memory_allocated and
max_memory_reserved over the whole run (warm-up included: the peak a user sees), and the same
two over the timed updates only.

FLOPs per token (model FLOPs: recomputation is not counted, as in MFU):
    F_tok = 4·N_mm + 6·N_lora + 7·L·T·h_attn
  N_mm   = matmul weights: L·(h·h_q + 2·h·h_kv + h_q·h + 3·h·f) + h·V  (h_q = n_h·d, h_kv = n_kv·d;
           the lm_head once, tied or not; the input-embedding gather does no FLOPs).
           Frozen weights: 2·N_mm forward + 2·N_mm for dx backward (no dW).
  N_lora = Σ r·(in + out) over the adapted linears (= the trainable parameters):
           2 forward + 2 dx + 2 dW (dA, dB) = 6 FLOPs per parameter.
  Attention, causal (a query sees (T+1)/2 keys on average, ≈ T/2): forward QKᵀ and PV =
           2 GEMMs × 2 FLOP/MAC × T/2 × h_attn = 2·T·h_attn per token per layer; backward = 2.5×
           forward (dQ, dK, dV, dP and the recomputed S of a flash kernel: 5 GEMMs vs 2), so
           attention = (1 + 2.5) · 2·L·T·h_attn = 7·L·T·h_attn, h_attn = n_h·d.
  % of the GEMM rate = tok/s · F_tok / (measured bf16 8192³ matmul rate, `--gemm-rate`).

Modes (one per process; only the first two import torch):
  --shape S [--config C] --batch B --seq T --steps N [--warmup W] --compile 0|1 --recompute 0|1
      [--compile-mode M] --json OUT.json        run the peer, write + print one JSON line
  --gemm-rate [--json OUT.json]                 bf16 8192³ torch.matmul TFLOP/s, median of 20
  --from-metrics OUT/logs/metrics.jsonl --shape S [--config C] --batch B --seq T --warmup W
      --label L --json OUT.json                 our run's metrics rows → the same JSON schema
  --stub --label L --shape S --rc RC --error-log LOG --json OUT.json
                                                a failed/killed configuration's row
  --summarize DIR                               the markdown table of DIR/*.json

Needs (peer modes): PyTorch ≥ 2.x with CUDA, transformers (4.4x or 5.x), peft.
"""
import argparse
import glob
import json
import math
import os
import statistics
import sys
import time

LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]

# Exactly src/model/presets.c (HF config.json key names).
PRESETS = {
    "tiny": dict(hidden_size=256, intermediate_size=688, num_hidden_layers=4, num_attention_heads=8,
                 num_key_value_heads=4, vocab_size=32000, max_position_embeddings=2048, rms_norm_eps=1e-5,
                 rope_theta=10000.0, rope_scaling=None, tie_word_embeddings=True, bos_token_id=1,
                 eos_token_id=2),
    "small": dict(hidden_size=512, intermediate_size=1376, num_hidden_layers=8, num_attention_heads=8,
                  num_key_value_heads=4, vocab_size=32000, max_position_embeddings=4096, rms_norm_eps=1e-5,
                  rope_theta=10000.0, rope_scaling=None, tie_word_embeddings=False, bos_token_id=1,
                  eos_token_id=2),
    "llama3-1b": dict(hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
                      num_key_value_heads=8, vocab_size=128256, max_position_embeddings=131072,
                      rms_norm_eps=1e-5, rope_theta=500000.0,
                      rope_scaling=dict(rope_type="llama3", factor=32.0, low_freq_factor=1.0,
                                        high_freq_factor=4.0, original_max_position_embeddings=8192),
                      tie_word_embeddings=True, bos_token_id=128000, eos_token_id=128001),
    "llama3-8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                      num_key_value_heads=8, vocab_size=128256, max_position_embeddings=131072,
                      rms_norm_eps=1e-5, rope_theta=500000.0,
                      rope_scaling=dict(rope_type="llama3", factor=8.0, low_freq_factor=1.0,
                                        high_freq_factor=4.0, original_max_position_embeddings=8192),
                      tie_word_embeddings=False, bos_token_id=128000, eos_token_id=128001),
}
DIM_KEYS = ["hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
            "num_key_value_heads", "head_dim", "vocab_size", "tie_word_embeddings"]

GIB = float(1 << 30)


def load_dims(shape, config_path):
    """The model's numbers: the preset's, or a config.json's (legacy rope_theta/rope_scaling or
    transformers-5 rope_parameters), normalised to PRESETS' keys."""
    if config_path:
        with open(config_path, encoding="utf-8") as f:
            c = json.load(f)
        rp = c.get("rope_parameters")
        if isinstance(rp, dict) and "rope_theta" in rp:
            theta = float(rp["rope_theta"])
            rs = {k: v for k, v in rp.items() if k != "rope_theta"}
        else:
            theta = float(c.get("rope_theta", 10000.0))
            rs = c.get("rope_scaling")
        if rs:
            rs = dict(rs)
            rs["rope_type"] = rs.pop("type", rs.get("rope_type", "default"))
            if rs["rope_type"] == "default":
                rs = None
        d = {k: c[k] for k in PRESETS["tiny"] if k in c and k not in ("rope_theta", "rope_scaling")}
        d.update(rope_theta=theta, rope_scaling=rs or None)
        if isinstance(d.get("eos_token_id"), list):
            d["eos_token_id"] = d["eos_token_id"][0]
        d.setdefault("tie_word_embeddings", False)
        d.setdefault("num_key_value_heads", d["num_attention_heads"])
        if c.get("head_dim"):
            d["head_dim"] = int(c["head_dim"])
    else:
        if shape not in PRESETS:
            raise SystemExit("peft_train_bench: unknown --shape %r (expected one of %s, or --config)"
                             % (shape, ", ".join(PRESETS)))
        d = dict(PRESETS[shape])
    d.setdefault("head_dim", d["hidden_size"] // d["num_attention_heads"])
    return d


def flops_per_token(d, seq, rank):
    """F_tok = 4·N_mm + 6·N_lora + 7·L·T·h_attn (module docstring); also returns the parts."""
    h, f, L = d["hidden_size"], d["intermediate_size"], d["num_hidden_layers"]
    hq = d["num_attention_heads"] * d["head_dim"]
    hkv = d["num_key_value_heads"] * d["head_dim"]
    n_mm = L * (h * hq + 2 * h * hkv + hq * h + 3 * h * f) + h * d["vocab_size"]
    n_lora = L * rank * ((h + hq) + 2 * (h + hkv) + (hq + h) + 2 * (h + f) + (f + h))
    attn = 7 * L * seq * hq
    return {"flops_per_token": 4 * n_mm + 6 * n_lora + attn, "n_matmul_params": n_mm,
            "n_lora_params": n_lora, "attn_flops_per_token": attn}


def write_result(res, path):
    line = json.dumps(res, sort_keys=True)
    if path:
        d = os.path.dirname(os.path.abspath(path))
        os.makedirs(d, exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(line + "\n")
        os.replace(tmp, path)
    print(line, flush=True)


# ----------------------------------------------------------------------------- the peer

def make_hf_config(d, LlamaConfig):
    """LlamaConfig with d's numbers in whichever RoPE form this transformers speaks; raises if
    the built config does not carry them back (a silently ignored kwarg would bench a
    different model)."""
    common = dict(vocab_size=d["vocab_size"], hidden_size=d["hidden_size"],
                  intermediate_size=d["intermediate_size"], num_hidden_layers=d["num_hidden_layers"],
                  num_attention_heads=d["num_attention_heads"], num_key_value_heads=d["num_key_value_heads"],
                  head_dim=d["head_dim"], max_position_embeddings=d["max_position_embeddings"],
                  rms_norm_eps=d["rms_norm_eps"], tie_word_embeddings=bool(d["tie_word_embeddings"]),
                  bos_token_id=d.get("bos_token_id"), eos_token_id=d.get("eos_token_id"),
                  hidden_act="silu", attention_bias=False, mlp_bias=False, attention_dropout=0.0,
                  use_cache=False)
    rs = d.get("rope_scaling")
    if hasattr(LlamaConfig(), "rope_parameters"):  # transformers >= 5
        rp = dict(rs) if rs else {"rope_type": "default"}
        rp["rope_theta"] = d["rope_theta"]
        cfg = LlamaConfig(**common, rope_parameters=rp)
        got = dict(cfg.rope_parameters)
        got_theta = float(got.get("rope_theta"))
    else:
        cfg = LlamaConfig(**common, rope_theta=d["rope_theta"], rope_scaling=dict(rs) if rs else None)
        got = dict(cfg.rope_scaling or {"rope_type": "default"})
        got_theta = float(cfg.rope_theta)
    got_type = got.get("rope_type", got.get("type", "default"))
    want_type = rs["rope_type"] if rs else "default"
    if got_type != want_type or got_theta != float(d["rope_theta"]):
        raise RuntimeError("LlamaConfig dropped the RoPE settings: wanted %s theta %g, got %r theta %g"
                           % (want_type, d["rope_theta"], got, got_theta))
    for k in ("factor", "low_freq_factor", "high_freq_factor", "original_max_position_embeddings"):
        if rs and k in rs and float(got.get(k, -1)) != float(rs[k]):
            raise RuntimeError("LlamaConfig rope %s = %r, wanted %r" % (k, got.get(k), rs[k]))
    if bool(cfg.tie_word_embeddings) != bool(d["tie_word_embeddings"]):
        raise RuntimeError("LlamaConfig tie_word_embeddings did not stick")
    return cfg, dict(got, rope_theta=got_theta)


def build_model(d, seed, torch):
    import transformers
    from transformers import AutoModelForCausalLM, LlamaConfig
    cfg, rope = make_hf_config(d, LlamaConfig)
    bf16 = torch.bfloat16
    with torch.device("cuda"):
        try:
            model = AutoModelForCausalLM.from_config(cfg, dtype=bf16, attn_implementation="sdpa")
        except TypeError:  # transformers < 4.56 spells it torch_dtype
            model = AutoModelForCausalLM.from_config(cfg, torch_dtype=bf16, attn_implementation="sdpa")
    dev = next(model.parameters()).device.type
    if dev == "meta":
        # Built without storage (a transformers that inits on the meta device): give every tensor
        # GPU storage; the weights are re-drawn below and RoPE's buffers rebuilt from the config.
        model = model.to_empty(device="cuda")
        rot = getattr(getattr(model, "model", None), "rotary_emb", None)
        if rot is None:
            raise RuntimeError("model built on the meta device and no model.rotary_emb to rebuild")
        model.model.rotary_emb = type(rot)(config=model.config, device=torch.device("cuda"))
        if bool(d["tie_word_embeddings"]):
            model.tie_weights()
    elif dev != "cuda":
        model = model.cuda()
    if any(p.dtype != bf16 for p in model.parameters()):
        model = model.to(bf16)
    attn = getattr(model.config, "_attn_implementation", None)
    if attn != "sdpa":
        raise RuntimeError("attention implementation is %r, not sdpa" % (attn,))
    # Re-draw every weight on the GPU: normal(0, 0.02), RMSNorm weights 1 (transformers'
    # _init_weights), whatever this transformers version did at construction.
    g = torch.Generator(device="cuda").manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                p.fill_(1.0)
            else:
                p.normal_(0.0, 0.02, generator=g)
    if bool(d["tie_word_embeddings"]) and model.get_output_embeddings().weight is not model.get_input_embeddings().weight:
        raise RuntimeError("tie_word_embeddings is set but lm_head is not the embedding")
    return model, rope, transformers.__version__


def run_peer(a):
    import torch
    if not torch.cuda.is_available():
        raise RuntimeError("no CUDA device visible to PyTorch %s" % torch.__version__)
    import peft
    from peft import LoraConfig, get_peft_model

    d = load_dims(a.shape, a.config)
    torch.manual_seed(a.seed)
    dev = torch.device("cuda")
    t_build = time.perf_counter()
    model, rope, tf_version = build_model(d, a.seed, torch)
    n_total = sum(p.numel() for p in model.parameters())
    if a.recompute:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        model.enable_input_require_grads()
    lcfg = LoraConfig(r=a.rank, lora_alpha=a.alpha, lora_dropout=0.0, target_modules=LORA_TARGETS,
                      bias="none", task_type="CAUSAL_LM")
    model = get_peft_model(model, lcfg)
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    n_train = sum(p.numel() for p in params)
    lora_dtypes = sorted({str(p.dtype).replace("torch.", "") for p in params})
    opt = torch.optim.AdamW(params, lr=5e-5, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, fused=True)
    fwd = model
    if a.compile:
        fwd = torch.compile(model, mode=a.compile_mode) if a.compile_mode else torch.compile(model)
    torch.cuda.synchronize()
    build_s = time.perf_counter() - t_build

    g = torch.Generator(device=dev).manual_seed(a.seed)
    n = a.warmup + a.steps
    batches = [torch.randint(0, d["vocab_size"], (a.batch, a.seq), device=dev, generator=g) for _ in range(n)]

    def update(ids):
        out = fwd(input_ids=ids, labels=ids)
        loss = out.loss
        del out  # the logits go as soon as autograd no longer needs them
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss.detach(), gn.detach()

    warm_s, step_s, losses, norms = [], [], [], []
    peak_alloc = peak_res = 0
    for i in range(n):
        if i == a.warmup:
            # Whole-run peaks so far (warm-up), then count the timed updates' peaks on their own.
            peak_alloc = torch.cuda.max_memory_allocated()
            peak_res = torch.cuda.max_memory_reserved()
            torch.cuda.reset_peak_memory_stats()
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        loss, gn = update(batches[i])
        torch.cuda.synchronize()
        (warm_s if i < a.warmup else step_s).append(time.perf_counter() - t0)
        losses.append(loss)
        norms.append(gn)
    timed_alloc = torch.cuda.max_memory_allocated()
    timed_res = torch.cuda.max_memory_reserved()
    losses = [float(x) for x in losses]
    norms = [float(x) for x in norms]
    if not all(math.isfinite(x) for x in losses):
        raise RuntimeError("non-finite loss: %r" % losses)
    fl = flops_per_token(d, a.seq, a.rank)
    if n_train != fl["n_lora_params"]:
        print("peft_train_bench: warning: %d trainable parameters, the FLOP model counts %d"
              % (n_train, fl["n_lora_params"]), file=sys.stderr)
    tok = a.batch * a.seq * a.steps
    props = torch.cuda.get_device_properties(0)
    return dict(
        kind="peer", label=a.label or ("peer-%s%s" % ("compiled" if a.compile else "eager",
                                                       "-recompute" if a.recompute else "")),
        shape=a.shape, batch=a.batch, seq=a.seq, rank=a.rank, alpha=a.alpha,
        compile=bool(a.compile), compile_mode=a.compile_mode or ("default" if a.compile else None),
        recompute=bool(a.recompute), warmup=a.warmup, steps=a.steps,
        tok_per_s=tok / sum(step_s), tok_per_s_median_step=a.batch * a.seq / statistics.median(step_s),
        step_s=[round(t, 5) for t in step_s], warmup_s=[round(t, 3) for t in warm_s],
        build_s=round(build_s, 3), loss=[round(x, 5) for x in losses], grad_norm=[round(x, 5) for x in norms],
        peak_alloc_bytes=max(peak_alloc, timed_alloc), peak_reserved_bytes=max(peak_res, timed_res),
        timed_peak_alloc_bytes=timed_alloc, timed_peak_reserved_bytes=timed_res,
        params=n_total, trainable=n_train, lora_dtype=lora_dtypes, rope=rope,
        dims={k: d[k] for k in DIM_KEYS}, **fl,
        versions=dict(torch=torch.__version__, cuda=torch.version.cuda, transformers=tf_version,
                      peft=peft.__version__),
        device=dict(name=props.name, total_memory_bytes=props.total_memory, sm_count=props.multi_processor_count),
        float32_matmul_precision=torch.get_float32_matmul_precision(),
    )


def run_gemm(a):
    import torch
    if not torch.cuda.is_available():
        raise RuntimeError("no CUDA device visible to PyTorch %s" % torch.__version__)
    n = a.gemm_n
    g = torch.Generator(device="cuda").manual_seed(a.seed)
    # Random operands (never zeros: they can run faster), 2 × 128 MiB: bigger than L2.
    x = torch.randn(n, n, device="cuda", dtype=torch.bfloat16, generator=g)
    y = torch.randn(n, n, device="cuda", dtype=torch.bfloat16, generator=g)
    z = torch.empty(n, n, device="cuda", dtype=torch.bfloat16)
    for _ in range(10):
        torch.matmul(x, y, out=z)
    torch.cuda.synchronize()
    ms = []
    for _ in range(a.gemm_reps):
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        torch.matmul(x, y, out=z)
        e1.record()
        e1.synchronize()
        ms.append(e0.elapsed_time(e1))
    if not torch.isfinite(z.float().abs().sum()):
        raise RuntimeError("GEMM produced non-finite values")
    rate = [2.0 * n ** 3 / (t * 1e-3) / 1e12 for t in ms]
    props = torch.cuda.get_device_properties(0)
    return dict(kind="gemm", label="gemm", n=n, reps=a.gemm_reps, tflops_median=statistics.median(rate),
                tflops_min=min(rate), tflops_max=max(rate), ms=[round(t, 4) for t in ms],
                versions=dict(torch=torch.__version__, cuda=torch.version.cuda),
                device=dict(name=props.name, total_memory_bytes=props.total_memory))


# ----------------------------------------------------------------------------- ours, failures

def from_metrics(a):
    """Our run's OUT/logs/metrics.jsonl → the peer's schema. Row k (split train, --log-every 1)
    has elapsed = seconds since the first update began, tok_per_s = tokens since the previous
    row / the time since it, gpu_bytes = the device arena. The first --warmup rows are
    warm-up, as on the peer."""
    rows = []
    with open(a.from_metrics, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line)
                if r.get("split") == "train":
                    rows.append(r)
    if len(rows) < a.warmup + 1:
        raise RuntimeError("%s: %d train rows, need more than --warmup %d" % (a.from_metrics, len(rows), a.warmup))
    el = [float(r["elapsed"]) for r in rows]
    dt = [el[0]] + [el[i] - el[i - 1] for i in range(1, len(el))]
    timed = range(a.warmup, len(rows))
    tokens = sum(float(rows[i]["tok_per_s"]) * dt[i] for i in timed)
    t = sum(dt[i] for i in timed)
    step_s = [dt[i] for i in timed]
    peaks = [int(r["gpu_bytes"]) for r in rows if r.get("gpu_bytes") is not None]
    d = load_dims(a.shape, a.config)
    fl = flops_per_token(d, a.seq, a.rank)
    losses = [r.get("total") for r in rows]
    return dict(
        kind="ours", label=a.label or "ours", shape=a.shape, batch=a.batch, seq=a.seq, rank=a.rank,
        recompute=a.recompute_name, warmup=a.warmup, steps=len(step_s),
        tok_per_s=tokens / t, tok_per_s_nominal=a.batch * a.seq * len(step_s) / t,
        tok_per_s_median_step=a.batch * a.seq / statistics.median(step_s),
        step_s=[round(x, 5) for x in step_s], warmup_s=[round(dt[i], 3) for i in range(a.warmup)],
        loss=losses, grad_norm=[r.get("grad_norm") for r in rows],
        peak_alloc_bytes=max(peaks) if peaks else None, peak_reserved_bytes=max(peaks) if peaks else None,
        dims={k: d[k] for k in DIM_KEYS}, **fl)


def stub(a):
    tail = ""
    if a.error_log and os.path.exists(a.error_log):
        with open(a.error_log, encoding="utf-8", errors="replace") as f:
            lines = [l.rstrip() for l in f if l.strip()]
        tail = " | ".join(lines[-3:])[-400:]
    why = {"skip": "skipped: the script's time budget (BUDGET) was spent",
           "124": "timed out (exit 124)",
           "137": "killed (exit 137: SIGKILL, from timeout or the OOM killer)"}.get(a.rc, "exit %s" % a.rc)
    return dict(kind=a.stub_kind, label=a.label, shape=a.shape, batch=a.batch, seq=a.seq,
                error=why if a.rc == "skip" else "%s: %s" % (why, tail or "(no output)"))


# ----------------------------------------------------------------------------- the table

def fmt(x, spec, none="–"):
    return none if x is None else format(x, spec)


def summarize(dir_):
    res = []
    for p in sorted(glob.glob(os.path.join(dir_, "*.json"))):
        try:
            with open(p, encoding="utf-8") as f:
                r = json.load(f)
        except (OSError, ValueError) as e:
            print("peft_train_bench: skipping %s: %s" % (p, e), file=sys.stderr)
            continue
        smi = p[:-5] + ".smi"  # bench/cuda_train_bench.sh: "peak_mib baseline_mib" from nvidia-smi
        if os.path.exists(smi):
            try:
                pk, base = open(smi).read().split()[:2]
                r["smi_peak_bytes"] = (float(pk) - float(base)) * (1 << 20)
            except ValueError:
                pass
        r["_file"] = os.path.basename(p)
        res.append(r)
    gemm = next((r for r in res if r.get("kind") == "gemm" and "tflops_median" in r), None)
    rate = gemm["tflops_median"] * 1e12 if gemm else None
    out = []
    if gemm:
        out.append("bf16 GEMM %d³ (torch.matmul): median %.0f TFLOP/s (min %.0f, max %.0f) on %s"
                   % (gemm["n"], gemm["tflops_median"], gemm["tflops_min"], gemm["tflops_max"],
                      gemm["device"]["name"]))
    else:
        out.append("bf16 GEMM rate: not measured (no gemm row): the % column is empty")
    vers = next((r["versions"] for r in res if r.get("kind") == "peer" and "versions" in r), None)
    if vers:
        out.append("peer: torch %s (CUDA %s), transformers %s, peft %s"
                   % (vers["torch"], vers["cuda"], vers["transformers"], vers["peft"]))
    groups = []  # (shape, batch) in the order first seen
    for r in res:
        key = (r.get("shape"), r.get("batch"))
        if r.get("kind") in ("ours", "peer") and key[0] and key not in groups:
            groups.append(key)
    order = list(PRESETS)  # smallest shape first, then any other by name
    groups.sort(key=lambda g: (order.index(g[0]) if g[0] in order else len(order), g[0], g[1] or 0))
    verdicts = []
    for shape, batch in groups:
        rows = [r for r in res if (r.get("shape"), r.get("batch")) == (shape, batch) and r.get("kind") in ("ours", "peer")]
        # ours first, then the peers: compiled before eager, no recompute before recompute
        rows.sort(key=lambda r: (r["kind"] != "ours", "eager" in str(r.get("label")),
                                 "recompute" in str(r.get("label")) and "recompute none" not in str(r.get("label"))))
        ok = [r for r in rows if "error" not in r]
        # The reference: the compiled peer without recompute (the goal), else the best peer.
        ref = next((r for r in ok if r["kind"] == "peer" and r.get("compile") and not r.get("recompute")), None)
        if ref is None:
            peers = [r for r in ok if r["kind"] == "peer"]
            ref = max(peers, key=lambda r: r["tok_per_s"]) if peers else None

        def mem(r):  # like-for-like device memory: nvidia-smi when both have it, else the allocator's
            if ref is not None and r.get("smi_peak_bytes") and ref.get("smi_peak_bytes"):
                return r["smi_peak_bytes"], ref["smi_peak_bytes"], "nvidia-smi"
            if ref is not None and r.get("peak_reserved_bytes") and ref.get("peak_reserved_bytes"):
                return r["peak_reserved_bytes"], ref["peak_reserved_bytes"], "reserved"
            return None, None, None

        ref_name = ref["label"] if ref else "none"
        out.append("")
        out.append("### %s, B %s × T %s (ratios vs %s)" % (shape, batch, rows[0].get("seq"), ref_name))
        out.append("")
        out.append("| config | tok/s | × ref | % of GEMM rate | peak alloc GiB | peak reserved GiB | "
                   "nvidia-smi peak GiB | mem × ref | warm-up s | step s (median) | loss first→last |")
        out.append("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            if "error" in r:
                at = ""
                if r.get("peak_reserved_bytes"):
                    at = " (peak alloc %.1f / reserved %.1f GiB)" % (r.get("peak_alloc_bytes", 0) / GIB,
                                                                   r["peak_reserved_bytes"] / GIB)
                err = str(r["error"]).replace("|", "/")[:300]
                out.append("| %s | %s%s%s |  |  |  |  |  |  |  |  |  |"
                           % (r.get("label"), "" if err.startswith("skipped") else "failed: ", err, at))
                continue
            tps = r["tok_per_s"]
            pct = 100.0 * tps * r["flops_per_token"] / rate if rate else None
            m, mref, how = mem(r)
            loss = [x for x in (r.get("loss") or []) if x is not None]
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["label"], fmt(tps, ",.0f"), fmt(tps / ref["tok_per_s"] if ref else None, ".2f") + "×",
                fmt(pct, ".1f"), fmt(r.get("peak_alloc_bytes") and r["peak_alloc_bytes"] / GIB, ".1f"),
                fmt(r.get("peak_reserved_bytes") and r["peak_reserved_bytes"] / GIB, ".1f"),
                fmt(r.get("smi_peak_bytes") and r["smi_peak_bytes"] / GIB, ".1f"),
                (fmt(m / mref, ".2f") + "× (%s)" % how) if m else "–",
                fmt(sum(r.get("warmup_s") or []) or None, ".1f"),
                fmt(statistics.median(r["step_s"]) if r.get("step_s") else None, ".3f"),
                ("%.3f→%.3f" % (loss[0], loss[-1])) if loss else "–"))
        if ref is not None:
            for r in ok:
                if r["kind"] != "ours":
                    continue
                m, mref, how = mem(r)
                sp = r["tok_per_s"] / ref["tok_per_s"]
                mr = m / mref if m else None
                met = sp >= 1.25 and mr is not None and mr <= 0.8
                verdicts.append("%s B%s %s: %.2f× the tok/s of %s at %s its peak memory (%s): goal (≥ 1.25×, ≤ 0.8×) %s"
                                % (shape, batch, r["label"], sp, ref_name, fmt(mr, ".2f") + "×",
                                   how or "no memory number", "MET" if met else "not met"))
                if r.get("tok_per_s_nominal") and r["tok_per_s"] < 0.99 * r["tok_per_s_nominal"]:
                    verdicts.append("%s B%s %s: WARNING counted tokens are %.1f%% of B·T per update: rows not full"
                                    % (shape, batch, r["label"], 100.0 * r["tok_per_s"] / r["tok_per_s_nominal"]))
        fl = next((r for r in ok), None)
        if fl:
            out.append("")
            out.append("F_tok = 4·%d + 6·%d + %d = %.3f GFLOP/token (4·N_mm + 6·N_lora + 7·L·T·h_attn)"
                       % (fl["n_matmul_params"], fl["n_lora_params"], fl["attn_flops_per_token"],
                          fl["flops_per_token"] / 1e9))
    if verdicts:
        out.append("")
        out.extend("- " + v for v in verdicts)
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shape", default="llama3-1b", help="preset name (src/model/presets.c); also the label")
    ap.add_argument("--config", help="an HF config.json to take the numbers from instead of the preset")
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--seq", type=int, default=2048)
    ap.add_argument("--steps", type=int, default=8, help="timed updates")
    ap.add_argument("--warmup", type=int, default=3, help="untimed updates first (compilation)")
    ap.add_argument("--rank", type=int, default=16)
    ap.add_argument("--alpha", type=float, default=32.0)
    ap.add_argument("--compile", type=int, choices=(0, 1), default=0)
    ap.add_argument("--compile-mode", default=None, help="torch.compile mode (default: its default)")
    ap.add_argument("--recompute", type=int, choices=(0, 1), default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--label", default=None)
    ap.add_argument("--json", default=None, help="also write the JSON line to this file")
    ap.add_argument("--gemm-rate", action="store_true")
    ap.add_argument("--gemm-n", type=int, default=8192)
    ap.add_argument("--gemm-reps", type=int, default=20)
    ap.add_argument("--from-metrics", default=None)
    ap.add_argument("--recompute-name", default="none", help="--from-metrics: our --recompute value")
    ap.add_argument("--stub", action="store_true")
    ap.add_argument("--stub-kind", default="peer")
    ap.add_argument("--rc", default="?")
    ap.add_argument("--error-log", default=None)
    ap.add_argument("--summarize", default=None, metavar="DIR")
    a = ap.parse_args()

    if a.summarize:
        print(summarize(a.summarize))
        return 0
    if a.stub:
        write_result(stub(a), a.json)
        return 0
    if a.from_metrics:
        write_result(from_metrics(a), a.json)
        return 0
    if a.steps < 1 or a.warmup < 0:
        ap.error("--steps must be >= 1 and --warmup >= 0")
    try:
        res = run_gemm(a) if a.gemm_rate else run_peer(a)
    except Exception as e:  # one JSON row either way, so the table shows why
        res = dict(kind="gemm" if a.gemm_rate else "peer", label=a.label or ("gemm" if a.gemm_rate else "peer"),
                   shape=None if a.gemm_rate else a.shape, batch=a.batch, seq=a.seq,
                   error="%s: %s" % (type(e).__name__, str(e).splitlines()[0][:300] if str(e) else ""))
        try:
            import torch
            if torch.cuda.is_available():
                res["peak_alloc_bytes"] = torch.cuda.max_memory_allocated()
                res["peak_reserved_bytes"] = torch.cuda.max_memory_reserved()
        except Exception:
            pass
        write_result(res, a.json)
        import traceback
        traceback.print_exc()
        return 1
    write_result(res, a.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
