/* data_loader.c — the training stream: a pre-pass index over the JSONL file(s),
 * a seeded permutation per epoch, and a cursor that restores exactly (SPEC §8, §9).
 *
 * Pre-pass: every line is read, validated, rendered and tokenised once. Kept
 * samples are remembered by (file, byte offset, line, token length, supervised
 * count, w, H) — O(lines) memory, never the text. That gives, before step 0: every
 * bad line (fail fast, or skip and count), the samples to drop (n_sup = 0), exact
 * epoch sizes, the μ of weighted mode over exactly the samples trained on, and the
 * lengths the packer plans with. Tokenising runs in parallel blocks, committed
 * in file order, so nothing depends on the thread count.
 * Stream: epoch k visits the kept samples in the order of a Fisher–Yates
 * permutation drawn from stream "epoch:<k>"; each sample is re-read by seeking to
 * its offset and re-tokenised. The cursor (epoch, position) is the whole state: a
 * batch is a pure function of the samples from the cursor on, so restoring it
 * reproduces the uninterrupted run's batches bit for bit. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <omp.h> /* defines: omp_get_max_threads, omp_get_thread_num */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/data.h"
#include "your_ai/fileio.h" /* defines: ya_fopen_input */
#include "your_ai/sha256.h"

/* One kept sample of the index (56 bytes). */
typedef struct DataEntry {
    uint64_t offset;  /* byte offset of its line */
    uint64_t line_no; /* 1-based line number */
    uint32_t file;    /* index into paths */
    uint32_t len;     /* tokens after truncation */
    uint32_t n_sup;   /* supervised targets after truncation (≥ 1) */
    uint8_t source;   /* YaChatSource of the line */
    uint8_t tools;    /* the line offers tools, calls one or carries a tool result */
    double w, h;      /* distrust fields (0 when the run has none) */
    double weight;    /* sample weight (> 0: weight-0 lines are dropped) */
} DataEntry;

struct YaDataLoader {
    YaDataConfig cfg;
    const YaTokenizer *tok;
    YaChatFormat chat_format;
    YaDataFormat format;
    size_t n_files;
    char **paths;
    char (*sha)[65];
    YaJsonlReader *readers; // [n_files], opened on first use by the stream
    int *reader_open;       // [n_files]

    DataEntry *entries; // [n]
    uint64_t n, cap;
    YaDataStats stats;

    YaDataCursor cur;
    uint64_t *perm; // [n] permutation of epoch perm_epoch
    uint64_t perm_epoch;
    int perm_valid;

    /* per-batch scratch, sized once */
    int max_docs;      /* documents one batch can hold */
    uint64_t *pick;    // [max_docs] entry index of each document of the batch
    uint64_t *pick_ep; // [max_docs] epoch each was drawn in
    int32_t *pool_ids; // [B * max_seq_len] tokens of the batch's documents, end to end
    uint8_t *pool_sup; // [B * max_seq_len]
    YaDataSeq *seqs;   // [max_docs]
    YaTokSeq render;   /* one rendering at a time */
    YaBatch batch;
};

static int file_sha256(const char *path, char hex[65], YaError *err) {
    FILE *fp = ya_fopen_input(path, err);
    if (!fp) return YA_ERR;
    YaSha256 ctx;
    ya_sha256_init(&ctx);
    unsigned char buf[1 << 16];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, fp)) > 0) ya_sha256_update(&ctx, buf, got);
    int bad = ferror(fp);
    fclose(fp);
    if (bad) return ya_fail(err, YA_ERR, "%s: read error while hashing", path);
    uint8_t d[32];
    ya_sha256_final(&ctx, d);
    ya_digest_to_hex(d, hex);
    return YA_OK;
}

