/* safetensors.c — reading one .safetensors file (SPEC §6.4): mmap, validate, index.
 *
 * Zero-copy: the file is mapped read-only (MAP_PRIVATE) and every tensor's data
 * pointer points into the mapping, so a 16 GB model costs no RAM until its
 * pages are touched. A file is untrusted input, so before any tensor is handed
 * out we check everything it could lie about: header length vs file size, JSON
 * well-formedness and duplicate keys, dtype strings, shapes (overflow-safe
 * products), data_offsets inside the data section, byte length = numel × dtype
 * size, and no two tensors sharing bytes. Gaps between tensors are legal but
 * odd: we warn once per file. Every message starts with the file name and, when
 * one is involved, names the tensor. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "your_ai/fileio.h" /* defines: ya_open_input */
#include "your_ai/json.h"
#include "your_ai/log.h"
#include "your_ai/safetensors.h"

/* A real 8B model's header is ~30 KB (~130 bytes per tensor); the reference
 * implementation caps it at 100 MB. Parsing costs ~20x the header in memory and
 * ~10 us per entry, so we accept at most 32 MiB and 131072 tensors per file
 * (a whole 30B-A3B MoE in one file has ~19k): anything larger is corrupt or
 * hostile, and is refused before it is parsed. */
#define YA_ST_MAX_HEADER (32u * 1024u * 1024u)
#define YA_ST_MAX_TENSORS 131072u

/* JSON objects in the header text (each tensor entry is one): '{' outside strings. */
static size_t count_objects(const unsigned char *s, size_t n) {
    size_t count = 0;
    int in_string = 0;
    for (size_t i = 0; i < n; i++) {
        if (in_string) {
            if (s[i] == '\\') i++;
            else if (s[i] == '"') in_string = 0;
        } else if (s[i] == '"') {
            in_string = 1;
        } else if (s[i] == '{') {
            count++;
        }
    }
    return count;
}

struct YaSafetensors {
    char *path;
    void *map;       /* mmap base, or NULL for a borrowed buffer */
    size_t map_len;
    YaTensorInfo *tensors; // [n] in header order
    size_t n;
    size_t *by_name;       // [n] indices sorted by name, for ya_st_find
    char **meta;           // [2*n_meta] key, value pairs
    size_t n_meta;
};

static void st_free(YaSafetensors *st) {
    if (!st) return;
    for (size_t i = 0; i < st->n; i++) free(st->tensors[i].name);
    for (size_t i = 0; i < 2 * st->n_meta; i++) free(st->meta[i]);
    free(st->tensors);
    free(st->by_name);
    free(st->meta);
    if (st->map) munmap(st->map, st->map_len);
    free(st->path);
    free(st);
}

void ya_st_close(YaSafetensors *st) { st_free(st); }
const char *ya_st_path(const YaSafetensors *st) { return st->path; }
size_t ya_st_count(const YaSafetensors *st) { return st->n; }
const YaTensorInfo *ya_st_at(const YaSafetensors *st, size_t i) { return i < st->n ? &st->tensors[i] : NULL; }

const char *ya_st_metadata(const YaSafetensors *st, const char *key) {
    for (size_t i = 0; i < st->n_meta; i++)
        if (strcmp(st->meta[2 * i], key) == 0) return st->meta[2 * i + 1];
    return NULL;
}

/* qsort/bsearch comparators need context; keep it in a tiny struct. */
typedef struct {
    const YaTensorInfo *t;
    size_t i;
} NameRef;

static int cmp_nameref(const void *a, const void *b) {
    return strcmp(((const NameRef *)a)->t->name, ((const NameRef *)b)->t->name);
}

const YaTensorInfo *ya_st_find(const YaSafetensors *st, const char *name) {
    size_t lo = 0, hi = st->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const YaTensorInfo *t = &st->tensors[st->by_name[mid]];
        int c = strcmp(name, t->name);
        if (c == 0) return t;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return NULL;
}

