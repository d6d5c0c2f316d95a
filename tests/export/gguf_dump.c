/* gguf_dump.c — prints what OUR GGUF reader (src/export/gguf_reader.c) sees in
 * a file as JSON: version, alignment, data offset, every KV (decoded value) and
 * every tensor (name, dims, type, offset, sha256 of its bytes). tools/gguf_ref.py
 * compares it with its own independent parse, so the reader is checked on
 * every file the exporter writes.
 *   gguf_dump FILE.gguf > dump.json */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/gguf.h"
#include "your_ai/json.h"   /* defines: ya_json_dumps */
#include "your_ai/sha256.h" /* defines: ya_sha256_hex */

static json_t *scalar(YaGgufType t, const uint8_t *p) {
    union { uint8_t u8; int8_t i8; uint16_t u16; int16_t i16; uint32_t u32; int32_t i32; float f; uint64_t u64; int64_t i64; double d; } v;
    switch (t) {
    case YA_GGUF_UINT8: memcpy(&v.u8, p, 1); return json_integer(v.u8);
    case YA_GGUF_INT8: memcpy(&v.i8, p, 1); return json_integer(v.i8);
    case YA_GGUF_UINT16: memcpy(&v.u16, p, 2); return json_integer(v.u16);
    case YA_GGUF_INT16: memcpy(&v.i16, p, 2); return json_integer(v.i16);
    case YA_GGUF_UINT32: memcpy(&v.u32, p, 4); return json_integer(v.u32);
    case YA_GGUF_INT32: memcpy(&v.i32, p, 4); return json_integer(v.i32);
    case YA_GGUF_FLOAT32: memcpy(&v.f, p, 4); return json_real(v.f);
    case YA_GGUF_BOOL: return json_boolean(p[0]);
    case YA_GGUF_UINT64: memcpy(&v.u64, p, 8); return json_integer((json_int_t)v.u64);
    case YA_GGUF_INT64: memcpy(&v.i64, p, 8); return json_integer(v.i64);
    case YA_GGUF_FLOAT64: memcpy(&v.d, p, 8); return json_real(v.d);
    default: return json_null();
    }
}

static size_t scalar_size(YaGgufType t) {
    static const size_t sz[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return (unsigned)t < sizeof sz / sizeof *sz ? sz[t] : 0;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: gguf_dump FILE.gguf\n");
        return 2;
    }
    YaError err = {0};
    YaGguf *g = NULL;
    if (ya_gguf_read(argv[1], &g, &err)) {
        fprintf(stderr, "gguf_dump: %s\n", err.message);
        return 1;
    }
    json_t *root = json_object(), *kvs = json_array(), *ts = json_array();
    json_object_set_new(root, "version", json_integer(g->version));
    json_object_set_new(root, "alignment", json_integer((json_int_t)g->alignment));
    json_object_set_new(root, "data_offset", json_integer((json_int_t)g->data_offset));
    for (uint64_t i = 0; i < g->n_kv; i++) {
        const YaGgufKV *kv = &g->kv[i];
        json_t *o = json_object(), *val;
        json_object_set_new(o, "key", json_string(kv->key));
        json_object_set_new(o, "type", json_integer(kv->type));
        uint64_t len;
        if (kv->type == YA_GGUF_STRING) {
            const char *s = ya_gguf_kv_str(kv, 0, &len);
            val = json_stringn(s, len);
        } else if (kv->type == YA_GGUF_ARRAY) {
            json_object_set_new(o, "arr_type", json_integer(kv->arr_type));
            val = json_array();
            for (uint64_t j = 0; j < kv->n; j++) {
                if (kv->arr_type == YA_GGUF_STRING) {
                    const char *s = ya_gguf_kv_str(kv, j, &len);
                    json_array_append_new(val, json_stringn(s, len));
                } else {
                    json_array_append_new(val, scalar(kv->arr_type, kv->data + j * scalar_size(kv->arr_type)));
                }
            }
        } else {
            val = scalar(kv->type, kv->data);
        }
        json_object_set_new(o, "value", val ? val : json_null());
        json_array_append_new(kvs, o);
    }
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const YaGgufTensor *t = &g->tensors[i];
        json_t *o = json_object(), *dims = json_array();
        char hex[65];
        for (int d = 0; d < t->n_dims; d++) json_array_append_new(dims, json_integer((json_int_t)t->dims[d]));
        ya_sha256_hex(t->data, (size_t)t->nbytes, hex);
        json_object_set_new(o, "name", json_string(t->name));
        json_object_set_new(o, "dims", dims);
        json_object_set_new(o, "type", json_integer(t->type));
        json_object_set_new(o, "offset", json_integer((json_int_t)t->offset));
        json_object_set_new(o, "sha256", json_string(hex));
        json_array_append_new(ts, o);
    }
    json_object_set_new(root, "kv", kvs);
    json_object_set_new(root, "tensors", ts);
    char *text = ya_json_dumps(root);
    puts(text ? text : "null");
    free(text);
    json_decref(root);
    ya_gguf_free(g);
    return 0;
}
