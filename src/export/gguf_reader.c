/* gguf_reader.c — GGUF v3 reader used by the tests and `export` checks
 * (SPEC §10.3). Everything a file could lie about is bounds-checked before
 * use: string and array lengths, counts, value types, dims (overflow), tensor
 * types, offsets (inside the blob, aligned, non-overlapping). Values stay as
 * raw little-endian bytes in a private copy of the file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/fileio.h" /* defines: ya_read_file */
#include "your_ai/gguf.h"
#include "your_ai/gguf_quants.h" /* defines: ya_ggml_block_size */

typedef struct Cur {
    const uint8_t *p;
    size_t len, off;
    const char *where;
    YaError *err;
} Cur;

static int need(Cur *c, uint64_t n, const char *what) {
    if (n > c->len - c->off)
        return ya_fail(c->err, YA_ERR, "%s: offset %zu: %s needs %llu bytes, file ends after %zu", c->where, c->off, what,
                       (unsigned long long)n, c->len - c->off);
    return YA_OK;
}
static int rd_u32(Cur *c, uint32_t *v, const char *what) {
    if (need(c, 4, what)) return YA_ERR;
    memcpy(v, c->p + c->off, 4);
    c->off += 4;
    return YA_OK;
}
static int rd_u64(Cur *c, uint64_t *v, const char *what) {
    if (need(c, 8, what)) return YA_ERR;
    memcpy(v, c->p + c->off, 8);
    c->off += 8;
    return YA_OK;
}
/* A string: u64 length + bytes. Returns a pointer into the buffer. */
static int rd_str(Cur *c, const char **s, uint64_t *n, const char *what) {
    if (rd_u64(c, n, what) || need(c, *n, what)) return YA_ERR;
    *s = (const char *)c->p + c->off;
    c->off += (size_t)*n;
    return YA_OK;
}

