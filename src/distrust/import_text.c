/* import_text.c — plain-text and Brown-corpus importers (see import_text.h, docs/DATA.md).
 *
 * `prepare` reads JSONL; most free corpora are directories of text files. This
 * turns them into raw JSONL records ({"text", "source", "source_type", ...})
 * deterministically (files in sorted order), so the whole path from a corpus
 * on disk to train.jsonl is reproducible. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "your_ai/fileio.h"
#include "your_ai/import_text.h"
#include "your_ai/strbuf.h"
#include "your_ai/json.h"
#include "your_ai/prepare.h"

void ya_import_options_default(YaImportOptions *o) {
    memset(o, 0, sizeof *o);
    o->format = YA_IMPORT_TEXT;
    o->unit = YA_IMPORT_PER_FILE;
    o->min_chars = 1;
    o->chunk_chars = 1000;
    o->on_bad_line = YA_BAD_LINE_SKIP;
}

/* File names carry the filename key that prepare maps to the source type
 * (newspaper, rhetoric, literature); the four genres no key fits are marked
 * override = 1 and need `--source-type FILE=TYPE` in prepare. */
const YaBrownGenre ya_brown_genres[15] = {
    {'a', "press: reportage", "brown_a_press_reportage_newspaper.jsonl", "historical_newspaper", 0},
    {'b', "press: editorial", "brown_b_press_editorial_newspaper.jsonl", "historical_newspaper", 0},
    {'c', "press: reviews", "brown_c_press_reviews_newspaper.jsonl", "historical_newspaper", 0},
    {'d', "religion", "brown_d_religion_rhetoric.jsonl", "classical_rhetoric", 0},
    {'e', "skill and hobbies", "brown_e_skill_hobbies.jsonl", "historical_book", 1},
    {'f', "popular lore", "brown_f_popular_lore.jsonl", "historical_book", 1},
    {'g', "belles-lettres", "brown_g_belles_lettres_literature.jsonl", "classical_literature", 0},
    {'h', "miscellaneous: government & house organs", "brown_h_government.jsonl", "government", 1},
    {'j', "learned", "brown_j_learned.jsonl", "academic_paper", 1},
    {'k', "fiction: general", "brown_k_fiction_general_literature.jsonl", "classical_literature", 0},
    {'l', "fiction: mystery", "brown_l_fiction_mystery_literature.jsonl", "classical_literature", 0},
    {'m', "fiction: science", "brown_m_fiction_science_literature.jsonl", "classical_literature", 0},
    {'n', "fiction: adventure", "brown_n_fiction_adventure_literature.jsonl", "classical_literature", 0},
    {'p', "fiction: romance", "brown_p_fiction_romance_literature.jsonl", "classical_literature", 0},
    {'r', "humor", "brown_r_humor_literature.jsonl", "classical_literature", 0},
};

const YaBrownGenre *ya_brown_genre_of(const char *filename) {
    const char *f = filename;
    if (strlen(f) != 4 || f[0] != 'c' || f[2] < '0' || f[2] > '9' || f[3] < '0' || f[3] > '9') return NULL;
    for (size_t g = 0; g < 15; g++)
        if (ya_brown_genres[g].code == f[1]) return &ya_brown_genres[g];
    return NULL;
}

