/* import_text.h — `your_ai import-text`: plain-text corpora → raw JSONL for `prepare`.
 *
 * Two input formats:
 *   text   every regular file of a directory, one document per file or per
 *          blank-line-separated paragraph, with a source type given by the user;
 *   brown  the Brown corpus (Form C, tagged: `word/tag` tokens, one sentence per
 *          line, paragraphs separated by blank lines, files c<genre><nn>): tags
 *          stripped, tokens rejoined into readable text, paragraphs grouped into
 *          documents of about --chunk-chars code points, one JSONL per genre,
 *          named so that prepare's filename map (SPEC §5.2) gives each genre a
 *          source type (four genres need a --source-type override, printed). */
#ifndef YOUR_AI_IMPORT_TEXT_H
#define YOUR_AI_IMPORT_TEXT_H

#include <stddef.h>

#include "your_ai/error.h"
#include "your_ai/jsonl.h"

typedef enum { YA_IMPORT_TEXT = 0, YA_IMPORT_BROWN = 1 } YaImportFormat;
typedef enum { YA_IMPORT_PER_FILE = 0, YA_IMPORT_PER_PARAGRAPH = 1 } YaImportUnit;

typedef struct YaImportOptions {
    const char *input_dir;
    const char *out;          /* text: the output .jsonl; brown: the output directory */
    YaImportFormat format;    /* text */
    const char *source_type;  /* text: required, written into every record */
    YaImportUnit unit;        /* text: per file */
    size_t min_chars;         /* 1: shorter documents (code points) are skipped and counted */
    size_t chunk_chars;       /* brown: 1000; 0 = one document per file */
    YaBadLinePolicy on_bad_line; /* skip: a file that is not valid UTF-8 is reported and skipped */
} YaImportOptions;

void ya_import_options_default(YaImportOptions *o);

typedef struct YaImportStats {
    size_t files;         /* files read */
    size_t bad_files;     /* skipped: not valid UTF-8 */
    size_t documents;     /* written */
    size_t too_short;     /* skipped: fewer than min_chars code points */
    size_t genre_docs[26]; /* brown: documents per genre letter */
} YaImportStats;

/* Runs the import; writes atomically. Prints nothing but bad-file lines (stderr). */
int ya_import_run(const YaImportOptions *o, YaImportStats *stats, YaError *err);

/* ---- Brown corpus helpers (exposed for tests) ---------------------------------- */

/* A Brown genre: its letter (a..r), description, output file name and the
 * source type it stands for. override = 1 if the file name alone does not give
 * that type in prepare (it needs --source-type FILE=TYPE). */
typedef struct YaBrownGenre {
    char code;
    const char *description; /* "press: reportage" */
    const char *file;        /* "brown_a_press_reportage_newspaper.jsonl" */
    const char *source_type; /* "historical_newspaper" */
    int override;
} YaBrownGenre;

extern const YaBrownGenre ya_brown_genres[15];

/* The genre of a file name like "ca01" (NULL if it is not a Brown text file). */
const YaBrownGenre *ya_brown_genre_of(const char *filename);

/* Strips the /tag of every whitespace-separated token (the tag follows the LAST
 * '/') and rejoins the words: no space before , . ; : ? ! ) ] ' and closing
 * quotes, none after opening ones; `` and '' become ". Sentence lines join
 * with spaces; a headline (tags ending in -hl) is followed by a line break.
 * Returns a malloc'ed string (NULL on OOM). */
char *ya_brown_detag(const char *tagged, size_t len, size_t *out_len);

/* 1 if s[0..len) is valid UTF-8 (no overlongs, surrogates or > U+10FFFF); else 0
 * and *bad_offset = the offset of the first invalid byte. */
int ya_utf8_valid(const char *s, size_t len, size_t *bad_offset);

#endif
