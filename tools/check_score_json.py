#!/usr/bin/python3
"""check_score_json.py YOUR_AI WORKDIR — byte-exact JSON output of `your_ai score`.

`score` writes each input object back (canonical compact JSON, key order kept)
with the score fields appended, through a single-pass fast path for ordinary
lines and jansson for the rest (src/distrust/score_json.c). This generates
lines that stress both: every string escape, raw and \\u-escaped UTF-8 and
surrogate pairs, whitespace everywhere, integers ("-0", 18/19 digits), reals
("1.50", "1e5", "-0.0", underflow), nesting, duplicate keys, score fields
already present, metadata of every type; plus invalid lines that must be
reported as bad. The reference is Python: json.loads + tools/ref_scorer.py
(score_record / annotate) + json.dumps(ensure_ascii=False, separators=(",", ":")),
compared byte for byte, for --threads 1 and 2 and --no-hybrid; --detail must
add exactly `,"detail":{...}` at the end. Exit status 0 when all match."""
import json
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import ref_scorer  # noqa: E402

CHARS = ['a', 'Z', ' ', '"', '\\', '/', '\n', '\t', '\r', '\b', '\f', '\x01', '\x1f', '\x7f', 'é', 'ß', '中',
         '\u2028', '\U0001F600', '\U00010000', '\U0010FFFF', '\uFFFF', '0', '9', '.', '(', '[', 'İ', 'Σ']
WORDS = ref_scorer.PATENT.split() + "According to the 1923 archive, Smith et al. (2019) [1] ibid. wrote".split()
KEYS = ["id", "source", "url", "publisher", "year", "date", "publication_date", "published", "source_type",
        "title", "meta", "tags", "x\"y", "k\\", "é", "\u2028", "", "/", "auth_weight", "scorer", "detail",
        "citation_count", "scoring_method", "body"]
INTS = ["0", "-0", "7", "-5", "1961", "123456789012345678", "-123456789012345678", "1234567890123456789",
        "-9223372036854775808"]
REALS = ["1.50", "1e5", "1E-7", "-0.0", "2.5e+3", "1e-400", "0.1", "123456.789e3", "1961.0", "-1.25E-2",
         "0e0", "1e16", "3.0000000000000004"]
TYPES = ["historical_book", "news_modern", "academic_paper", "wiki", "patent_pre1970", "no_such", "PATENT Office"]
WS = ["", "", "", " ", "  ", "\t", " \r "]


def dumps(v):
    """The engine's canonical JSON (ya_json_write) as Python writes it."""
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


def ws(rng):
    return rng.choice(WS)


def enc_string(s, rng):
    """A JSON string literal for s, each character written one of the valid ways."""
    out = ['"']
    for ch in s:
        c = ord(ch)
        mode = rng.random()
        if ch == '"' or ch == '\\' or c < 0x20:
            short = {'"': '\\"', '\\': '\\\\', '\n': '\\n', '\t': '\\t', '\r': '\\r', '\b': '\\b', '\f': '\\f'}
            out.append(short[ch] if ch in short and mode < 0.5 else "\\u%04x" % c if mode < 0.75 else "\\u%04X" % c)
        elif ch == '/' and mode < 0.5:
            out.append("\\/")
        elif mode < 0.25:
            if c >= 0x10000:
                v = c - 0x10000
                out.append("\\u%04x\\u%04X" % (0xD800 + (v >> 10), 0xDC00 + (v & 0x3FF)))
            else:
                out.append("\\u%04x" % c)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def rand_text(rng, long):
    if long:
        words = [rng.choice(WORDS) for _ in range(rng.randint(12, 60))]
        for _ in range(rng.randint(0, 4)):
            words.insert(rng.randrange(len(words)), "".join(rng.choice(CHARS) for _ in range(rng.randint(1, 4))))
        return " ".join(words)
    return "".join(rng.choice(CHARS) for _ in range(rng.randint(0, 12)))


