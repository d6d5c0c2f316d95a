/* score_json.c — single-pass validate + canonicalise of one JSONL line for
 * `your_ai score` (see score_json.h for the contract and why it exists).
 *
 * Equivalence with the jansson path (json_loadb(flags 0) then ya_json_write)
 * is what makes this safe; every rule below mirrors a jansson 2.14 rule:
 *  - whitespace is ' ', \t, \n, \r; the top level must be one object and only
 *    whitespace may follow it;
 *  - strings: strict UTF-8 (no overlongs, surrogates or > U+10FFFF), no raw
 *    byte < 0x20, escapes \" \\ \/ \b \f \n \r \t \uXXXX with surrogate pairs;
 *    \u0000 and lone surrogates are jansson errors -> we decline;
 *  - numbers: JSON grammar (no leading zeros); without '.', 'e', 'E' an integer
 *    (strtoll; we decline beyond 18 digits instead of range-checking), else a
 *    real (strtod; we decline on overflow, which jansson rejects);
 *  - duplicate keys collapse in jansson (first position, last value): we decline.
 * The output side mirrors ya_json_write: escapes only '"', '\\' and bytes < 0x20
 * (\b \f \n \r \t, else \u00xx), reals via ya_format_double_repr, integers
 * in decimal (so "-0" becomes "0"). */
#include "distrust/score_json.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DEPTH = 32, MAX_KEYS = 64 };

/* Byte classes: 1 = ASCII that a JSON string holds and ya_json_write copies as is. */
static const unsigned char k_plain[256] = {
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
    R16(0), R16(0),                                                     /* 0x00–0x1f: control */
    1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,                     /* 0x20–0x2f: '"' */
    R16(1), R16(1),                                                     /* 0x30–0x4f */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1,                     /* 0x50–0x5f: '\\' */
    R16(1), R16(1),                                                     /* 0x60–0x7f */
    R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0), R16(0)       /* 0x80–0xff: UTF-8 */
#undef R16
};

typedef struct Scan {
    const unsigned char *p, *end;
    YaStrBuf *out; /* capacity reserved up front: see yas_line_scan */
} Scan;

static inline void put(Scan *s, const void *src, size_t n) {
    memcpy(s->out->data + s->out->len, src, n);
    s->out->len += n;
}
static inline void put1(Scan *s, char c) { s->out->data[s->out->len++] = c; }
static inline void skip_ws(Scan *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r')) s->p++;
}

/* Length of the valid multi-byte UTF-8 sequence at p (lead byte >= 0x80), 0 if invalid. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    size_t avail = (size_t)(end - p);
    if (c < 0xC2 || c > 0xF4) return 0;
    if (c < 0xE0) return avail >= 2 && (p[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c < 0xF0) {
        if (avail < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80) return 0;
        if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] >= 0xA0)) return 0; /* overlong, surrogate */
        return 3;
    }
    if (avail < 4 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80) return 0;
    if ((c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] >= 0x90)) return 0; /* overlong, > U+10FFFF */
    return 4;
}

static int hex4(const unsigned char *p, const unsigned char *end, uint32_t *v) {
    if (end - p < 4) return -1;
    uint32_t x = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') d = (c | 0x20) - 'a' + 10;
        else return -1;
        x = x << 4 | d;
    }
    *v = x;
    return 0;
}

static size_t utf8_encode(uint32_t cp, char *o) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A decoded code point, written the way ya_json_write writes it. */
static void put_cp(Scan *s, uint32_t cp) {
    char b[8];
    switch (cp) {
    case '"': put(s, "\\\"", 2); return;
    case '\\': put(s, "\\\\", 2); return;
    case '\b': put(s, "\\b", 2); return;
    case '\f': put(s, "\\f", 2); return;
    case '\n': put(s, "\\n", 2); return;
    case '\r': put(s, "\\r", 2); return;
    case '\t': put(s, "\\t", 2); return;
    }
    if (cp < 0x20) {
        snprintf(b, sizeof b, "\\u%04x", (unsigned)cp);
        put(s, b, 6);
        return;
    }
    put(s, b, utf8_encode(cp, b));
}

/* A string at s->p (the opening quote). dec, if not NULL, receives the decoded
 * bytes. Returns 0, or 1 to decline. Output never exceeds the input length
 * (every escape's canonical form is at most as long as the escape). */