static const size_t k_scalar[YA_GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

/* Skips one value of type t (not ARRAY) */
static int skip_value(Cur *c, YaGgufType t, uint64_t count, const char *key) {
    if (t == YA_GGUF_STRING) {
        for (uint64_t i = 0; i < count; i++) {
            const char *s;
            uint64_t n;
            if (rd_str(c, &s, &n, key)) return YA_ERR;
        }
        return YA_OK;
    }
    if ((unsigned)t >= YA_GGUF_TYPE_COUNT || !k_scalar[t])
        return ya_fail(c->err, YA_ERR, "%s: key '%s': unknown value type %d", c->where, key, (int)t);
    uint64_t sz = k_scalar[t];
    if (count > (c->len - c->off) / sz) return need(c, UINT64_MAX, key);
    c->off += (size_t)(count * sz);
    return YA_OK;
}

void ya_gguf_free(YaGguf *g) {
    if (!g) return;
    for (uint64_t i = 0; g->kv && i < g->n_kv; i++) {
        free(g->kv[i].key);
        free(g->kv[i].str_off);
    }
    for (uint64_t i = 0; g->tensors && i < g->n_tensors; i++) free(g->tensors[i].name);
    free(g->kv);
    free(g->tensors);
    free(g->buf);
    free(g);
}

static char *dup_n(const char *s, uint64_t n) {
    char *d = malloc((size_t)n + 1);
    if (d) {
        memcpy(d, s, (size_t)n);
        d[n] = 0;
    }
    return d;
}

static int parse(YaGguf *g, const char *where, YaError *err) {
    Cur c = {.p = g->buf, .len = g->len, .where = where, .err = err};
    uint32_t version;
    if (need(&c, 4, "magic") || memcmp(c.p, "GGUF", 4) != 0)
        return ya_fail(err, YA_ERR, "%s: not a GGUF file (magic 'GGUF' expected)", where);
    c.off = 4;
    if (rd_u32(&c, &version, "version") || rd_u64(&c, &g->n_tensors, "tensor count") ||
        rd_u64(&c, &g->n_kv, "metadata count"))
        return YA_ERR;
    g->version = version;
    if (version != 3) return ya_fail(err, YA_ERR, "%s: GGUF version %u, expected 3", where, version);
    /* every KV takes ≥ 12 bytes and every tensor info ≥ 24: bounds the allocations */
    if (g->n_kv > g->len / 12 || g->n_tensors > g->len / 24)
        return ya_fail(err, YA_ERR, "%s: %llu keys / %llu tensors cannot fit in %zu bytes", where,
                       (unsigned long long)g->n_kv, (unsigned long long)g->n_tensors, g->len);
    g->kv = calloc((size_t)g->n_kv + 1, sizeof *g->kv);
    g->tensors = calloc((size_t)g->n_tensors + 1, sizeof *g->tensors);
    if (!g->kv || !g->tensors) return ya_fail(err, YA_ERR, "out of memory");
    g->alignment = YA_GGUF_DEFAULT_ALIGNMENT;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        YaGgufKV *kv = &g->kv[i];
        const char *k;
        uint64_t kn;
        uint32_t t;
        if (rd_str(&c, &k, &kn, "key") || !(kv->key = dup_n(k, kn))) return YA_ERR;
        for (uint64_t j = 0; j < i; j++)
            if (strcmp(g->kv[j].key, kv->key) == 0) return ya_fail(err, YA_ERR, "%s: duplicate key '%s'", where, kv->key);
        if (rd_u32(&c, &t, kv->key)) return YA_ERR;
        kv->type = (YaGgufType)t;
        kv->n = 1;
        if (t == YA_GGUF_ARRAY) {
            uint32_t at;
            if (rd_u32(&c, &at, kv->key) || rd_u64(&c, &kv->n, kv->key)) return YA_ERR;
            if (at == YA_GGUF_ARRAY) return ya_fail(err, YA_ERR, "%s: key '%s': nested arrays are not supported", where, kv->key);
            kv->arr_type = (YaGgufType)at;
            kv->data = c.p + c.off;
            if (at == YA_GGUF_STRING) {
                /* each string takes ≥ 8 bytes: bounds the index before allocating it */
                if (kv->n > (c.len - c.off) / 8) return need(&c, UINT64_MAX, kv->key);
                if (!(kv->str_off = malloc((size_t)(kv->n ? kv->n : 1) * sizeof *kv->str_off)))
                    return ya_fail(err, YA_ERR, "out of memory");
                for (uint64_t j = 0; j < kv->n; j++) {
                    const char *s;
                    uint64_t n;
                    kv->str_off[j] = (uint64_t)(c.off - (size_t)(kv->data - c.p));
                    if (rd_str(&c, &s, &n, kv->key)) return YA_ERR;
                }
            } else if (skip_value(&c, kv->arr_type, kv->n, kv->key)) {
                return YA_ERR;
            }
        } else {
            kv->data = c.p + c.off;
            if (skip_value(&c, kv->type, 1, kv->key)) return YA_ERR;
        }
        if (strcmp(kv->key, "general.alignment") == 0) {
            uint32_t a;
            if (kv->type != YA_GGUF_UINT32) return ya_fail(err, YA_ERR, "%s: general.alignment must be a uint32", where);
            memcpy(&a, kv->data, 4);
            if (a == 0 || (a & (a - 1))) return ya_fail(err, YA_ERR, "%s: general.alignment %u is not a power of two", where, a);
            g->alignment = a;
        }
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        YaGgufTensor *t = &g->tensors[i];
        const char *s;
        uint64_t sn;
        uint32_t nd, type;
        if (rd_str(&c, &s, &sn, "tensor name") || !(t->name = dup_n(s, sn))) return YA_ERR;
        if (rd_u32(&c, &nd, t->name)) return YA_ERR;
        if (nd < 1 || nd > YA_GGUF_MAX_DIMS)
            return ya_fail(err, YA_ERR, "%s: tensor '%s': %u dims (1…%d expected)", where, t->name, nd, YA_GGUF_MAX_DIMS);
        t->n_dims = (int)nd;
        uint64_t numel = 1;
        for (uint32_t d = 0; d < nd; d++) {
            if (rd_u64(&c, &t->dims[d], t->name)) return YA_ERR;
            if (t->dims[d] == 0 || numel > UINT64_MAX / 64 / t->dims[d])
                return ya_fail(err, YA_ERR, "%s: tensor '%s': bad dimension %llu", where, t->name,
                               (unsigned long long)t->dims[d]);
            numel *= t->dims[d];
        }
        if (rd_u32(&c, &type, t->name) || rd_u64(&c, &t->offset, t->name)) return YA_ERR;
        t->type = (int)type;
        t->nbytes = ya_ggml_nbytes(t->type, numel);
        if (!t->nbytes || t->dims[0] % (uint64_t)ya_ggml_block_size(t->type))
            return ya_fail(err, YA_ERR, "%s: tensor '%s': unsupported ggml type %u for dims[0] %llu", where, t->name, type,
                           (unsigned long long)t->dims[0]);
        for (uint64_t j = 0; j < i; j++)
            if (strcmp(g->tensors[j].name, t->name) == 0)
                return ya_fail(err, YA_ERR, "%s: duplicate tensor '%s'", where, t->name);
    }
    g->data_offset = (c.off + g->alignment - 1) / g->alignment * g->alignment;
    if (g->data_offset > g->len && g->n_tensors)
        return ya_fail(err, YA_ERR, "%s: data blob at %llu is past the end of the file", where,
                       (unsigned long long)g->data_offset);
    uint64_t blob = g->len >= g->data_offset ? g->len - g->data_offset : 0;
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        YaGgufTensor *t = &g->tensors[i];
        if (t->offset % g->alignment)
            return ya_fail(err, YA_ERR, "%s: tensor '%s': offset %llu is not a multiple of the alignment %llu", where,
                           t->name, (unsigned long long)t->offset, (unsigned long long)g->alignment);
        if (t->offset > blob || t->nbytes > blob - t->offset)
            return ya_fail(err, YA_ERR, "%s: tensor '%s': bytes [%llu, %llu) outside the %llu-byte data blob", where,
                           t->name, (unsigned long long)t->offset, (unsigned long long)(t->offset + t->nbytes),
                           (unsigned long long)blob);
        for (uint64_t j = 0; j < i; j++) {
            const YaGgufTensor *u = &g->tensors[j];
            if (t->offset < u->offset + u->nbytes && u->offset < t->offset + t->nbytes)
                return ya_fail(err, YA_ERR, "%s: tensors '%s' and '%s' overlap", where, u->name, t->name);
        }
        t->data = g->buf + g->data_offset + t->offset;
    }
    return YA_OK;
}

