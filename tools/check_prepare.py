#!/usr/bin/env python3
"""check_prepare.py — an independent check of `your_ai prepare` outputs (SPEC §5.2, §5.3).

Re-implements, from the SPEC text and in plain Python, everything about
`prepare` that is not the citation scorer (which has its own conformance
suite): the filename map and overrides, parsing and bad lines, text
extraction, normalised-text dedup, per-file caps, the rebalance targets, the
largest-remainder stratified split, the output record format and the stats.
Then compares with OUTPUT/train.jsonl, val.jsonl and stats.json.

usage: check_prepare.py --input RAW --output OUT [--source-type FILE=TYPE ...]
                        [--no-rebalance] [--no-stratify] [--static]
Exit 0 if everything matches, 1 with a list of mismatches otherwise.
"""
import argparse
import hashlib
import json
import math
import os
import sys

FILENAME_KEYS = [  # SPEC §5.2 step 1, in order: the first key found in the lowercased name wins
    (("big_patent", "bigpatent", "hupd", "patent"), "patent_pre1970"),
    (("philosophy", "plato", "aristotle"), "classical_philosophy"),
    (("pg19", "gutenberg", "literature"), "classical_literature"),
    (("speech", "rhetoric", "oration"), "classical_rhetoric"),
    (("americanstories", "chronicling", "newspaper"), "historical_newspaper"),
    (("internet_archive",), "historical_book"),
    (("arxiv",), "preprint"),
    (("s2orc", "pes2o", "scitldr", "sciq"), "academic_paper"),
    (("bigbench", "logical"), "logic_training"),
    (("wikipedia", "wiki"), "wiki"),
    (("medical", "meadow"), "medical_guidelines"),
    (("cnn", "dailymail"), "news_modern"),
]
PRIORS = {  # SPEC §4.7: type -> (w, H, trivium)
    "patent_pre1970": (0.05, 7.0, "logic"), "classical_philosophy": (0.08, 7.5, "logic"),
    "historical_book": (0.10, 6.0, "rhetoric"), "classical_literature": (0.10, 6.5, "rhetoric"),
    "classical_rhetoric": (0.12, 6.0, "grammar"), "historical_newspaper": (0.15, 6.0, "rhetoric"),
    "preprint": (0.50, 3.5, "logic"), "logic_training": (0.55, 3.2, "logic"),
    "academic_paper": (0.60, 3.0, "logic"), "news_modern": (0.75, 1.5, "rhetoric"),
    "medical_guidelines": (0.85, 1.2, "logic"), "wiki": (0.90, 1.0, "grammar"),
    "government": (0.95, 0.5, "rhetoric"),
}
TEXT_FIELDS = ["text", "content", "body", "abstract", "description", "summary", "ocr_eng", "ocr_text",
               "article", "document", "title", "question", "answer", "support"]

errors = []


def fail(msg):
    errors.append(msg)


def source_type(name, overrides):
    if name in overrides:
        return overrides[name]
    low = name.lower()
    for keys, t in FILENAME_KEYS:
        if any(k in low for k in keys):
            return t
    return None


def extract(rec):
    for f in TEXT_FIELDS:
        v = rec.get(f)
        if v:
            s = str(v) if not isinstance(v, str) else v
            if len(s) > 50:
                return s if len(s) >= 100 else None
    parts = [v for v in rec.values() if isinstance(v, str) and len(v) > 20][:3]
    s = " ".join(parts)
    return s if len(s) >= 100 else None


def normalise(text):
    out, pending = [], False
    for ch in text:
        if ch in " \t\n\v\f\r\u00a0":
            pending = bool(out)
            continue
        if pending:
            out.append(" ")
            pending = False
        out.append(ch.lower() if "A" <= ch <= "Z" else ch)
    return "".join(out)


def band(w):
    return "low" if w < 0.3 else "high" if w > 0.7 else "mid"


