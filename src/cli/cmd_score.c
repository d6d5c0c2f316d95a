/* cmd_score.c — `your_ai score`: runs the citation scorer (SPEC §4.8) over a
 * raw JSONL file, streaming: each output line is the input object plus the
 * score fields. Memory stays constant in the input size (one line at a time,
 * or one fixed-size block of lines with --threads). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "your_ai/fileio.h"
#include "your_ai/jsonl.h"
#include "your_ai/scorer.h"

static const char k_usage[] =
    "Usage: your_ai score --in RAW.jsonl --out SCORED.jsonl [options]\n"
    "\n"
    "Scores every document with the citation scorer (SPEC section 4; exact parity with the\n"
    "Python reference, scorer version \"ref-py-1\"). The whole JSON object is the metadata\n"
    "(source, url, publisher, year, date, publication_date, published, source_type).\n"
    "Per document, the first matching case:\n"
    "  text missing, null, empty or < 50 code points  -> 0.5 / 3.0, scoring_method \"default\"\n"
    "  the object has source_type (unless --no-hybrid) -> 0.7 prior + 0.3 dynamic, \"hybrid\"\n"
    "  otherwise                                       -> dynamic score, \"dynamic\"\n"
    "Each output line is the input object (key order kept) plus auth_weight and\n"
    "prov_entropy (rounded to 4 decimals, half to even), citation_count and\n"
    "primary_source_count (not for \"default\"), scoring_method and scorer. With --detail,\n"
    "scored lines (not \"default\") also get `detail`: the unrounded breakdown\n"
    "(authority_weight, provenance_entropy, citation_count, primary_source_count,\n"
    "institutional_score, consensus_score, source_type_distribution); for hybrid the two\n"
    "scores are the blended ones.\n"
    "\n"
    "Bad lines (invalid JSON or UTF-8, NaN/Infinity, not an object, a non-string text\n"
    "field) are reported as file:line: reason (first 20) and counted. A summary line with\n"
    "the counts per scoring_method goes to stderr.\n"
    "\n"
    "Options:\n"
    "  --in PATH                 input JSONL (required)\n"
    "  --out PATH                output JSONL, written atomically; '-' for stdout (required)\n"
    "  --text-field NAME         field holding the text (default text)\n"
    "  --detail                  add the `detail` object to every scored line\n"
    "  --no-hybrid               ignore source_type priors: every long text is \"dynamic\"\n"
    "  --on-bad-line skip|fail   skip and count bad lines, or stop at the first (exit 1)\n"
    "                            (default skip)\n"
    "  --threads N               score blocks of lines with N OpenMP threads; output order\n"
    "                            is unchanged (default 1)\n"
    "  --quiet                   no summary line\n"
    "  --stats                   print throughput to stderr: process CPU time and the time\n"
    "                            spent scoring alone (without JSON parsing and writing)\n";

typedef struct ScoreOpts {
    const char *in, *out, *text_field;
    int detail, hybrid, quiet, threads, stats;
    YaBadLinePolicy policy;
} ScoreOpts;

/* One input line of a block: parsed object or the reason it is bad. */
typedef struct Item {
    json_t *obj;   /* NULL for a bad line */
    uint64_t line; /* 1-based line number */
    char reason[1100];
    YaScoringMethod method;
    YaScoreResult res;
    int failed; /* scoring error: reason holds it */
} Item;

enum { BLOCK = 256 };

static int write_item(FILE *fp, const Item *it, const ScoreOpts *o, YaError *err) {
    if (ya_score_annotate(it->obj, it->method, &it->res, o->detail, err)) return YA_ERR;
    if (ya_json_write(fp, it->obj) != 0 || fputc('\n', fp) == EOF)
        return ya_fail(err, YA_ERR, "%s: write error", o->out);
    return YA_OK;
}

