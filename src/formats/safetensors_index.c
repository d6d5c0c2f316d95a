/* safetensors_index.c — a model directory's weights: model.safetensors, or the
 * shards listed by model.safetensors.index.json (SPEC §6.4).
 *
 * With an index we expose exactly the weight_map tensors, each taken from the
 * shard it names, and ignore every other file in the directory (Mistral repos
 * ship a duplicate consolidated.safetensors; globbing would load it twice).
 * Each distinct shard is opened (mmap'd) once. A shard that cannot be opened,
 * or that lacks a tensor the index maps to it, is an error naming both. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "your_ai/fileio.h"
#include "your_ai/json.h"
#include "your_ai/log.h"
#include "your_ai/safetensors.h"

struct YaWeights {
    char *dir;
    YaSafetensors **files; // [n_files]
    size_t n_files;
    YaTensorInfo *tensors; // [n] shallow copies; names and data owned by files
    size_t n;
    size_t *by_name;       // [n] indices sorted by name
};

void ya_weights_close(YaWeights *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_files; i++) ya_st_close(w->files[i]);
    free(w->files);
    free(w->tensors);
    free(w->by_name);
    free(w->dir);
    free(w);
}

size_t ya_weights_count(const YaWeights *w) { return w->n; }
const YaTensorInfo *ya_weights_at(const YaWeights *w, size_t i) { return i < w->n ? &w->tensors[i] : NULL; }
const char *ya_weights_dir(const YaWeights *w) { return w->dir; }

const YaTensorInfo *ya_weights_find(const YaWeights *w, const char *name) {
    size_t lo = 0, hi = w->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const YaTensorInfo *t = &w->tensors[w->by_name[mid]];
        int c = strcmp(name, t->name);
        if (c == 0) return t;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

/* Sorting pairs (tensor, index) keeps the comparator free of outside state. */
typedef struct {
    const YaTensorInfo *t;
    size_t i;
} NameRef;

static int cmp_nameref(const void *a, const void *b) {
    return strcmp(((const NameRef *)a)->t->name, ((const NameRef *)b)->t->name);
}

static int build_name_index(YaWeights *w, YaError *err) {
    NameRef *refs = malloc((w->n + 1) * sizeof *refs);
    w->by_name = malloc((w->n + 1) * sizeof *w->by_name);
    if (!refs || !w->by_name) {
        free(refs);
        return ya_fail(err, YA_ERR, "%s: out of memory", w->dir);
    }
    for (size_t i = 0; i < w->n; i++) refs[i] = (NameRef){&w->tensors[i], i};
    qsort(refs, w->n, sizeof *refs, cmp_nameref);
    for (size_t i = 0; i < w->n; i++) w->by_name[i] = refs[i].i;
    free(refs);
    return YA_OK;
}

