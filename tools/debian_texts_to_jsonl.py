#!/usr/bin/env python3
"""debian_texts_to_jsonl.py — two public-domain texts shipped by Debian packages, as raw
JSONL for `your_ai prepare` (one file each, documents of whole paragraphs, about
--chunk-chars code points like the Brown importer's).

  jargon_file.jsonl    The Jargon File 4.4.7 (Debian jargon-text: jargon.txt.gz; public
                       domain). A community-maintained reference lexicon: source_type wiki.
  devils_dictionary.jsonl  Ambrose Bierce, The Devil's Dictionary (1911; Debian dict-devil:
                       devil.dict.dz, gzip-compatible; public domain): classical_literature.

  tools/debian_texts_to_jsonl.py --jargon jargon-text_*.deb --devil dict-devil_*.deb --out DIR

Each input is the package from `apt-get download jargon-text dict-devil` (the text is read
straight out of its data.tar member: no dpkg needed) or the extracted file itself
(jargon.txt.gz, devil.dict.dz). Output is deterministic; each file is written beside its
final name and renamed.
"""
import argparse
import gzip
import json
import os
import io
import re
import sys
import tarfile

BOX_DRAWING = re.compile("[\u2500-\u257f]")


def paragraphs(lines):
    """Blank-line-separated blocks, each line stripped of its indentation."""
    block = []
    for line in lines:
        s = line.strip()
        if s:
            block.append(s)
        elif block:
            yield "\n".join(block)
            block = []
    if block:
        yield "\n".join(block)


def chunk(paras, chunk_chars, min_chars=50):
    """Whole paragraphs per document until it holds at least chunk_chars code points."""
    doc = []
    size = 0
    for p in paras:
        doc.append(p)
        size += len(p)
        if size >= chunk_chars:
            yield "\n\n".join(doc)
            doc, size = [], 0
    if doc and size >= min_chars:
        yield "\n\n".join(doc)


DEB_MEMBERS = {"jargon": "usr/share/doc/jargon-text/jargon.txt.gz", "devil": "usr/share/dictd/devil.dict.dz"}


def deb_member(deb, member):
    """The bytes of one file of a .deb: an ar archive whose data.tar.* holds the files."""
    with open(deb, "rb") as f:
        blob = f.read()
    if blob[:8] != b"!<arch>\n":
        sys.exit(f"{deb}: not a .deb (no ar header)")
    pos = 8
    while pos + 60 <= len(blob):
        name = blob[pos:pos + 16].decode("ascii").strip().rstrip("/")
        size = int(blob[pos + 48:pos + 58].decode("ascii").strip())
        body = blob[pos + 60:pos + 60 + size]
        if name.startswith("data.tar"):
            with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as tar:
                for m in tar.getmembers():
                    if m.name.lstrip("./") == member:
                        return tar.extractfile(m).read()
            sys.exit(f"{deb}: no {member} in {name}")
        pos += 60 + size + (size & 1)
    sys.exit(f"{deb}: no data.tar member")


def read_lines(path, kind):
    raw = deb_member(path, DEB_MEMBERS[kind]) if path.endswith(".deb") else open(path, "rb").read()
    return gzip.decompress(raw).decode("utf-8").split("\n")


def jargon_lines(path):
    lines = read_lines(path, "jargon")
    # Part I (the prose introduction) starts at the second "Welcome to the Jargon File"
    # (the first is the table of contents); the lexicon at its first ":headword:" entry,
    # after a list of bare headwords; Part III (appendices and their contents) is dropped.
    welcome = [i for i, l in enumerate(lines) if l.strip() == "Welcome to the Jargon File"]
    flat = [l.replace("\u00a0", " ") for l in lines]  # headings use no-break spaces
    part2 = [i for i, l in enumerate(flat) if l.strip() == "Part II. The Jargon Lexicon"]
    entries = [i for i, l in enumerate(lines) if re.match(r"^   :[^ ].*:", l)]
    appendix = [i for i, l in enumerate(flat) if l.strip() == "Part III. Appendices"]
    if len(welcome) < 2 or not part2 or not entries or not appendix:
        sys.exit(f"{path}: not the Jargon File 4.4.7 layout (introduction/lexicon/Part III markers missing)")
    body = lines[welcome[1]:part2[0]] + lines[entries[0]:appendix[0]]
    # Box-drawn tables are no prose.
    return [l for l in body if not BOX_DRAWING.search(l)]


def devil_lines(path):
    lines = read_lines(path, "devil")
    start = [i for i, l in enumerate(lines) if l.strip() == "PREFACE"]
    if not start:
        sys.exit(f"{path}: no PREFACE line: not the dict-devil text")
    body = lines[start[0]:]
    # dictd's trailing alphabet marker line
    while body and (not body[-1].strip() or body[-1].strip() == "abcdefghijklmnopqrstuvwxyz"):
        body.pop()
    return body


def write_jsonl(path, records):
    tmp = path + ".tmp-" + str(os.getpid())
    with open(tmp, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--jargon", required=True, help="Debian jargon-text .deb (or its jargon.txt.gz)")
    ap.add_argument("--devil", required=True, help="Debian dict-devil .deb (or its devil.dict.dz)")
    ap.add_argument("--out", required=True, help="output directory")
    ap.add_argument("--chunk-chars", type=int, default=1000)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    sources = [
        ("jargon_file.jsonl", jargon_lines(a.jargon),
         {"source": "The Jargon File 4.4.7 (Debian jargon-text)", "source_type": "wiki", "year": 2003}),
        ("devils_dictionary.jsonl", devil_lines(a.devil),
         {"source": "Ambrose Bierce, The Devil's Dictionary (Debian dict-devil)",
          "source_type": "classical_literature", "year": 1911}),
    ]
    for name, lines, meta in sources:
        docs = list(chunk(paragraphs(lines), a.chunk_chars))
        recs = [dict(text=t, **meta, part=k) for k, t in enumerate(docs)]
        write_jsonl(os.path.join(a.out, name), recs)
        print(f"{name}: {len(recs)} documents, {sum(len(t) for t in docs)} code points")


if __name__ == "__main__":
    main()
