/* scorer_internal.h — private helpers of the citation scorer (src/distrust/):
 * the regex classes that differ between Python and PCRE2, Python str.lower(),
 * Python str()/repr() of JSON values, UTF-8 utilities.
 * Not a public API: the scorer (and its probe test) are the only users. */
#ifndef YA_DISTRUST_SCORER_INTERNAL_H
#define YA_DISTRUST_SCORER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "your_ai/strbuf.h" /* defines: YaStrBuf */
#include "your_ai/json.h"

/* Python's \s on str (str.isspace()), as a PCRE2 class; yas_py_isspace() is the
 * same set in C. ctest scorer_semantics checks both on every code point. */
#define PY_S "[\\t\\n\\x0b\\f\\r\\x1c-\\x20\\x85\\xa0\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}]"
/* A literal i under Python's IGNORECASE (with PCRE2_CASELESS this also covers I). */
#define PY_I "[i\\x{130}\\x{131}]"

/* (Prefix yas_: private to the scorer, distinct from other modules' helpers.) */

/* Decodes one code point at s[*i] (s must be valid UTF-8), advancing *i. */
static inline uint32_t yas_utf8_next(const unsigned char *s, size_t *i) {
    uint32_t c = s[*i];
    if (c < 0x80) { *i += 1; return c; }
    if (c < 0xE0) { c = ((c & 0x1F) << 6) | (s[*i + 1] & 0x3F); *i += 2; return c; }
    if (c < 0xF0) { c = ((c & 0x0F) << 12) | ((uint32_t)(s[*i + 1] & 0x3F) << 6) | (s[*i + 2] & 0x3F); *i += 3; return c; }
    c = ((c & 0x07) << 18) | ((uint32_t)(s[*i + 1] & 0x3F) << 12) | ((uint32_t)(s[*i + 2] & 0x3F) << 6) | (s[*i + 3] & 0x3F);
    *i += 4;
    return c;
}

/* Byte offset of the first invalid UTF-8 sequence (overlongs, surrogates and
 * code points > U+10FFFF are invalid), or len if s is valid. */
size_t yas_utf8_check(const char *s, size_t len);

/* Byte length of the first max_cp code points of valid UTF-8 s (all of it if shorter). */
size_t yas_utf8_prefix_bytes(const char *s, size_t len, size_t max_cp);

/* Number of code points of valid UTF-8 s, counting at most `limit` (returns limit if reached). */
size_t yas_utf8_count_upto(const char *s, size_t len, size_t limit);

/* Python str.lower() of valid UTF-8 s into out (replacing its content):
 * per-code-point lowercase mapping, plus the two SpecialCasing rules Python
 * applies — U+0130 → "i̇" (U+0069 U+0307) and the final-sigma context. */
int yas_py_lower(const char *s, size_t len, YaStrBuf *out);

/* Python str(v) of a parsed JSON value (strings as-is, ints decimal, floats
 * repr, true/false "True"/"False", null "None", arrays/objects as Python's
 * list/dict repr with repr'ed strings), appended to out. */
int yas_py_str(const json_t *v, YaStrBuf *out);

/* Python truthiness of a JSON value (null, false, 0, 0.0, "", [], {} are falsy). */
int yas_py_truthy(const json_t *v);

/* Python str.isspace() of one code point (the set of PY_S). */
int yas_py_isspace(uint32_t c);

/* Decimal value 0–9 of a Unicode Nd code point (what Python's int() uses), or -1. */
int yas_unicode_digit_value(uint32_t c);

#endif
