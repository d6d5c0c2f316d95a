#!/usr/bin/python3
"""check_scorer_semantics.py PROBE — compares the C scorer's Python-compatibility
primitives (tests/distrust/scorer_probe.c) with real Python, exhaustively where
it is cheap:

  * regex classes on every code point: PCRE2 UCP \\w and \\d vs Python re, the
    scorer's \\s class and yas_py_isspace() vs Python re \\s, its caseless i class
    vs re.IGNORECASE 'i';
  * str.lower() of every single code point (code points unassigned in
    utf8proc's older Unicode version are reported but tolerated), and of
    context strings (final sigma, U+0130, combining marks);
  * the decimal value of every Nd digit (Python int());
  * str() of JSON values (ints, floats, bools, None, nested lists/dicts, escapes);
  * round(x, 4) on tricky ties.
Exit status 0 when everything matches. Run with /usr/bin/python3.
"""
import json
import random
import re
import subprocess
import sys
import unicodedata


def run(probe, mode, stdin=None):
    r = subprocess.run([probe, mode], input=stdin, capture_output=True, check=True,
                       text=True, encoding="utf-8")
    return r.stdout


def check_classes(probe):
    got = {}
    for line in run(probe, "classes").splitlines():
        h, w, d, s, i, c = line.split()
        got[int(h, 16)] = (int(w), int(d), int(s), int(i), int(c))
    rw, rd, rs = re.compile(r"^\w$"), re.compile(r"^\d$"), re.compile(r"^\s$")
    ri = re.compile(r"^i$", re.IGNORECASE)
    bad = 0
    for c in range(0x110000):
        if 0xD800 <= c < 0xE000:
            continue
        ch = chr(c)
        sp = int(bool(rs.match(ch)))
        want = (int(bool(rw.match(ch))), int(bool(rd.match(ch))), sp, int(bool(ri.match(ch))), sp)
        if got.get(c, (0, 0, 0, 0, 0)) != want:
            if bad < 10:
                print("class mismatch U+%04X: C %s, Python %s (w d s i isspace)" % (c, got.get(c, (0, 0, 0, 0, 0)),
                                                                                  want))
            bad += 1
    print("classes: %d mismatches" % bad)
    return bad


def check_lower(probe):
    bad = tolerated = 0
    for line in run(probe, "lower").splitlines():
        parts = line.split()
        c, unassigned = int(parts[0], 16), parts[1] == "1"
        got = "".join(chr(int(x, 16)) for x in parts[2:])
        want = chr(c).lower()
        if got != want:
            if unassigned:
                tolerated += 1
                continue
            if bad < 10:
                print("lower mismatch U+%04X: C %r, Python %r" % (c, got, want))
            bad += 1
    strings = ["ΣΑΣ", "ΟΔΥΣΣΕΥΣ", "Σ", "aΣ", "aΣb", "aΣ.", "aΣ'", "a'Σ", "ΑΣ\u0301", "ΑΣ\u0301Α", "1Σ", "Σa",
               "İSTANBUL", "İ", "DİYARBAKIR", "KELVIN \u212a", "ǅ", "ΑΣ ΒΣ", "Ὀδυσσεύς ΣΟΦΟΣ.", "x\u0130y",
               "ꭰ", "ᏸ", "Ⓐ Ⅻ", "ÅNGSTRÖM \u212b", "ＡＢＣ", "𐐀𐐁", "MAẞE", "ΣΣ", "aΣΣ", "ªΣ", "ᵃΣ", "\u0345Σ"]
    got = [json.loads(x) for x in run(probe, "lower-lines",
                                      "".join(json.dumps(s) + "\n" for s in strings)).splitlines()]
    for s, g in zip(strings, got):
        if g != s.lower():
            print("lower mismatch %r: C %r, Python %r" % (s, g, s.lower()))
            bad += 1
    print("lower: %d mismatches (%d unassigned in utf8proc's Unicode tolerated)" % (bad, tolerated))
    return bad


def check_digits(probe):
    got = {}
    for line in run(probe, "digits").splitlines():
        h, v = line.split()
        got[int(h, 16)] = int(v)
    bad = 0
    for c in range(0x110000):
        if 0xD800 <= c < 0xE000:
            continue
        if unicodedata.category(chr(c)) == "Nd":
            if got.get(c) != int(chr(c)):
                if unicodedata.unidata_version and c not in got:
                    # a digit newer than utf8proc's Unicode version
                    print("digit U+%04X unknown to utf8proc (Python %d)" % (c, int(chr(c))))
                    continue
                print("digit mismatch U+%04X: C %s, Python %d" % (c, got.get(c), int(chr(c))))
                bad += 1
    print("digits: %d mismatches over %d Nd code points" % (bad, len(got)))
    return bad


def check_pystr(probe):
    values = ['plain', 'é', 7, -3, 0, 1923, 1923.0, 0.1, 1e16, 1e-5, 1.5e300, -0.0, True, False, None,
              [1, 'a', None, True], {'k': 'v', 'n': [1.5, {'x': "it's"}]}, ["a'b", 'a"b', "a'b\"c"],
              ["tab\there", "nl\nx", "\x01\x7f\x1b", "\u00a0\u00ad\u2028", "\U0001F600", "\U000E0001", "back\\slash"],
              {"source": "NEWS.gov"}, [[]], {}, [{}], ["\u0301", "\ud7ff", "\ue000"]]
    lines = "".join(json.dumps(v) + "\n" for v in values)
    got = [json.loads(x) for x in run(probe, "pystr", lines).splitlines()]
    bad = 0
    for v, g in zip(values, got):
        if g != str(v):
            print("str mismatch %r: C %r, Python %r" % (v, g, str(v)))
            bad += 1
    print("str(): %d mismatches over %d values" % (bad, len(values)))
    return bad


def check_round(probe):
    rng = random.Random(7)
    values = [0.00005, 0.00015, 0.00025, 0.12345, 2.675, 0.03125, 0.09375, 1.00005, 0.99995, 0.5, 9.1, 0.323856,
              4.484962500721156, 0.0, 1e-9, 7.573382, 0.35000000000000003, 0.6499999999999999, 12.34565, 0.28125]
    values += [rng.randint(0, 99999) / 10000 + 0.00005 for _ in range(200)]   # near-ties
    values += [rng.randint(0, 2 ** 20) / 2 ** 15 for _ in range(200)]         # exact binary ties
    values += [rng.uniform(0, 12) for _ in range(200)]
    got = run(probe, "round", "".join(repr(v) + "\n" for v in values)).splitlines()
    bad = 0
    for v, g in zip(values, got):
        if g != repr(round(v, 4)):
            print("round mismatch %r: C %s, Python %r" % (v, g, round(v, 4)))
            bad += 1
    print("round: %d mismatches over %d values" % (bad, len(values)))
    return bad


def main():
    probe = sys.argv[1]
    bad = check_classes(probe) + check_lower(probe) + check_digits(probe) + check_pystr(probe) + check_round(probe)
    print("FAIL" if bad else "OK")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
