/* score_json.h — the fast JSON path of `your_ai score` (private to the score
 * command and its tests; not a public API).
 *
 * `score` writes every input object back with the score fields appended, in
 * the engine's canonical JSON form (compact, key order kept, strings as raw
 * UTF-8 with only '"', '\\' and control characters escaped, integers in
 * decimal, reals as Python repr). Parsing each line into a jansson tree and
 * re-serialising it cost ~3x the scoring itself, so the common line takes a
 * single pass instead: yas_line_scan() validates the line and writes its
 * canonical form directly, and collects only the fields the scorer reads into
 * a small jansson object. It is deliberately conservative: whatever it is not
 * sure about (invalid JSON, \u0000, duplicate keys, integers beyond 18 digits,
 * real overflow, deep nesting, a score field already present, an object or
 * array under a metadata key, ...) makes it decline, and the caller then takes
 * the jansson path, whose output and error messages are the reference. */
#ifndef YA_DISTRUST_SCORE_JSON_H
#define YA_DISTRUST_SCORE_JSON_H

#include <stddef.h>

#include "distrust/scorer_internal.h"
#include "your_ai/scorer.h"

/* Per-thread state for one line; buffers are reused from line to line. */
typedef struct YasLine {
    YaStrBuf out;     /* canonical JSON of the object without its closing '}' */
    YaStrBuf scratch; /* decoded (unescaped) value of the metadata string being read */
    json_t *meta;   /* the keys the scorer reads (text field, source, url, publisher,
                       year, date, publication_date, published, source_type) */
    size_t n_keys;  /* top-level keys of the line */
} YasLine;

/* 1 if text_field can use the fast path (no byte that JSON must escape). */
int yas_line_text_field_ok(const char *text_field);

/* Scans one line (len bytes, no newline). Returns 1 when the fast path applies
 * (L->out holds the canonical object up to, not including, its '}', and
 * L->meta the scorer's fields: pass it to ya_score_record as the document),
 * 0 when the caller must use jansson, -1 when out of memory. */
int yas_line_scan(const char *line, size_t len, const char *text_field, YasLine *L);

/* Appends the fields ya_score_annotate would set, then "}\n", to L->out
 * (only after yas_line_scan returned 1). 0 ok, -1 out of memory. */
int yas_line_annotate(YasLine *L, YaScoringMethod method, const YaScoreResult *r, int detail);

void yas_line_free(YasLine *L);

/* Python repr(round(x, 4)) into out: the same string as
 * ya_format_double_repr(ya_round4(x), out), with one printf instead of up to 18. */
char *yas_repr_round4(double x, char out[32]);

#endif
