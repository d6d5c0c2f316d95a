/* data_batch.c — tokenised sequences → a micro-batch, padded or packed (SPEC §5.5).
 *
 * Pure functions over (ids, supervised-mask) sequences, so every mask can be
 * tested token by token with hand-made ids. Both modes fill the same
 * position-aligned [B, T] arrays; what differs is how many documents share a row:
 *   pad   one document per row, right-padded to the longest row (row_len = its length);
 *   pack  documents laid end to end in rows of max_seq_len, never split; pos_ids
 *         restart at 0 and seg_ids increase at each document, so attention and loss
 *         stay inside a document (the target of a document's last token is -1).
 * Buffers are sized once by ya_batch_alloc; building a batch allocates nothing. */
#include <stdlib.h>
#include <string.h>

#include "your_ai/data.h"

int ya_batch_alloc(YaBatch *b, int rows, int max_T, YaError *err) {
    memset(b, 0, sizeof *b);
    if (rows < 1 || max_T < 1) return ya_fail(err, YA_ERR_USAGE, "batch of %d rows x %d tokens: both must be >= 1", rows, max_T);
    size_t n = (size_t)rows * (size_t)max_T;
    b->cap_rows = rows;
    b->cap_T = max_T;
    b->ids = malloc(n * sizeof *b->ids);
    b->targets = malloc(n * sizeof *b->targets);
    b->loss_mask = malloc(n);
    b->pos_ids = malloc(n * sizeof *b->pos_ids);
    b->seg_ids = malloc(n * sizeof *b->seg_ids);
    b->sample_ids = malloc(n * sizeof *b->sample_ids);
    b->row_len = malloc((size_t)rows * sizeof *b->row_len);
    b->samples = malloc(n * sizeof *b->samples); /* a document has ≥ 1 token, so ≤ rows·max_T of them */
    if (!b->ids || !b->targets || !b->loss_mask || !b->pos_ids || !b->seg_ids || !b->sample_ids || !b->row_len ||
        !b->samples) {
        ya_batch_free(b);
        return ya_fail(err, YA_ERR, "out of memory for a batch of %d x %d tokens", rows, max_T);
    }
    return YA_OK;
}

void ya_batch_free(YaBatch *b) {
    free(b->ids);
    free(b->targets);
    free(b->loss_mask);
    free(b->pos_ids);
    free(b->seg_ids);
    free(b->sample_ids);
    free(b->row_len);
    free(b->samples);
    memset(b, 0, sizeof *b);
}

/* Lays out b->samples (row, start, len) and sets B, T, row_len; then fills the arrays. */
static void fill(YaBatch *b, const YaDataSeq *seqs) {
    const int T = b->T;
    for (int r = 0; r < b->B; r++) b->row_len[r] = 0;
    for (int i = 0; i < b->n_samples; i++) {
        const YaBatchSample *s = &b->samples[i];
        if (s->start + s->len > b->row_len[s->row]) b->row_len[s->row] = s->start + s->len;
    }
    /* padding everywhere first, then the documents over it */
    size_t n = (size_t)b->B * (size_t)T;
    memset(b->ids, 0, n * sizeof *b->ids);
    memset(b->pos_ids, 0, n * sizeof *b->pos_ids);
    memset(b->loss_mask, 0, n);
    for (size_t k = 0; k < n; k++) b->targets[k] = b->seg_ids[k] = b->sample_ids[k] = -1;
    b->n_tokens = b->n_sup = 0;
    int seg = 0, prev_row = -1;
    for (int i = 0; i < b->n_samples; i++) {
        YaBatchSample *s = &b->samples[i];
        const YaDataSeq *q = &seqs[i];
        seg = s->row == prev_row ? seg + 1 : 0;
        prev_row = s->row;
        size_t base = (size_t)s->row * (size_t)T + (size_t)s->start;
        int n_sup = 0;
        for (int t = 0; t < s->len; t++) {
            b->ids[base + t] = q->ids[t];
            b->pos_ids[base + t] = t;
            b->seg_ids[base + t] = seg;
            b->sample_ids[base + t] = i;
            /* the logits at t predict token t+1 of the same document, if it is supervised */
            if (t + 1 < s->len && q->sup[t + 1]) {
                b->targets[base + t] = q->ids[t + 1];
                b->loss_mask[base + t] = 1;
                n_sup++;
            }
        }
        s->n_sup = n_sup;
        s->w = q->w;
        s->h = q->h;
        s->weight = q->weight;
        s->index = q->index;
        s->epoch = q->epoch;
        b->n_tokens += (size_t)s->len;
        b->n_sup += (size_t)n_sup;
    }
}

int ya_batch_build_pad(YaBatch *b, const YaDataSeq *seqs, int n, YaError *err) {
    if (n < 1 || n > b->cap_rows) return ya_fail(err, YA_ERR, "pad batch: %d sequences for %d rows", n, b->cap_rows);
    int T = 0;
    for (int i = 0; i < n; i++) {
        if (seqs[i].len < 1 || seqs[i].len > b->cap_T)
            return ya_fail(err, YA_ERR, "pad batch: sequence %d has %d tokens, expected 1..%d", i, seqs[i].len, b->cap_T);
        if (seqs[i].len > T) T = seqs[i].len;
    }
    b->B = n;
    b->T = T;
    b->n_samples = n;
    for (int i = 0; i < n; i++) b->samples[i] = (YaBatchSample){.row = i, .start = 0, .len = seqs[i].len};
    fill(b, seqs);
    return YA_OK;
}

/* Greedy placement shared by the builder and the counter: returns the number of
 * documents placed; when where != NULL records (row, start) of each. */
static int place(const YaDataSeq *seqs, const int *lens, int n, int rows, int max_seq_len, YaBatchSample *where,
                 int *rows_used) {
    int row = 0, fill_len = 0, i = 0;
    for (; i < n; i++) {
        int len = seqs ? seqs[i].len : lens[i];
        if (fill_len + len > max_seq_len) {
            if (row + 1 == rows) break;
            row++;
            fill_len = 0;
        }
        if (where) where[i] = (YaBatchSample){.row = row, .start = fill_len, .len = len};
        fill_len += len;
    }
    if (rows_used) *rows_used = i > 0 ? row + 1 : 0;
    return i;
}

int ya_pack_count(const int *len, int n, int rows, int max_seq_len) {
    return place(NULL, len, n, rows, max_seq_len, NULL, NULL);
}

int ya_batch_build_pack(YaBatch *b, const YaDataSeq *seqs, int n, int max_seq_len, int *n_used, YaError *err) {
    if (max_seq_len < 1 || max_seq_len > b->cap_T)
        return ya_fail(err, YA_ERR, "pack batch: max_seq_len %d, expected 1..%d", max_seq_len, b->cap_T);
    if (n < 1) return ya_fail(err, YA_ERR, "pack batch: no sequences");
    for (int i = 0; i < n; i++)
        if (seqs[i].len < 1 || seqs[i].len > max_seq_len)
            return ya_fail(err, YA_ERR, "pack batch: sequence %d has %d tokens, expected 1..%d", i, seqs[i].len,
                           max_seq_len);
    int rows_used = 0;
    int used = place(seqs, NULL, n, b->cap_rows, max_seq_len, b->samples, &rows_used);
    b->B = rows_used;
    b->n_samples = used;
    int T = 0;
    for (int i = 0; i < used; i++)
        if (b->samples[i].start + b->samples[i].len > T) T = b->samples[i].start + b->samples[i].len;
    b->T = T;
    fill(b, seqs);
    *n_used = used;
    return YA_OK;
}
