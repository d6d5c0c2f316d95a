/* json.h — JSON through jansson, plus what jansson lacks for us:
 * error messages that name file:line:column, shortest round-trip number
 * output (Python repr style), and a compact writer that uses it. */
#ifndef YOUR_AI_JSON_H
#define YOUR_AI_JSON_H

#include <jansson.h> /* defines: json_t and the json_* API */
#include <stdio.h>

#include "your_ai/error.h"

/* Parses text (len bytes; need not be NUL-terminated). what names the source in
 * messages ("config.json", "model.safetensors header"). flags are jansson decode
 * flags (e.g. JSON_REJECT_DUPLICATES). NaN/Infinity literals are always rejected. */
int ya_json_parse(const char *text, size_t len, const char *what, size_t flags, json_t **out, YaError *err);

/* Reads and parses a whole file; messages read "path:line:col: reason". */
int ya_json_load_file(const char *path, size_t flags, json_t **out, YaError *err);

/* Python repr(float): shortest digits that round-trip, fixed notation for
 * 1e-4 <= |x| < 1e16 with at least one fractional digit ("1923.0", "0.35"),
 * otherwise "1e-05" / "1.5e+16". nan/inf print as "nan", "inf", "-inf".
 * out must hold 32 bytes. Returns out. */
char *ya_format_double_repr(double x, char out[32]);

/* Writes v compactly ({"a":1,"b":[2.5,"x"]}) with object keys in insertion
 * order, reals via ya_format_double_repr, strings as UTF-8 (only '"', '\\' and
 * control characters escaped). Returns 0, or -1 on a non-finite real or write error. */
int ya_json_write(FILE *fp, const json_t *v);

/* Same, into a malloc'ed NUL-terminated string (NULL on error). */
char *ya_json_dumps(const json_t *v);
/* Python's json.dumps(v, ensure_ascii=False) — what HF chat templates' `tojson`
 * prints: ", " and ": " separators, keys in insertion order, reals as repr,
 * non-ASCII as UTF-8. malloc'ed; NULL on a non-finite real or out of memory. */
char *ya_json_dumps_python(const json_t *v);

/* Typed getters for required/optional fields of an object. `where` names the
 * object in messages (e.g. "config.json"). Required getters fail with
 * "<where>: missing required field 'key'" or "... field 'key' must be an integer". */
int ya_json_req_int(const json_t *obj, const char *key, const char *where, long long *out, YaError *err);
int ya_json_req_number(const json_t *obj, const char *key, const char *where, double *out, YaError *err);
int ya_json_req_string(const json_t *obj, const char *key, const char *where, const char **out, YaError *err);
/* Optional: absent or null leaves *out = def; present with the wrong type is an error. */
int ya_json_opt_int(const json_t *obj, const char *key, const char *where, long long def, long long *out, YaError *err);
int ya_json_opt_number(const json_t *obj, const char *key, const char *where, double def, double *out, YaError *err);
int ya_json_opt_bool(const json_t *obj, const char *key, const char *where, int def, int *out, YaError *err);
int ya_json_opt_string(const json_t *obj, const char *key, const char *where, const char *def, const char **out, YaError *err);

#endif
