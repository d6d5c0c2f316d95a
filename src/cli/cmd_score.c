/* cmd_score.c — `your_ai score`: runs the citation scorer (SPEC §4.8) over a
 * raw JSONL file, streaming: each output line is the input object plus the
 * score fields. Memory stays constant in the input size (one fixed-size block
 * of lines at a time). Speed: most lines never become a jansson tree — see
 * src/distrust/score_json.h; docs/BENCHMARKS.md has the numbers. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "distrust/score_json.h"
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
    "  --max-line-bytes N        longest line accepted; a longer one is a bad line, skipped unread\n"
    "                            (default 16777216 = 16 MiB)\n"
    "  --threads N               score blocks of lines with N OpenMP threads; output order\n"
    "                            is unchanged (default 1)\n"
    "  --quiet                   no summary line\n"
    "  --stats                   print throughput to stderr: process CPU time and the time\n"
    "                            spent scoring alone (without JSON parsing and writing), and\n"
    "                            how many lines took the single-pass JSON path (the others:\n"
    "                            lines it declines, e.g. duplicate keys or a score field\n"
    "                            already present, are parsed with jansson; same output)\n";

typedef struct ScoreOpts {
    const char *in, *out, *text_field;
    int detail, hybrid, quiet, threads, stats;
    YaBadLinePolicy policy;
} ScoreOpts;

/* One input line of a block. Most lines take the fast path (score_json.c:
 * one pass validates the line and writes its canonical JSON, and only the
 * fields the scorer reads become jansson values); the rest are parsed with
 * jansson and re-serialised, which gives the same bytes, and is the reference
 * for anything the fast path declines (its errors included). */
typedef enum { LINE_BAD, LINE_FAST, LINE_JSON } LineKind;

typedef struct Item {
    char *line; /* getline buffer (reused), the line without its newline */
    size_t line_cap, line_len;
    uint64_t line_no; /* 1-based */
    LineKind kind;
    json_t *obj;  /* LINE_JSON: the parsed object */
    YasLine fast; /* LINE_FAST: canonical output + the scorer's fields */
    char reason[1100];
    YaScoringMethod method;
    YaScoreResult res;
    int failed; /* scoring error: reason holds it */
    int oom;
} Item;

/* Lines per block: read sequentially, then parsed, scored and formatted (in
 * parallel with --threads), then written in order. Bounded in lines and bytes
 * (a block ends after the line that reaches BLOCK_BYTES), and per-line buffers
 * above KEEP_BYTES are released after each block, so memory stays constant in
 * the input size even with multi-megabyte documents. */
enum { BLOCK = 256, BLOCK_BYTES = 4 << 20, KEEP_BYTES = 64 << 10 };

static double clock_s(clockid_t id) {
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return 0;
    return 1;
}

/* Reads up to BLOCK non-blank lines (the rules of ya_jsonl_next: 1-based line
 * numbers counting blank lines, trailing \n / \r stripped, a NUL byte makes the
 * line bad). Returns the count, or -1 on a read error (err filled). */
static int read_block(YaJsonlReader *rd, Item *items, int *eof, YaError *err) {
    int n = 0;
    size_t bytes = 0;
    while (n < BLOCK && bytes < BLOCK_BYTES) {
        Item *it = &items[n];
        errno = 0;
        size_t len = 0;
        uint64_t consumed = 0;
        int got = ya_jsonl_read_line(rd->fp, rd->max_line, &it->line, &it->line_cap, &len, &consumed);
        if (got < 0)
            return ya_fail(err, YA_ERR, "%s: read error after line %llu: %s", rd->path, (unsigned long long)rd->line_no,
                           strerror(errno ? errno : EIO)), -1;
        if (got == 0) {
            *eof = 1;
            break;
        }
        rd->line_no++;
        if (got == 2) { /* too long: a bad line, never held in memory */
            if (it->line) it->line[0] = '\0';
            it->line_len = 0;
            it->line_no = rd->line_no;
            it->kind = LINE_BAD;
            it->failed = it->oom = 0;
            snprintf(it->reason, sizeof it->reason,
                     "line is %llu bytes, longer than the limit %llu (raise with --max-line-bytes)",
                     (unsigned long long)consumed, (unsigned long long)rd->max_line);
            n++;
            continue;
        }
        while (len && (it->line[len - 1] == '\n' || it->line[len - 1] == '\r')) len--;
        it->line[len] = '\0';
        if (is_blank(it->line, len)) continue;
        it->line_len = len;
        bytes += len;
        it->line_no = rd->line_no;
        it->kind = LINE_JSON;
        it->failed = it->oom = 0;
        if (memchr(it->line, '\0', len)) {
            it->kind = LINE_BAD;
            snprintf(it->reason, sizeof it->reason, "line contains a NUL byte");
        }
        n++;
    }
    return n;
}