static int scan_string(Scan *s, YaStrBuf *dec) {
    const unsigned char *p = s->p + 1, *end = s->end;
    put1(s, '"');
    for (;;) {
        const unsigned char *q = p;
        while (q < end && k_plain[*q]) q++;
        if (q > p) {
            put(s, p, (size_t)(q - p));
            if (dec) { memcpy(dec->data + dec->len, p, (size_t)(q - p)); dec->len += (size_t)(q - p); }
            p = q;
        }
        if (p >= end) return 1;
        unsigned c = *p;
        if (c == '"') break;
        if (c >= 0x80) {
            size_t n = utf8_seq(p, end);
            if (!n) return 1;
            put(s, p, n);
            if (dec) { memcpy(dec->data + dec->len, p, n); dec->len += n; }
            p += n;
            continue;
        }
        if (c != '\\' || end - p < 2) return 1; /* raw control character, or a cut escape */
        uint32_t cp;
        switch (p[1]) {
        case '"': cp = '"'; break;
        case '\\': cp = '\\'; break;
        case '/': cp = '/'; break;
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            if (hex4(p + 2, end, &cp)) return 1;
            if (cp == 0 || (cp >= 0xDC00 && cp <= 0xDFFF)) return 1; /* NUL, lone low surrogate */
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                uint32_t lo;
                if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || hex4(p + 8, end, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return 1;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                p += 6;
            }
            p += 4;
            break;
        default: return 1;
        }
        p += 2;
        put_cp(s, cp);
        if (dec) dec->len += utf8_encode(cp, dec->data + dec->len);
    }
    put1(s, '"');
    if (dec) dec->data[dec->len] = '\0';
    s->p = p + 1;
    return 0;
}

static inline int is_digit(const unsigned char *p, const unsigned char *end) { return p < end && *p >= '0' && *p <= '9'; }

/* A number at s->p. *v (if not NULL) receives it as a new jansson value. */
static int scan_number(Scan *s, json_t **v) {
    const unsigned char *start = s->p, *p = s->p, *end = s->end;
    int neg = *p == '-';
    if (neg) p++;
    if (!is_digit(p, end)) return 1;
    if (*p == '0') {
        p++;
        if (is_digit(p, end)) return 1; /* leading zero */
    } else
        while (is_digit(p, end)) p++;
    const unsigned char *int_end = p;
    int real = 0;
    if (p < end && *p == '.') {
        p++;
        if (!is_digit(p, end)) return 1;
        while (is_digit(p, end)) p++;
        real = 1;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (!is_digit(p, end)) return 1;
        while (is_digit(p, end)) p++;
        real = 1;
    }
    s->p = p;
    if (!real) {
        if (int_end - start - neg > 18) return 1; /* jansson range-checks; we just decline */
        long long x = 0;
        for (const unsigned char *d = start + neg; d < int_end; d++) x = x * 10 + (*d - '0');
        if (x == 0) put1(s, '0'); /* "-0" */
        else put(s, start, (size_t)(int_end - start));
        if (v && !(*v = json_integer(neg ? -x : x))) return -1;
        return 0;
    }
    char buf[64], num[32];
    if (p - start >= (long)sizeof buf) return 1;
    memcpy(buf, start, (size_t)(p - start));
    buf[p - start] = '\0';
    double x = strtod(buf, NULL);
    if (isinf(x)) return 1; /* jansson: "real number overflow" */
    /* the repr may be longer than the input: room for it and the rest of the line */
    if (ya_strbuf_reserve(s->out, 32 + (size_t)(end - p) + 64)) return -1;
    ya_format_double_repr(x, num);
    put(s, num, strlen(num));
    if (v && !(*v = json_real(x))) return -1;
    return 0;
}

static int scan_value(Scan *s, int depth);

/* Does the key just written at out[off, off+len) repeat one of keys[0..n)? */
static int dup_key(const Scan *s, const size_t (*keys)[2], size_t n, size_t off, size_t len) {
    for (size_t k = 0; k < n; k++)
        if (keys[k][1] == len && memcmp(s->out->data + keys[k][0], s->out->data + off, len) == 0) return 1;
    return 0;
}

static int scan_object(Scan *s, int depth) {
    size_t keys[MAX_KEYS][2], n = 0;
    put1(s, '{');
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == '}') {
        s->p++;
        put1(s, '}');
        return 0;
    }
    for (;;) {
        if (s->p >= s->end || *s->p != '"' || n == MAX_KEYS) return 1;
        size_t off = s->out->len + 1;
        int rc = scan_string(s, NULL);
        if (rc) return rc;
        size_t len = s->out->len - 1 - off;
        if (dup_key(s, keys, n, off, len)) return 1;
        keys[n][0] = off, keys[n][1] = len, n++;
        skip_ws(s);
        if (s->p >= s->end || *s->p != ':') return 1;
        s->p++;
        put1(s, ':');
        skip_ws(s);
        if ((rc = scan_value(s, depth + 1))) return rc;
        skip_ws(s);
        if (s->p >= s->end) return 1;
        if (*s->p == '}') break;
        if (*s->p != ',') return 1;
        s->p++;
        put1(s, ',');
        skip_ws(s);
    }
    s->p++;
    put1(s, '}');
    return 0;
}