def enc_value(rng, depth, key=None):
    r = rng.random()
    if key == "year" and r < 0.5:
        return rng.choice(["1850", "2001", "true", '"1923"', '"May 1999"', "1961.0", "null", "0"])
    if key == "source_type" and r < 0.7:
        return enc_string(rng.choice(TYPES), rng)
    if r < 0.35:
        return enc_string(rand_text(rng, rng.random() < 0.2), rng)
    if r < 0.5:
        return rng.choice(INTS)
    if r < 0.6:
        return rng.choice(REALS)
    if r < 0.68:
        return rng.choice(["true", "false", "null"])
    if depth >= 3:
        return '"leaf"'
    if r < 0.84:
        items = [enc_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
        return "[" + ws(rng) + ("," + ws(rng)).join(items) + ws(rng) + "]"
    n = rng.randint(0, 4)
    keys = [rng.choice(KEYS) for _ in range(n)]
    return "{" + ws(rng) + ("," + ws(rng)).join(
        enc_string(k, rng) + ws(rng) + ":" + ws(rng) + enc_value(rng, depth + 1) for k in keys) + ws(rng) + "}"


def rand_line(rng):
    pairs = []
    if rng.random() < 0.9:
        text = rand_text(rng, rng.random() < 0.8)
        pairs.append(("text", enc_string(text, rng) if rng.random() < 0.95 else "null"))
    for _ in range(rng.randint(0, 6)):
        k = rng.choice(KEYS) if rng.random() < 0.97 else "text"
        if k in ("auth_weight", "scorer", "detail", "citation_count", "scoring_method") and rng.random() < 0.7:
            continue
        if k == "text" and rng.random() < 0.7:
            continue
        pairs.append((k, enc_value(rng, 1, k) if k != "text" else enc_string(rand_text(rng, True), rng)))
    rng.shuffle(pairs)
    body = ("," + ws(rng)).join(ws(rng) + enc_string(k, rng) + ws(rng) + ":" + ws(rng) + v for k, v in pairs)
    return ws(rng) + "{" + body + ws(rng) + "}" + ws(rng).rstrip("\r ")


# Lines jansson rejects (some of which Python's json would accept): each must be a bad line.
INVALID = [
    '{"text": "x",}', '{"text" "x"}', '{"a": 01}', '{"a": 1.}', '{"a": .5}', '{"a": -}', '{"a": 1e}',
    '{"a": "\\x"}', '{"a": "\\ud800"}', '{"a": "\\udc00"}', '{"a": "\\ud800\\u0041"}', '{"a": "\\u0000"}',
    '{"a": "\\u12"}', '{"a": "tab\there"}', '{"a": 1} x', '{"a": tru}', '{"a": 1e400}', '{"a": -1e400}',
    '{"a": [1,]}', '{"a": {"b": 1,}}', '{a: 1}', '{"a": NaN}', '{"a": Infinity}', '{"a": 99999999999999999999}',
    '[1, 2]', '"text"', '{"a": "unterminated', '{"a": 1', '{"text": 5}', '{"text": ["x"]}', '{"text": {"x": 1}}',
    '{"a": "\\u00e"}', '{"a": 1}}', '{"a" : 1 , }',
]
INVALID = [b.encode("utf-8") for b in INVALID] + [  # invalid UTF-8: overlong, surrogate, > U+10FFFF, cut, stray
    b'{"a": "\xc0\xaf"}', b'{"a": "\xed\xa0\x80"}', b'{"a": "\xf4\x90\x80\x80"}', b'{"a": "\xe2\x82"}',
    b'{"a": "\x80"}', b'{"text": "\xff' + b'x' * 60 + b'"}']


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    your_ai, work = sys.argv[1:]
    os.makedirs(work, exist_ok=True)
    rng = random.Random(20261125)
    lines = [rand_line(rng) for _ in range(3000)]
    lines += ['{}', ' { } ', '{"text":"' + "x" * 60 + '"}', '{"text": null, "source_type": "wiki"}',
              '{"text": "' + ref_scorer.PATENT.replace("\n", "\\n") + '", "year": [1850], "source": {"a": 1}}',
              '{"text": "' + ref_scorer.PATENT.replace("\n", "\\n") + '", "auth_weight": 9, "detail": 1}',
              '{"text": "' + ref_scorer.PATENT.replace("\n", "\\n") + '", "x": ' + '[' * 40 + ']' * 40 + '}',
              '{"text": "a", "text": "' + ref_scorer.PATENT.replace("\n", "\\n") + '"}']
    bad = set()
    for i, b in enumerate(INVALID):
        pos = rng.randrange(len(lines) + 1)
        lines.insert(pos, b)
    src = os.path.join(work, "lines.jsonl")
    with open(src, "wb") as f:
        for ln in lines:
            f.write(ln if isinstance(ln, bytes) else ln.encode("utf-8"))
            f.write(b"\n")
    with open(src, "rb") as f:
        raw = f.read().split(b"\n")[:-1]
    expected = {}  # (hybrid) -> list of expected lines (bytes) for the good lines
    good_idx = []
    for i, b in enumerate(raw):
        if b in INVALID:
            bad.add(i + 1)
            continue
        good_idx.append(i)
    fails = 0
    for hybrid in (True, False):
        want = []
        for i in good_idx:
            doc = json.loads(raw[i].decode("utf-8"))
            method, res = ref_scorer.score_record(doc, "text", hybrid)
            ref_scorer.annotate(doc, method, res, False)
            want.append(dumps(doc))
        expected[hybrid] = want
    runs = [(["--stats"], True), (["--threads", "2"], True), (["--no-hybrid"], False)]
    for opts, hybrid in runs:
        out = os.path.join(work, "out%s.jsonl" % "".join(opts))
        r = subprocess.run([your_ai, "score", "--in", src, "--out", out] + opts, capture_output=True)
        err = r.stderr.decode("utf-8", "replace")
        if r.returncode != 0:
            print("FAIL: score %s exited %d: %s" % (" ".join(opts), r.returncode, err))
            return 1
        reported = {int(x[len(src) + 1:].split(":")[0]) for x in err.splitlines() if x.startswith(src + ":")}
        if reported != set(sorted(bad)[:20]):
            print("FAIL %s: bad lines reported %s, want %s" % (opts, sorted(reported), sorted(bad)[:20]))
            fails += 1
        if ("%d bad lines skipped" % len(bad)) not in err:
            print("FAIL %s: summary lacks '%d bad lines skipped': %s" % (opts, len(bad), err.splitlines()[-1]))
            fails += 1
        if "--stats" in opts:  # both JSON paths must have been exercised
            import re
            m = re.search(r"JSON: (\d+) lines single-pass, (\d+) through jansson", err)
            if not m or int(m.group(1)) < 500 or int(m.group(2)) < 500:
                print("FAIL: want >= 500 lines on each JSON path, stats say %r" % (m.group(0) if m else err))
                fails += 1
        with open(out, "rb") as f:
            got = f.read().split(b"\n")[:-1]
        want = expected[hybrid]
        if len(got) != len(want):
            print("FAIL %s: %d output lines, want %d" % (opts, len(got), len(want)))
            fails += 1
            continue
        for k, (g, w) in enumerate(zip(got, want)):
            if g != w:
                fails += 1
                if fails <= 5:
                    print("MISMATCH %s input line %d:\n  input %r\n  got   %r\n  want  %r"
                          % (opts, good_idx[k] + 1, raw[good_idx[k]], g, w))
    # --detail: the reference's record with `detail` (new, or replacing an input
    # `detail` in place); detail numbers within 1e-9 (scorer_parity covers them),
    # everything else byte for byte, and the line itself canonical.
    out = os.path.join(work, "detail.jsonl")
    subprocess.run([your_ai, "score", "--in", src, "--out", out, "--detail", "--quiet"], capture_output=True)
    with open(out, "rb") as f:
        got = f.read().split(b"\n")[:-1]
    if len(got) != len(good_idx):
        print("FAIL --detail: %d output lines, want %d" % (len(got), len(good_idx)))
        fails += 1
    for k, (g, i) in enumerate(zip(got, good_idx)):
        doc = json.loads(raw[i].decode("utf-8"))
        method, res = ref_scorer.score_record(doc, "text", True)
        want = ref_scorer.annotate(doc, method, res, True)
        gobj = json.loads(g)
        ok = dumps(gobj) == g and list(gobj) == list(want)
        for key in want if ok else ():
            if key == "detail" and res is not None:
                gd, wd = gobj[key], want[key]
                ok = ok and list(gd) == list(wd) and list(gd["source_type_distribution"]) == list(
                    wd["source_type_distribution"]) and all(
                    abs(gd[f] - wd[f]) <= 1e-9 * max(1.0, abs(wd[f])) for f in wd if f != "source_type_distribution")
            else:
                ok = ok and dumps(gobj[key]) == dumps(want[key])
        if not ok:
            fails += 1
            if fails <= 5:
                print("MISMATCH --detail input line %d:\n  got  %r\n  want %r" % (i + 1, g, dumps(want)))
    print("score json: %d lines (%d bad), %d mismatches" % (len(raw), len(bad), fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
