/* safetensors_writer.c — writing .safetensors files and sharded model directories.
 *
 * The layout follows SPEC §6.4 and §10.2 exactly: "__metadata__" first with
 * "format":"pt" always (transformers rejects other formats), then the tensors
 * in the order they were added, their data tiling the data section with no
 * gaps; the header JSON is space-padded so the data starts 8-byte aligned.
 * Files are written atomically (temp + fsync + rename), so an interrupted
 * write never leaves a half file under the final name.
 *
 * Tensors are either referenced (caller memory, copied at finish) or streamed
 * (a fill callback produces each one into a buffer freed right after it is
 * written): init-model and export can write a 16 GB model holding one tensor. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "your_ai/fileio.h"
#include "your_ai/json.h"
#include "your_ai/safetensors.h"

typedef struct {
    char *name;
    YaDtype dt;
    int ndim;
    int64_t shape[YA_MAX_DIMS];
    uint64_t nbytes;
    const void *data; /* referenced bytes, or NULL when fill is set */
    YaStFillFn fill;
    void *ctx;
} Entry;

/* The list both writers share. */
typedef struct {
    Entry *e;
    size_t n, cap;
    char **meta; // [2*n_meta] key, value
    size_t n_meta;
    uint64_t bytes;
} EntryList;

struct YaStWriter {
    EntryList l;
};

struct YaStShardedWriter {
    EntryList l;
    uint64_t max_shard_bytes;
};

static void list_free(EntryList *l) {
    for (size_t i = 0; i < l->n; i++) free(l->e[i].name);
    for (size_t i = 0; i < 2 * l->n_meta; i++) free(l->meta[i]);
    free(l->e);
    free(l->meta);
    memset(l, 0, sizeof *l);
}

static int list_meta(EntryList *l, const char *key, const char *value, YaError *err) {
    if (strcmp(key, "format") == 0 && strcmp(value, "pt") && strcmp(value, "tf") && strcmp(value, "flax") &&
        strcmp(value, "mlx"))
        return ya_fail(err, YA_ERR_USAGE, "safetensors metadata 'format' must be pt, tf, flax or mlx, not '%s'", value);
    for (size_t i = 0; i < l->n_meta; i++)
        if (strcmp(l->meta[2 * i], key) == 0) {
            char *v = strdup(value);
            if (!v) return ya_fail(err, YA_ERR, "out of memory");
            free(l->meta[2 * i + 1]);
            l->meta[2 * i + 1] = v;
            return YA_OK;
        }
    char **m = realloc(l->meta, (2 * l->n_meta + 2) * sizeof *m);
    if (!m) return ya_fail(err, YA_ERR, "out of memory");
    l->meta = m;
    m[2 * l->n_meta] = strdup(key);
    m[2 * l->n_meta + 1] = strdup(value);
    l->n_meta++;
    if (!m[2 * l->n_meta - 2] || !m[2 * l->n_meta - 1]) return ya_fail(err, YA_ERR, "out of memory");
    return YA_OK;
}