static int scan_array(Scan *s, int depth) {
    put1(s, '[');
    s->p++;
    skip_ws(s);
    if (s->p < s->end && *s->p == ']') {
        s->p++;
        put1(s, ']');
        return 0;
    }
    for (;;) {
        int rc = scan_value(s, depth + 1);
        if (rc) return rc;
        skip_ws(s);
        if (s->p >= s->end) return 1;
        if (*s->p == ']') break;
        if (*s->p != ',') return 1;
        s->p++;
        put1(s, ',');
        skip_ws(s);
    }
    s->p++;
    put1(s, ']');
    return 0;
}

static int scan_literal(Scan *s, const char *word, size_t n) {
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0) return 1;
    put(s, word, n);
    s->p += n;
    return 0;
}

static int scan_value(Scan *s, int depth) {
    if (s->p >= s->end || depth > MAX_DEPTH) return 1;
    switch (*s->p) {
    case '{': return scan_object(s, depth);
    case '[': return scan_array(s, depth);
    case '"': return scan_string(s, NULL);
    case 't': return scan_literal(s, "true", 4);
    case 'f': return scan_literal(s, "false", 5);
    case 'n': return scan_literal(s, "null", 4);
    default: return scan_number(s, NULL);
    }
}

/* Top-level keys: the scorer's inputs, and the fields the score overwrites. */
static const char *const k_meta_keys[] = {"source", "url", "publisher", "year", "date",
                                          "publication_date", "published", "source_type"};
static const char *const k_score_keys[] = {"auth_weight", "prov_entropy", "citation_count", "primary_source_count",
                                           "scoring_method", "scorer", "detail"};

static int key_is(const char *key, size_t len, const char *name) { return strlen(name) == len && memcmp(key, name, len) == 0; }

int yas_line_text_field_ok(const char *text_field) {
    for (const unsigned char *c = (const unsigned char *)text_field; *c; c++)
        if (!k_plain[*c] && *c < 0x80) return 0;
    return 1;
}

/* A metadata value read into a jansson value (strings decoded into L->scratch first). */
static int scan_meta_value(Scan *s, YasLine *L, json_t **v) {
    if (s->p >= s->end) return 1;
    switch (*s->p) {
    case '"': {
        L->scratch.len = 0;
        int rc = scan_string(s, &L->scratch);
        if (rc) return rc;
        return (*v = json_stringn_nocheck(L->scratch.data, L->scratch.len)) ? 0 : -1;
    }
    case 't': *v = json_true(); return scan_literal(s, "true", 4);
    case 'f': *v = json_false(); return scan_literal(s, "false", 5);
    case 'n': *v = json_null(); return scan_literal(s, "null", 4);
    case '{':
    case '[': return 1; /* rare: str() of a container; the jansson path handles it */
    default: return scan_number(s, v);
    }
}

int yas_line_scan(const char *line, size_t len, const char *text_field, YasLine *L) {
    L->out.len = 0;
    L->n_keys = 0;
    /* Canonical output is never longer than the input except for reals (each
     * reserves its own room) and the closing annotation (yas_line_annotate). */
    if (ya_strbuf_reserve(&L->out, len + 64) || ya_strbuf_reserve(&L->scratch, len + 8)) return -1;
    if (!L->meta && !(L->meta = json_object())) return -1;
    json_object_clear(L->meta);
    Scan s = {(const unsigned char *)line, (const unsigned char *)line + len, &L->out};
    size_t keys[MAX_KEYS][2], n = 0;
    skip_ws(&s);
    if (s.p >= s.end || *s.p != '{') return 0;
    s.p++;
    put1(&s, '{');
    skip_ws(&s);
    int rc = 0;
    if (s.p < s.end && *s.p == '}') s.p++;
    else
        for (;;) {
            if (s.p >= s.end || *s.p != '"' || n == MAX_KEYS) return 0;
            size_t off = L->out.len + 1;
            if ((rc = scan_string(&s, NULL))) break;
            size_t klen = L->out.len - 1 - off;
            const char *key = L->out.data + off;
            if (dup_key(&s, keys, n, off, klen)) return 0;
            keys[n][0] = off, keys[n][1] = klen, n++;
            const char *meta_name = key_is(key, klen, text_field) ? text_field : NULL;
            for (size_t k = 0; k < sizeof k_meta_keys / sizeof *k_meta_keys && !meta_name; k++)
                if (key_is(key, klen, k_meta_keys[k])) meta_name = k_meta_keys[k];
            for (size_t k = 0; k < sizeof k_score_keys / sizeof *k_score_keys; k++)
                if (key_is(key, klen, k_score_keys[k])) return 0; /* replaced in place: jansson path */
            skip_ws(&s);
            if (s.p >= s.end || *s.p != ':') return 0;
            s.p++;
            put1(&s, ':');
            skip_ws(&s);
            if (meta_name) {
                json_t *v = NULL;
                rc = scan_meta_value(&s, L, &v);
                if (v && json_object_set_new_nocheck(L->meta, meta_name, v)) rc = -1;
            } else
                rc = scan_value(&s, 1);
            if (rc) break;
            skip_ws(&s);
            if (s.p >= s.end) return 0;
            if (*s.p == '}') {
                s.p++;
                break;
            }
            if (*s.p != ',') return 0;
            s.p++;
            put1(&s, ',');
            skip_ws(&s);
        }
    if (rc) return rc < 0 ? -1 : 0;
    skip_ws(&s);
    if (s.p != s.end) return 0; /* trailing bytes: jansson's "end of file expected" */
    L->n_keys = n;
    return 1;
}

