/* jsonl.h — streaming JSON Lines reader with exact positions, and the
 * bad-line policy shared by score, prepare, import-text and the trainer's loader.
 *
 * Every line is reported by 1-based line number and the byte offset where it
 * starts, so a data-loader cursor can seek back to exactly that line. */
#ifndef YOUR_AI_JSONL_H
#define YOUR_AI_JSONL_H

#include <stdint.h>
#include <stdio.h>

#include "your_ai/error.h"
#include "your_ai/json.h"

typedef struct YaJsonlReader {
    FILE *fp;
    char path[4096];
    char *line;         /* getline buffer */
    size_t line_cap;
    uint64_t line_no;   /* 1-based number of the line last returned (0 before the first) */
    uint64_t offset;    /* byte offset of the start of the next line */
    uint64_t line_offset; /* byte offset where the line last returned starts */
    uint64_t max_line;  /* longer lines are bad lines (ya_jsonl_max_line_bytes() at open) */
} YaJsonlReader;

/* The longest line (bytes, newline included) a JSONL reader accepts; a longer
 * one is a bad line "line is N bytes, longer than the limit M", read past
 * without being held in memory. One JSON document that large would cost GBs of
 * parsing and tokenising; --max-line-bytes raises it for the whole process
 * (set before any file is opened; 0 restores the default). */
#define YA_JSONL_DEFAULT_MAX_LINE ((uint64_t)16 << 20)
void ya_jsonl_set_max_line_bytes(uint64_t n);
uint64_t ya_jsonl_max_line_bytes(void);

/* Reads one line (through its '\n', kept) from fp into *buf (grown as needed,
 * NUL-terminated), storing at most max_bytes bytes: *len = bytes stored,
 * *consumed = bytes read from fp (the whole line, even when longer).
 * Returns 1 a line, 2 a line longer than max_bytes (nothing useful stored),
 * 0 end of file, -1 read error or out of memory (errno). */
int ya_jsonl_read_line(FILE *fp, uint64_t max_bytes, char **buf, size_t *cap, size_t *len, uint64_t *consumed);

int ya_jsonl_open(YaJsonlReader *r, const char *path, YaError *err);
void ya_jsonl_close(YaJsonlReader *r);

/* Repositions so the next line read is the one starting at byte `offset`,
 * numbered `line_no` (both as previously reported by line_offset/line_no). */
int ya_jsonl_seek(YaJsonlReader *r, uint64_t offset, uint64_t line_no, YaError *err);

typedef enum { YA_JSONL_EOF = 0, YA_JSONL_OBJECT = 1, YA_JSONL_BAD = 2, YA_JSONL_IOERR = -1 } YaJsonlResult;

/* Reads the next non-blank line.
 *  YA_JSONL_OBJECT: *obj is a new reference to a JSON object (caller decrefs).
 *  YA_JSONL_BAD:    the line is not a valid UTF-8 JSON object, or is longer than
 *                   max_line; reason holds why ("invalid JSON at column 7: ...",
 *                   "not a JSON object", "line is N bytes, longer than the limit M ...").
 *  YA_JSONL_EOF / YA_JSONL_IOERR (err filled). Blank lines (only whitespace) are skipped. */
YaJsonlResult ya_jsonl_next(YaJsonlReader *r, json_t **obj, char *reason, size_t reason_cap, YaError *err);

/* For files where every line must be a JSON object (benchmarks, prompt suites):
 * like ya_jsonl_next, but a bad line is an error "path:line: reason" returned as
 * YA_JSONL_IOERR. Returns YA_JSONL_OBJECT, YA_JSONL_EOF or YA_JSONL_IOERR. */
YaJsonlResult ya_jsonl_next_strict(YaJsonlReader *r, json_t **obj, YaError *err);

/* The raw text of the last line returned (without the newline), for copying through. */
const char *ya_jsonl_last_line(const YaJsonlReader *r);

typedef enum { YA_BAD_LINE_FAIL = 0, YA_BAD_LINE_SKIP = 1 } YaBadLinePolicy;

/* Counts and reports bad lines under a policy: the first 20 are printed to
 * stderr as "file:line: reason", later ones only counted. */
typedef struct YaBadLines {
    YaBadLinePolicy policy;
    uint64_t count;
} YaBadLines;

/* Parses "skip" / "fail" (the --on-bad-line value). */
int ya_bad_line_policy_parse(const char *s, YaBadLinePolicy *out, YaError *err);

/* Records one bad line. Under FAIL returns YA_ERR with err = "file:line: reason";
 * under SKIP prints (while count < 20) and returns YA_OK. */
int ya_bad_line(YaBadLines *b, const char *file, uint64_t line, const char *reason, YaError *err);

/* Prints "N bad line(s) skipped" to stderr when count > 0 (what = "score", ...). */
void ya_bad_lines_summary(const YaBadLines *b, const char *what);

#endif