static int push_entry(YaDataLoader *dl, const DataEntry *e, YaError *err) {
    if (dl->n == dl->cap) {
        uint64_t cap = dl->cap ? dl->cap * 2 : 1024;
        DataEntry *p = realloc(dl->entries, cap * sizeof *p);
        if (!p) return ya_fail(err, YA_ERR, "out of memory indexing %" PRIu64 " samples", cap);
        dl->entries = p;
        dl->cap = cap;
    }
    dl->entries[dl->n++] = *e;
    return YA_OK;
}

/* Resolves the chat template once the data format is known. */
static int resolve_template(YaDataLoader *dl, const char *path, uint64_t line, YaError *err) {
    dl->chat_format = dl->cfg.chat_format != YA_CHAT_NONE ? dl->cfg.chat_format : ya_tokenizer_chat_format(dl->tok);
    if (dl->format == YA_DATA_CHAT && dl->chat_format == YA_CHAT_NONE) {
        char where[64] = "";
        if (line) snprintf(where, sizeof where, ":%" PRIu64, line);
        return ya_fail(err, YA_ERR,
                       "%s%s: chat data needs a chat template, and the tokenizer has none we recognise: "
                       "pass --chat-format chatml|llama3|mistral|qwen3",
                       path, where);
    }
    return YA_OK;
}

/* One line of the pre-pass between reading and committing. */
typedef struct PrepassLine {
    json_t *obj;       /* NULL once processed, or when the line is not a JSON object */
    uint64_t line_no, offset;
    int status;        /* LINE_OK, LINE_BAD (reason), LINE_DROPPED */
    int drop;          /* LINE_DROPPED: why (DROP_*) */
    int scored;        /* YaDataRecord.scored */
    int has_scores;
    double w, h, weight;
    YaChatSource source;
    int has_tools;
    uint32_t len, n_sup;
    size_t full_len;
    char reason[512];
} PrepassLine;
enum { LINE_OK = 0, LINE_BAD = 1, LINE_DROPPED = 2, PREPASS_BLOCK = 512 };
enum { DROP_EMPTY = 0, DROP_TRUNCATED = 1, DROP_ZERO_WEIGHT = 2 };

/* Pre-pass, step 1: validates one line (sets pl->status = LINE_BAD on failure).
 * Thread-safe for a fixed format. */
static int prepass_parse(const YaDataLoader *dl, YaDataFormat *format, const YaDataScorer *scorer, PrepassLine *pl,
                         YaDataRecord *rec) {
    if (!pl->obj) return YA_ERR; /* not a JSON object: already bad */
    if (ya_data_record_parse(pl->obj, &dl->cfg, format, scorer, rec, pl->reason, sizeof pl->reason) == YA_OK)
        return YA_OK;
    pl->status = LINE_BAD;
    json_decref(pl->obj);
    pl->obj = NULL;
    return YA_ERR;
}

/* Pre-pass, step 2: renders and tokenises a validated line with the calling
 * thread's scratch seq, and keeps only what the index needs. */
static void prepass_render(const YaDataLoader *dl, PrepassLine *pl, const YaDataRecord *rec, YaTokSeq *seq) {
    YaError rerr = {0};
    int rc = ya_data_render(rec, &dl->cfg, dl->tok, dl->chat_format, seq, &rerr);
    json_decref(pl->obj); /* rec borrowed from it */
    pl->obj = NULL;
    if (rc) {
        pl->status = LINE_BAD;
        snprintf(pl->reason, sizeof pl->reason, "%.500s", rerr.message);
        return;
    }
    if (ya_data_check_vocab(seq, dl->cfg.vocab_size, pl->reason, sizeof pl->reason)) {
        pl->status = LINE_BAD;
        return;
    }
    pl->status = seq->n_sup && rec->weight > 0 ? LINE_OK : LINE_DROPPED;
    pl->drop = rec->weight == 0 ? DROP_ZERO_WEIGHT : seq->n_sup_full > 0 ? DROP_TRUNCATED : DROP_EMPTY;
    pl->scored = rec->scored;
    pl->has_scores = rec->has_scores;
    pl->w = rec->w;
    pl->h = rec->h;
    pl->weight = rec->weight;
    pl->source = rec->chat_source;
    pl->has_tools = rec->has_tools;
    pl->len = (uint32_t)seq->len;
    pl->n_sup = (uint32_t)seq->n_sup;
    pl->full_len = seq->full_len;
}

