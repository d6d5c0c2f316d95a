/* prepare_extract.c — the text a raw record contributes, and its metadata (SPEC §5.2 steps 4, 6).
 *
 * Raw corpora name their text field differently (text, ocr_eng, abstract, ...),
 * so the reference tries a fixed field order, then falls back to gluing the
 * first long string fields together. Thresholds count Unicode code points, and
 * "string form" means Python's str() of the value, reproduced here. */
#include <stdlib.h>
#include <string.h>

#include "your_ai/prepare.h"

size_t ya_utf8_count_cp(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++) n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

size_t ya_utf8_prefix_bytes(const char *s, size_t len, size_t max_cp) {
    size_t cp = 0;
    for (size_t i = 0; i < len; i++) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (cp == max_cp) return i;
            cp++;
        }
    }
    return len;
}

int ya_json_truthy(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_STRING: return json_string_length(v) > 0;
    case JSON_INTEGER: return json_integer_value(v) != 0;
    case JSON_REAL: return json_real_value(v) != 0.0;
    case JSON_TRUE: return 1;
    case JSON_ARRAY: return json_array_size(v) > 0;
    case JSON_OBJECT: return json_object_size(v) > 0;
    default: return 0; /* null, false */
    }
}

/* ---- a growable byte buffer ---------------------------------------------------- */
typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} Buf;

static void buf_put(Buf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}
static void buf_puts(Buf *b, const char *s) { buf_put(b, s, strlen(s)); }

/* Python repr() of a str. Python escapes every non-printable character; we
 * escape the ASCII controls, DEL, the C1 controls and U+00A0 (the ones raw
 * corpora actually contain) and pass other characters through. */
static void put_py_repr_str(Buf *b, const char *s, size_t n) {
    int has_sq = memchr(s, '\'', n) != NULL, has_dq = memchr(s, '"', n) != NULL;
    char q = (has_sq && !has_dq) ? '"' : '\'';
    buf_put(b, &q, 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[8];
        if (c == '\\') buf_puts(b, "\\\\");
        else if (c == (unsigned char)q) { esc[0] = '\\'; esc[1] = (char)q; buf_put(b, esc, 2); }
        else if (c == '\n') buf_puts(b, "\\n");
        else if (c == '\r') buf_puts(b, "\\r");
        else if (c == '\t') buf_puts(b, "\\t");
        else if (c < 0x20 || c == 0x7f) { snprintf(esc, sizeof esc, "\\x%02x", c); buf_puts(b, esc); }
        else if (c == 0xC2 && i + 1 < n && (((unsigned char)s[i + 1] >= 0x80 && (unsigned char)s[i + 1] <= 0xA0))) {
            snprintf(esc, sizeof esc, "\\x%02x", (unsigned char)s[i + 1]); /* U+0080..U+00A0 */
            buf_puts(b, esc);
            i++;
        } else buf_put(b, (const char *)&s[i], 1);
    }
    buf_put(b, &q, 1);
}

static void put_py(Buf *b, const json_t *v, int top) {
    char num[32];
    switch (json_typeof(v)) {
    case JSON_STRING:
        if (top) buf_put(b, json_string_value(v), json_string_length(v));
        else put_py_repr_str(b, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v));
        buf_puts(b, num);
        break;
    case JSON_REAL: buf_puts(b, ya_format_double_repr(json_real_value(v), num)); break;
    case JSON_TRUE: buf_puts(b, "True"); break;
    case JSON_FALSE: buf_puts(b, "False"); break;
    case JSON_NULL: buf_puts(b, "None"); break;
    case JSON_ARRAY: {
        buf_puts(b, "[");
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) buf_puts(b, ", ");
            put_py(b, json_array_get(v, i), 0);
        }
        buf_puts(b, "]");
        break;
    }
    case JSON_OBJECT: {
        const char *key;
        json_t *val;
        int first = 1;
        buf_puts(b, "{");
        json_object_foreach((json_t *)v, key, val) {
            if (!first) buf_puts(b, ", ");
            first = 0;
            put_py_repr_str(b, key, strlen(key));
            buf_puts(b, ": ");
            put_py(b, val, 0);
        }
        buf_puts(b, "}");
        break;
    }
    }
}

char *ya_json_python_str(const json_t *v) {
    Buf b = {0};
    buf_put(&b, "", 0);
    put_py(&b, v, 1);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

static const char *const k_text_fields[] = {"text",    "content",  "body",     "abstract", "description",
                                            "summary", "ocr_eng",  "ocr_text", "article",  "document",
                                            "title",   "question", "answer",   "support"};

int ya_prepare_extract_text(const json_t *record, char **text, size_t *len) {
    *text = NULL;
    *len = 0;
    char *found = NULL;
    size_t found_len = 0;
    for (size_t f = 0; f < sizeof k_text_fields / sizeof *k_text_fields && !found; f++) {
        const json_t *v = json_object_get(record, k_text_fields[f]);
        if (!v || !ya_json_truthy(v)) continue;
        char *s = ya_json_python_str(v);
        if (!s) return -1;
        size_t n = strlen(s);
        if (ya_utf8_count_cp(s, n) > YA_PREPARE_FIELD_MIN_CP) {
            found = s;
            found_len = n;
        } else {
            free(s);
        }
    }
    if (!found) { /* fallback: the first 3 long string fields in key order */
        Buf b = {0};
        int used = 0;
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)record, key, val) {
            if (used == YA_PREPARE_FALLBACK_FIELDS) break;
            if (!json_is_string(val)) continue;
            const char *s = json_string_value(val);
            size_t n = json_string_length(val);
            if (ya_utf8_count_cp(s, n) <= YA_PREPARE_FALLBACK_MIN_CP) continue;
            if (used) buf_put(&b, " ", 1);
            buf_put(&b, s, n);
            used++;
        }
        if (b.oom) {
            free(b.p);
            return -1;
        }
        found = b.p;
        found_len = b.len;
    }
    if (!found || ya_utf8_count_cp(found, found_len) < YA_PREPARE_TEXT_MIN_CP) {
        free(found);
        return 0;
    }
    *text = found;
    *len = found_len;
    return 1;
}

json_t *ya_prepare_metadata(const json_t *record) {
    json_t *meta = json_object();
    if (!meta) return NULL;
    const char *key;
    json_t *val;
    json_object_foreach((json_t *)record, key, val) {
        if (!strcmp(key, "text") || !strcmp(key, "content") || !strcmp(key, "body")) continue;
        if (json_is_string(val) || json_is_number(val) || json_is_boolean(val)) {
            if (json_object_set(meta, key, val) != 0) {
                json_decref(meta);
                return NULL;
            }
        }
    }
    return meta;
}
