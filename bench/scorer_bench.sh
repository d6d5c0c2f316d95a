#!/usr/bin/env bash
# scorer_bench.sh — documents/s of `your_ai score` against tools/ref_scorer.py
# (the Python port of the reference scorer, same documents, same run), single
# thread vs single thread, plus one OpenMP line. Documents: Brown-corpus prose
# (tags stripped), 5 sentences per document, every third one with a
# source_type (hybrid) and every fifth with a metadata year. Prints a Markdown
# table for docs/BENCHMARKS.md; the headline is the end-to-end ratio (read +
# parse + score + write, single thread) against the reference's scoring alone.
#   bench/scorer_bench.sh [BUILD_DIR] [N_DOCS]
# The C side runs with OPENBLAS_NUM_THREADS=1: your_ai links the pthreads
# OpenBLAS, whose library constructor starts a worker thread that busy-waits
# (sched_yield) for ~0.1 s of CPU in every process; `score` never calls BLAS.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${1:-$ROOT/build}
N=${2:-10000}
TD=${YA_TESTDATA_DIR:-$BUILD/testdata}
YA=$BUILD/your_ai
PY=${YA_TORCH_PYTHON:-/usr/bin/python3}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
[ -f "$TD/brown/ca01" ] || "$ROOT/tools/fetch_testdata.sh" "$TD" >&2
"$PY" - "$TD/brown" "$N" "$W/docs.jsonl" <<'PY'
import json, os, re, sys
src, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
types = ["historical_book", "news_modern", "academic_paper", "wiki", "classical_literature"]
docs, sent = [], []
for name in sorted(os.listdir(src)):
    if not re.fullmatch(r"c[a-r]\d\d", name):
        continue
    for line in open(os.path.join(src, name), encoding="utf-8", errors="replace"):
        line = line.strip()
        if not line:
            continue
        words = [t.rsplit("/", 1)[0] for t in line.split()]
        sent.append(" ".join(words).replace("``", '"').replace("''", '"'))
        if len(sent) == 5:
            d = {"text": " ".join(sent), "source": "brown/" + name}
            if len(docs) % 3 == 0:
                d["source_type"] = types[len(docs) % len(types)]
            if len(docs) % 5 == 0:
                d["year"] = 1961
            docs.append(d)
            sent = []
        if len(docs) >= n:
            break
    if len(docs) >= n:
        break
with open(out, "w", encoding="utf-8") as f:
    for d in docs:
        f.write(json.dumps(d) + "\n")
print("bench: %d documents, %.1f MB" % (len(docs), os.path.getsize(out) / 1e6), file=sys.stderr)
PY
"$PY" - "$YA" "$ROOT/tools/ref_scorer.py" "$W/docs.jsonl" "$(nproc)" <<'PY'
# Best of several runs. CPU seconds (user + sys) are the headline because the
# machine may be shared; wall seconds are printed beside them. "scoring" rows
# exclude JSON parsing and writing on both sides (your_ai score --stats times
# its scoring loop alone); "whole" rows include them.
import json, os, re, resource, subprocess, sys, time
ya, ref, docs, ncpu = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
n = sum(1 for _ in open(docs, encoding="utf-8"))
mb = os.path.getsize(docs) / 1e6

env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
empty = docs + ".empty"
open(empty, "w").close()

def c_run(threads, path=docs, reps=5):
    # cpu: the whole process (rusage: exec, dynamic loading, scorer setup, the work);
    # inproc: --stats' process CPU from the first line read to the last written.
    best = None
    for _ in range(reps):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        p = subprocess.run([ya, "score", "--in", path, "--out", "-", "--quiet", "--stats", "--threads", str(threads)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True, env=env)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        score = float(re.search(r"scoring alone ([0-9.]+) s", p.stderr).group(1))
        inproc = float(re.search(r"documents, ([0-9.]+) s process CPU", p.stderr).group(1))
        cur = {"cpu": cpu, "wall": wall, "score": score, "inproc": inproc}
        best = cur if best is None else {k: min(best[k], cur[k]) for k in cur}
    return best

def py_run(reps=2):
    best = None
    for _ in range(reps):
        r = json.loads(subprocess.run([sys.executable, ref, "bench", docs], capture_output=True, text=True,
                                      check=True).stdout)
        best = r if best is None else {k: min(best[k], r[k]) for k in r}
    return best

py = py_run()
c1 = c_run(1)
ref_s = py["refstruct_cpu"]
def row(name, thr, cpu, wall):
    print("| %s | %d | %d | %.1f | %.3f | %s | %.0f | %.1fx |" % (name, thr, n, mb, cpu, "%.3f" % wall if wall else "",
                                                               n / cpu, ref_s / cpu))
print("| scorer | threads | documents | MB | CPU s | wall s | documents/s | vs reference |")
print("|---|---|---|---|---|---|---|---|")
pyv = sys.version.split()[0]
row("Python %s, reference call structure, scoring (tools/ref_scorer.py)" % pyv, 1, ref_s, py["refstruct_wall"])
row("Python %s, optimised port, scoring" % pyv, 1, py["score_cpu"], py["score_wall"])
row("Python %s, optimised port, whole (json.loads + score + json.dumps)" % pyv, 1, py["pipeline_cpu"],
    py["pipeline_wall"])
c0 = c_run(1, empty)
row("your_ai score, scoring alone (`--stats`)", 1, c1["score"], None)
row("**your_ai score, end to end: read + parse + score + write** (`--stats` process CPU)", 1, c1["inproc"], None)
row("your_ai score, whole process incl. startup (exec, loading the CUDA/BLAS libraries)", 1, c1["cpu"], c1["wall"])
print("| your_ai score on an empty file: startup alone | 1 | 0 | 0.0 | %.3f | %.3f | | |" % (c0["cpu"], c0["wall"]))
if ncpu > 1:
    cn = c_run(ncpu)
    print("| your_ai score --threads %d, whole process | %d | %d | %.1f | %.3f | %.3f | %.0f (wall) | |"
          % (ncpu, ncpu, n, mb, cn["cpu"], cn["wall"], n / cn["wall"]))
print()
print("End to end (single thread, read + parse + score + write): %.1fx the reference's scoring alone "
      "(%.0f vs %.0f documents/s); whole process incl. %.3f s startup: %.1fx."
      % (ref_s / c1["inproc"], n / c1["inproc"], n / ref_s, c0["cpu"], ref_s / c1["cpu"]))
PY
