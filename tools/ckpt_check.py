#!/usr/bin/env python3
"""ckpt_check.py — an independent reader for a your_ai checkpoint directory
(SPEC §9, §10.1), used by tests/train_infra/test_checkpoint.c.

Usage: ckpt_check.py CHECKPOINT_DIR → JSON on stdout: {"tensors": {name: sha256 of
the tensor's little-endian F32 bytes}} for adapter_model.safetensors and
optimizer.safetensors; exits non-zero with a message on any violation.

Parses the safetensors files with struct + json (the `safetensors` package is not
installed here) and checks what PEFT relies on: the header layout (8-byte length,
JSON, data offsets contiguous, in range, numel × 4 bytes), __metadata__
format = pt, F32 only, PEFT key names, A [r, in] / B [out, r] with r from
adapter_config.json, only layers_to_transform and target_modules adapted, the
required adapter_config.json fields, and optimizer keys = adapter keys +
.exp_avg/.exp_avg_sq with the same shapes. Recomputes MANIFEST.sha256 with hashlib.
"""
import hashlib
import json
import os
import re
import struct
import sys

KEY = re.compile(r"^base_model\.model\.model\.layers\.(\d+)\.(self_attn\.(q|k|v|o)_proj|mlp\.(gate|up|down)_proj)"
                 r"\.lora_(A|B)\.weight$")


def fail(msg):
    sys.exit("ckpt_check: " + msg)


def read_st(path):
    data = open(path, "rb").read()
    if len(data) < 8:
        fail(path + ": too short")
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n].decode("utf-8"))
    body = data[8 + n:]
    meta = header.pop("__metadata__", None)
    if not meta or meta.get("format") != "pt":
        fail(path + ": __metadata__.format must be 'pt'")
    tensors, spans = {}, []
    for name, info in header.items():
        if info["dtype"] != "F32":
            fail("%s: %s: dtype %s, expected F32" % (path, name, info["dtype"]))
        begin, end = info["data_offsets"]
        numel = 1
        for d in info["shape"]:
            numel *= d
        if end - begin != 4 * numel or end > len(body):
            fail("%s: %s: bad data_offsets" % (path, name))
        spans.append((begin, end))
        tensors[name] = (info["shape"], body[begin:end])
    spans.sort()
    pos = 0
    for b, e in spans:
        if b != pos:
            fail(path + ": data section has gaps or overlaps")
        pos = e
    if pos != len(body):
        fail(path + ": trailing bytes after the last tensor")
    return meta, tensors


def main():
    d = sys.argv[1]
    for line in open(os.path.join(d, "MANIFEST.sha256")):
        digest, name = line.rstrip("\n").split("  ", 1)
        if hashlib.sha256(open(os.path.join(d, name), "rb").read()).hexdigest() != digest:
            fail("%s: sha256 mismatch" % name)
    cfg = json.load(open(os.path.join(d, "adapter_config.json")))
    want = {"peft_type": "LORA", "task_type": "CAUSAL_LM", "bias": "none", "fan_in_fan_out": False,
            "use_rslora": False, "use_dora": False, "modules_to_save": None, "inference_mode": True}
    for k, v in want.items():
        if k not in cfg or cfg[k] != v:
            fail("adapter_config.json: %s must be %r" % (k, v))
    for k in ("base_model_name_or_path", "r", "lora_alpha", "lora_dropout", "target_modules"):
        if k not in cfg:
            fail("adapter_config.json: missing " + k)
    r = cfg["r"]
    layers = cfg.get("layers_to_transform")
    _, adapter = read_st(os.path.join(d, "adapter_model.safetensors"))
    for name, (shape, _) in adapter.items():
        m = KEY.match(name)
        if not m:
            fail("adapter: %s is not a PEFT LoRA key" % name)
        module = name.split(".")[-3]
        if module not in cfg["target_modules"]:
            fail("adapter: %s is not in target_modules" % name)
        if layers is not None and int(m.group(1)) not in layers:
            fail("adapter: %s is not in layers_to_transform" % name)
        if len(shape) != 2 or (m.group(5) == "A" and shape[0] != r) or (m.group(5) == "B" and shape[1] != r):
            fail("adapter: %s has shape %s for r = %d" % (name, shape, r))
        if m.group(5) == "A" and name.replace("lora_A", "lora_B") not in adapter:
            fail("adapter: %s has no lora_B" % name)
    _, opt = read_st(os.path.join(d, "optimizer.safetensors"))
    want_opt = {n + s: shape for n, (shape, _) in adapter.items() for s in (".exp_avg", ".exp_avg_sq")}
    if {n: s for n, (s, _) in opt.items()} != want_opt:
        fail("optimizer.safetensors: keys/shapes are not the adapter's + .exp_avg/.exp_avg_sq")
    out = {n: hashlib.sha256(b).hexdigest() for n, (_, b) in list(adapter.items()) + list(opt.items())}
    json.dump({"tensors": out}, sys.stdout)


if __name__ == "__main__":
    main()