def apportion(weights, total):
    """Largest remainder: every group gets floor or ceil of its exact quota, summing to total."""
    s = sum(weights)
    lo = [total * w // s for w in weights]
    hi = [lo[i] + (1 if total * weights[i] % s else 0) for i in range(len(weights))]
    return lo, hi


def read_jsonl(path):
    with open(path, "rb") as f:
        return [json.loads(line) for line in f.read().splitlines() if line.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--source-type", action="append", default=[])
    ap.add_argument("--no-rebalance", action="store_true")
    ap.add_argument("--no-stratify", action="store_true")
    ap.add_argument("--static", action="store_true")
    a = ap.parse_args()
    overrides = dict(s.rsplit("=", 1) for s in a.source_type)
    stats = json.load(open(os.path.join(a.output, "stats.json")))
    train = read_jsonl(os.path.join(a.output, "train.jsonl"))
    val = read_jsonl(os.path.join(a.output, "val.jsonl"))
    train_size, val_size = stats["train_size"], stats["val_size"]

    # ---- steps 1-4 + dedup + caps, file by file in sorted order
    names = sorted(n for n in os.listdir(a.input)
                   if n.endswith(".jsonl") and not n.startswith(".") and os.path.getsize(os.path.join(a.input, n)) > 0)
    seen = {}  # dedup key -> raw record (first occurrence)
    want_files, skipped, n_examples, bad_total = [], [], 0, 0
    for name in names:
        t = source_type(name, overrides)
        if t is None:
            skipped.append(name)
            continue
        info = dict(file=name, source_type=t, lines=0, bad_lines=0, no_text=0, duplicates=0, unique=0)
        with open(os.path.join(a.input, name), "rb") as f:
            for raw in f.read().split(b"\n"):
                if not raw.strip(b" \t\r\n"):
                    continue
                info["lines"] += 1
                try:
                    rec = json.loads(raw.decode("utf-8"))
                    if not isinstance(rec, dict):
                        raise ValueError("not an object")
                except (ValueError, UnicodeDecodeError):
                    info["bad_lines"] += 1
                    continue
                text = extract(rec)
                if text is None:
                    info["no_text"] += 1
                    continue
                key = hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()
                if key in seen:
                    info["duplicates"] += 1
                    continue
                seen[key] = (rec, text, t)
                info["unique"] += 1
        w = PRIORS[t][0]
        info["cap"] = train_size // 3 if w < 0.3 else train_size // 6 if w > 0.7 else train_size // 5
        info["kept"] = min(info["unique"], info["cap"])
        n_examples += info["kept"]
        bad_total += info["bad_lines"]
        want_files.append(info)
    if stats["files"] != want_files:
        for got, want in zip(stats["files"], want_files):
            if got != want:
                fail(f"stats.files: got {got}, want {want}")
        if len(stats["files"]) != len(want_files):
            fail(f"stats.files: {len(stats['files'])} files, want {len(want_files)}")
    if stats["skipped_files"] != skipped:
        fail(f"skipped_files {stats['skipped_files']} != {skipped}")
    tot = stats["totals"]
    for k, v in (("examples", n_examples), ("bad_lines", bad_total),
                 ("duplicates", sum(f["duplicates"] for f in want_files)), ("train", len(train)), ("val", len(val))):
        if tot[k] != v:
            fail(f"totals.{k} = {tot[k]}, want {v}")

    # ---- rebalance targets (step 8) from the band counts before it
    rb = stats["rebalance"]
    before = rb["before"]
    if sum(before.values()) != n_examples:
        fail(f"rebalance.before sums to {sum(before.values())}, want {n_examples}")
    n_low = before["low"]
    if not a.no_rebalance and n_low / n_examples < 0.20:
        T = int(n_low / 0.25)
        high_t = int(0.35 * T)
        mid_t = T - n_low - high_t
        want_after = {"low": n_low, "mid": min(before["mid"], mid_t), "high": min(before["high"], high_t)}
        if not rb["applied"] or rb["target"] != {"low": n_low, "mid": mid_t, "high": high_t, "total": T}:
            fail(f"rebalance target {rb['target']}, want T={T} mid={mid_t} high={high_t}")
    else:
        want_after = before
        if rb["applied"]:
            fail("rebalance applied although the low share is >= 0.20 (or it is off)")
    if rb["after"] != want_after:
        fail(f"rebalance.after {rb['after']}, want {want_after}")
    n_keep = sum(want_after.values())
    if tot["after_rebalance"] != n_keep:
        fail(f"after_rebalance {tot['after_rebalance']}, want {n_keep}")

    # ---- split (step 10): sizes and per-type apportionment
    n_train = min(train_size, n_keep - val_size)
    if len(train) != n_train or len(val) != val_size:
        fail(f"split sizes train {len(train)} val {len(val)}, want {n_train} / {val_size}")
    types = sorted(stats["by_source_type"])
    by_t = stats["by_source_type"]
    sizes = [by_t[t]["examples"] for t in types]
    if sum(sizes) != n_keep:
        fail(f"by_source_type examples sum {sum(sizes)}, want {n_keep}")
    counted = {t: [0, 0] for t in types}
    for i, recs in enumerate((train, val)):
        for r in recs:
            counted.setdefault(r["source_type"], [0, 0])[i] += 1
    for t in types:
        if [by_t[t]["train"], by_t[t]["val"]] != counted[t]:
            fail(f"by_source_type.{t}: train/val {by_t[t]['train']}/{by_t[t]['val']}, files have {counted[t]}")
    if not a.no_stratify:
        lo, hi = apportion(sizes, val_size)
        vals = [counted[t][1] for t in types]
        left = [s - v for s, v in zip(sizes, vals)]
        lo2, hi2 = apportion(left, n_train)
        for i, t in enumerate(types):
            if not lo[i] <= vals[i] <= hi[i]:
                fail(f"stratified val of {t}: {vals[i]} not in [{lo[i]}, {hi[i]}]")
            if not lo2[i] <= counted[t][0] <= hi2[i]:
                fail(f"stratified train of {t}: {counted[t][0]} not in [{lo2[i]}, {hi2[i]}]")

    # ---- every output record (step 6 + our fields)
    ids = set()
    by_prefix = {}
    for k in seen:
        by_prefix.setdefault(k[:16], []).append(k)
    bands = {"low": [0, 0], "mid": [0, 0], "high": [0, 0]}
    for i, recs in enumerate((train, val)):
        for r in recs:
            key_prefix = r["id"]
            if key_prefix in ids:
                fail(f"duplicate id {key_prefix} in the outputs")
            ids.add(key_prefix)
            matches = by_prefix.get(key_prefix, [])
            if len(matches) != 1 or len(key_prefix) != 16:
                fail(f"id {key_prefix} is not the sha256 prefix of one unique input text")
                continue
            rec, text, t = seen[matches[0]]
            if r["text"] != text[:8192]:
                fail(f"{key_prefix}: text is not the extracted text truncated to 8192 code points")
            if r["source_type"] != t or r["trivium_category"] != PRIORS[t][2]:
                fail(f"{key_prefix}: source_type/trivium {r['source_type']}/{r['trivium_category']}, want {t}")
            meta = {k: v for k, v in rec.items() if k not in ("text", "content", "body")
                    and isinstance(v, (str, int, float, bool)) and v is not None}
            if r["metadata"] != meta or list(r["metadata"]) != list(meta):
                fail(f"{key_prefix}: metadata {r['metadata']} != {meta}")
            for k in ("auth_weight", "prov_entropy"):
                if round(r[k], 4) != r[k] or not math.isfinite(r[k]):
                    fail(f"{key_prefix}: {k} {r[k]} is not rounded to 4 decimals")
            if not 0 <= r["auth_weight"] <= 0.99 or r["prov_entropy"] < 0:
                fail(f"{key_prefix}: w/H out of range")
            if a.static:
                if (r["auth_weight"], r["prov_entropy"]) != PRIORS[t][:2] or r["scoring_method"] != "static":
                    fail(f"{key_prefix}: static scoring gave {r['auth_weight']}, {r['prov_entropy']}")
            elif r["scoring_method"] != "hybrid" or r["scorer"] != "ref-py-1":
                fail(f"{key_prefix}: scoring_method {r['scoring_method']}")
            bands[band(r["auth_weight"])][i] += 1
    for b, (ntr, nva) in bands.items():
        got = stats["by_band"][b]
        if [got["train"], got["val"]] != [ntr, nva]:
            fail(f"by_band.{b}: {got['train']}/{got['val']}, files have {ntr}/{nva}")
    hist = [0] * 10
    for r in train + val:
        hist[min(9, int(math.floor(r["auth_weight"] * 10 + 1e-9)))] += 1
    if stats["w_histogram"]["counts"] != hist:
        fail(f"w_histogram {stats['w_histogram']['counts']} != {hist}")

    if errors:
        print(f"check_prepare: {len(errors)} mismatch(es):")
        for e in errors[:50]:
            print("  " + e)
        return 1
    print(f"check_prepare: ok ({len(train)} train, {len(val)} val, {len(want_files)} files, "
          f"{sum(f['duplicates'] for f in want_files)} duplicates, {bad_total} bad lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
