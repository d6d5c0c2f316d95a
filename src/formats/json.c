/* json.c — jansson helpers: located errors, shortest number output, compact writer. */
#include "your_ai/json.h"
#include "your_ai/fileio.h" /* defines: ya_fopen_input */

#include <math.h>
#include <stdlib.h>
#include <string.h>

int ya_json_parse(const char *text, size_t len, const char *what, size_t flags, json_t **out, YaError *err) {
    json_error_t je;
    /* jansson already rejects NaN/Infinity literals (they are not JSON). */
    json_t *v = json_loadb(text, len, flags, &je);
    if (!v) return ya_fail(err, YA_ERR, "%s:%d:%d: invalid JSON: %s", what, je.line, je.column, je.text);
    *out = v;
    return YA_OK;
}

int ya_json_load_file(const char *path, size_t flags, json_t **out, YaError *err) {
    json_error_t je;
    FILE *fp = ya_fopen_input(path, err); /* never blocks on a FIFO; refuses directories */
    if (!fp) return YA_ERR;
    json_t *v = json_loadf(fp, flags, &je);
    fclose(fp);
    if (!v) {
        if (je.line < 0) return ya_fail(err, YA_ERR, "%s: %s", path, je.text);
        return ya_fail(err, YA_ERR, "%s:%d:%d: invalid JSON: %s", path, je.line, je.column, je.text);
    }
    *out = v;
    return YA_OK;
}

char *ya_format_double_repr(double x, char out[32]) {
    if (isnan(x)) { strcpy(out, "nan"); return out; }
    if (isinf(x)) { strcpy(out, x < 0 ? "-inf" : "inf"); return out; }
    if (x == 0) { strcpy(out, signbit(x) ? "-0.0" : "0.0"); return out; }
    /* Shortest precision whose %e form parses back to x. */
    char e[40];
    int prec;
    for (prec = 0; prec < 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, x);
        if (strtod(e, NULL) == x) break;
    }
    if (prec == 17) snprintf(e, sizeof e, "%.16e", x);
    /* e = [-]d[.ddd]e[+-]XX → digits and decimal exponent */
    const char *p = e;
    int neg = 0;
    if (*p == '-') { neg = 1; p++; }
    char digits[24];
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[nd++] = *p;
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    digits[nd] = '\0';
    int exp10 = atoi(p + 1); /* value = d.ddd × 10^exp10 */
    char *o = out;
    if (neg) *o++ = '-';
    if (exp10 >= -4 && exp10 < 16) { /* Python repr's fixed-notation range */
        if (exp10 < 0) {
            *o++ = '0'; *o++ = '.';
            for (int i = 0; i < -exp10 - 1; i++) *o++ = '0';
            memcpy(o, digits, (size_t)nd); o += nd;
        } else {
            for (int i = 0; i <= exp10; i++) *o++ = i < nd ? digits[i] : '0';
            *o++ = '.';
            if (nd > exp10 + 1) { memcpy(o, digits + exp10 + 1, (size_t)(nd - exp10 - 1)); o += nd - exp10 - 1; }
            else *o++ = '0';
        }
        *o = '\0';
    } else {
        *o++ = digits[0];
        if (nd > 1) { *o++ = '.'; memcpy(o, digits + 1, (size_t)(nd - 1)); o += nd - 1; }
        sprintf(o, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    }
    return out;
}

static int write_string(FILE *fp, const char *s, size_t n) {
    if (fputc('"', fp) == EOF) return -1;
    size_t plain = 0; /* start of the pending run of bytes that need no escape (written with one fwrite) */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        if (i > plain) fwrite(s + plain, 1, i - plain, fp);
        plain = i + 1;
        switch (c) {
        case '"': fputs("\\\"", fp); break;
        case '\\': fputs("\\\\", fp); break;
        case '\n': fputs("\\n", fp); break;
        case '\r': fputs("\\r", fp); break;
        case '\t': fputs("\\t", fp); break;
        case '\b': fputs("\\b", fp); break;
        case '\f': fputs("\\f", fp); break;
        default: fprintf(fp, "\\u%04x", c);
        }
    }
    if (n > plain) fwrite(s + plain, 1, n - plain, fp);
    return fputc('"', fp) == EOF ? -1 : 0;
}

/* The writer behind ya_json_write (item ",", key ":") and ya_json_dumps_python
 * (", " and ": ", Python's json.dumps defaults). */