/* Applies one processed line to the index, in file order: bad-line policy,
 * drop accounting, or a new entry. */
static int commit_line(YaDataLoader *dl, uint32_t fi, const PrepassLine *pl, YaBadLines *bad, uint64_t *n_dropped_shown,
                       YaError *err) {
    const char *path = dl->paths[fi];
    if (pl->status == LINE_BAD) return ya_bad_line(bad, path, pl->line_no, pl->reason, err);
    if (pl->status == LINE_DROPPED) {
        /* nothing to learn from: counted and reported, never silently lost */
        static const char *const why[] = {"no supervised token to train on",
                                          "every supervised token lies beyond --max-seq-length",
                                          "its weight is 0"};
        if (pl->drop == DROP_TRUNCATED) dl->stats.n_dropped_truncated++;
        else if (pl->drop == DROP_ZERO_WEIGHT) dl->stats.n_dropped_zero_weight++;
        else dl->stats.n_dropped_empty++;
        if ((*n_dropped_shown)++ < 20) fprintf(stderr, "%s:%" PRIu64 ": dropped: %s\n", path, pl->line_no, why[pl->drop]);
        return YA_OK;
    }
    if (pl->full_len > pl->len) dl->stats.n_truncated++;
    if (pl->scored == 1) dl->stats.n_scored++;
    if (pl->scored == 2) dl->stats.n_defaulted++;
    if (!pl->has_scores) dl->stats.has_scores = 0;
    dl->stats.n_tokens += pl->len;
    dl->stats.n_sup_tokens += pl->n_sup;
    if (pl->weight != 1.0) dl->stats.n_weighted++;
    dl->stats.n_by_source[pl->source]++;
    if (pl->has_tools) dl->stats.n_with_tools++;
    DataEntry e = {.offset = pl->offset, .line_no = pl->line_no, .file = fi, .len = pl->len, .n_sup = pl->n_sup,
                   .source = (uint8_t)pl->source, .tools = (uint8_t)pl->has_tools, .w = pl->w, .h = pl->h, .weight = pl->weight};
    return push_entry(dl, &e, err);
}

/* Reads one file of the pre-pass in blocks of lines: read in order, process in
 * parallel (tokenising dominates), commit in order — so the index, the counts and
 * the first bad line reported do not depend on the thread count. Until the data
 * format is known (first line with a known shape) lines are processed one by one,
 * because each may fix the format for those after it. */