static void format_shape(char *out, size_t cap, int ndim, const int64_t *shape) {
    size_t k = (size_t)snprintf(out, cap, "[");
    for (int i = 0; i < ndim && k < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (k < cap) snprintf(out + k, cap - k, "]");
}

const YaTensorInfo *ya_weights_require(const YaWeights *w, const char *name, int ndim, const int64_t *shape,
                                       YaError *err) {
    const YaTensorInfo *t = ya_weights_find(w, name);
    if (!t) {
        char sh[256];
        format_shape(sh, sizeof sh, ndim, shape);
        ya_fail(err, YA_ERR, "%s: missing tensor '%s' (expected shape %s)", w->dir, name, sh);
        return NULL;
    }
    if (ya_tensor_check(t, ndim, shape, err)) {
        ya_error_prefix(err, "%s", t->file);
        return NULL;
    }
    return t;
}

/* A shard name from the index must stay inside the model directory. */
static int safe_relative(const char *f) {
    if (!*f || f[0] == '/') return 0;
    for (const char *p = f; *p;) {
        const char *q = strchr(p, '/');
        size_t n = q ? (size_t)(q - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') return 0;
        if (!q) break;
        p = q + 1;
    }
    return 1;
}

static int open_single(YaWeights *w, const char *path, YaError *err) {
    w->files = calloc(1, sizeof *w->files);
    if (!w->files) return ya_fail(err, YA_ERR, "%s: out of memory", path);
    if (ya_st_open(path, &w->files[0], err)) return YA_ERR;
    w->n_files = 1;
    size_t n = ya_st_count(w->files[0]);
    w->tensors = calloc(n + 1, sizeof *w->tensors);
    if (!w->tensors) return ya_fail(err, YA_ERR, "%s: out of memory", path);
    for (size_t i = 0; i < n; i++) w->tensors[i] = *ya_st_at(w->files[0], i);
    w->n = n;
    return YA_OK;
}

static int open_indexed(YaWeights *w, const char *index_path, YaError *err) {
    json_t *root = NULL;
    if (ya_json_load_file(index_path, JSON_REJECT_DUPLICATES, &root, err)) return YA_ERR;
    int rc = YA_OK;
    json_t *wm = json_object_get(root, "weight_map");
    if (!json_is_object(root) || !json_is_object(wm)) {
        rc = ya_fail(err, YA_ERR, "%s: missing required object 'weight_map'", index_path);
        goto done;
    }
    size_t n = json_object_size(wm);
    w->tensors = calloc(n + 1, sizeof *w->tensors);
    w->files = calloc(n + 1, sizeof *w->files);
    if (!w->tensors || !w->files) {
        rc = ya_fail(err, YA_ERR, "%s: out of memory", index_path);
        goto done;
    }
    const char *name;
    json_t *fv;
    uint64_t total = 0;
    json_object_foreach(wm, name, fv) {
        if (!json_is_string(fv)) {
            rc = ya_fail(err, YA_ERR, "%s: weight_map['%s'] must be a file name string", index_path, name);
            goto done;
        }
        const char *file = json_string_value(fv);
        if (!safe_relative(file)) {
            rc = ya_fail(err, YA_ERR, "%s: weight_map['%s'] = '%s' is not a file inside the model directory",
                         index_path, name, file);
            goto done;
        }
        char path[4096];
        if ((rc = ya_path_join(path, sizeof path, w->dir, file, err))) goto done;
        /* Shards are few (≤ ~200): a linear search over the opened ones is fine. */
        YaSafetensors *st = NULL;
        for (size_t i = 0; i < w->n_files && !st; i++)
            if (strcmp(ya_st_path(w->files[i]), path) == 0) st = w->files[i];
        if (!st) {
            if (ya_st_open(path, &st, err)) {
                rc = ya_error_prefix(err, "%s: shard '%s' (listed for tensor '%s')", index_path, file, name);
                goto done;
            }
            w->files[w->n_files++] = st;
        }
        const YaTensorInfo *t = ya_st_find(st, name);
        if (!t) {
            rc = ya_fail(err, YA_ERR, "%s: tensor '%s' is mapped to '%s', which does not contain it", index_path,
                         name, file);
            goto done;
        }
        w->tensors[w->n++] = *t;
        total += t->nbytes;
    }
    json_t *meta = json_object_get(root, "metadata"), *ts = json_object_get(meta, "total_size");
    /* total_size is informational (some published indexes are off); warn, don't fail. */
    if (json_is_integer(ts) && (uint64_t)json_integer_value(ts) != total)
        ya_warn("%s: metadata.total_size is %lld but the mapped tensors hold %llu bytes", index_path,
                (long long)json_integer_value(ts), (unsigned long long)total);
done:
    json_decref(root);
    return rc;
}

int ya_weights_open_dir(const char *model_dir, YaWeights **out, YaError *err) {
    *out = NULL;
    if (!ya_is_dir(model_dir)) return ya_fail(err, YA_ERR, "%s: not a directory", model_dir);
    YaWeights *w = calloc(1, sizeof *w);
    if (!w || !(w->dir = strdup(model_dir))) {
        free(w);
        return ya_fail(err, YA_ERR, "%s: out of memory", model_dir);
    }
    char index_path[4096], single_path[4096];
    int rc = ya_path_join(index_path, sizeof index_path, model_dir, "model.safetensors.index.json", err);
    if (!rc) rc = ya_path_join(single_path, sizeof single_path, model_dir, "model.safetensors", err);
    if (!rc) {
        if (ya_path_exists(index_path)) rc = open_indexed(w, index_path, err);
        else if (ya_path_exists(single_path)) rc = open_single(w, single_path, err);
        else
            rc = ya_fail(err, YA_ERR, "%s: no model.safetensors.index.json or model.safetensors in the directory",
                         model_dir);
    }
    if (!rc) rc = build_name_index(w, err);
    if (rc) {
        ya_weights_close(w);
        return rc;
    }
    *out = w;
    return YA_OK;
}
