#!/usr/bin/env python3
"""hf_chat_render.py — reference chat-template renders with Jinja2 set up exactly as
HuggingFace transformers' apply_chat_template(tokenize=False) sets it up
(transformers/utils/chat_template_utils.py, _compile_jinja_template): an
ImmutableSandboxedEnvironment with trim_blocks and lstrip_blocks, the loopcontrols
extension, HF's `tojson` filter (json.dumps with ensure_ascii=False and no HTML
escaping), `raise_exception`, and the tokenizer's special tokens as variables.
Used where the transformers.js interpreter (tools/hf_chat_render.js) cannot run a
template, e.g. Qwen3's (slices, str methods, namespace). Debian python3-jinja2.

  hf_chat_render.py TOKENIZER_CONFIG.json OUT_PREFIX CONV.json...

Each CONV.json is a messages array or an object {"messages": [...], "tools": [...]}
(read with json.loads, so numbers and key order are Python's). For each it writes
OUT_PREFIX.<conv name>.0 and .1 (without / with add_generation_prompt).
"""
import json
import os
import sys

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def token_str(t):
    return t.get("content") if isinstance(t, dict) else t


def main():
    if len(sys.argv) < 4:
        sys.stderr.write(__doc__)
        return 2
    cfg_path, prefix, convs = sys.argv[1], sys.argv[2], sys.argv[3:]
    with open(cfg_path, encoding="utf-8") as f:
        cfg = json.load(f)
    template = cfg["chat_template"]
    if isinstance(template, list):
        template = next(t["template"] for t in template if t.get("name") == "default")
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    compiled = env.from_string(template)
    special = {k: token_str(cfg[k]) for k in ("bos_token", "eos_token", "unk_token", "pad_token") if cfg.get(k)}
    for conv in convs:
        with open(conv, encoding="utf-8") as f:
            data = json.load(f)
        messages = data["messages"] if isinstance(data, dict) else data
        tools = data.get("tools") if isinstance(data, dict) else None
        name = os.path.splitext(os.path.basename(conv))[0]
        for gen in (0, 1):
            text = compiled.render(messages=messages, tools=tools or None, documents=None,
                                   add_generation_prompt=bool(gen), **special)
            with open(f"{prefix}.{name}.{gen}", "w", encoding="utf-8", newline="") as f:
                f.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