static int index_file(YaDataLoader *dl, uint32_t fi, const YaDataScorer *scorer, YaBadLines *bad, uint64_t *n_dropped_shown,
                      PrepassLine *block, YaTokSeq *seqs, int n_threads, YaError *err) {
    const char *path = dl->paths[fi];
    YaJsonlReader r;
    if (ya_jsonl_open(&r, path, err)) return YA_ERR;
    int rc = YA_OK, eof = 0;
    while (rc == YA_OK && !eof) {
        int n = 0;
        while (n < PREPASS_BLOCK) {
            PrepassLine *pl = &block[n];
            pl->obj = NULL;
            pl->status = LINE_OK;
            YaJsonlResult res = ya_jsonl_next(&r, &pl->obj, pl->reason, sizeof pl->reason, err);
            if (res == YA_JSONL_EOF) {
                eof = 1;
                break;
            }
            if (res == YA_JSONL_IOERR) {
                rc = YA_ERR;
                break;
            }
            pl->line_no = r.line_no;
            pl->offset = r.line_offset;
            if (res == YA_JSONL_BAD) pl->status = LINE_BAD;
            n++;
        }
        dl->stats.n_lines += (uint64_t)n;
        int k = 0;
        for (; rc == YA_OK && k < n && dl->format == YA_DATA_AUTO; k++) { /* one by one until the format is known */
            YaDataRecord rec;
            int prc = prepass_parse(dl, &dl->format, scorer, &block[k], &rec);
            if (dl->format != YA_DATA_AUTO) { /* this line fixed it (even if it is bad otherwise) */
                dl->stats.format = dl->format;
                rc = resolve_template(dl, path, block[k].line_no, err);
            }
            if (rc == YA_OK && prc == YA_OK) prepass_render(dl, &block[k], &rec, &seqs[0]);
        }
        if (rc == YA_OK && k < n) {
            const YaDataFormat fmt = dl->format;
#pragma omp parallel for schedule(dynamic, 4) num_threads(n_threads) if (n_threads > 1 && n - k > 1)
            for (int i = k; i < n; i++) {
                YaDataFormat f = fmt;
                YaDataRecord rec;
                if (prepass_parse(dl, &f, scorer, &block[i], &rec) == YA_OK)
                    prepass_render(dl, &block[i], &rec, &seqs[omp_get_thread_num()]);
            }
        }
        for (int i = 0; i < n; i++) {
            if (rc == YA_OK) rc = commit_line(dl, fi, &block[i], bad, n_dropped_shown, err);
            if (block[i].obj) json_decref(block[i].obj); /* lines left unprocessed by an error */
            block[i].obj = NULL;
        }
    }
    ya_jsonl_close(&r);
    return rc;
}

void ya_data_close(YaDataLoader *dl) {
    if (!dl) return;
    for (size_t i = 0; i < dl->n_files; i++) {
        if (dl->reader_open && dl->reader_open[i]) ya_jsonl_close(&dl->readers[i]);
        if (dl->paths) free(dl->paths[i]);
    }
    free(dl->paths);
    free(dl->sha);
    free(dl->readers);
    free(dl->reader_open);
    free(dl->entries);
    free(dl->perm);
    free(dl->pick);
    free(dl->pick_ep);
    free(dl->pool_ids);
    free(dl->pool_sup);
    free(dl->seqs);
    ya_tok_seq_free(&dl->render);
    ya_batch_free(&dl->batch);
    free(dl);
}

static int check_config(const YaDataConfig *c, YaError *err) {
    if (c->max_seq_len < 2) return ya_fail(err, YA_ERR_USAGE, "--max-seq-length must be >= 2, got %d", c->max_seq_len);
    if (c->batch_size < 1) return ya_fail(err, YA_ERR_USAGE, "--batch-size must be >= 1, got %d", c->batch_size);
    if ((size_t)c->batch_size * (size_t)c->max_seq_len > (size_t)1 << 31)
        return ya_fail(err, YA_ERR_USAGE, "--batch-size x --max-seq-length = %zu tokens is too large",
                       (size_t)c->batch_size * (size_t)c->max_seq_len);
    if (c->has_default_auth && !(c->default_auth >= 0 && c->default_auth <= 0.99))
        return ya_fail(err, YA_ERR_USAGE, "--default-auth must be in [0, 0.99], got %g", c->default_auth);
    if (c->has_default_entropy && !(c->default_entropy >= 0 && c->default_entropy <= YA_DATA_ENTROPY_MAX))
        return ya_fail(err, YA_ERR_USAGE, "--default-entropy must be in [0, %g], got %g", YA_DATA_ENTROPY_MAX, c->default_entropy);
    return YA_OK;
}

