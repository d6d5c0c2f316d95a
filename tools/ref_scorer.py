#!/usr/bin/python3
"""ref_scorer.py — an independent Python re-implementation of the reference
citation scorer (SPEC §4), written from the specification, used as the golden
reference for `your_ai score` parity tests and the speed benchmark.

It deliberately uses Python's own `re` and `str.lower()`: their Unicode
semantics (\\w, \\d, \\s, \\b, IGNORECASE, SpecialCasing) are the ground truth the
C scorer must reproduce. Standard library only; run with /usr/bin/python3.

Usage:
  ref_scorer.py selftest                       check every SPEC §4.9 vector
  ref_scorer.py score IN.jsonl [--text-field F] [--no-hybrid] [--detail]
                                               score_batch, JSONL to stdout
  ref_scorer.py bench IN.jsonl [--text-field F] documents/s of score_batch
"""
import json
import math
import re
import sys
import time

INSTITUTIONAL_MARKERS = [  # (marker, score), SPEC §4.2
    ("nature", 0.35), ("science", 0.35), ("lancet", 0.35), ("nejm", 0.35), ("new england journal", 0.35),
    ("who", 0.30), ("cdc", 0.30), ("fda", 0.30), ("nih", 0.30),
    (".gov", 0.25), ("government", 0.25),
    ("official", 0.20), ("university", 0.20),
    ("institute", 0.18), ("academy", 0.18),
    ("journal", 0.15), ("peer-reviewed", 0.15), ("proceedings", 0.15),
    ("wikipedia", 0.10),
    ("news", 0.08), ("media", 0.08),
    ("blog", 0.05), ("social media", 0.05),
]
CONSENSUS = ["widely accepted", "experts agree", "scientific consensus", "established fact", "well-established",
             "mainstream view", "generally accepted", "overwhelming evidence", "settled science",
             "according to experts", "studies show", "research confirms"]
PRIMARY = ["patent", "lab notebook", "laboratory notebook", "experiment", "experimental", "measurement",
           "observation", "field notes", "original research", "firsthand", "first-hand", "primary source",
           "original document", "manuscript", "archive", "archival", "oral history", "interview",
           "correspondence", "letter", "diary", "journal entry", "logbook", "specimen", "sample", "photograph",
           "scan", "facsimile"]
CITATION_PATTERNS = [r"\[\d+\]", r"\(\w+,?\s*\d{4}\)", r"\(\w+\s+et\s+al\.?,?\s*\d{4}\)", r"\[\w+\s*\d{4}\]",
                     r"(?:ibid|op\.?\s*cit|loc\.?\s*cit)", r"\d+\.\s+\w+,.*?\d{4}"]
PRIORS = {
    "patent_pre1970": (0.05, 7.0), "classical_philosophy": (0.08, 7.5), "historical_book": (0.10, 6.0),
    "classical_literature": (0.10, 6.5), "classical_rhetoric": (0.12, 6.0), "historical_newspaper": (0.15, 6.0),
    "preprint": (0.50, 3.5), "logic_training": (0.55, 3.2), "academic_paper": (0.60, 3.0),
    "news_modern": (0.75, 1.5), "medical_guidelines": (0.85, 1.2), "wiki": (0.90, 1.0), "government": (0.95, 0.5),
}

_CIT = [re.compile(p, re.IGNORECASE) for p in CITATION_PATTERNS]
_PRIM = [re.compile(r"\b" + re.escape(m) + r"\b") for m in PRIMARY]
_CONS = [re.compile(re.escape(p)) for p in CONSENSUS]
_YEAR_META = re.compile(r"\b(1[0-9]{3}|20[0-2][0-9])\b")
_YEAR_A = re.compile(r"(?:copyright|©|published|written)\s*(?:in\s*)?(\d{4})", re.IGNORECASE)
_YEAR_B = re.compile(r"\b(1[89]\d{2}|20[0-2]\d)\b", re.IGNORECASE)
_RULES = [  # (category, regex on lowered text), in the order the Counter sees them
    ("patent", re.compile(r"\bpatent\b")),
    ("patent", re.compile(r"\b(us|ep|wo|de|gb|fr)\s*\d+")),
    ("lab_notebook", None),  # substring rule, below
    ("measurement", re.compile(r"\b(measured|observed|recorded|sampled)\b")),
    ("archive", re.compile(r"\b(archive|archival|manuscript|historical)\b")),
    ("oral_history", re.compile(r"\b(interview|oral history|correspondence|letter|diary)\b")),
    ("academic_paper", re.compile(r"\b(abstract|introduction|methodology|results|conclusion|references)\b")),
    ("textbook", re.compile(r"\b(textbook|chapter|exercise|definition|theorem)\b")),
    ("news", re.compile(r"\b(reported|journalist|news|press release|announcement)\b")),
    ("wiki", re.compile(r"\b(wikipedia|wiki|encyclopedia)\b")),
    ("government", re.compile(r"\b(government|official|regulation|policy|agency)\b")),
    ("blog", re.compile(r"\b(blog|posted|comment|social media)\b")),
]
_LAB = ["lab notebook", "laboratory", "experiment", "measurement", "observation"]


