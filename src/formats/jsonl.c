/* jsonl.c — JSON Lines reader and bad-line policy (see jsonl.h). */
#define _POSIX_C_SOURCE 200809L
#include "your_ai/jsonl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/fileio.h" /* defines: ya_fopen_input */
#include "your_ai/log.h"

/* The process-wide line limit: set once from --max-line-bytes before any file is read. */
static uint64_t g_max_line_bytes = YA_JSONL_DEFAULT_MAX_LINE;

void ya_jsonl_set_max_line_bytes(uint64_t n) { g_max_line_bytes = n ? n : YA_JSONL_DEFAULT_MAX_LINE; }
uint64_t ya_jsonl_max_line_bytes(void) { return g_max_line_bytes; }

int ya_jsonl_read_line(FILE *fp, uint64_t max_bytes, char **buf, size_t *cap, size_t *len, uint64_t *consumed) {
    size_t n = 0;
    uint64_t total = 0;
    int c = EOF, too_long = 0;
    flockfile(fp);
    while ((c = getc_unlocked(fp)) != EOF) {
        total++;
        if (!too_long) {
            if (total > max_bytes) {
                too_long = 1; /* keep counting to the newline; store nothing more */
            } else {
                if (n + 2 > *cap) {
                    size_t ncap = *cap ? *cap * 2 : 256;
                    while (ncap < n + 2) ncap *= 2;
                    char *p = realloc(*buf, ncap);
                    if (!p) {
                        funlockfile(fp);
                        errno = ENOMEM;
                        return -1;
                    }
                    *buf = p;
                    *cap = ncap;
                }
                (*buf)[n++] = (char)c;
            }
        }
        if (c == '\n') break;
    }
    int bad = ferror(fp);
    funlockfile(fp);
    if (bad) return -1;
    *consumed = total;
    if (total == 0) return 0;
    if (*buf) (*buf)[n] = '\0';
    *len = n;
    return too_long ? 2 : 1;
}

int ya_jsonl_open(YaJsonlReader *r, const char *path, YaError *err) {
    memset(r, 0, sizeof *r);
    r->max_line = g_max_line_bytes;
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
        size_t len = 0;
        uint64_t consumed = 0;
        if (!r->max_line) r->max_line = g_max_line_bytes; /* a reader set up without ya_jsonl_open */
        int got = ya_jsonl_read_line(r->fp, r->max_line, &r->line, &r->line_cap, &len, &consumed);
        if (got < 0) {
            ya_fail(err, YA_ERR, "%s: read error after line %llu: %s", r->path, (unsigned long long)r->line_no,
                    strerror(errno ? errno : EIO));
            return YA_JSONL_IOERR;
        }
        if (got == 0) return YA_JSONL_EOF;
        r->line_offset = r->offset;
        r->offset += consumed;
        r->line_no++;
        if (got == 2) {
            if (r->line) r->line[0] = '\0';
            snprintf(reason, reason_cap, "line is %llu bytes, longer than the limit %llu (raise with --max-line-bytes)",
                     (unsigned long long)consumed, (unsigned long long)r->max_line);
            return YA_JSONL_BAD;
        }
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