int ya_data_open(const YaDataConfig *cfg, const char *const *paths, size_t n_paths, const YaTokenizer *tok,
                 const YaDataScorer *scorer, YaDataLoader **out, YaError *err) {
    *out = NULL;
    if (check_config(cfg, err)) return err->code;
    if (n_paths == 0) return ya_fail(err, YA_ERR_USAGE, "no training data file given");
    if (cfg->score && cfg->need_scores && !scorer) return ya_fail(err, YA_ERR, "--score needs the citation scorer");
    YaDataLoader *dl = calloc(1, sizeof *dl);
    if (!dl) return ya_fail(err, YA_ERR, "out of memory");
    dl->cfg = *cfg;
    dl->tok = tok;
    dl->format = cfg->format;
    dl->n_files = n_paths;
    dl->paths = calloc(n_paths, sizeof *dl->paths);
    dl->sha = calloc(n_paths, sizeof *dl->sha);
    dl->readers = calloc(n_paths, sizeof *dl->readers);
    dl->reader_open = calloc(n_paths, sizeof *dl->reader_open);
    if (!dl->paths || !dl->sha || !dl->readers || !dl->reader_open) goto oom;
    for (size_t i = 0; i < n_paths; i++)
        if (!(dl->paths[i] = strdup(paths[i]))) goto oom;
    dl->stats.format = dl->format;
    dl->stats.has_scores = 1;
    if (dl->format != YA_DATA_AUTO && resolve_template(dl, paths[0], 0, err)) goto fail;

    YaBadLines bad = {.policy = cfg->on_bad_line};
    uint64_t dropped_shown = 0;
    int n_threads = cfg->threads > 0 ? cfg->threads : omp_get_max_threads();
    PrepassLine *block = calloc(PREPASS_BLOCK, sizeof *block);
    YaTokSeq *seqs = calloc((size_t)n_threads, sizeof *seqs); /* one rendering scratch per thread */
    int prc = block && seqs ? YA_OK : ya_fail(err, YA_ERR, "out of memory");
    for (size_t i = 0; prc == YA_OK && i < n_paths; i++) {
        prc = file_sha256(paths[i], dl->sha[i], err);
        if (prc == YA_OK) prc = index_file(dl, (uint32_t)i, scorer, &bad, &dropped_shown, block, seqs, n_threads, err);
    }
    for (int t = 0; seqs && t < n_threads; t++) ya_tok_seq_free(&seqs[t]);
    free(seqs);
    free(block);
    if (prc) goto fail;
    dl->stats.n_bad = bad.count;
    dl->stats.n_samples = dl->n;
    dl->stats.chat_format = dl->chat_format;
    ya_bad_lines_summary(&bad, "data");
    uint64_t dropped = dl->stats.n_dropped_truncated + dl->stats.n_dropped_empty + dl->stats.n_dropped_zero_weight;
    if (dropped)
        fprintf(stderr, "data: %" PRIu64 " sample%s dropped (%" PRIu64 " with the supervised part beyond --max-seq-length %d, %" PRIu64
                        " with no supervised token, %" PRIu64 " with weight 0)\n",
                dropped, dropped == 1 ? "" : "s", dl->stats.n_dropped_truncated, cfg->max_seq_len,
                dl->stats.n_dropped_empty, dl->stats.n_dropped_zero_weight);
    if (dl->n == 0) {
        ya_fail(err, YA_ERR,
                "%s%s: no training sample left (%" PRIu64 " lines: %" PRIu64 " bad, %" PRIu64 " dropped)", paths[0],
                n_paths > 1 ? " ..." : "", dl->stats.n_lines, bad.count, dropped);
        goto fail;
    }
    if (!dl->stats.has_scores) {
        for (uint64_t i = 0; i < dl->n; i++) dl->entries[i].w = dl->entries[i].h = 0;
    } else if (cfg->alpha > 0) {
        /* μ of weighted mode (SPEC §3.3b): mean of ℓ = α·(ln(1 − w + ε) + H)² over the kept samples */
        double sum = 0;
        for (uint64_t i = 0; i < dl->n; i++) {
            double c = log(1.0 - dl->entries[i].w + 1e-8) + dl->entries[i].h;
            sum += cfg->alpha * c * c;
        }
        dl->stats.mean_distrust = sum / (double)dl->n;
    }

    /* stream scratch: a kept document has ≥ 2 tokens (it has a target), so a packed
     * batch holds at most B·max_seq_len/2 of them */
    dl->max_docs = cfg->mode == YA_BATCH_PACK ? cfg->batch_size * (cfg->max_seq_len / 2) : cfg->batch_size;
    size_t pool = (size_t)cfg->batch_size * (size_t)cfg->max_seq_len;
    dl->perm = malloc(dl->n * sizeof *dl->perm);
    dl->pick = malloc((size_t)dl->max_docs * sizeof *dl->pick);
    dl->pick_ep = malloc((size_t)dl->max_docs * sizeof *dl->pick_ep);
    dl->seqs = malloc((size_t)dl->max_docs * sizeof *dl->seqs);
    dl->pool_ids = malloc(pool * sizeof *dl->pool_ids);
    dl->pool_sup = malloc(pool);
    if (!dl->perm || !dl->pick || !dl->pick_ep || !dl->seqs || !dl->pool_ids || !dl->pool_sup) goto oom;
    if (ya_batch_alloc(&dl->batch, cfg->batch_size, cfg->max_seq_len, err)) goto fail;
    *out = dl;
    return YA_OK;
oom:
    ya_fail(err, YA_ERR, "out of memory opening the training data");
fail:
    ya_data_close(dl);
    return err->code ? err->code : YA_ERR;
}