def count_citations(text):
    return sum(len(p.findall(text)) for p in _CIT)


def institutional(text_lower, metadata):
    best = 0.0
    for m, s in INSTITUTIONAL_MARKERS:
        if m in text_lower:
            best = max(best, s)
    if metadata:
        for key in ("source", "url", "publisher"):
            field = str(metadata.get(key, "")).lower()
            for m, s in INSTITUTIONAL_MARKERS:
                if m in field:
                    best = max(best, s)
    return min(0.35, best)


def extract_year(text, metadata):
    if metadata:
        for key in ("year", "date", "publication_date", "published"):
            v = metadata.get(key)
            if v:
                if isinstance(v, int):
                    return v
                m = _YEAR_META.search(str(v))
                if m:
                    return int(m.group(1))
    window = text[:2000]
    m = _YEAR_A.search(window)
    if m and 1500 <= int(m.group(1)) <= 2030:
        return int(m.group(1))
    m = _YEAR_B.search(window)
    if m:
        return int(m.group(1))
    return None


def classify(text_lower, metadata):
    counts = {}

    def bump(cat, by=1):
        counts[cat] = counts.get(cat, 0) + by

    for cat, rx in _RULES:
        if rx is None:
            if any(s in text_lower for s in _LAB):
                bump(cat)
        elif rx.search(text_lower):
            bump(cat)
    if metadata:
        st = metadata.get("source_type", "")
        st = st.lower() if isinstance(st, str) else ""  # [ours]: non-string counts as ""
        if "patent" in st:
            bump("patent", 2)
        elif "newspaper" in st or "news" in st:
            bump("news")
        elif "wiki" in st:
            bump("wiki", 2)
        elif "academic" in st or "paper" in st:
            bump("academic_paper")
        elif "book" in st:
            bump("archive")
    return counts


def score_document(text, metadata=None, known_citation_count=None):
    low = text.lower()
    n_cit = known_citation_count if known_citation_count else count_citations(text)
    inst = institutional(low, metadata)
    n_cons = sum(len(p.findall(low)) for p in _CONS)
    year = extract_year(text, metadata)
    n_prim = sum(len(p.findall(low)) for p in _PRIM)

    cit = min(0.25, math.log10(n_cit + 1) * 0.05)
    cons = min(0.20, n_cons * 0.10)
    age = 0.0
    if year:
        age = -0.15 if year < 1970 else (0.0 if year < 1995 else 0.15)
    prim = min(0.45, n_prim * 0.15) * -1
    auth = max(0.0, min(0.99, (cit + inst + cons + age + prim) + 0.3))

    base = 5.5 if (year and year < 1970) else (3.5 if (year and year < 1995) else 1.5)
    counts = classify(low, metadata)
    total = sum(counts.values())
    shannon = 0.0
    for c in counts.values():
        if c > 0:
            p = c / total
            shannon -= p * math.log2(p)
    n_types = len([c for c in counts.values() if c > 0])
    h = max(0.0, base + shannon + min(2.0, n_prim * 0.5) + min(1.5, n_types * 0.3) + inst * -1.5
            + min(1.0, n_cons * 0.4) * -1)
    return {
        "authority_weight": auth,
        "provenance_entropy": h,
        "citation_count": n_cit,
        "primary_source_count": n_prim,
        "institutional_score": inst,
        "consensus_score": cons,
        "source_type_distribution": {k: v / max(1, total) for k, v in counts.items()},
    }