int ya_utf8_valid(const char *str, size_t len, size_t *bad_offset) {
    const unsigned char *s = (const unsigned char *)str;
    for (size_t i = 0; i < len;) {
        unsigned c = s[i];
        size_t n;
        unsigned cp, min;
        if (c < 0x80) { i++; continue; }
        if ((c & 0xE0) == 0xC0) n = 2, cp = c & 0x1F, min = 0x80;
        else if ((c & 0xF0) == 0xE0) n = 3, cp = c & 0x0F, min = 0x800;
        else if ((c & 0xF8) == 0xF0) n = 4, cp = c & 0x07, min = 0x10000;
        else goto bad;
        if (i + n > len) goto bad;
        for (size_t k = 1; k < n; k++) {
            if ((s[i + k] & 0xC0) != 0x80) goto bad;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) goto bad;
        i += n;
        continue;
    bad:
        if (bad_offset) *bad_offset = i;
        return 0;
    }
    return 1;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

static int word_is(const char *w, size_t n, const char *lit) { return strlen(lit) == n && memcmp(w, lit, n) == 0; }

char *ya_brown_detag(const char *tagged, size_t len, size_t *out_len) {
    static const char *const no_space_before[] = {",", ".", ";", ":", "?", "!", ")", "]", "''", "'"};
    YaStrBuf b = {0};
    ya_strbuf_put(&b, "", 0);
    int glue_next = 1; /* no space before the first word, nor after an opening bracket/quote */
    int prev_headline = 0; /* a headline (tags *-hl) ends with a line break, not a space */
    for (size_t i = 0; i < len;) {
        while (i < len && is_ws(tagged[i])) i++;
        if (i >= len) break;
        size_t start = i;
        while (i < len && !is_ws(tagged[i])) i++;
        const char *tok = tagged + start;
        size_t n = i - start;
        const char *slash = NULL; /* the tag follows the LAST '/': "1/2/cd" is the word "1/2" */
        for (size_t k = n; k-- > 0;)
            if (tok[k] == '/') {
                slash = tok + k;
                break;
            }
        size_t wn = slash && slash > tok ? (size_t)(slash - tok) : n;
        int headline = slash && n - wn >= 3 && memcmp(tok + n - 3, "-hl", 3) == 0;
        int glue = glue_next;
        for (size_t k = 0; k < sizeof no_space_before / sizeof *no_space_before && !glue; k++)
            glue = word_is(tok, wn, no_space_before[k]);
        if (prev_headline && !headline && b.len > 0) ya_strbuf_put(&b, "\n", 1);
        else if (!glue) ya_strbuf_put(&b, " ", 1);
        prev_headline = headline;
        if (word_is(tok, wn, "``") || word_is(tok, wn, "''")) ya_strbuf_put(&b, "\"", 1);
        else ya_strbuf_put(&b, tok, wn);
        glue_next = word_is(tok, wn, "``") || word_is(tok, wn, "(") || word_is(tok, wn, "[");
    }
    if (b.oom) {
        ya_strbuf_free(&b);
        return NULL;
    }
    if (out_len) *out_len = b.len;
    return b.data;
}

/* ---- files ------------------------------------------------------------------------- */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted names of the regular, non-hidden files of dir. */
static int list_files(const char *dir, char ***names, size_t *count, YaError *err) {
    *names = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) return ya_fail(err, YA_ERR, "%s: cannot open input directory: %s", dir, strerror(errno));
    size_t cap = 0;
    int rc = YA_OK;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        struct stat st;
        if ((rc = ya_path_join(path, sizeof path, dir, e->d_name, err)) != YA_OK) break;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (*count == cap) {
            cap = cap ? cap * 2 : 64;
            char **p = realloc(*names, cap * sizeof *p);
            if (!p) {
                rc = ya_fail(err, YA_ERR, "out of memory listing %s", dir);
                break;
            }
            *names = p;
        }
        if (!((*names)[*count] = strdup(e->d_name))) {
            rc = ya_fail(err, YA_ERR, "out of memory listing %s", dir);
            break;
        }
        (*count)++;
    }
    closedir(d);
    if (rc == YA_OK && *count) qsort(*names, *count, sizeof **names, cmp_str);
    return rc;
}