const YaDataStats *ya_data_stats(const YaDataLoader *dl) { return &dl->stats; }
size_t ya_data_num_files(const YaDataLoader *dl) { return dl->n_files; }
const char *ya_data_file_sha256(const YaDataLoader *dl, size_t i) { return dl->sha[i]; }
const char *ya_data_file_path(const YaDataLoader *dl, size_t i) { return dl->paths[i]; }

void ya_data_sample_info(const YaDataLoader *dl, uint64_t i, double *w, double *h, uint32_t *n_sup, uint32_t *len) {
    const DataEntry *e = &dl->entries[i];
    if (w) *w = e->w;
    if (h) *h = e->h;
    if (n_sup) *n_sup = e->n_sup;
    if (len) *len = e->len;
}

double ya_data_sample_weight(const YaDataLoader *dl, uint64_t i) { return dl->entries[i].weight; }

const char *ya_data_sample_kind(const YaDataLoader *dl, uint64_t i) {
    return ya_data_kind_name(dl->format, (YaChatSource)dl->entries[i].source, dl->entries[i].tools);
}

void ya_data_sample_source(const YaDataLoader *dl, uint64_t i, const char **path, uint64_t *line) {
    if (path) *path = dl->paths[dl->entries[i].file];
    if (line) *line = dl->entries[i].line_no;
}

YaDataCursor ya_data_get_cursor(const YaDataLoader *dl) { return dl->cur; }

int ya_data_set_cursor(YaDataLoader *dl, const YaDataCursor *c, YaError *err) {
    if (c->position >= dl->n)
        return ya_fail(err, YA_ERR, "data cursor position %" PRIu64 " is past the %" PRIu64 " samples of this data set",
                       c->position, dl->n);
    dl->cur = *c;
    return YA_OK;
}

/* Entry index at the cursor, (re)drawing the epoch's permutation when needed. */
static uint64_t peek(YaDataLoader *dl) {
    if (!dl->perm_valid || dl->perm_epoch != dl->cur.epoch) {
        if (dl->cfg.shuffle) ya_data_epoch_permutation(dl->cfg.seed, dl->cur.epoch, dl->perm, dl->n);
        else
            for (uint64_t i = 0; i < dl->n; i++) dl->perm[i] = i;
        dl->perm_epoch = dl->cur.epoch;
        dl->perm_valid = 1;
    }
    return dl->perm[dl->cur.position];
}

static void advance(YaDataLoader *dl) {
    if (++dl->cur.position == dl->n) {
        dl->cur.position = 0;
        dl->cur.epoch++;
    }
}

