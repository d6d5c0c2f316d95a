/* scorer_probe.c — exposes the scorer's Python-compatibility primitives to
 * tools/check_scorer_semantics.py, which compares them with real Python
 * (re, str.lower(), str(), round(), int()) code point by code point.
 *
 *   scorer_probe classes      every code point: "hex w d s i c" (1/0 flags for
 *                             PCRE2 \w, \d, Python-\s class, caseless PY_I,
 *                             and yas_py_isspace())
 *   scorer_probe lower        every code point: "hex unassigned lowered-hex..."
 *   scorer_probe digits       every code point with a digit value: "hex value"
 *   scorer_probe lower-lines  stdin: one JSON string per line → JSON of lower()
 *   scorer_probe pystr        stdin: one JSON value per line → JSON string of str()
 *   scorer_probe round        stdin: one number per line → repr(round(x, 4)) */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "distrust/scorer_internal.h"
#include "your_ai/json.h"
#include "your_ai/scorer.h"

static int enc(uint32_t c, unsigned char *o) {
    if (c < 0x80) { o[0] = (unsigned char)c; return 1; }
    if (c < 0x800) { o[0] = 0xC0 | (c >> 6); o[1] = 0x80 | (c & 63); return 2; }
    if (c < 0x10000) { o[0] = 0xE0 | (c >> 12); o[1] = 0x80 | ((c >> 6) & 63); o[2] = 0x80 | (c & 63); return 3; }
    o[0] = 0xF0 | (c >> 18); o[1] = 0x80 | ((c >> 12) & 63); o[2] = 0x80 | ((c >> 6) & 63); o[3] = 0x80 | (c & 63);
    return 4;
}

static pcre2_code *re(const char *p, uint32_t flags) {
    int e;
    PCRE2_SIZE o;
    pcre2_code *c = pcre2_compile((PCRE2_SPTR)p, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP | flags, &e, &o, NULL);
    if (!c) { fprintf(stderr, "bad pattern %s\n", p); exit(2); }
    return c;
}

static void put_json_string(const char *s, size_t n) {
    json_t *j = json_stringn(s, n);
    ya_json_write(stdout, j);
    putchar('\n');
    json_decref(j);
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    const char *mode = argv[1];
    if (!strcmp(mode, "classes")) {
        pcre2_code *w = re("^\\w$", 0), *d = re("^\\d$", 0), *s = re("^" PY_S "$", 0);
        pcre2_code *i = re("^" PY_I "$", PCRE2_CASELESS);
        pcre2_match_data *md = pcre2_match_data_create(2, NULL);
        for (uint32_t c = 0; c < 0x110000; c++) {
            if (c >= 0xD800 && c < 0xE000) continue;
            unsigned char b[4];
            int n = enc(c, b);
            int fw = pcre2_match(w, b, n, 0, 0, md, NULL) > 0, fd = pcre2_match(d, b, n, 0, 0, md, NULL) > 0;
            int fs = pcre2_match(s, b, n, 0, 0, md, NULL) > 0, fi = pcre2_match(i, b, n, 0, 0, md, NULL) > 0;
            int fc = yas_py_isspace(c);
            if (fw || fd || fs || fi || fc) printf("%x %d %d %d %d %d\n", c, fw, fd, fs, fi, fc);
        }
        pcre2_match_data_free(md);
        pcre2_code_free(w), pcre2_code_free(d), pcre2_code_free(s), pcre2_code_free(i);
        return 0;
    }
    if (!strcmp(mode, "lower")) {
        YaStrBuf out = {0};
        for (uint32_t c = 0; c < 0x110000; c++) {
            if (c >= 0xD800 && c < 0xE000) continue;
            unsigned char b[4];
            int n = enc(c, b);
            yas_py_lower((const char *)b, (size_t)n, &out);
            int cn = utf8proc_category((utf8proc_int32_t)c) == UTF8PROC_CATEGORY_CN;
            printf("%x %d", c, cn);
            size_t k = 0;
            while (k < out.len) printf(" %x", yas_utf8_next((const unsigned char *)out.data, &k));
            putchar('\n');
        }
        ya_strbuf_free(&out);
        return 0;
    }
    if (!strcmp(mode, "digits")) {
        for (uint32_t c = 0; c < 0x110000; c++) {
            if (c >= 0xD800 && c < 0xE000) continue;
            int v = yas_unicode_digit_value(c);
            if (v >= 0) printf("%x %d\n", c, v);
        }
        return 0;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    YaStrBuf out = {0};
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, stdin)) > 0) {
        json_error_t je;
        json_t *v = json_loadb(line, (size_t)n, JSON_DECODE_ANY, &je);
        if (!v) {
            fprintf(stderr, "bad input line: %s\n", je.text);
            rc = 2;
            break;
        }
        out.len = 0;
        if (!strcmp(mode, "lower-lines")) {
            yas_py_lower(json_string_value(v), json_string_length(v), &out);
            put_json_string(out.data ? out.data : "", out.len);
        } else if (!strcmp(mode, "pystr")) {
            yas_py_str(v, &out);
            put_json_string(out.data ? out.data : "", out.len);
        } else if (!strcmp(mode, "round")) {
            char b[32];
            printf("%s\n", ya_format_double_repr(ya_round4(json_number_value(v)), b));
        } else rc = 2;
        json_decref(v);
    }
    free(line);
    ya_strbuf_free(&out);
    return rc;
}