static int list_add(EntryList *l, const char *name, YaDtype dt, int ndim, const int64_t *shape, const void *data,
                    YaStFillFn fill, void *ctx, YaError *err) {
    if (!name || !*name || strcmp(name, "__metadata__") == 0)
        return ya_fail(err, YA_ERR_USAGE, "safetensors writer: invalid tensor name '%s'", name ? name : "(null)");
    if ((unsigned)dt >= YA_DTYPE_COUNT) return ya_fail(err, YA_ERR_USAGE, "safetensors writer: %s: bad dtype", name);
    if (ndim < 0 || ndim > YA_MAX_DIMS)
        return ya_fail(err, YA_ERR_USAGE, "safetensors writer: %s: %d dimensions (0..%d supported)", name, ndim,
                       YA_MAX_DIMS);
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->e[i].name, name) == 0)
            return ya_fail(err, YA_ERR_USAGE, "safetensors writer: duplicate tensor name '%s'", name);
    uint64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || __builtin_mul_overflow(numel, (uint64_t)shape[i], &numel))
            return ya_fail(err, YA_ERR_USAGE, "safetensors writer: %s: invalid shape", name);
    }
    uint64_t nbytes;
    if (__builtin_mul_overflow(numel, (uint64_t)ya_dtype_size(dt), &nbytes))
        return ya_fail(err, YA_ERR_USAGE, "safetensors writer: %s: size overflows", name);
    if (!data && !fill && nbytes)
        return ya_fail(err, YA_ERR_USAGE, "safetensors writer: %s: no data", name);
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        Entry *e = realloc(l->e, cap * sizeof *e);
        if (!e) return ya_fail(err, YA_ERR, "out of memory");
        l->e = e;
        l->cap = cap;
    }
    Entry *e = &l->e[l->n];
    memset(e, 0, sizeof *e);
    if (!(e->name = strdup(name))) return ya_fail(err, YA_ERR, "out of memory");
    e->dt = dt;
    e->ndim = ndim;
    for (int i = 0; i < ndim; i++) e->shape[i] = shape[i];
    e->nbytes = nbytes;
    e->data = data;
    e->fill = fill;
    e->ctx = ctx;
    l->n++;
    l->bytes += nbytes;
    return YA_OK;
}

/* Header JSON for entries [from, to) with offsets starting at 0, space-padded
 * so that 8 + length is a multiple of 8. */
static char *build_header(const EntryList *l, size_t from, size_t to, size_t *out_len) {
    json_t *root = json_object(), *meta = json_object();
    json_object_set_new(meta, "format", json_string("pt"));
    for (size_t i = 0; i < l->n_meta; i++) json_object_set_new(meta, l->meta[2 * i], json_string(l->meta[2 * i + 1]));
    json_object_set_new(root, "__metadata__", meta);
    uint64_t off = 0;
    for (size_t i = from; i < to; i++) {
        const Entry *e = &l->e[i];
        json_t *t = json_object(), *sh = json_array(), *offs = json_array();
        for (int d = 0; d < e->ndim; d++) json_array_append_new(sh, json_integer(e->shape[d]));
        json_array_append_new(offs, json_integer((json_int_t)off));
        json_array_append_new(offs, json_integer((json_int_t)(off + e->nbytes)));
        json_object_set_new(t, "dtype", json_string(ya_dtype_name(e->dt)));
        json_object_set_new(t, "shape", sh);
        json_object_set_new(t, "data_offsets", offs);
        json_object_set_new(root, e->name, t);
        off += e->nbytes;
    }
    char *s = ya_json_dumps(root);
    json_decref(root);
    if (!s) return NULL;
    size_t n = strlen(s), padded = (n + 8 + 7) / 8 * 8 - 8;
    char *p = realloc(s, padded + 1);
    if (!p) {
        free(s);
        return NULL;
    }
    memset(p + n, ' ', padded - n);
    p[padded] = '\0';
    *out_len = padded;
    return p;
}

/* One buffer for streamed tensors, reused across tensors and shards: a fresh
 * 1 GB allocation per tensor would be paid again in page faults each time. */
typedef struct {
    void *p;
    uint64_t cap;
} Scratch;