/* Fast path, else jansson (with ya_jsonl_next's messages for bad lines). */
static void parse_item(Item *it, const ScoreOpts *o, int fast_ok) {
    if (it->kind == LINE_BAD) return;
    if (fast_ok) {
        int r = yas_line_scan(it->line, it->line_len, o->text_field, &it->fast);
        if (r < 0) it->oom = 1;
        if (r != 0) {
            it->kind = LINE_FAST;
            return;
        }
    }
    json_error_t je;
    json_t *v = json_loadb(it->line, it->line_len, 0, &je);
    if (!v) {
        it->kind = LINE_BAD;
        snprintf(it->reason, sizeof it->reason, "invalid JSON at column %d: %s", je.column, je.text);
    } else if (!json_is_object(v)) {
        json_decref(v);
        it->kind = LINE_BAD;
        snprintf(it->reason, sizeof it->reason, "not a JSON object");
    } else {
        it->obj = v;
    }
}

static void score_item(const YaScorer *scorer, Item *it, const ScoreOpts *o) {
    if (it->kind == LINE_BAD || it->oom) return;
    YaError e = {0};
    const json_t *doc = it->kind == LINE_FAST ? it->fast.meta : it->obj;
    if (ya_score_record(scorer, doc, o->text_field, o->hybrid, &it->method, &it->res, &e)) {
        it->failed = 1;
        snprintf(it->reason, sizeof it->reason, "%s", e.message);
    }
}

/* Output lines are gathered in one buffer and handed to stdio in ~1 MiB
 * writes (stdio's own buffer is 4 KiB: one write(2) per ~7 lines otherwise). */
enum { OUT_CHUNK = 1 << 20 };

static int flush_out(FILE *fp, YaStrBuf *ob, const ScoreOpts *o, YaError *err) {
    if (ob->len && fwrite(ob->data, 1, ob->len, fp) != ob->len) return ya_fail(err, YA_ERR, "%s: write error", o->out);
    ob->len = 0;
    if (ob->cap > 4 * OUT_CHUNK) ya_strbuf_free(ob); /* grown by one huge line: don't keep it */
    return YA_OK;
}

/* Fast lines get their score fields appended here (jansson lines when written). */
static void format_item(Item *it, const ScoreOpts *o) {
    if (it->kind == LINE_FAST && !it->oom && !it->failed &&
        yas_line_annotate(&it->fast, it->method, &it->res, o->detail))
        it->oom = 1;
}

static int write_item(FILE *fp, YaStrBuf *ob, Item *it, const ScoreOpts *o, YaError *err) {
    if (it->kind == LINE_FAST) {
        if (ya_strbuf_put(ob, it->fast.out.data, it->fast.out.len)) return ya_fail(err, YA_ERR, "out of memory");
    } else {
        if (ya_score_annotate(it->obj, it->method, &it->res, o->detail, err)) return YA_ERR;
        char *line = ya_json_dumps(it->obj);
        int bad = !line || ya_strbuf_put(ob, line, strlen(line)) || ya_strbuf_put(ob, "\n", 1);
        free(line);
        if (bad) return ya_fail(err, YA_ERR, "out of memory");
    }
    return ob->len >= OUT_CHUNK ? flush_out(fp, ob, o, err) : YA_OK;
}

/* Drops the buffers a long line left behind (they would otherwise stay with
 * this block slot for the rest of the run). */
static void release_big(Item *it) {
    if (it->line_cap > KEEP_BYTES) {
        free(it->line);
        it->line = NULL;
        it->line_cap = 0;
    }
    if (it->fast.out.cap > KEEP_BYTES || it->fast.scratch.cap > KEEP_BYTES) yas_line_free(&it->fast);
    else if (it->fast.meta) json_object_clear(it->fast.meta); /* the text copy */
}

