/* pylower.c — Python-compatible text primitives for the citation scorer:
 * str.lower(), str()/repr() of JSON values, truthiness, UTF-8 helpers and
 * Unicode digit values.
 *
 * Why not just utf8proc_tolower: Python's lower() applies the full
 * SpecialCasing mapping. The only unconditional multi-code-point lowercase in
 * Unicode is U+0130 (İ → "i̇"), and the only conditional rule Python applies is
 * Final_Sigma (Σ → ς at the end of a word). Both are handled here explicitly;
 * every other code point uses the simple mapping, which equals the full one.
 * Which of these matter to scores: only mappings that produce ASCII letters
 * (A–Z, K U+212A → k, İ → i + U+0307) change what the markers can match; any
 * other mapping keeps a letter a letter, so \w and \b see the same thing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "distrust/scorer_internal.h"

/* ---- UTF-8 --------------------------------------------------------------------------- */

size_t yas_utf8_check(const char *str, size_t len) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        uint32_t cp, min;
        if (c >= 0xC2 && c <= 0xDF) n = 2, cp = c & 0x1F, min = 0x80;
        else if (c >= 0xE0 && c <= 0xEF) n = 3, cp = c & 0x0F, min = 0x800;
        else if (c >= 0xF0 && c <= 0xF4) n = 4, cp = c & 0x07, min = 0x10000;
        else return i;
        if (i + n > len) return i;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return i;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return i;
        i += n;
    }
    return len;
}

size_t yas_utf8_prefix_bytes(const char *str, size_t len, size_t max_cp) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, n = 0;
    while (i < len && n < max_cp) {
        unsigned char c = s[i];
        i += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
        n++;
    }
    return i < len ? i : len;
}

size_t yas_utf8_count_upto(const char *str, size_t len, size_t limit) {
    size_t n = 0;
    for (size_t i = 0; i < len && n < limit; i++)
        if (((unsigned char)str[i] & 0xC0) != 0x80) n++; /* count lead bytes */
    return n;
}

static int put_cp(YaStrBuf *b, uint32_t c) {
    unsigned char o[4];
    size_t n;
    if (c < 0x80) o[0] = (unsigned char)c, n = 1;
    else if (c < 0x800) o[0] = 0xC0 | (c >> 6), o[1] = 0x80 | (c & 0x3F), n = 2;
    else if (c < 0x10000) o[0] = 0xE0 | (c >> 12), o[1] = 0x80 | ((c >> 6) & 0x3F), o[2] = 0x80 | (c & 0x3F), n = 3;
    else
        o[0] = 0xF0 | (c >> 18), o[1] = 0x80 | ((c >> 12) & 0x3F), o[2] = 0x80 | ((c >> 6) & 0x3F),
        o[3] = 0x80 | (c & 0x3F), n = 4;
    return ya_strbuf_put(b, o, n);
}

/* ---- lower() ------------------------------------------------------------------------- */

/* Unicode Case_Ignorable (Mn, Me, Cf, Lm, Sk, plus Word_Break MidLetter /
 * MidNumLet / Single_Quote), as Python's final-sigma rule scans it. */
static int is_case_ignorable(uint32_t c) {
    switch (c) {
    case 0x27: case 0x2E: case 0x3A: case 0xB7: case 0x387: case 0x55F: case 0x5F4: case 0x2018: case 0x2019:
    case 0x2024: case 0x2027: case 0xFE13: case 0xFE52: case 0xFE55: case 0xFF07: case 0xFF0E: case 0xFF1A:
        return 1;
    }
    utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)c);
    return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_ME || cat == UTF8PROC_CATEGORY_CF ||
           cat == UTF8PROC_CATEGORY_LM || cat == UTF8PROC_CATEGORY_SK;
}

/* Unicode Cased: Lu/Ll/Lt, or anything with a case mapping (Other_Lowercase /
 * Other_Uppercase such as ⓐ, ⅰ, U+0345), plus ª and º. */