static double clock_s(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int score_file(const YaScorer *scorer, const ScoreOpts *o, FILE *out, uint64_t counts[3], YaBadLines *bad,
                      double *score_seconds, YaError *err) {
    YaJsonlReader rd;
    if (ya_jsonl_open(&rd, o->in, err)) return YA_ERR;
    Item *items = calloc(BLOCK, sizeof *items);
    if (!items) {
        ya_jsonl_close(&rd);
        return ya_fail(err, YA_ERR, "out of memory");
    }
    int rc = YA_OK, eof = 0;
    while (rc == YA_OK && !eof) {
        /* Read a block (one line when single-threaded: the cheapest streaming). */
        int n = 0, cap = o->threads > 1 ? BLOCK : 1;
        while (n < cap) {
            Item *it = &items[n];
            memset(it, 0, sizeof *it);
            YaJsonlResult r = ya_jsonl_next(&rd, &it->obj, it->reason, sizeof it->reason, err);
            if (r == YA_JSONL_EOF) {
                eof = 1;
                break;
            }
            if (r == YA_JSONL_IOERR) {
                rc = YA_ERR;
                break;
            }
            it->line = rd.line_no;
            n++;
        }
        /* Score (in parallel when asked; each document is independent). --stats
         * times this part alone: thread CPU time single-threaded, wall time otherwise. */
        clockid_t clk = o->threads > 1 ? CLOCK_MONOTONIC : CLOCK_THREAD_CPUTIME_ID;
        double t0 = o->stats ? clock_s(clk) : 0.0;
#pragma omp parallel for schedule(dynamic, 8) num_threads(o->threads > 1 ? o->threads : 1) if (n > 1 && o->threads > 1)
        for (int k = 0; k < n; k++) {
            Item *it = &items[k];
            if (!it->obj) continue;
            YaError e = {0};
            if (ya_score_record(scorer, it->obj, o->text_field, o->hybrid, &it->method, &it->res, &e)) {
                it->failed = 1;
                snprintf(it->reason, sizeof it->reason, "%s", e.message);
            }
        }
        if (o->stats) *score_seconds += clock_s(clk) - t0;
        /* Write in input order. */
        for (int k = 0; k < n; k++) {
            Item *it = &items[k];
            if (rc == YA_OK) {
                if (!it->obj || it->failed) rc = ya_bad_line(bad, o->in, it->line, it->reason, err);
                else {
                    rc = write_item(out, it, o, err);
                    if (rc == YA_OK) counts[it->method]++;
                }
            }
            json_decref(it->obj);
            it->obj = NULL;
        }
    }
    free(items);
    ya_jsonl_close(&rd);
    return rc;
}

static int run_score(int argc, char **argv) {
    ScoreOpts o = {.text_field = "text", .hybrid = 1, .threads = 1, .policy = YA_BAD_LINE_SKIP};
    YaError err = {0};
    for (int i = 1; i < argc; i++) {
        const char *v;
        int m;
        if ((m = ya_cli_flag(argc, argv, &i, "--in", &v))) o.in = v;
        else if ((m = ya_cli_flag(argc, argv, &i, "--out", &v))) o.out = v;
        else if ((m = ya_cli_flag(argc, argv, &i, "--text-field", &v))) o.text_field = v;
        else if ((m = ya_cli_flag(argc, argv, &i, "--on-bad-line", &v))) {
            if (m > 0 && ya_bad_line_policy_parse(v, &o.policy, &err)) return ya_cli_usage_error("score", "%s", err.message);
        } else if ((m = ya_cli_flag(argc, argv, &i, "--threads", &v))) {
            long long t;
            if (m > 0 && ya_cli_parse_int("--threads", v, 1, 1024, &t)) return YA_ERR_USAGE;
            o.threads = (int)t;
        } else if (strcmp(argv[i], "--detail") == 0) o.detail = 1, m = 1;
        else if (strcmp(argv[i], "--no-hybrid") == 0) o.hybrid = 0, m = 1;
        else if (strcmp(argv[i], "--quiet") == 0) o.quiet = 1, m = 1;
        else if (strcmp(argv[i], "--stats") == 0) o.stats = 1, m = 1;
        else return ya_cli_usage_error("score", "unknown argument '%s'", argv[i]);
        if (m < 0) return YA_ERR_USAGE;
    }
    if (!o.in || !o.out) return ya_cli_usage_error("score", "--in and --out are required");
    if (!o.text_field[0]) return ya_cli_usage_error("score", "--text-field must not be empty");
    struct stat st;
    if (strcmp(o.out, "-") != 0 && stat(o.out, &st) == 0 && !S_ISREG(st.st_mode))
        /* the atomic writer renames over its target: never over a device or directory */
        return ya_cli_usage_error("score", "--out %s is not a regular file (use --out - for stdout)", o.out);

    YaScorer *scorer = NULL;
    if (ya_scorer_new(&scorer, &err)) return ya_cli_report("score", &err);
    int to_stdout = strcmp(o.out, "-") == 0;
    YaAtomicFile af = {0};
    FILE *out = stdout;
    if (!to_stdout) {
        if (ya_atomic_open(&af, o.out, &err)) {
            ya_scorer_free(scorer);
            return ya_cli_report("score", &err);
        }
        out = af.fp;
    }
    uint64_t counts[3] = {0};
    YaBadLines bad = {.policy = o.policy};
    double score_s = 0.0, t_start = clock_s(CLOCK_PROCESS_CPUTIME_ID);
    int rc = score_file(scorer, &o, out, counts, &bad, &score_s, &err);
    double cpu_s = clock_s(CLOCK_PROCESS_CPUTIME_ID) - t_start;
    if (rc == YA_OK) {
        if (to_stdout) {
            if (fflush(stdout) != 0) rc = ya_fail(&err, YA_ERR, "stdout: write error");
        } else {
            rc = ya_atomic_commit(&af, &err);
        }
    } else if (!to_stdout) {
        ya_atomic_abort(&af);
    }
    ya_scorer_free(scorer);
    if (rc) return ya_cli_report("score", &err);
    if (!o.quiet) {
        uint64_t total = counts[0] + counts[1] + counts[2];
        fprintf(stderr, "score: %llu document%s -> %s (hybrid %llu, dynamic %llu, default %llu; %llu bad line%s skipped)\n",
                (unsigned long long)total, total == 1 ? "" : "s", to_stdout ? "stdout" : o.out,
                (unsigned long long)counts[YA_SCORING_HYBRID], (unsigned long long)counts[YA_SCORING_DYNAMIC],
                (unsigned long long)counts[YA_SCORING_DEFAULT], (unsigned long long)bad.count,
                bad.count == 1 ? "" : "s");
    }
    if (o.stats) {
        uint64_t total = counts[0] + counts[1] + counts[2];
        fprintf(stderr, "score: stats: %llu documents, %.3f s process CPU (%.0f documents/s), scoring alone %.3f s %s "
                        "(%.0f documents/s)\n",
                (unsigned long long)total, cpu_s, cpu_s > 0 ? (double)total / cpu_s : 0.0, score_s,
                o.threads > 1 ? "wall" : "CPU", score_s > 0 ? (double)total / score_s : 0.0);
    }
    return YA_OK;
}

const YaCommand ya_cmd_score = {
    .name = "score",
    .summary = "score raw JSONL documents with the citation scorer (auth_weight, prov_entropy)",
    .usage = k_usage,
    .order = 18,
    .run = run_score,
};