def score_hybrid(text, source_type, metadata=None):
    pw, ph = PRIORS.get(source_type, (0.50, 3.0)) if isinstance(source_type, str) else (0.50, 3.0)
    r = score_document(text, metadata)
    r["authority_weight"] = 0.7 * pw + 0.3 * r["authority_weight"]
    r["provenance_entropy"] = 0.7 * ph + 0.3 * r["provenance_entropy"]
    return r


def score_record(doc, text_field="text", hybrid=True):
    """score_batch on one document: (method, result or None)."""
    text = doc.get(text_field, "")
    if text is None:
        text = ""
    if not isinstance(text, str):
        raise ValueError("field '%s' must be a string" % text_field)
    if len(text) < 50:
        return "default", None
    if hybrid and "source_type" in doc:
        return "hybrid", score_hybrid(text, doc["source_type"], doc)
    return "dynamic", score_document(text, doc)


def annotate(doc, method, r, detail):
    if r is None:
        doc["auth_weight"], doc["prov_entropy"] = 0.5, 3.0
    else:
        doc["auth_weight"] = round(r["authority_weight"], 4)
        doc["prov_entropy"] = round(r["provenance_entropy"], 4)
        doc["citation_count"] = r["citation_count"]
        doc["primary_source_count"] = r["primary_source_count"]
    doc["scoring_method"] = method
    doc["scorer"] = "ref-py-1"
    if detail and r is not None:
        doc["detail"] = r
    return doc


# ---- reference call structure ----------------------------------------------------------------
# The functions above compute each quantity once, from precompiled patterns.
# The reference computes per component instead: the authority and entropy
# functions each lower the text and recount years, primary markers,
# institutional markers and consensus phrases, and every count goes through
# re.findall(pattern_string, ...) (re's pattern cache). score_document_refstruct
# reproduces that call structure so the benchmark measures what the reference
# costs; the selftest checks it returns exactly the same numbers.

def _r_count_citations(text):
    total = 0
    for pattern in CITATION_PATTERNS:
        total += len(re.findall(pattern, text, re.IGNORECASE))
    return total


def _r_count_primary(text):
    text_lower = text.lower()
    return sum(len(re.findall(r"\b" + re.escape(m) + r"\b", text_lower)) for m in PRIMARY)


def _r_institutional(text, metadata):
    return institutional(text.lower(), metadata)


def _r_count_consensus(text):
    text_lower = text.lower()
    return sum(len(re.findall(re.escape(p), text_lower)) for p in CONSENSUS)


def _r_extract_year(text, metadata):
    if metadata:
        for key in ("year", "date", "publication_date", "published"):
            v = metadata.get(key)
            if v:
                if isinstance(v, int):
                    return v
                m = re.search(r"\b(1[0-9]{3}|20[0-2][0-9])\b", str(v))
                if m:
                    return int(m.group(1))
    for pattern in (r"(?:copyright|©|published|written)\s*(?:in\s*)?(\d{4})", r"\b(1[89]\d{2}|20[0-2]\d)\b"):
        m = re.search(pattern, text[:2000], re.IGNORECASE)
        if m:
            year = int(m.group(1))
            if 1500 <= year <= 2030:
                return year
    return None


def _r_classify(text, metadata):
    text_lower = text.lower()
    counts = {}

    def bump(cat, by=1):
        counts[cat] = counts.get(cat, 0) + by

    if re.search(r"\bpatent\b", text_lower):
        bump("patent")
    if re.search(r"\b(us|ep|wo|de|gb|fr)\s*\d+", text_lower):
        bump("patent")
    for pattern in _LAB:
        if pattern in text_lower:
            bump("lab_notebook")
            break
    for cat, rx in _RULES[3:]:
        if re.search(rx.pattern, text_lower):
            bump(cat)
    if metadata:
        st = metadata.get("source_type", "")
        st = st.lower() if isinstance(st, str) else ""
        if "patent" in st:
            bump("patent", 2)
        elif "newspaper" in st or "news" in st:
            bump("news")
        elif "wiki" in st:
            bump("wiki", 2)
        elif "academic" in st or "paper" in st:
            bump("academic_paper")
        elif "book" in st:
            bump("archive")
    return counts