/* Writes "[a, b, c]" into out. */
static void format_shape(char *out, size_t cap, int ndim, const int64_t *shape) {
    size_t k = 0;
    k += (size_t)snprintf(out + k, cap - k, "[");
    for (int i = 0; i < ndim && k < cap; i++)
        k += (size_t)snprintf(out + k, cap - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (k < cap) snprintf(out + k, cap - k, "]");
}

/* Parses one tensor entry {"dtype","shape","data_offsets"} into t. */
static int parse_entry(const char *where, const char *name, json_t *e, uint64_t data_len, YaTensorInfo *t,
                       YaError *err) {
    if (!json_is_object(e)) return ya_fail(err, YA_ERR, "%s: tensor '%s': entry must be an object", where, name);
    json_t *jd = json_object_get(e, "dtype"), *js = json_object_get(e, "shape"),
           *jo = json_object_get(e, "data_offsets");
    if (!json_is_string(jd)) return ya_fail(err, YA_ERR, "%s: tensor '%s': 'dtype' missing or not a string", where, name);
    if (ya_dtype_parse(json_string_value(jd), &t->dtype) != 0)
        return ya_fail(err, YA_ERR, "%s: tensor '%s': unknown dtype '%s'", where, name, json_string_value(jd));
    if (!json_is_array(js))
        return ya_fail(err, YA_ERR, "%s: tensor '%s': 'shape' missing or not a list", where, name);
    size_t nd = json_array_size(js);
    if (nd > YA_MAX_DIMS)
        return ya_fail(err, YA_ERR, "%s: tensor '%s': %zu dimensions (at most %d supported)", where, name, nd, YA_MAX_DIMS);
    t->ndim = (int)nd;
    uint64_t numel = 1;
    for (size_t i = 0; i < nd; i++) {
        json_t *d = json_array_get(js, i);
        if (!json_is_integer(d) || json_integer_value(d) < 0)
            return ya_fail(err, YA_ERR, "%s: tensor '%s': shape[%zu] must be a non-negative integer", where, name, i);
        t->shape[i] = (int64_t)json_integer_value(d);
        if (__builtin_mul_overflow(numel, (uint64_t)t->shape[i], &numel))
            return ya_fail(err, YA_ERR, "%s: tensor '%s': shape overflows 64 bits", where, name);
    }
    t->numel = numel;
    if (__builtin_mul_overflow(numel, (uint64_t)ya_dtype_size(t->dtype), &t->nbytes))
        return ya_fail(err, YA_ERR, "%s: tensor '%s': byte size overflows 64 bits", where, name);
    if (!json_is_array(jo) || json_array_size(jo) != 2 || !json_is_integer(json_array_get(jo, 0)) ||
        !json_is_integer(json_array_get(jo, 1)))
        return ya_fail(err, YA_ERR, "%s: tensor '%s': 'data_offsets' must be [begin, end] integers", where, name);
    json_int_t b = json_integer_value(json_array_get(jo, 0)), en = json_integer_value(json_array_get(jo, 1));
    if (b < 0 || en < b)
        return ya_fail(err, YA_ERR, "%s: tensor '%s': data_offsets [%lld, %lld] must satisfy 0 <= begin <= end", where,
                       name, (long long)b, (long long)en);
    if ((uint64_t)en > data_len)
        return ya_fail(err, YA_ERR,
                       "%s: tensor '%s': data_offsets end %lld is past the end of the data section (%llu bytes)",
                       where, name, (long long)en, (unsigned long long)data_len);
    if ((uint64_t)(en - b) != t->nbytes) {
        char sh[256];
        format_shape(sh, sizeof sh, t->ndim, t->shape);
        return ya_fail(err, YA_ERR,
                       "%s: tensor '%s': data_offsets cover %lld bytes but dtype %s x shape %s needs %llu bytes", where,
                       name, (long long)(en - b), ya_dtype_name(t->dtype), sh, (unsigned long long)t->nbytes);
    }
    t->offset = (uint64_t)b;
    return YA_OK;
}

static int parse_metadata(const char *where, json_t *m, YaSafetensors *st, YaError *err) {
    if (!json_is_object(m))
        return ya_fail(err, YA_ERR, "%s: '__metadata__' must be an object of string to string", where);
    size_t n = json_object_size(m);
    st->meta = calloc(2 * n + 1, sizeof *st->meta);
    if (!st->meta) return ya_fail(err, YA_ERR, "%s: out of memory", where);
    const char *k;
    json_t *v;
    json_object_foreach(m, k, v) {
        if (!json_is_string(v))
            return ya_fail(err, YA_ERR, "%s: '__metadata__' value of '%s' must be a string", where, k);
        st->meta[2 * st->n_meta] = strdup(k);
        st->meta[2 * st->n_meta + 1] = strdup(json_string_value(v));
        st->n_meta++;
        if (!st->meta[2 * st->n_meta - 2] || !st->meta[2 * st->n_meta - 1])
            return ya_fail(err, YA_ERR, "%s: out of memory", where);
    }
    return YA_OK;
}

typedef struct {
    uint64_t begin, end;
    size_t i;
} Range;

static int cmp_range(const void *a, const void *b) {
    const Range *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    if (x->end != y->end) return x->end < y->end ? -1 : 1;
    return x->i < y->i ? -1 : (x->i > y->i);
}

/* Validates buf[0..len) and fills st (whose path is already set). */
static int parse_buffer(YaSafetensors *st, const unsigned char *buf, size_t len, YaError *err) {
    const char *where = st->path;
    if (len < 8)
        return ya_fail(err, YA_ERR, "%s: file is %zu bytes, too short for the 8-byte header length (truncated?)",
                       where, len);
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | buf[i]; /* little-endian u64 */
    if (hlen == 0) return ya_fail(err, YA_ERR, "%s: header length is 0 (not a safetensors file?)", where);
    if (hlen > len - 8)
        return ya_fail(err, YA_ERR, "%s: header length %llu is past the end of the file (%zu bytes; truncated?)", where,
                       (unsigned long long)hlen, len);
    if (hlen > YA_ST_MAX_HEADER)
        return ya_fail(err, YA_ERR, "%s: header length %llu exceeds the %u-byte limit (corrupt or not a model file?)",
                       where, (unsigned long long)hlen, YA_ST_MAX_HEADER);
    size_t n_objects = count_objects(buf + 8, (size_t)hlen); /* root + __metadata__ + one per tensor */
    if (n_objects > YA_ST_MAX_TENSORS + 2)
        return ya_fail(err, YA_ERR, "%s: header (%llu bytes) holds %zu JSON objects, more than the %u tensors accepted per file",
                       where, (unsigned long long)hlen, n_objects, YA_ST_MAX_TENSORS);
    const unsigned char *data = buf + 8 + hlen;
    uint64_t data_len = len - 8 - hlen;

    char what[4200];
    snprintf(what, sizeof what, "%s header", where);
    json_t *root = NULL;
    /* jansson accepts trailing whitespace (the writer's space padding) and
     * rejects anything else after the object, invalid UTF-8 and NUL bytes. */
    if (ya_json_parse((const char *)buf + 8, (size_t)hlen, what, JSON_REJECT_DUPLICATES, &root, err)) return YA_ERR;
    int rc = YA_OK;
    Range *ranges = NULL;
    NameRef *refs = NULL;
    if (!json_is_object(root)) {
        rc = ya_fail(err, YA_ERR, "%s: header must be a JSON object", where);
        goto done;
    }
    size_t cap = json_object_size(root);
    st->tensors = calloc(cap + 1, sizeof *st->tensors);
    ranges = calloc(cap + 1, sizeof *ranges);
    if (!st->tensors || !ranges) {
        rc = ya_fail(err, YA_ERR, "%s: out of memory", where);
        goto done;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (strcmp(key, "__metadata__") == 0) {
            if ((rc = parse_metadata(where, val, st, err))) goto done;
            continue;
        }
        YaTensorInfo *t = &st->tensors[st->n];
        if ((rc = parse_entry(where, key, val, data_len, t, err))) goto done;
        t->name = strdup(key);
        if (!t->name) {
            rc = ya_fail(err, YA_ERR, "%s: out of memory", where);
            goto done;
        }
        t->data = data + t->offset;
        t->file = st->path;
        ranges[st->n] = (Range){t->offset, t->offset + t->nbytes, st->n};
        st->n++;
    }

    /* Overlaps: sorted by begin, each range must start at or after the end of
     * the furthest range before it. Zero-byte tensors own no bytes and never
     * overlap anything. */
    qsort(ranges, st->n, sizeof *ranges, cmp_range);
    uint64_t furthest = 0, gap_bytes = 0;
    size_t prev = (size_t)-1;
    for (size_t r = 0; r < st->n; r++) {
        if (ranges[r].begin == ranges[r].end) continue;
        if (prev != (size_t)-1 && ranges[r].begin < furthest) {
            rc = ya_fail(err, YA_ERR, "%s: tensors '%s' [%llu, %llu) and '%s' [%llu, %llu) overlap", where,
                         st->tensors[prev].name, (unsigned long long)st->tensors[prev].offset,
                         (unsigned long long)(st->tensors[prev].offset + st->tensors[prev].nbytes),
                         st->tensors[ranges[r].i].name, (unsigned long long)ranges[r].begin,
                         (unsigned long long)ranges[r].end);
            goto done;
        }
        gap_bytes += ranges[r].begin - furthest;
        furthest = ranges[r].end;
        prev = ranges[r].i;
    }
    gap_bytes += data_len - furthest;
    if (gap_bytes) ya_warn("%s: %llu bytes of the data section belong to no tensor", where, (unsigned long long)gap_bytes);

    refs = malloc((st->n + 1) * sizeof *refs);
    st->by_name = malloc((st->n + 1) * sizeof *st->by_name);
    if (!refs || !st->by_name) {
        rc = ya_fail(err, YA_ERR, "%s: out of memory", where);
        goto done;
    }
    for (size_t i = 0; i < st->n; i++) refs[i] = (NameRef){&st->tensors[i], i};
    qsort(refs, st->n, sizeof *refs, cmp_nameref);
    for (size_t i = 0; i < st->n; i++) st->by_name[i] = refs[i].i;

done:
    free(refs);
    free(ranges);
    json_decref(root);
    return rc;
}

int ya_st_open_memory(const void *buf, size_t len, const char *where, YaSafetensors **out, YaError *err) {
    *out = NULL;
    YaSafetensors *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(where ? where : "<memory>"))) {
        free(st);
        return ya_fail(err, YA_ERR, "%s: out of memory", where ? where : "<memory>");
    }
    if (parse_buffer(st, buf, len, err)) {
        st_free(st);
        return YA_ERR;
    }
    *out = st;
    return YA_OK;
}