int ya_gguf_read_memory(const void *buf, size_t len, const char *where, YaGguf **out, YaError *err) {
    *out = NULL;
    YaGguf *g = calloc(1, sizeof *g);
    if (!g || !(g->buf = malloc(len ? len : 1))) {
        free(g);
        return ya_fail(err, YA_ERR, "out of memory");
    }
    memcpy(g->buf, buf, len);
    g->len = len;
    if (parse(g, where, err)) {
        ya_gguf_free(g);
        return YA_ERR;
    }
    *out = g;
    return YA_OK;
}

int ya_gguf_read(const char *path, YaGguf **out, YaError *err) {
    *out = NULL;
    char *buf = NULL;
    size_t len = 0;
    if (ya_read_file(path, &buf, &len, err)) return YA_ERR;
    YaGguf *g = calloc(1, sizeof *g);
    if (!g) {
        free(buf);
        return ya_fail(err, YA_ERR, "out of memory");
    }
    g->buf = (uint8_t *)buf;
    g->len = len;
    if (parse(g, path, err)) {
        ya_gguf_free(g);
        return YA_ERR;
    }
    *out = g;
    return YA_OK;
}

const YaGgufKV *ya_gguf_find_kv(const YaGguf *g, const char *key) {
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (strcmp(g->kv[i].key, key) == 0) return &g->kv[i];
    return NULL;
}

const YaGgufTensor *ya_gguf_find_tensor(const YaGguf *g, const char *name) {
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0) return &g->tensors[i];
    return NULL;
}

const char *ya_gguf_kv_str(const YaGgufKV *kv, uint64_t i, uint64_t *len) {
    if (!(kv->type == YA_GGUF_STRING && i == 0) && !(kv->type == YA_GGUF_ARRAY && kv->arr_type == YA_GGUF_STRING && i < kv->n))
        return NULL;
    const uint8_t *p = kv->data + (kv->type == YA_GGUF_ARRAY ? kv->str_off[i] : 0); /* bounds-checked at parse */
    uint64_t n;
    memcpy(&n, p, 8);
    *len = n;
    return (const char *)p + 8;
}