static int is_cased(uint32_t c) {
    utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)c);
    if (cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT) return 1;
    if (c == 0xAA || c == 0xBA) return 1;
    utf8proc_int32_t x = (utf8proc_int32_t)c;
    return utf8proc_tolower(x) != x || utf8proc_toupper(x) != x || utf8proc_totitle(x) != x;
}

/* Python's handle_capital_sigma: Σ is final when preceded by a cased letter
 * (skipping case-ignorables) and not followed by one (skipping the same). */
static uint32_t lower_sigma(const unsigned char *s, size_t len, size_t start, size_t end) {
    /* scan back from start */
    size_t j = start;
    uint32_t c = 0;
    int found = 0;
    while (j > 0) {
        size_t k = j - 1;
        while (k > 0 && (s[k] & 0xC0) == 0x80) k--;
        size_t t = k;
        c = yas_utf8_next(s, &t);
        j = k;
        if (!is_case_ignorable(c)) {
            found = 1;
            break;
        }
    }
    if (!found || !is_cased(c)) return 0x3C3;
    size_t i = end;
    while (i < len) {
        c = yas_utf8_next(s, &i);
        if (!is_case_ignorable(c)) return is_cased(c) ? 0x3C3 : 0x3C2;
    }
    return 0x3C2;
}

int yas_py_lower(const char *str, size_t len, YaStrBuf *out) {
    const unsigned char *s = (const unsigned char *)str;
    out->len = 0;
    if (ya_strbuf_reserve(out, len + 8)) return -1;
    if (out->data) out->data[0] = '\0';
    size_t i = 0;
    while (i < len) {
        /* ASCII run: the common case, copied with a table-free fold. */
        size_t j = i;
        while (j < len && s[j] < 0x80) j++;
        if (j > i) {
            if (ya_strbuf_reserve(out, j - i)) return -1;
            char *d = out->data + out->len;
            for (size_t k = i; k < j; k++) d[k - i] = (char)(s[k] >= 'A' && s[k] <= 'Z' ? s[k] + 32 : s[k]);
            out->len += j - i;
            out->data[out->len] = '\0';
            i = j;
            if (i >= len) break;
        }
        size_t start = i;
        uint32_t c = yas_utf8_next(s, &i);
        int rc;
        if (c == 0x130) { /* SpecialCasing: İ → i + COMBINING DOT ABOVE */
            rc = put_cp(out, 0x69);
            if (!rc) rc = put_cp(out, 0x307);
        } else if (c == 0x3A3) {
            rc = put_cp(out, lower_sigma(s, len, start, i));
        } else {
            rc = put_cp(out, (uint32_t)utf8proc_tolower((utf8proc_int32_t)c));
        }
        if (rc) return -1;
    }
    return 0;
}

/* ---- str()/repr() ---------------------------------------------------------------------- */

/* Python's str.isprintable() for one code point: not Cc, Cf, Cs, Co, Cn, Zl,
 * Zp, or Zs other than the ASCII space. */
static int py_printable(uint32_t c) {
    if (c == ' ') return 1;
    switch (utf8proc_category((utf8proc_int32_t)c)) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CS: case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN: case UTF8PROC_CATEGORY_ZL: case UTF8PROC_CATEGORY_ZP: case UTF8PROC_CATEGORY_ZS:
        return 0;
    default: return 1;
    }
}

