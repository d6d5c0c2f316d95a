// fuzz-libs: ya_train ya_tokenizer ya_base
// fuzz-seeds: tests/fuzz/corpus/jsonl
/* fuzz_data_loader.c — libFuzzer target for the whole training data loader
 * (src/train/data_*.c): arbitrary bytes as a training file, with the config
 * (pad/pack, batch size, max_seq_len, masks, train-on) drawn from the first byte,
 * through a small in-memory tokenizer with a ChatML template.
 * Invariants checked on every batch:
 *  - padding (past row_len) has no target, no segment, no sample;
 *  - each document's span has its own sample id, one segment, positions 0..len-1,
 *    and every target is the next id of the same document; n_sup counts them and is ≥ 1;
 *  - resuming from the cursor saved after the first batch (JSON round trip, new
 *    loader) reproduces the next batches exactly. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "your_ai/data.h"

static const char k_tokenizer[] =
    "{\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"fuse_unk\":true,"
    "\"vocab\":{\"<unk>\":0,\"a\":1,\"b\":2,\"c\":3,\"ab\":4,\" \":5,\"e\":6,\"t\":7,\"x\":8,\"\\n\":9,\"abc\":10},"
    "\"merges\":[\"a b\",\"ab c\"]},"
    "\"added_tokens\":["
    "{\"id\":11,\"content\":\"<s>\",\"special\":true,\"normalized\":false,\"lstrip\":false,\"rstrip\":false,\"single_word\":false},"
    "{\"id\":12,\"content\":\"</s>\",\"special\":true,\"normalized\":false,\"lstrip\":false,\"rstrip\":false,\"single_word\":false},"
    "{\"id\":13,\"content\":\"<|im_start|>\",\"special\":true,\"normalized\":false,\"lstrip\":false,\"rstrip\":false,\"single_word\":false},"
    "{\"id\":14,\"content\":\"<|im_end|>\",\"special\":true,\"normalized\":false,\"lstrip\":false,\"rstrip\":false,\"single_word\":false}],"
    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[11],\"tokens\":[\"<s>\"]}}}}";
static const char k_config[] =
    "{\"bos_token\":\"<s>\",\"eos_token\":\"</s>\",\"add_bos_token\":true,"
    "\"chat_template\":\"{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\\\n' + message['content'] + "
    "'<|im_end|>' + '\\\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\\\n' }}{% endif %}\"}";

static void check_batch(const YaBatch *b, int max_seq_len) {
    if (b->B < 1 || b->T < 1 || b->T > max_seq_len || b->n_samples < b->B) abort();
    size_t n_sup = 0;
    for (int r = 0; r < b->B; r++) {
        if (b->row_len[r] < 1 || b->row_len[r] > b->T) abort();
        for (int t = b->row_len[r]; t < b->T; t++) {
            size_t k = (size_t)r * b->T + t;
            if (b->targets[k] != -1 || b->loss_mask[k] || b->seg_ids[k] != -1 || b->sample_ids[k] != -1) abort();
        }
    }
    int prev_row = -1, seg = -1, prev_end = 0;
    for (int i = 0; i < b->n_samples; i++) {
        const YaBatchSample *s = &b->samples[i];
        if (s->row < 0 || s->row >= b->B || s->len < 2 || s->n_sup < 1) abort();
        if (s->row != prev_row) {
            if (s->row != prev_row + 1 || s->start != 0) abort(); /* rows fill in order, from column 0 */
            seg = 0;
        } else {
            if (s->start != prev_end) abort(); /* documents end to end */
            seg++;
        }
        prev_row = s->row;
        prev_end = s->start + s->len;
        if (prev_end > b->row_len[s->row]) abort();
        int count = 0;
        for (int t = 0; t < s->len; t++) {
            size_t k = (size_t)s->row * b->T + s->start + t;
            if (b->sample_ids[k] != i || b->seg_ids[k] != seg || b->pos_ids[k] != t) abort();
            if (b->loss_mask[k] != (b->targets[k] >= 0)) abort();
            if (b->targets[k] >= 0) {
                if (t + 1 >= s->len || b->targets[k] != b->ids[k + 1]) abort(); /* never across a boundary */
                count++;
            }
        }
        if (count != s->n_sup) abort();
        n_sup += (size_t)count;
    }
    if (n_sup != b->n_sup) abort();
}