/* ---- output ---------------------------------------------------------------------- */

char *yas_repr_round4(double x, char out[32]) {
    /* "%.4f" is the 4-decimal rounding of the exact binary value (what ya_round4
     * parses back). Below 1e9 doubles are far denser than 1e-4, so no shorter
     * decimal parses to the same double: repr is that string less trailing
     * zeros. Zero (sign), huge and non-finite values take the general route. */
    if (!isfinite(x) || fabs(x) >= 1e9) return ya_format_double_repr(ya_round4(x), out);
    int n = snprintf(out, 32, "%.4f", x);
    while (out[n - 1] == '0' && out[n - 2] != '.') n--;
    out[n] = '\0';
    if (strcmp(out, "0.0") == 0 || strcmp(out, "-0.0") == 0) return ya_format_double_repr(ya_round4(x), out);
    return out;
}

static void put_str(YaStrBuf *b, const char *s) {
    size_t n = strlen(s);
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

static void put_i64(YaStrBuf *b, long long v) { /* "%lld" without printf's parsing */
    char tmp[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do tmp[n++] = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0) tmp[n++] = '-';
    while (n) b->data[b->len++] = tmp[--n];
}

static void put_repr(YaStrBuf *b, double x) {
    char num[32];
    put_str(b, ya_format_double_repr(x, num));
}

int yas_line_annotate(YasLine *L, YaScoringMethod method, const YaScoreResult *r, int detail) {
    char num[32];
    /* Fixed field names + at most ~20 numbers of <= 24 bytes + category names. */
    if (ya_strbuf_reserve(&L->out, 2048)) return -1;
    YaStrBuf *b = &L->out;
    put_str(b, L->n_keys ? ",\"auth_weight\":" : "\"auth_weight\":");
    put_str(b, yas_repr_round4(r->authority_weight, num));
    put_str(b, ",\"prov_entropy\":");
    put_str(b, yas_repr_round4(r->provenance_entropy, num));
    if (method != YA_SCORING_DEFAULT) {
        put_str(b, ",\"citation_count\":");
        put_i64(b, r->citation_count);
        put_str(b, ",\"primary_source_count\":");
        put_i64(b, r->primary_source_count);
    }
    put_str(b, ",\"scoring_method\":\"");
    put_str(b, ya_scoring_method_name(method));
    put_str(b, "\",\"scorer\":\"" YA_SCORER_VERSION "\"");
    if (detail && method != YA_SCORING_DEFAULT) { /* the same object as ya_score_result_json */
        put_str(b, ",\"detail\":{\"authority_weight\":");
        put_repr(b, r->authority_weight);
        put_str(b, ",\"provenance_entropy\":");
        put_repr(b, r->provenance_entropy);
        put_str(b, ",\"citation_count\":");
        put_i64(b, r->citation_count);
        put_str(b, ",\"primary_source_count\":");
        put_i64(b, r->primary_source_count);
        put_str(b, ",\"institutional_score\":");
        put_repr(b, r->institutional_score);
        put_str(b, ",\"consensus_score\":");
        put_repr(b, r->consensus_score);
        put_str(b, ",\"source_type_distribution\":{");
        for (int k = 0; k < r->n_source_types; k++) {
            int c = r->source_type_order[k];
            if (k) put_str(b, ",");
            put_str(b, "\"");
            put_str(b, ya_source_categories[c]);
            put_str(b, "\":");
            put_repr(b, r->source_type_distribution[c]);
        }
        put_str(b, "}}");
    }
    put_str(b, "}\n");
    return 0;
}

void yas_line_free(YasLine *L) {
    ya_strbuf_free(&L->out);
    ya_strbuf_free(&L->scratch);
    json_decref(L->meta);
    memset(L, 0, sizeof *L);
}