/* Writes entries [from, to) of l to path. */
static int write_file(const EntryList *l, size_t from, size_t to, const char *path, Scratch *scratch, YaError *err) {
    size_t hlen = 0;
    char *header = build_header(l, from, to, &hlen);
    if (!header) return ya_fail(err, YA_ERR, "%s: cannot build the header (out of memory or bad metadata)", path);
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)hlen >> (8 * i));
    YaAtomicFile f;
    int rc = ya_atomic_open(&f, path, err);
    if (rc) {
        free(header);
        return rc;
    }
    rc = ya_atomic_write(&f, len8, 8, err);
    if (!rc) rc = ya_atomic_write(&f, header, hlen, err);
    free(header);
    for (size_t i = from; i < to && !rc; i++) {
        const Entry *e = &l->e[i];
        if (!e->fill) {
            rc = ya_atomic_write(&f, e->data, e->nbytes, err);
            continue;
        }
        if (e->nbytes > scratch->cap || !scratch->p) {
            free(scratch->p);
            scratch->cap = e->nbytes ? e->nbytes : 1;
            scratch->p = malloc(scratch->cap);
            if (!scratch->p) {
                scratch->cap = 0;
                rc = ya_fail(err, YA_ERR, "%s: out of memory for tensor '%s' (%llu bytes)", path, e->name,
                             (unsigned long long)e->nbytes);
                break;
            }
        }
        rc = e->fill(e->ctx, e->name, scratch->p, e->nbytes, err);
        if (!rc) rc = ya_atomic_write(&f, scratch->p, e->nbytes, err);
    }
    if (rc) {
        ya_atomic_abort(&f);
        return rc;
    }
    return ya_atomic_commit(&f, err);
}

/* ---- single-file writer ------------------------------------------------------ */

YaStWriter *ya_st_writer_new(void) { return calloc(1, sizeof(YaStWriter)); }

void ya_st_writer_free(YaStWriter *w) {
    if (!w) return;
    list_free(&w->l);
    free(w);
}

int ya_st_writer_meta(YaStWriter *w, const char *key, const char *value, YaError *err) {
    return list_meta(&w->l, key, value, err);
}

int ya_st_writer_add(YaStWriter *w, const char *name, YaDtype dt, int ndim, const int64_t *shape, const void *data,
                     YaError *err) {
    return list_add(&w->l, name, dt, ndim, shape, data, NULL, NULL, err);
}

int ya_st_writer_add_fill(YaStWriter *w, const char *name, YaDtype dt, int ndim, const int64_t *shape,
                          YaStFillFn fill, void *ctx, YaError *err) {
    if (!fill) return ya_fail(err, YA_ERR_USAGE, "safetensors writer: %s: no fill function", name);
    return list_add(&w->l, name, dt, ndim, shape, NULL, fill, ctx, err);
}

uint64_t ya_st_writer_bytes(const YaStWriter *w) { return w->l.bytes; }

int ya_st_writer_finish(YaStWriter *w, const char *path, YaError *err) {
    Scratch scratch = {0};
    int rc = write_file(&w->l, 0, w->l.n, path, &scratch, err);
    free(scratch.p);
    ya_st_writer_free(w);
    return rc;
}

/* ---- sharded writer ------------------------------------------------------------ */

YaStShardedWriter *ya_st_sharded_new(uint64_t max_shard_bytes) {
    YaStShardedWriter *s = calloc(1, sizeof *s);
    if (s) s->max_shard_bytes = max_shard_bytes;
    return s;
}

void ya_st_sharded_free(YaStShardedWriter *s) {
    if (!s) return;
    list_free(&s->l);
    free(s);
}

int ya_st_sharded_meta(YaStShardedWriter *s, const char *key, const char *value, YaError *err) {
    return list_meta(&s->l, key, value, err);
}

int ya_st_sharded_add(YaStShardedWriter *s, const char *name, YaDtype dt, int ndim, const int64_t *shape,
                      const void *data, YaError *err) {
    return list_add(&s->l, name, dt, ndim, shape, data, NULL, NULL, err);
}

int ya_st_sharded_add_fill(YaStShardedWriter *s, const char *name, YaDtype dt, int ndim, const int64_t *shape,
                           YaStFillFn fill, void *ctx, YaError *err) {
    if (!fill) return ya_fail(err, YA_ERR_USAGE, "safetensors writer: %s: no fill function", name);
    return list_add(&s->l, name, dt, ndim, shape, NULL, fill, ctx, err);
}

