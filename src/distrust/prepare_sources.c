/* prepare_sources.c — which source type a raw corpus file stands for (SPEC §5.2 step 1).
 *
 * The reference derives the source type from the file name: the first key, in
 * the table's order, that is a substring of the lowercased name wins. Order
 * matters ("big_patent_wiki.jsonl" is a patent file). `--source-type FILE=TYPE`
 * (§5.3) overrides the rule for one file, which is also how a file whose name
 * matches nothing (or a type no name maps to, like government) gets in. */
#include <ctype.h>
#include <string.h>

#include "your_ai/prepare.h"

typedef struct {
    const char *key;
    const char *type;
} FilenameRule;

/* In the reference's order: the first matching key decides. */
static const FilenameRule k_rules[] = {
    {"big_patent", "patent_pre1970"},
    {"bigpatent", "patent_pre1970"},
    {"hupd", "patent_pre1970"},
    {"patent", "patent_pre1970"},
    {"philosophy", "classical_philosophy"},
    {"plato", "classical_philosophy"},
    {"aristotle", "classical_philosophy"},
    {"pg19", "classical_literature"},
    {"gutenberg", "classical_literature"},
    {"literature", "classical_literature"},
    {"speech", "classical_rhetoric"},
    {"rhetoric", "classical_rhetoric"},
    {"oration", "classical_rhetoric"},
    {"americanstories", "historical_newspaper"},
    {"chronicling", "historical_newspaper"},
    {"newspaper", "historical_newspaper"},
    {"internet_archive", "historical_book"},
    {"arxiv", "preprint"},
    {"s2orc", "academic_paper"},
    {"pes2o", "academic_paper"},
    {"scitldr", "academic_paper"},
    {"sciq", "academic_paper"},
    {"bigbench", "logic_training"},
    {"logical", "logic_training"},
    {"wikipedia", "wiki"},
    {"wiki", "wiki"},
    {"medical", "medical_guidelines"},
    {"meadow", "medical_guidelines"},
    {"cnn", "news_modern"},
    {"dailymail", "news_modern"},
};

static const char *basename_of(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

const char *ya_prepare_source_type_for_filename(const char *filename) {
    char lower[4096];
    const char *name = basename_of(filename);
    size_t n = strlen(name);
    if (n >= sizeof lower) n = sizeof lower - 1;
    /* ASCII lowering is enough: every key is ASCII, and Python's str.lower never
     * maps a non-ASCII character onto ASCII letters except U+0130/U+212A, which
     * would only matter for names spelled with a Turkish İ or a Kelvin sign. */
    for (size_t i = 0; i < n; i++) lower[i] = (char)tolower((unsigned char)name[i]);
    lower[n] = '\0';
    for (size_t r = 0; r < sizeof k_rules / sizeof *k_rules; r++)
        if (strstr(lower, k_rules[r].key)) return k_rules[r].type;
    return NULL;
}

int ya_prepare_parse_override(const char *spec, YaSourceOverride *out, YaError *err) {
    const char *eq = strrchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return ya_fail(err, YA_ERR_USAGE, "--source-type expects FILE=TYPE, got '%s'", spec);
    size_t flen = (size_t)(eq - spec), tlen = strlen(eq + 1);
    if (flen >= sizeof out->file || tlen >= sizeof out->type)
        return ya_fail(err, YA_ERR_USAGE, "--source-type '%s': name too long", spec);
    memcpy(out->file, spec, flen);
    out->file[flen] = '\0';
    memcpy(out->type, eq + 1, tlen + 1);
    if (strchr(out->file, '/'))
        return ya_fail(err, YA_ERR_USAGE, "--source-type '%s': FILE must be a file name inside --input, not a path", spec);
    return YA_OK;
}

const char *ya_prepare_resolve_source_type(const char *filename, const YaSourceOverride *overrides, size_t n_overrides) {
    const char *name = basename_of(filename);
    /* The last override for a file wins, as with repeated flags elsewhere. */
    for (size_t i = n_overrides; i-- > 0;)
        if (strcmp(overrides[i].file, name) == 0) return overrides[i].type;
    return ya_prepare_source_type_for_filename(name);
}