int ya_st_open(const char *path, YaSafetensors **out, YaError *err) {
    *out = NULL;
    int fd = ya_open_input(path, err); /* never blocks on a FIFO; refuses what is not a regular file */
    if (fd < 0) return YA_ERR;
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        int e = errno;
        close(fd);
        return ya_fail(err, YA_ERR, "%s: cannot stat: %s", path, strerror(e));
    }
    YaSafetensors *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        close(fd);
        return ya_fail(err, YA_ERR, "%s: out of memory", path);
    }
    size_t len = (size_t)sb.st_size;
    const unsigned char *buf = (const unsigned char *)"";
    if (len > 0) {
        void *m = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            int e = errno;
            close(fd);
            st_free(st);
            return ya_fail(err, YA_ERR, "%s: mmap failed: %s", path, strerror(e));
        }
        st->map = m;
        st->map_len = len;
        buf = m;
    }
    close(fd); /* the mapping keeps the file alive */
    if (parse_buffer(st, buf, len, err)) {
        st_free(st);
        return YA_ERR;
    }
    *out = st;
    return YA_OK;
}

int ya_tensor_check(const YaTensorInfo *t, int ndim, const int64_t *shape, YaError *err) {
    if (!ya_dtype_is_float(t->dtype))
        return ya_fail(err, YA_ERR, "%s: dtype %s not supported (expected F32, F16 or BF16)", t->name,
                       ya_dtype_name(t->dtype));
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
    if (!same) {
        char want[256], got[256];
        format_shape(want, sizeof want, ndim, shape);
        format_shape(got, sizeof got, t->ndim, t->shape);
        return ya_fail(err, YA_ERR, "%s: expected shape %s, found %s", t->name, want, got);
    }
    return YA_OK;
}