def score_document_refstruct(text, metadata=None, known_citation_count=None):
    # authority (calculate_authority_weight)
    n_cit = known_citation_count if known_citation_count else _r_count_citations(text)
    cit = min(0.25, math.log10(n_cit + 1) * 0.05)
    inst = _r_institutional(text, metadata)
    n_cons = _r_count_consensus(text)
    cons = min(0.20, n_cons * 0.10)
    year = _r_extract_year(text, metadata)
    age = 0.0
    if year:
        age = -0.15 if year < 1970 else (0.0 if year < 1995 else 0.15)
    n_prim = _r_count_primary(text)
    prim = min(0.45, n_prim * 0.15) * -1
    auth = max(0.0, min(0.99, (cit + inst + cons + age + prim) + 0.3))
    # entropy (calculate_provenance_entropy): everything is recomputed
    year = _r_extract_year(text, metadata)
    base = 5.5 if (year and year < 1970) else (3.5 if (year and year < 1995) else 1.5)
    counts = _r_classify(text, metadata)
    total = sum(counts.values())
    shannon = 0.0
    for c in counts.values():
        if c > 0:
            p = c / total
            shannon -= p * math.log2(p)
    n_types = len([c for c in counts.values() if c > 0])
    h = max(0.0, base + shannon + min(2.0, _r_count_primary(text) * 0.5) + min(1.5, n_types * 0.3)
            + _r_institutional(text, metadata) * -1.5 + min(1.0, _r_count_consensus(text) * 0.4) * -1)
    return {
        "authority_weight": auth,
        "provenance_entropy": h,
        "citation_count": n_cit,
        "primary_source_count": n_prim,
        "institutional_score": inst,
        "consensus_score": cons,
        "source_type_distribution": {k: v / max(1, total) for k, v in counts.items()},
    }


def score_record_refstruct(doc, text_field="text", hybrid=True):
    text = doc.get(text_field, "")
    if not text or len(text) < 50:
        return "default", None
    if hybrid and "source_type" in doc:
        st = doc["source_type"]
        pw, ph = PRIORS.get(st, (0.50, 3.0)) if isinstance(st, str) else (0.50, 3.0)
        r = score_document_refstruct(text, doc)
        r["authority_weight"] = 0.7 * pw + 0.3 * r["authority_weight"]
        r["provenance_entropy"] = 0.7 * ph + 0.3 * r["provenance_entropy"]
        return "hybrid", r
    return "dynamic", score_document_refstruct(text, doc)


# ---- SPEC §4.9 vectors: (text, metadata, authority, entropy) ----------------------------------
PATENT = ("United States Patent 2,345,678\nFiled: March 15, 1923\nInventor: Thomas Edison\nThis patent describes an "
          "improved method for the measurement of electrical resistance in laboratory conditions. The experiment was "
          "conducted using primary measurement apparatus.")
VECTORS = [
    (PATENT, None, 0.0, 9.1),
    ("According to Wikipedia and the World Health Organization (WHO), the scientific consensus is clear. Experts "
     "agree that this is a well-established fact supported by government guidelines. Studies show overwhelming "
     "evidence.", None, 0.8, 1.65),
    ("Laboratory Notebook - June 1956\nExperiment: Measurement of thermal conductivity.\nDirect observation recorded "
     "in field notes.\nOriginal research by the author.", None, 0.0, 9.1),
    ("Abstract: This paper presents results from our experimental study.\nIntroduction: We measured various "
     "parameters under controlled conditions.\nReferences: [1] Smith et al., 2019. [2] Jones, 2020.", None,
     0.323856, 4.484963),
    ("This is a simple blog post without citations.", None, 0.35, 1.725),
    ("Research from 1985 with some measurements and citations", None, 0.3, 3.8),
    ("WHO official government guidelines from 2024 with consensus", None, 0.75, 1.35),
    ("CDC official guidance: experts agree, studies show from 2024", None, 0.95, 0.55),
    ("Historical archive from 1956 with experimental observations", None, 0.0, 8.1),
    ("Sample text", None, 0.15, 2.0),
    ("The whole conscience of the town was immediately visible.", None, 0.65, 0.975),
    ("A well-established fact: studies show, and studies show again.", None, 0.5, 0.5),
    ("See [1], [2], and (Jones et al., 2019) for details.", None, 0.480103, 1.5),
    ("PUBLISHED 1890, reprinted 1920 by the press.", None, 0.15, 5.5),
    ("No year information here.", {"date": "1923-03-15"}, 0.15, 5.5),
    ("Ibid. p. 4; op. cit. p. 9; loc cit.", None, 0.330103, 1.5),
    ("1. Smith, On Things, 1999\n2. Jones, Other Things, 2001", None, 0.473856, 1.5),
    ("The letter and diary of a farmer, written 1862, with a photograph.", None, 0.0, 7.3),
    ("Short note.", {"source_type": "historical_newspaper", "url": "https://chroniclingamerica.loc.gov/x"}, 0.55,
     1.425),
    ("\u00e9" * 1000 + " 1850", None, 0.15, 5.5),
    ("It was written in 1700 and reissued 1850.", None, 0.15, 5.5),
    ("Undated text.", {"year": 3000}, 0.45, 1.5),
    ("Undated text.", {"year": "3000"}, 0.3, 1.5),
    ("We told us 3 times (since 1999).", None, 0.465051, 1.8),
]