/* Re-reads and re-tokenises one indexed sample into the pool at *pool_used. */
static int load_sample(YaDataLoader *dl, uint64_t idx, uint64_t epoch, size_t *pool_used, YaDataSeq *seq,
                       YaError *err) {
    const DataEntry *e = &dl->entries[idx];
    const char *path = dl->paths[e->file];
    YaJsonlReader *r = &dl->readers[e->file];
    if (!dl->reader_open[e->file]) {
        if (ya_jsonl_open(r, path, err)) return YA_ERR;
        dl->reader_open[e->file] = 1;
    }
    if (ya_jsonl_seek(r, e->offset, e->line_no, err)) return YA_ERR;
    json_t *obj = NULL;
    char reason[512];
    YaJsonlResult res = ya_jsonl_next(r, &obj, reason, sizeof reason, err);
    if (res == YA_JSONL_IOERR) return YA_ERR;
    if (res != YA_JSONL_OBJECT || r->line_no != e->line_no) {
        if (obj) json_decref(obj);
        return ya_fail(err, YA_ERR, "%s:%" PRIu64 ": the file changed after it was indexed (line no longer valid)", path,
                       e->line_no);
    }
    /* w/H were settled by the pre-pass (scored or defaulted there): don't redo it */
    YaDataConfig cfg = dl->cfg;
    cfg.need_scores = 0;
    YaDataFormat fmt = dl->format;
    YaDataRecord rec;
    int rc = YA_OK;
    if (ya_data_record_parse(obj, &cfg, &fmt, NULL, &rec, reason, sizeof reason))
        rc = ya_fail(err, YA_ERR, "%s:%" PRIu64 ": the file changed after it was indexed: %s", path, e->line_no, reason);
    else if (ya_data_render(&rec, &dl->cfg, dl->tok, dl->chat_format, &dl->render, err))
        rc = ya_error_prefix(err, "%s:%" PRIu64, path, e->line_no);
    json_decref(obj);
    if (rc) return rc;
    if (dl->render.len != e->len || dl->render.n_sup != e->n_sup)
        return ya_fail(err, YA_ERR, "%s:%" PRIu64 ": the file changed after it was indexed (%zu tokens, indexed %u)", path,
                       e->line_no, dl->render.len, e->len);
    memcpy(dl->pool_ids + *pool_used, dl->render.ids, e->len * sizeof *dl->pool_ids);
    memcpy(dl->pool_sup + *pool_used, dl->render.sup, e->len);
    *seq = (YaDataSeq){.ids = dl->pool_ids + *pool_used, .sup = dl->pool_sup + *pool_used, .len = (int)e->len,
                       .w = e->w, .h = e->h, .weight = e->weight, .index = idx, .epoch = epoch};
    *pool_used += e->len;
    return YA_OK;
}

int ya_data_next(YaDataLoader *dl, const YaBatch **batch, YaError *err) {
    *batch = NULL;
    /* choose the batch's documents from the index alone (lengths are known), then read them */
    const int B = dl->cfg.batch_size, S = dl->cfg.max_seq_len;
    int m = 0, row = 0, fill = 0;
    YaDataCursor start = dl->cur;
    while (m < dl->max_docs) {
        if (!dl->cfg.cross_epochs && m > 0 && dl->cur.epoch != start.epoch) break;
        uint64_t idx = peek(dl);
        if (dl->cfg.mode == YA_BATCH_PAD) {
            if (m == B) break;
        } else {
            int len = (int)dl->entries[idx].len;
            if (fill + len > S) { /* same greedy rule as ya_batch_build_pack */
                if (row + 1 == B) break;
                row++;
                fill = 0;
            }
            fill += len;
        }
        dl->pick[m] = idx;
        dl->pick_ep[m] = dl->cur.epoch;
        m++;
        advance(dl);
    }
    size_t pool_used = 0;
    for (int i = 0; i < m; i++)
        if (load_sample(dl, dl->pick[i], dl->pick_ep[i], &pool_used, &dl->seqs[i], err)) {
            dl->cur = start; /* a failed batch consumes nothing */
            return err->code;
        }
    int rc;
    if (dl->cfg.mode == YA_BATCH_PAD) {
        rc = ya_batch_build_pad(&dl->batch, dl->seqs, m, err);
    } else {
        int used = 0;
        rc = ya_batch_build_pack(&dl->batch, dl->seqs, m, S, &used, err);
        if (rc == YA_OK && used != m)
            rc = ya_fail(err, YA_ERR, "internal error: packer placed %d of %d planned documents", used, m);
    }
    if (rc) {
        dl->cur = start;
        return rc;
    }
    *batch = &dl->batch;
    return YA_OK;
}