static void remove_if_exists(const char *dir, const char *name) {
    char p[4096];
    if (ya_path_join(p, sizeof p, dir, name, NULL) == YA_OK && ya_path_exists(p)) unlink(p);
}

typedef struct {
    const char *name;
    size_t shard;
} MapRef;

static int cmp_mapref(const void *a, const void *b) {
    return strcmp(((const MapRef *)a)->name, ((const MapRef *)b)->name);
}

int ya_st_sharded_finish(YaStShardedWriter *s, const char *dir, const char *base, int *n_shards_out, YaError *err) {
    EntryList *l = &s->l;
    int rc = YA_OK;
    Scratch scratch = {0};
    size_t *start = calloc(l->n + 2, sizeof *start); // [K+1] first entry of each shard
    MapRef *refs = calloc(l->n + 1, sizeof *refs);
    char single[1024], index_name[1024];
    snprintf(single, sizeof single, "%s.safetensors", base);
    snprintf(index_name, sizeof index_name, "%s.safetensors.index.json", base);
    if (!start || !refs) {
        rc = ya_fail(err, YA_ERR, "%s: out of memory", dir);
        goto done;
    }
    /* Greedy plan: a new shard starts when the next tensor would push a
     * non-empty shard past the limit. */
    size_t k = 0;
    uint64_t cur = 0;
    start[0] = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (s->max_shard_bytes && i > start[k] && cur + l->e[i].nbytes > s->max_shard_bytes) {
            start[++k] = i;
            cur = 0;
        }
        cur += l->e[i].nbytes;
    }
    size_t n_shards = k + 1;
    start[n_shards] = l->n;
    if (n_shards_out) *n_shards_out = (int)n_shards;
    char path[4096];
    if (n_shards == 1) {
        if ((rc = ya_path_join(path, sizeof path, dir, single, err))) goto done;
        if ((rc = write_file(l, 0, l->n, path, &scratch, err))) goto done;
        remove_if_exists(dir, index_name);
        goto done;
    }
    if (n_shards > 99999) {
        rc = ya_fail(err, YA_ERR_USAGE, "%s: %zu shards is more than the naming scheme allows", dir, n_shards);
        goto done;
    }
    json_t *index = json_object(), *meta = json_object(), *wm = json_object();
    json_object_set_new(meta, "total_size", json_integer((json_int_t)l->bytes));
    json_object_set_new(index, "metadata", meta);
    for (size_t sh = 0; sh < n_shards && !rc; sh++) {
        char file[1100];
        snprintf(file, sizeof file, "%s-%05zu-of-%05zu.safetensors", base, sh + 1, n_shards);
        rc = ya_path_join(path, sizeof path, dir, file, err);
        if (!rc) rc = write_file(l, start[sh], start[sh + 1], path, &scratch, err);
        for (size_t i = start[sh]; i < start[sh + 1]; i++) refs[i] = (MapRef){l->e[i].name, sh};
    }
    if (!rc) {
        /* transformers writes weight_map sorted by name; so do we. */
        qsort(refs, l->n, sizeof *refs, cmp_mapref);
        for (size_t i = 0; i < l->n; i++) {
            char file[1100];
            snprintf(file, sizeof file, "%s-%05zu-of-%05zu.safetensors", base, refs[i].shard + 1, n_shards);
            json_object_set_new(wm, refs[i].name, json_string(file));
        }
        json_object_set_new(index, "weight_map", wm);
        wm = NULL;
        char *text = ya_json_dumps(index);
        if (!text) rc = ya_fail(err, YA_ERR, "%s: cannot serialise the index", dir);
        if (!rc) rc = ya_path_join(path, sizeof path, dir, index_name, err);
        if (!rc) rc = ya_write_file_atomic(path, text, strlen(text), err);
        free(text);
        if (!rc) remove_if_exists(dir, single);
    }
    json_decref(wm);
    json_decref(index);
done:
    free(scratch.p);
    free(start);
    free(refs);
    ya_st_sharded_free(s);
    return rc;
}
