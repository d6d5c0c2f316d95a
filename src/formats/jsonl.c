/* jsonl.c — JSON Lines reader and bad-line policy (see jsonl.h). */
#define _POSIX_C_SOURCE 200809L
#include "your_ai/jsonl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/fileio.h" /* defines: ya_fopen_input */
#include "your_ai/log.h"

int ya_jsonl_open(YaJsonlReader *r, const char *path, YaError *err) {
    memset(r, 0, sizeof *r);
    if (strlen(path) >= sizeof r->path) return ya_fail(err, YA_ERR, "%s: path too long", path);
    strcpy(r->path, path);
    r->fp = ya_fopen_input(path, err);
    if (!r->fp) return YA_ERR;
    return YA_OK;
}

void ya_jsonl_close(YaJsonlReader *r) {
    if (r->fp) fclose(r->fp);
    free(r->line);
    r->fp = NULL;
    r->line = NULL;
}

int ya_jsonl_seek(YaJsonlReader *r, uint64_t offset, uint64_t line_no, YaError *err) {
    if (fseeko(r->fp, (off_t)offset, SEEK_SET) != 0)
        return ya_fail(err, YA_ERR, "%s: cannot seek to byte %llu: %s", r->path, (unsigned long long)offset, strerror(errno));
    r->offset = offset;
    r->line_no = line_no > 0 ? line_no - 1 : 0;
    return YA_OK;
}

static int is_blank(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return 0;
    return 1;
}

YaJsonlResult ya_jsonl_next(YaJsonlReader *r, json_t **obj, char *reason, size_t reason_cap, YaError *err) {
    *obj = NULL;
    for (;;) {
        errno = 0;
        ssize_t n = getline(&r->line, &r->line_cap, r->fp);
        if (n < 0) {
            if (ferror(r->fp)) {
                ya_fail(err, YA_ERR, "%s: read error after line %llu: %s", r->path, (unsigned long long)r->line_no, strerror(errno));
                return YA_JSONL_IOERR;
            }
            return YA_JSONL_EOF;
        }
        r->line_offset = r->offset;
        r->offset += (uint64_t)n;
        r->line_no++;
        size_t len = (size_t)n;
        while (len && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r')) len--;
        r->line[len] = '\0';
        if (is_blank(r->line, len)) continue;
        if (memchr(r->line, '\0', len)) {
            snprintf(reason, reason_cap, "line contains a NUL byte");
            return YA_JSONL_BAD;
        }
        json_error_t je;
        json_t *v = json_loadb(r->line, len, 0, &je);
        if (!v) {
            snprintf(reason, reason_cap, "invalid JSON at column %d: %s", je.column, je.text);
            return YA_JSONL_BAD;
        }
        if (!json_is_object(v)) {
            json_decref(v);
            snprintf(reason, reason_cap, "not a JSON object");
            return YA_JSONL_BAD;
        }
        *obj = v;
        return YA_JSONL_OBJECT;
    }
}

YaJsonlResult ya_jsonl_next_strict(YaJsonlReader *r, json_t **obj, YaError *err) {
    char reason[256];
    YaJsonlResult res = ya_jsonl_next(r, obj, reason, sizeof reason, err);
    if (res != YA_JSONL_BAD) return res;
    ya_fail(err, YA_ERR, "%s:%llu: %s", r->path, (unsigned long long)r->line_no, reason);
    return YA_JSONL_IOERR;
}

const char *ya_jsonl_last_line(const YaJsonlReader *r) { return r->line ? r->line : ""; }

int ya_bad_line_policy_parse(const char *s, YaBadLinePolicy *out, YaError *err) {
    if (strcmp(s, "skip") == 0) *out = YA_BAD_LINE_SKIP;
    else if (strcmp(s, "fail") == 0) *out = YA_BAD_LINE_FAIL;
    else return ya_fail(err, YA_ERR_USAGE, "--on-bad-line must be 'skip' or 'fail', got '%s'", s);
    return YA_OK;
}

int ya_bad_line(YaBadLines *b, const char *file, uint64_t line, const char *reason, YaError *err) {
    b->count++;
    if (b->policy == YA_BAD_LINE_FAIL)
        return ya_fail(err, YA_ERR, "%s:%llu: %s (use --on-bad-line skip to skip bad lines)", file, (unsigned long long)line, reason);
    if (b->count <= 20) fprintf(stderr, "%s:%llu: %s\n", file, (unsigned long long)line, reason);
    return YA_OK;
}

void ya_bad_lines_summary(const YaBadLines *b, const char *what) {
    if (b->count)
        fprintf(stderr, "%s: %llu bad line%s skipped%s\n", what, (unsigned long long)b->count, b->count == 1 ? "" : "s",
                b->count > 20 ? " (first 20 shown)" : "");
}