static unsigned char *serialise(const YaBatch *b, size_t *n_out) {
    size_t n = (size_t)b->B * b->T, total = 8 + n * 21 + (size_t)b->n_samples * sizeof(YaBatchSample);
    unsigned char *p = calloc(1, total), *q = p;
    memcpy(q, &b->B, 4), q += 4;
    memcpy(q, &b->T, 4), q += 4;
    memcpy(q, b->ids, n * 4), q += n * 4;
    memcpy(q, b->targets, n * 4), q += n * 4;
    memcpy(q, b->pos_ids, n * 4), q += n * 4;
    memcpy(q, b->seg_ids, n * 4), q += n * 4;
    memcpy(q, b->sample_ids, n * 4), q += n * 4;
    memcpy(q, b->loss_mask, n), q += n;
    for (int i = 0; i < b->n_samples; i++, q += sizeof(YaBatchSample)) {
        const YaBatchSample *s = &b->samples[i];
        YaBatchSample c = {.row = s->row, .start = s->start, .len = s->len, .n_sup = s->n_sup, .w = s->w, .h = s->h,
                           .index = s->index, .epoch = s->epoch}; /* no padding bytes copied */
        memcpy(q, &c, sizeof c);
    }
    *n_out = total;
    return p;
}

enum { N_BATCHES = 4 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static YaTokenizer *tok;
    static char path[64];
    YaError err = {0};
    if (!tok) {
        if (ya_tokenizer_load_memory(k_tokenizer, sizeof k_tokenizer - 1, k_config, sizeof k_config - 1, &tok, &err)) {
            fprintf(stderr, "fuzz_data_loader: %s\n", err.message);
            abort();
        }
        snprintf(path, sizeof path, "/tmp/fuzz_data_loader.%d.jsonl", (int)getpid());
    }
    if (size < 1 || size > (1 << 16)) return 0;
    FILE *fp = fopen(path, "wb");
    if (!fp) return 0;
    fwrite(data + 1, 1, size - 1, fp);
    fclose(fp);

    const uint8_t c = data[0];
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    cfg.need_scores = (c >> 7) & 1;
    cfg.has_default_auth = cfg.has_default_entropy = 1;
    cfg.default_auth = 0.5;
    cfg.default_entropy = 3.0;
    cfg.mode = (c & 1) ? YA_BATCH_PACK : YA_BATCH_PAD;
    cfg.batch_size = 1 + ((c >> 1) & 3);
    cfg.max_seq_len = 4 + 8 * ((c >> 3) & 7);
    cfg.mask_prompt = !((c >> 6) & 1);
    cfg.train_on = (c >> 5) & 1 ? YA_TRAIN_ON_ALL_ASSISTANT : YA_TRAIN_ON_FINAL;
    cfg.on_bad_line = YA_BAD_LINE_SKIP;
    cfg.threads = 1;
    const char *paths[1] = {path};
    YaDataLoader *dl = NULL;
    if (ya_data_open(&cfg, paths, 1, tok, NULL, &dl, &err) != YA_OK) {
        if (err.message[0] == '\0') abort(); /* every failure says why */
        unlink(path);
        return 0;
    }
    unsigned char *straight[N_BATCHES];
    size_t straight_n[N_BATCHES];
    json_t *saved = NULL;
    for (int i = 0; i < N_BATCHES; i++) {
        const YaBatch *b;
        if (ya_data_next(dl, &b, &err) != YA_OK) abort(); /* the file cannot change under us */
        check_batch(b, cfg.max_seq_len);
        straight[i] = serialise(b, &straight_n[i]);
        if (i == 0) {
            YaDataCursor cur = ya_data_get_cursor(dl);
            saved = ya_data_cursor_to_json(dl, &cur);
        }
    }
    ya_data_close(dl);
    /* resume after batch 0 in a fresh loader */
    if (ya_data_open(&cfg, paths, 1, tok, NULL, &dl, &err) != YA_OK) abort();
    YaDataCursor cur;
    if (ya_data_cursor_from_json(dl, saved, &cur, &err) != YA_OK || ya_data_set_cursor(dl, &cur, &err) != YA_OK) abort();
    for (int i = 1; i < N_BATCHES; i++) {
        const YaBatch *b;
        if (ya_data_next(dl, &b, &err) != YA_OK) abort();
        size_t n;
        unsigned char *p = serialise(b, &n);
        if (n != straight_n[i] || memcmp(p, straight[i], n) != 0) abort();
        free(p);
    }
    ya_data_close(dl);
    json_decref(saved);
    for (int i = 0; i < N_BATCHES; i++) free(straight[i]);
    unlink(path);
    return 0;
}