def selftest():
    bad = 0
    for text, meta, w, h in VECTORS:
        r = score_document(text, meta)
        if abs(r["authority_weight"] - w) > 5e-7 or abs(r["provenance_entropy"] - h) > 5e-7:
            print("FAIL %r: got (%r, %r), want (%r, %r)" % (text[:40], r["authority_weight"],
                                                            r["provenance_entropy"], w, h))
            bad += 1
    checks = [
        (score_hybrid("Sample text", "patent_pre1970"), 0.08, 5.5),
        (score_hybrid("Sample text", "no_such_type"), 0.395, 2.7),
    ]
    for r, w, h in checks:
        if abs(r["authority_weight"] - w) > 5e-7 or abs(r["provenance_entropy"] - h) > 5e-7:
            print("FAIL hybrid: got (%r, %r), want (%r, %r)" % (r["authority_weight"], r["provenance_entropy"], w, h))
            bad += 1
    for doc, method, w, h in [({"text": PATENT, "source_type": "patent_pre1970"}, "hybrid", 0.035, 7.573383),
                              ({"text": PATENT}, "dynamic", 0.0, 9.1), ({"text": "too short"}, "default", 0.5, 3.0)]:
        m, r = score_record(doc)
        rw, rh = (r["authority_weight"], r["provenance_entropy"]) if r else (0.5, 3.0)
        if m != method or abs(rw - w) > 5e-7 or abs(rh - h) > 5e-7:
            print("FAIL batch %s: got %s (%r, %r)" % (method, m, rw, rh))
            bad += 1
    for text, meta, _, _ in VECTORS:  # the reference-structured path gives identical results
        for m in (meta, {"source_type": "wiki", "url": "x.gov"}):
            if score_document(text, m) != score_document_refstruct(text, m):
                print("FAIL refstruct differs on %r" % text[:40])
                bad += 1
    print("ref_scorer selftest: %d vectors, %d failed" % (len(VECTORS) + 5, bad))
    return 1 if bad else 0


def main(argv):
    if len(argv) < 2 or argv[1] not in ("selftest", "score", "bench"):
        print(__doc__, file=sys.stderr)
        return 2
    if argv[1] == "selftest":
        return selftest()
    path = argv[2]
    field = argv[argv.index("--text-field") + 1] if "--text-field" in argv else "text"
    hybrid = "--no-hybrid" not in argv
    detail = "--detail" in argv
    with open(path, encoding="utf-8") as f:
        docs = [json.loads(line) for line in f if line.strip()]
    if argv[1] == "bench":
        # scoring only (documents already parsed), then the whole pipeline
        # (json.loads + score_batch + json.dumps), as wall and CPU seconds
        w0, c0 = time.perf_counter(), time.process_time()
        for d in docs:
            score_record(d, field, hybrid)
        w1, c1 = time.perf_counter(), time.process_time()
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    d = json.loads(line)
                    m, r = score_record(d, field, hybrid)
                    json.dumps(annotate(d, m, r, False), ensure_ascii=False)
        w2, c2 = time.perf_counter(), time.process_time()
        for d in docs:
            score_record_refstruct(d, field, hybrid)
        w3, c3 = time.perf_counter(), time.process_time()
        print(json.dumps({"docs": len(docs), "score_wall": w1 - w0, "score_cpu": c1 - c0,
                          "pipeline_wall": w2 - w1, "pipeline_cpu": c2 - c1,
                          "refstruct_wall": w3 - w2, "refstruct_cpu": c3 - c2}))
        return 0
    out = sys.stdout
    for d in docs:
        m, r = score_record(d, field, hybrid)
        out.write(json.dumps(annotate(d, m, r, detail), ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
