/* prepare_extract.c — the text a raw record contributes, and its metadata (SPEC §5.2 steps 4, 6).
 *
 * Raw corpora name their text field differently (text, ocr_eng, abstract, ...),
 * so the reference tries a fixed field order, then falls back to gluing the
 * first long string fields together. Thresholds count Unicode code points, and
 * "string form" means Python's str() of the value, reproduced here. */
#include <stdlib.h>
#include <string.h>

#include "distrust/scorer_internal.h" /* defines: yas_py_str, yas_py_truthy (Python str() and truthiness) */
#include "your_ai/prepare.h"
#include "your_ai/strbuf.h"

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

/* Python semantics, shared with the scorer (src/distrust/pylower.c). */
int ya_json_truthy(const json_t *v) { return yas_py_truthy(v); }

char *ya_json_python_str(const json_t *v) {
    YaStrBuf b = {0};
    if (ya_strbuf_put(&b, "", 0) || yas_py_str(v, &b)) {
        ya_strbuf_free(&b);
        return NULL;
    }
    return b.data;
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
        YaStrBuf b = {0};
        int used = 0;
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)record, key, val) {
            if (used == YA_PREPARE_FALLBACK_FIELDS) break;
            if (!json_is_string(val)) continue;
            const char *s = json_string_value(val);
            size_t n = json_string_length(val);
            if (ya_utf8_count_cp(s, n) <= YA_PREPARE_FALLBACK_MIN_CP) continue;
            if (used) ya_strbuf_putc(&b, ' ');
            ya_strbuf_put(&b, s, n);
            used++;
        }
        if (b.oom) {
            ya_strbuf_free(&b);
            return -1;
        }
        found = b.data;
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