static int write_value(FILE *fp, const json_t *v, const char *item_sep, const char *key_sep) {
    char num[32];
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        fputc('{', fp);
        const char *key;
        json_t *val;
        int first = 1;
        json_object_foreach((json_t *)v, key, val) {
            if (!first) fputs(item_sep, fp);
            first = 0;
            if (write_string(fp, key, strlen(key)) || fputs(key_sep, fp) == EOF || write_value(fp, val, item_sep, key_sep))
                return -1;
        }
        return fputc('}', fp) == EOF ? -1 : 0;
    }
    case JSON_ARRAY: {
        fputc('[', fp);
        for (size_t i = 0; i < json_array_size(v); i++) {
            if (i) fputs(item_sep, fp);
            if (write_value(fp, json_array_get(v, i), item_sep, key_sep)) return -1;
        }
        return fputc(']', fp) == EOF ? -1 : 0;
    }
    case JSON_STRING: return write_string(fp, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: return fprintf(fp, "%" JSON_INTEGER_FORMAT, json_integer_value(v)) < 0 ? -1 : 0;
    case JSON_REAL:
        if (!isfinite(json_real_value(v))) return -1;
        return fputs(ya_format_double_repr(json_real_value(v), num), fp) == EOF ? -1 : 0;
    case JSON_TRUE: return fputs("true", fp) == EOF ? -1 : 0;
    case JSON_FALSE: return fputs("false", fp) == EOF ? -1 : 0;
    case JSON_NULL: return fputs("null", fp) == EOF ? -1 : 0;
    }
    return -1;
}

int ya_json_write(FILE *fp, const json_t *v) { return write_value(fp, v, ",", ":"); }

static char *dumps(const json_t *v, const char *item_sep, const char *key_sep) {
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp) return NULL;
    int rc = write_value(fp, v, item_sep, key_sep);
    fclose(fp);
    if (rc) {
        free(buf);
        return NULL;
    }
    return buf;
}

char *ya_json_dumps_python(const json_t *v) { return dumps(v, ", ", ": "); }

char *ya_json_dumps(const json_t *v) { return dumps(v, ",", ":"); }

static int type_error(const char *where, const char *key, const char *want, YaError *err) {
    return ya_fail(err, YA_ERR, "%s: field '%s' must be %s", where, key, want);
}

int ya_json_req_int(const json_t *obj, const char *key, const char *where, long long *out, YaError *err) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return ya_fail(err, YA_ERR, "%s: missing required field '%s'", where, key);
    if (!json_is_integer(v)) return type_error(where, key, "an integer", err);
    *out = json_integer_value(v);
    return YA_OK;
}

int ya_json_req_number(const json_t *obj, const char *key, const char *where, double *out, YaError *err) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return ya_fail(err, YA_ERR, "%s: missing required field '%s'", where, key);
    if (!json_is_number(v)) return type_error(where, key, "a number", err);
    *out = json_number_value(v);
    return YA_OK;
}

int ya_json_req_string(const json_t *obj, const char *key, const char *where, const char **out, YaError *err) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) return ya_fail(err, YA_ERR, "%s: missing required field '%s'", where, key);
    if (!json_is_string(v)) return type_error(where, key, "a string", err);
    *out = json_string_value(v);
    return YA_OK;
}

int ya_json_opt_int(const json_t *obj, const char *key, const char *where, long long def, long long *out, YaError *err) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) { *out = def; return YA_OK; }
    if (!json_is_integer(v)) return type_error(where, key, "an integer", err);
    *out = json_integer_value(v);
    return YA_OK;
}

int ya_json_opt_number(const json_t *obj, const char *key, const char *where, double def, double *out, YaError *err) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) { *out = def; return YA_OK; }
    if (!json_is_number(v)) return type_error(where, key, "a number", err);
    *out = json_number_value(v);
    return YA_OK;
}

int ya_json_opt_bool(const json_t *obj, const char *key, const char *where, int def, int *out, YaError *err) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) { *out = def; return YA_OK; }
    if (!json_is_boolean(v)) return type_error(where, key, "true or false", err);
    *out = json_is_true(v);
    return YA_OK;
}

int ya_json_opt_string(const json_t *obj, const char *key, const char *where, const char *def, const char **out, YaError *err) {
    json_t *v = json_object_get(obj, key);
    if (!v || json_is_null(v)) { *out = def; return YA_OK; }
    if (!json_is_string(v)) return type_error(where, key, "a string", err);
    *out = json_string_value(v);
    return YA_OK;
}