static int score_file(const YaScorer *scorer, const ScoreOpts *o, FILE *out, uint64_t counts[3], YaBadLines *bad,
                      double *score_seconds, uint64_t *n_fast, YaError *err) {
    YaJsonlReader rd;
    if (ya_jsonl_open(&rd, o->in, err)) return YA_ERR;
    Item *items = calloc(BLOCK, sizeof *items);
    if (!items) {
        ya_jsonl_close(&rd);
        return ya_fail(err, YA_ERR, "out of memory");
    }
    const int fast_ok = yas_line_text_field_ok(o->text_field), threads = o->threads > 1 ? o->threads : 1;
    YaStrBuf ob = {0}; /* pending output */
    int rc = YA_OK, eof = 0;
    while (rc == YA_OK && !eof) {
        int n = read_block(&rd, items, &eof, err);
        if (n < 0) {
            rc = YA_ERR;
            break;
        }
        if (threads > 1) {
            /* One parallel region per block (each costs a fork/join); --stats sums
             * the threads' CPU time spent in the scorer. */
            double score_cpu = 0.0;
#pragma omp parallel for schedule(dynamic, 4) num_threads(threads) reduction(+ : score_cpu)
            for (int k = 0; k < n; k++) {
                parse_item(&items[k], o, fast_ok);
                double t0 = o->stats ? clock_s(CLOCK_THREAD_CPUTIME_ID) : 0.0;
                score_item(scorer, &items[k], o);
                if (o->stats) score_cpu += clock_s(CLOCK_THREAD_CPUTIME_ID) - t0;
                format_item(&items[k], o);
            }
            *score_seconds += score_cpu;
        } else {
            /* Phase by phase, so that --stats times the scoring of the whole block
             * with one pair of clock reads. */
            for (int k = 0; k < n; k++) parse_item(&items[k], o, fast_ok);
            double t0 = o->stats ? clock_s(CLOCK_THREAD_CPUTIME_ID) : 0.0;
            for (int k = 0; k < n; k++) score_item(scorer, &items[k], o);
            if (o->stats) *score_seconds += clock_s(CLOCK_THREAD_CPUTIME_ID) - t0;
            for (int k = 0; k < n; k++) format_item(&items[k], o);
        }
        /* Write in input order. */
        for (int k = 0; k < n; k++) {
            Item *it = &items[k];
            if (rc == YA_OK) {
                if (it->oom) rc = ya_fail(err, YA_ERR, "%s:%llu: out of memory", o->in, (unsigned long long)it->line_no);
                else if (it->kind == LINE_BAD || it->failed) rc = ya_bad_line(bad, o->in, it->line_no, it->reason, err);
                else {
                    rc = write_item(out, &ob, it, o, err);
                    if (rc == YA_OK) counts[it->method]++;
                    if (it->kind == LINE_FAST) ++*n_fast;
                }
            }
            json_decref(it->obj);
            it->obj = NULL;
            release_big(it);
        }
    }
    /* Also after a failure: with --out - the lines before it stay written, as
     * when streaming line by line (a file output is discarded anyway). */
    if (rc == YA_OK) rc = flush_out(out, &ob, o, err);
    else flush_out(out, &ob, o, &(YaError){0});
    ya_strbuf_free(&ob);
    for (int k = 0; k < BLOCK; k++) {
        free(items[k].line);
        yas_line_free(&items[k].fast);
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
        if ((m = ya_cli_max_line_flag(argc, argv, &i))) {
            if (m < 0) return YA_ERR_USAGE;
            continue;
        }
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
    uint64_t n_fast = 0;
    int rc = score_file(scorer, &o, out, counts, &bad, &score_s, &n_fast, &err);
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
        fprintf(stderr, "score: stats: %llu documents, %.3f s process CPU (%.0f documents/s), scoring alone %.3f s CPU%s "
                        "(%.0f documents/s)\n",
                (unsigned long long)total, cpu_s, cpu_s > 0 ? (double)total / cpu_s : 0.0, score_s,
                o.threads > 1 ? " summed over threads" : "", score_s > 0 ? (double)total / score_s : 0.0);
        fprintf(stderr, "score: stats: JSON: %llu lines single-pass, %llu through jansson\n", (unsigned long long)n_fast,
                (unsigned long long)(total - n_fast));
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