static void free_names(char **names, size_t n) {
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* Reads a file as UTF-8 text: BOM dropped, CRLF → LF. Returns YA_OK, YA_ERR (I/O
 * or a fail-policy bad file, err set) or -1 (bad file skipped, counted). */
static int read_text(const char *path, YaBadLines *bad, YaImportStats *st, char **out, size_t *out_len, YaError *err) {
    char *data;
    size_t len;
    if (ya_read_file(path, &data, &len, err) != YA_OK) return YA_ERR;
    size_t bad_at;
    if (!ya_utf8_valid(data, len, &bad_at) || memchr(data, '\0', len)) {
        if (ya_utf8_valid(data, len, &bad_at)) bad_at = (size_t)((char *)memchr(data, '\0', len) - data);
        size_t line = 1;
        for (size_t i = 0; i < bad_at; i++) line += data[i] == '\n';
        char reason[128];
        snprintf(reason, sizeof reason, "%s at byte %zu%s", data[bad_at] == '\0' ? "NUL byte" : "invalid UTF-8", bad_at,
                 bad->policy == YA_BAD_LINE_SKIP ? "; file skipped" : "");
        free(data);
        st->bad_files++;
        return ya_bad_line(bad, path, line, reason, err) == YA_OK ? -1 : YA_ERR;
    }
    size_t o = 0, i = 0;
    if (len >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) i = 3;
    for (; i < len; i++) {
        if (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n') continue;
        data[o++] = data[i];
    }
    data[o] = '\0';
    *out = data;
    *out_len = o;
    return YA_OK;
}

/* Paragraphs: maximal runs of non-blank lines. Calls back with each one (start
 * offset, length without the final newline, 1-based first line). */
typedef int (*ParagraphFn)(void *ctx, const char *p, size_t n, size_t line);

static int for_each_paragraph(const char *s, size_t len, ParagraphFn fn, void *ctx) {
    size_t i = 0, line = 1, para_start = 0, para_line = 0;
    int in_para = 0;
    while (i <= len) {
        size_t eol = i;
        while (eol < len && s[eol] != '\n') eol++;
        int blank = 1;
        for (size_t k = i; k < eol && blank; k++) blank = is_ws(s[k]);
        if (!blank && !in_para) in_para = 1, para_start = i, para_line = line;
        if ((blank || eol >= len) && in_para) {
            size_t end = blank ? i : eol;
            while (end > para_start && is_ws(s[end - 1])) end--;
            int rc = fn(ctx, s + para_start, end - para_start, para_line);
            if (rc != YA_OK) return rc;
            in_para = 0;
        }
        if (eol >= len) break;
        i = eol + 1;
        line++;
    }
    return YA_OK;
}

/* ---- writing records ----------------------------------------------------------------- */

static int write_record(YaAtomicFile *f, json_t *rec, YaError *err) {
    int rc = YA_OK;
    if (!rec || ya_json_write(f->fp, rec) != 0 || fputc('\n', f->fp) == EOF)
        rc = ya_fail(err, YA_ERR, "%s: write failed", f->path);
    json_decref(rec);
    return rc;
}

/* Trims whitespace at both ends. */
static void trim(const char **s, size_t *n) {
    while (*n && is_ws(**s)) (*s)++, (*n)--;
    while (*n && is_ws((*s)[*n - 1])) (*n)--;
}

typedef struct {
    const YaImportOptions *o;
    YaImportStats *st;
    YaAtomicFile *out;
    const char *file;
    size_t paragraph;
    YaError *err;
} TextCtx;

static int emit_text(TextCtx *c, const char *p, size_t n, size_t line) {
    trim(&p, &n);
    if (ya_utf8_count_cp(p, n) < c->o->min_chars || n == 0) {
        c->st->too_short++;
        return YA_OK;
    }
    json_t *rec = json_object();
    char source[4200];
    if (c->o->unit == YA_IMPORT_PER_PARAGRAPH) snprintf(source, sizeof source, "%s#%zu", c->file, c->paragraph);
    else snprintf(source, sizeof source, "%s", c->file);
    json_object_set_new(rec, "text", json_stringn(p, n));
    json_object_set_new(rec, "source", json_string(source));
    json_object_set_new(rec, "source_type", json_string(c->o->source_type));
    if (c->o->unit == YA_IMPORT_PER_PARAGRAPH) {
        json_object_set_new(rec, "paragraph", json_integer((json_int_t)c->paragraph));
        json_object_set_new(rec, "line", json_integer((json_int_t)line));
    }
    c->st->documents++;
    return write_record(c->out, rec, c->err);
}

static int on_text_paragraph(void *ctx, const char *p, size_t n, size_t line) {
    TextCtx *c = ctx;
    c->paragraph++;
    return emit_text(c, p, n, line);
}

static int import_plain(const YaImportOptions *o, YaImportStats *st, YaError *err) {
    if (!o->source_type || !*o->source_type)
        return ya_fail(err, YA_ERR_USAGE, "--source-type is required with --format text");
    char **names;
    size_t n_names;
    if (list_files(o->input_dir, &names, &n_names, err) != YA_OK) return YA_ERR;
    YaAtomicFile out = {0};
    YaBadLines bad = {.policy = o->on_bad_line};
    int rc = ya_atomic_open(&out, o->out, err);
    for (size_t f = 0; f < n_names && rc == YA_OK; f++) {
        char path[4096], *data = NULL;
        size_t len;
        if ((rc = ya_path_join(path, sizeof path, o->input_dir, names[f], err)) != YA_OK) break;
        int r = read_text(path, &bad, st, &data, &len, err);
        if (r == -1) continue;
        if ((rc = r) != YA_OK) break;
        st->files++;
        TextCtx c = {.o = o, .st = st, .out = &out, .file = names[f], .err = err};
        if (o->unit == YA_IMPORT_PER_FILE) rc = emit_text(&c, data, len, 1);
        else rc = for_each_paragraph(data, len, on_text_paragraph, &c);
        free(data);
    }
    if (rc == YA_OK && st->documents == 0)
        rc = ya_fail(err, YA_ERR, "%s: no documents (%zu files read, %zu too short, %zu bad)", o->input_dir, st->files,
                     st->too_short, st->bad_files);
    if (rc == YA_OK) rc = ya_atomic_commit(&out, err);
    ya_atomic_abort(&out);
    ya_bad_lines_summary(&bad, "import-text");
    free_names(names, n_names);
    return rc;
}

/* ---- Brown ------------------------------------------------------------------------------ */

typedef struct {
    YaStrBuf *paras;      /* detagged paragraphs of the current file */
    size_t n, cap;
    int oom;
} ParaList;

static int on_brown_paragraph(void *ctx, const char *p, size_t n, size_t line) {
    ParaList *l = ctx;
    size_t tn;
    char *t = ya_brown_detag(p, n, &tn);
    if (!t) return l->oom = 1, YA_ERR;
    if (tn == 0) {
        free(t);
        return YA_OK;
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        YaStrBuf *q = realloc(l->paras, cap * sizeof *q);
        if (!q) {
            free(t);
            return l->oom = 1, YA_ERR;
        }
        l->paras = q;
        l->cap = cap;
    }
    l->paras[l->n++] = (YaStrBuf){.data = t, .len = tn, .cap = tn + 1};
    return YA_OK;
}

/* Groups a file's paragraphs into documents of at least chunk code points
 * (0: the whole file). A short tail joins the previous document. */
static int brown_file_docs(const YaImportOptions *o, const YaBrownGenre *g, const char *file, ParaList *l,
                           YaAtomicFile *out, YaImportStats *st, YaError *err) {
    size_t n_docs = 0;
    size_t *doc_end = malloc((l->n + 1) * sizeof *doc_end); // [n_docs] one past each document's last paragraph
    if (!doc_end) return ya_fail(err, YA_ERR, "out of memory");
    size_t cp = 0;
    for (size_t i = 0; i < l->n; i++) {
        cp += ya_utf8_count_cp(l->paras[i].data, l->paras[i].len);
        if (o->chunk_chars && cp >= o->chunk_chars) {
            doc_end[n_docs++] = i + 1;
            cp = 0;
        }
    }
    if (cp > 0 || n_docs == 0) {
        if (n_docs > 0) doc_end[n_docs - 1] = l->n; /* short tail: append to the last document */
        else if (l->n > 0) doc_end[n_docs++] = l->n;
    }
    int rc = YA_OK;
    size_t start = 0;
    for (size_t d = 0; d < n_docs && rc == YA_OK; d++) {
        YaStrBuf text = {0};
        for (size_t i = start; i < doc_end[d]; i++) {
            if (i > start) ya_strbuf_put(&text, "\n\n", 2);
            ya_strbuf_put(&text, l->paras[i].data, l->paras[i].len);
        }
        start = doc_end[d];
        if (text.oom) {
            ya_strbuf_free(&text);
            rc = ya_fail(err, YA_ERR, "out of memory");
            break;
        }
        if (ya_utf8_count_cp(text.data, text.len) < o->min_chars) {
            st->too_short++;
            ya_strbuf_free(&text);
            continue;
        }
        char source[64];
        snprintf(source, sizeof source, "brown:%s", file);
        json_t *rec = json_object();
        json_object_set_new(rec, "text", json_stringn(text.data, text.len));
        json_object_set_new(rec, "source", json_string(source));
        json_object_set_new(rec, "source_type", json_string(g->source_type));
        json_object_set_new(rec, "genre", json_string(g->description));
        json_object_set_new(rec, "year", json_integer(1961));
        json_object_set_new(rec, "part", json_integer((json_int_t)(d + 1)));
        ya_strbuf_free(&text);
        st->documents++;
        st->genre_docs[g->code - 'a']++;
        rc = write_record(out, rec, err);
    }
    free(doc_end);
    return rc;
}

static int import_brown(const YaImportOptions *o, YaImportStats *st, YaError *err) {
    char **names;
    size_t n_names;
    if (list_files(o->input_dir, &names, &n_names, err) != YA_OK) return YA_ERR;
    int rc = ya_mkdirs(o->out, err);
    YaAtomicFile outs[15];
    memset(outs, 0, sizeof outs);
    YaBadLines bad = {.policy = o->on_bad_line};
    for (size_t f = 0; f < n_names && rc == YA_OK; f++) {
        const YaBrownGenre *g = ya_brown_genre_of(names[f]);
        if (!g) continue; /* README, CONTENTS, package.json, ... */
        YaAtomicFile *out = &outs[g - ya_brown_genres];
        if (!out->fp) {
            char path[4096];
            if ((rc = ya_path_join(path, sizeof path, o->out, g->file, err)) != YA_OK) break;
            if ((rc = ya_atomic_open(out, path, err)) != YA_OK) break;
        }
        char path[4096], *data = NULL;
        size_t len;
        if ((rc = ya_path_join(path, sizeof path, o->input_dir, names[f], err)) != YA_OK) break;
        int r = read_text(path, &bad, st, &data, &len, err);
        if (r == -1) continue;
        if ((rc = r) != YA_OK) break;
        st->files++;
        ParaList l = {0};
        rc = for_each_paragraph(data, len, on_brown_paragraph, &l);
        if (l.oom) rc = ya_fail(err, YA_ERR, "%s: out of memory", path);
        if (rc == YA_OK) rc = brown_file_docs(o, g, names[f], &l, out, st, err);
        for (size_t i = 0; i < l.n; i++) free(l.paras[i].data);
        free(l.paras);
        free(data);
    }
    if (rc == YA_OK && st->documents == 0)
        rc = ya_fail(err, YA_ERR, "%s: no Brown corpus files (c<genre><nn>, e.g. ca01) found", o->input_dir);
    for (size_t g = 0; g < 15 && rc == YA_OK; g++)
        if (outs[g].fp) rc = ya_atomic_commit(&outs[g], err);
    for (size_t g = 0; g < 15; g++) ya_atomic_abort(&outs[g]);
    ya_bad_lines_summary(&bad, "import-text");
    free_names(names, n_names);
    return rc;
}

int ya_import_run(const YaImportOptions *o, YaImportStats *stats, YaError *err) {
    YaImportStats local;
    YaImportStats *st = stats ? stats : &local;
    memset(st, 0, sizeof *st);
    if (!o->input_dir || !o->out) return ya_fail(err, YA_ERR_USAGE, "--input and --out are required");
    return o->format == YA_IMPORT_BROWN ? import_brown(o, st, err) : import_plain(o, st, err);
}