/* Python repr(str): single quotes unless the text has ' and no ". */
static int py_repr_str(const char *str, size_t len, YaStrBuf *out) {
    const unsigned char *s = (const unsigned char *)str;
    char quote = (memchr(str, '\'', len) && !memchr(str, '"', len)) ? '"' : '\'';
    if (ya_strbuf_put(out, &quote, 1)) return -1;
    size_t i = 0;
    while (i < len) {
        size_t st = i;
        uint32_t c = yas_utf8_next(s, &i);
        char esc[16];
        const char *e = NULL;
        if (c == (uint32_t)quote || c == '\\') snprintf(esc, sizeof esc, "\\%c", (char)c), e = esc;
        else if (c == '\t') e = "\\t";
        else if (c == '\n') e = "\\n";
        else if (c == '\r') e = "\\r";
        else if (c < 0x20 || c == 0x7F) snprintf(esc, sizeof esc, "\\x%02x", c), e = esc;
        else if (c >= 0x80 && !py_printable(c)) {
            if (c <= 0xFF) snprintf(esc, sizeof esc, "\\x%02x", c);
            else if (c <= 0xFFFF) snprintf(esc, sizeof esc, "\\u%04x", c);
            else snprintf(esc, sizeof esc, "\\U%08x", c);
            e = esc;
        }
        if (e ? ya_strbuf_put(out, e, strlen(e)) : ya_strbuf_put(out, s + st, i - st)) return -1;
    }
    return ya_strbuf_put(out, &quote, 1);
}

static int py_repr(const json_t *v, YaStrBuf *out);

int yas_py_str(const json_t *v, YaStrBuf *out) {
    if (json_is_string(v)) return ya_strbuf_put(out, json_string_value(v), json_string_length(v));
    return py_repr(v, out);
}

static int py_repr(const json_t *v, YaStrBuf *out) {
    char tmp[40];
    switch (json_typeof(v)) {
    case JSON_STRING: return py_repr_str(json_string_value(v), json_string_length(v), out);
    case JSON_INTEGER:
        snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
        return ya_strbuf_put(out, tmp, strlen(tmp));
    case JSON_REAL:
        ya_format_double_repr(json_real_value(v), tmp);
        return ya_strbuf_put(out, tmp, strlen(tmp));
    case JSON_TRUE: return ya_strbuf_put(out, "True", 4);
    case JSON_FALSE: return ya_strbuf_put(out, "False", 5);
    case JSON_NULL: return ya_strbuf_put(out, "None", 4);
    case JSON_ARRAY: {
        if (ya_strbuf_put(out, "[", 1)) return -1;
        for (size_t k = 0; k < json_array_size(v); k++) {
            if (k && ya_strbuf_put(out, ", ", 2)) return -1;
            if (py_repr(json_array_get(v, k), out)) return -1;
        }
        return ya_strbuf_put(out, "]", 1);
    }
    case JSON_OBJECT: {
        if (ya_strbuf_put(out, "{", 1)) return -1;
        const char *key;
        size_t klen;
        json_t *val;
        int first = 1;
        json_object_keylen_foreach((json_t *)v, key, klen, val) {
            if (!first && ya_strbuf_put(out, ", ", 2)) return -1;
            first = 0;
            if (py_repr_str(key, klen, out) || ya_strbuf_put(out, ": ", 2) || py_repr(val, out)) return -1;
        }
        return ya_strbuf_put(out, "}", 1);
    }
    }
    return -1;
}

int yas_py_truthy(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_NULL: case JSON_FALSE: return 0;
    case JSON_TRUE: return 1;
    case JSON_INTEGER: return json_integer_value(v) != 0;
    case JSON_REAL: return json_real_value(v) != 0.0;
    case JSON_STRING: return json_string_length(v) != 0;
    case JSON_ARRAY: return json_array_size(v) != 0;
    case JSON_OBJECT: return json_object_size(v) != 0;
    }
    return 0;
}

int yas_py_isspace(uint32_t c) {
    return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* ---- digits -------------------------------------------------------------------------- */

int yas_unicode_digit_value(uint32_t c) {
    if (c >= '0' && c <= '9') return (int)(c - '0');
    if (utf8proc_category((utf8proc_int32_t)c) != UTF8PROC_CATEGORY_ND) return -1;
    /* Nd digits come in contiguous runs of ten, 0 to 9 (a Unicode stability
     * policy), and adjacent runs (e.g. U+1D7CE..U+1D7FF) each restart at 0:
     * the value is the distance to the start of the Nd block, modulo 10. */
    uint32_t z = c;
    while (z > 0 && utf8proc_category((utf8proc_int32_t)(z - 1)) == UTF8PROC_CATEGORY_ND) z--;
    return (int)((c - z) % 10);
}