/* ---- cursor ⇄ JSON ------------------------------------------------------------- */

json_t *ya_data_cursor_to_json(const YaDataLoader *dl, const YaDataCursor *c) {
    json_t *files = json_array();
    for (size_t i = 0; i < dl->n_files; i++)
        json_array_append_new(files, json_pack("{s:s, s:s}", "path", dl->paths[i], "sha256", dl->sha[i]));
    /* seed: stored as a JSON integer; values ≥ 2^63 wrap and read back bit-exactly */
    return json_pack("{s:I, s:I, s:I, s:I, s:o}", "epoch", (json_int_t)c->epoch, "position", (json_int_t)c->position,
                     "seed", (json_int_t)dl->cfg.seed, "n_samples", (json_int_t)dl->n, "files", files);
}

int ya_data_cursor_from_json(const YaDataLoader *dl, const json_t *j, YaDataCursor *out, YaError *err) {
    const char *where = "data cursor";
    long long epoch, position, seed, n;
    if (!json_is_object(j)) return ya_fail(err, YA_ERR, "%s: expected a JSON object", where);
    if (ya_json_req_int(j, "epoch", where, &epoch, err) || ya_json_req_int(j, "position", where, &position, err) ||
        ya_json_req_int(j, "seed", where, &seed, err) || ya_json_req_int(j, "n_samples", where, &n, err))
        return YA_ERR;
    if (epoch < 0 || position < 0) return ya_fail(err, YA_ERR, "%s: epoch and position must be >= 0", where);
    if ((uint64_t)seed != dl->cfg.seed)
        return ya_fail(err, YA_ERR, "%s: taken with --seed %" PRIu64 ", this run uses %" PRIu64 "; the data order would differ",
                       where, (uint64_t)seed, dl->cfg.seed);
    const json_t *files = json_object_get(j, "files");
    if (!json_is_array(files) || json_array_size(files) != dl->n_files)
        return ya_fail(err, YA_ERR, "%s: 'files' must list the %zu training file(s) of this run", where, dl->n_files);
    for (size_t i = 0; i < dl->n_files; i++) {
        const char *sha = json_string_value(json_object_get(json_array_get(files, i), "sha256"));
        if (!sha || strcmp(sha, dl->sha[i]) != 0)
            return ya_fail(err, YA_ERR, "%s: training file %s has sha256 %s, but the checkpoint was taken on %s", where,
                           dl->paths[i], dl->sha[i], sha ? sha : "(missing)");
    }
    if ((uint64_t)n != dl->n)
        return ya_fail(err, YA_ERR,
                       "%s: the checkpoint saw %lld samples, this run indexed %" PRIu64
                       " (same files: check --max-seq-length, --mask-prompt and the other data flags)",
                       where, n, dl->n);
    if ((uint64_t)position >= dl->n)
        return ya_fail(err, YA_ERR, "%s: position %lld is past the %" PRIu64 " samples", where, position, dl->n);
    out->epoch = (uint64_t)epoch;
    out->position = (uint64_t)position;
    return YA_OK;
}
