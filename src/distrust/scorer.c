/* scorer.c — the citation scorer (SPEC §4): score_document, the hybrid
 * source-type blend and per-record batch scoring, with exact parity to the
 * Python reference.
 *
 * Parity notes (each one checked against Python's `re` by the tests):
 *  - Patterns compile with PCRE2_UTF | PCRE2_UCP, so \w \d \b are Unicode and
 *    equal Python's on every code point (ctest scorer_semantics).
 *  - PCRE2's \s differs from Python's (Python adds U+001C..U+001F, PCRE2 adds
 *    U+180E), so every \s below is PY_S, Python's exact whitespace set.
 *  - Python's IGNORECASE also equates i with İ (U+0130) and ı (U+0131), which
 *    PCRE2 10.42 does not: every literal i in a caseless pattern is PY_I.
 *  - Text positions are code points: the year window is the first 2000 code
 *    points of the original text.
 * Speed: one lowercase pass; one pass over the lowered text finds every
 * literal (markers, phrases, rule words, the patent-number prefixes, regex
 * prefilter hints); only the citation and year patterns run as JIT regexes,
 * and only when their prefilter says they can match. docs/DISTRUST.md. */
#define _GNU_SOURCE /* memmem */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "your_ai/scorer.h"

#include <math.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "distrust/scorer_internal.h"

const char *const ya_source_categories[YA_N_SOURCE_CATEGORIES] = {
    "patent",         "lab_notebook", "measurement", "archive", "oral_history", "correspondence",
    "academic_paper", "textbook",     "news",        "wiki",    "government",   "blog"};
enum { CAT_PATENT, CAT_LAB, CAT_MEASUREMENT, CAT_ARCHIVE, CAT_ORAL, CAT_CORRESPONDENCE, CAT_ACADEMIC,
       CAT_TEXTBOOK, CAT_NEWS, CAT_WIKI, CAT_GOVERNMENT, CAT_BLOG };

/* §4.2 institutional markers, in the reference's dict order. */
static const struct { const char *marker; double score; } k_institutional[] = {
    {"nature", 0.35},     {"science", 0.35},    {"lancet", 0.35},     {"nejm", 0.35},
    {"new england journal", 0.35},              {"who", 0.30},        {"cdc", 0.30},
    {"fda", 0.30},        {"nih", 0.30},        {".gov", 0.25},       {"government", 0.25},
    {"official", 0.20},   {"university", 0.20}, {"institute", 0.18},  {"academy", 0.18},
    {"journal", 0.15},    {"peer-reviewed", 0.15}, {"proceedings", 0.15}, {"wikipedia", 0.10},
    {"news", 0.08},       {"media", 0.08},      {"blog", 0.05},       {"social media", 0.05},
};
enum { N_INSTITUTIONAL = sizeof k_institutional / sizeof k_institutional[0] };

static const char *const k_consensus[] = {
    "widely accepted",    "experts agree",         "scientific consensus", "established fact",
    "well-established",   "mainstream view",       "generally accepted",   "overwhelming evidence",
    "settled science",    "according to experts",  "studies show",         "research confirms"};
enum { N_CONSENSUS = sizeof k_consensus / sizeof k_consensus[0] };

static const char *const k_primary[] = {
    "patent",        "lab notebook",   "laboratory notebook", "experiment",      "experimental",
    "measurement",   "observation",    "field notes",         "original research", "firsthand",
    "first-hand",    "primary source", "original document",   "manuscript",      "archive",
    "archival",      "oral history",   "interview",           "correspondence",  "letter",
    "diary",         "journal entry",  "logbook",             "specimen",        "sample",
    "photograph",    "scan",           "facsimile"};
enum { N_PRIMARY = sizeof k_primary / sizeof k_primary[0] };

static const char *const k_lab_substrings[] = {"lab notebook", "laboratory", "experiment", "measurement",
                                               "observation"};

/* §4.7 priors. */
static const struct { const char *type; double w, h; const char *trivium; } k_priors[] = {
    {"patent_pre1970", 0.05, 7.0, "logic"},         {"classical_philosophy", 0.08, 7.5, "logic"},
    {"historical_book", 0.10, 6.0, "rhetoric"},     {"classical_literature", 0.10, 6.5, "rhetoric"},
    {"classical_rhetoric", 0.12, 6.0, "grammar"},   {"historical_newspaper", 0.15, 6.0, "rhetoric"},
    {"preprint", 0.50, 3.5, "logic"},               {"logic_training", 0.55, 3.2, "logic"},
    {"academic_paper", 0.60, 3.0, "logic"},         {"news_modern", 0.75, 1.5, "rhetoric"},
    {"medical_guidelines", 0.85, 1.2, "logic"},     {"wiki", 0.90, 1.0, "grammar"},
    {"government", 0.95, 0.5, "rhetoric"},
};

/* §4.3 citation patterns (original text, caseless). */
static const char *const k_citation_patterns[6] = {
    "\\[\\d+\\]",
    "\\(\\w+,?" PY_S "*\\d{4}\\)",
    "\\(\\w+" PY_S "+et" PY_S "+al\\.?,?" PY_S "*\\d{4}\\)",
    "\\[\\w+" PY_S "*\\d{4}\\]",
    "(?:" PY_I "b" PY_I "d|op\\.?" PY_S "*c" PY_I "t|loc\\.?" PY_S "*c" PY_I "t)",
    "\\d+\\." PY_S "+\\w+,.*?\\d{4}",
};

/* §4.5 regex rules (lowered text, case-sensitive), in the reference's order:
 *   patent          \bpatent\b
 *   patent (number) \b(us|ep|wo|de|gb|fr)\s*\d+
 *   measurement     \b(measured|observed|recorded|sampled)\b
 *   archive         \b(archive|archival|manuscript|historical)\b
 *   oral_history    \b(interview|oral history|correspondence|letter|diary)\b
 *   academic_paper  \b(abstract|introduction|methodology|results|conclusion|references)\b
 *   textbook        \b(textbook|chapter|exercise|definition|theorem)\b
 *   news            \b(reported|journalist|news|press release|announcement)\b
 *   wiki            \b(wikipedia|wiki|encyclopedia)\b
 *   government      \b(government|official|regulation|policy|agency)\b
 *   blog            \b(blog|posted|comment|social media)\b
 * (lab_notebook, a substring rule, sits between patent and measurement.)
 * None runs as a regex: each is evaluated exactly by the literal scan
 * (k_rule_words, and k_patent_prefixes + space_then_digit for the number rule). */
enum { RULE_PATENT, RULE_PATENT_NUMBER, RULE_MEASUREMENT, RULE_ARCHIVE, RULE_ORAL, RULE_ACADEMIC, RULE_TEXTBOOK,
       RULE_NEWS, RULE_WIKI, RULE_GOVERNMENT, RULE_BLOG, N_RULES };
static const int k_rule_category[N_RULES] = {CAT_PATENT,   CAT_PATENT,   CAT_MEASUREMENT, CAT_ARCHIVE,
                                             CAT_ORAL,     CAT_ACADEMIC, CAT_TEXTBOOK,    CAT_NEWS,
                                             CAT_WIKI,     CAT_GOVERNMENT, CAT_BLOG};

/* The word-alternation rules of §4.5, as words: `\b(a|b|c)\b` finds a match
 * exactly when one of its words occurs with a word boundary on both sides, so
 * these are checked by the literal scan below. */
static const struct { const char *word; int rule; } k_rule_words[] = {
    {"patent", RULE_PATENT},
    {"measured", RULE_MEASUREMENT},    {"observed", RULE_MEASUREMENT},  {"recorded", RULE_MEASUREMENT},
    {"sampled", RULE_MEASUREMENT},     {"archive", RULE_ARCHIVE},       {"archival", RULE_ARCHIVE},
    {"manuscript", RULE_ARCHIVE},      {"historical", RULE_ARCHIVE},    {"interview", RULE_ORAL},
    {"oral history", RULE_ORAL},       {"correspondence", RULE_ORAL},   {"letter", RULE_ORAL},
    {"diary", RULE_ORAL},              {"abstract", RULE_ACADEMIC},     {"introduction", RULE_ACADEMIC},
    {"methodology", RULE_ACADEMIC},    {"results", RULE_ACADEMIC},      {"conclusion", RULE_ACADEMIC},
    {"references", RULE_ACADEMIC},     {"textbook", RULE_TEXTBOOK},     {"chapter", RULE_TEXTBOOK},
    {"exercise", RULE_TEXTBOOK},       {"definition", RULE_TEXTBOOK},   {"theorem", RULE_TEXTBOOK},
    {"reported", RULE_NEWS},           {"journalist", RULE_NEWS},       {"news", RULE_NEWS},
    {"press release", RULE_NEWS},      {"announcement", RULE_NEWS},     {"wikipedia", RULE_WIKI},
    {"wiki", RULE_WIKI},               {"encyclopedia", RULE_WIKI},     {"government", RULE_GOVERNMENT},
    {"official", RULE_GOVERNMENT},     {"regulation", RULE_GOVERNMENT}, {"policy", RULE_GOVERNMENT},
    {"agency", RULE_GOVERNMENT},       {"blog", RULE_BLOG},             {"posted", RULE_BLOG},
    {"comment", RULE_BLOG},            {"social media", RULE_BLOG},
};
enum { N_RULE_WORDS = sizeof k_rule_words / sizeof k_rule_words[0] };

/* Every literal the scorer looks for in the lowered text, matched in one pass.
 * kind decides what a hit means; bounded literals need \b on both sides. */
typedef enum { LIT_PRIMARY, LIT_CONSENSUS, LIT_INSTITUTIONAL, LIT_LAB, LIT_RULE, LIT_HINT, LIT_PATNO } LitKind;
typedef struct Lit {
    const char *s;
    unsigned char len, kind, bounded;
    signed char arg;    /* institutional: marker index; rule: rule index */
    uint32_t pre, mask; /* first min(4, len) bytes, little-endian, for a one-load compare */
} Lit;
/* Prefilters (LIT_HINT): a regex can only match if the lowered text contains
 * one of its hint literals, so a regex whose hints are all absent is skipped.
 * Sound because the only non-ASCII code points whose lowercase contains an
 * ASCII letter are U+0130 (→ "i" U+0307) and U+212A (→ "k"), and the only
 * extra IGNORECASE equivalents of these letters are the i's (ı, İ). */
enum { HINT_IBID, HINT_YEAR_A, N_HINTS };
static const struct { const char *s; int hint; } k_hints[] = {
    {"bid", HINT_IBID}, {"b\xc4\xb1" "d", HINT_IBID}, {"bi\xcc\x87" "d", HINT_IBID},   /* ibid: i, ı, İ */
    {"cit", HINT_IBID}, {"c\xc4\xb1t", HINT_IBID}, {"ci\xcc\x87t", HINT_IBID},   /* op/loc cit */
    {"copyr", HINT_YEAR_A}, {"\xc2\xa9", HINT_YEAR_A}, {"publ", HINT_YEAR_A}, {"wr", HINT_YEAR_A},
};
enum { N_HINT_LITS = sizeof k_hints / sizeof k_hints[0] };
static const char *const k_patent_prefixes[6] = {"us", "ep", "wo", "de", "gb", "fr"};
enum { MAX_LITS = N_PRIMARY + N_CONSENSUS + N_INSTITUTIONAL + 5 + N_RULE_WORDS + N_HINT_LITS + 6 };

/* §4.4 year patterns. */
static const char *const k_year_meta = "\\b(1[0-9]{3}|20[0-2][0-9])\\b";
static const char *const k_year_a = "(?:copyr" PY_I "ght|\\x{a9}|publ" PY_I "shed|wr" PY_I "tten)" PY_S "*(?:" PY_I
                                    "n" PY_S "*)?(\\d{4})";
static const char *const k_year_b = "\\b(1[89]\\d{2}|20[0-2]\\d)\\b";

struct YaScorer {
    pcre2_code *citation[6];
    pcre2_code *year_meta, *year_a, *year_b;
    pcre2_code *word_char; /* \w, matched anchored to classify one code point */
    pcre2_code *digit_char; /* \d, likewise */
    pcre2_match_context *mctx;
    Lit lits[MAX_LITS];
    int n_lits;
    /* Index by the first two bytes: pair_id[b1 | b2 << 8] is 0 when no literal
     * starts with b1 b2, else p + 1, where pair_lits[pair_start[p] .. pair_start[p+1])
     * lists the literals that do. One table load rejects most text positions. */
    uint8_t pair_id[65536];
    unsigned char pair_start[MAX_LITS + 1];
    unsigned char pair_lits[MAX_LITS];
    /* A cheaper first filter: bit tri_hash(first three bytes) of tri_bits is set
     * for every literal of >= 3 bytes; two-byte literals set their pair in
     * short_pair. A position passing neither cannot start a literal. */
    uint64_t tri_bits[1024];
    uint64_t short_pair[1024];
};

static inline unsigned tri_hash(uint32_t first3) { return (first3 * 2654435761u) >> 16; }

static void add_lit(YaScorer *s, const char *str, LitKind kind, int bounded, int arg) {
    Lit *l = &s->lits[s->n_lits++];
    l->s = str;
    l->len = (unsigned char)strlen(str);
    l->kind = (unsigned char)kind;
    l->bounded = (unsigned char)bounded;
    l->arg = (signed char)arg;
    for (int q = 0; q < 4 && q < l->len; q++) {
        l->pre |= (uint32_t)(unsigned char)str[q] << (8 * q);
        l->mask |= 0xFFu << (8 * q);
    }
}

static unsigned pair_key(const char *str) { return (unsigned char)str[0] | (unsigned)(unsigned char)str[1] << 8; }

/* Builds the literal table and its two-byte index (a counting sort). */
static void build_literals(YaScorer *s) {
    for (int k = 0; k < N_PRIMARY; k++) add_lit(s, k_primary[k], LIT_PRIMARY, 1, 0);
    for (int k = 0; k < N_CONSENSUS; k++) add_lit(s, k_consensus[k], LIT_CONSENSUS, 0, 0);
    for (int k = 0; k < N_INSTITUTIONAL; k++) add_lit(s, k_institutional[k].marker, LIT_INSTITUTIONAL, 0, k);
    for (int k = 0; k < 5; k++) add_lit(s, k_lab_substrings[k], LIT_LAB, 0, 0);
    for (int k = 0; k < N_RULE_WORDS; k++) add_lit(s, k_rule_words[k].word, LIT_RULE, 1, k_rule_words[k].rule);
    for (int k = 0; k < N_HINT_LITS; k++) add_lit(s, k_hints[k].s, LIT_HINT, 0, k_hints[k].hint);
    /* The patent-number rule \b(us|ep|wo|de|gb|fr)\s*\d+ : bounded on the left only
     * (bounded = 2), then whitespace and a digit are checked by scan_literals. */
    for (int k = 0; k < 6; k++) add_lit(s, k_patent_prefixes[k], LIT_PATNO, 2, 0);
    int n_pairs = 0;
    unsigned char count[MAX_LITS + 1] = {0};
    for (int k = 0; k < s->n_lits; k++) {
        unsigned key = pair_key(s->lits[k].s);
        if (!s->pair_id[key]) s->pair_id[key] = (uint8_t)++n_pairs;
        count[s->pair_id[key]]++;
    }
    s->pair_start[0] = 0;
    for (int p = 0; p < n_pairs; p++) s->pair_start[p + 1] = (unsigned char)(s->pair_start[p] + count[p + 1]);
    unsigned char fill[MAX_LITS + 1];
    memcpy(fill, s->pair_start, sizeof fill);
    for (int k = 0; k < s->n_lits; k++) s->pair_lits[fill[s->pair_id[pair_key(s->lits[k].s)] - 1]++] = (unsigned char)k;
    for (int k = 0; k < s->n_lits; k++) {
        const Lit *l = &s->lits[k];
        if (l->len >= 3) {
            unsigned h = tri_hash(l->pre & 0xFFFFFFu);
            s->tri_bits[h >> 6] |= 1ull << (h & 63);
        } else {
            unsigned key = pair_key(l->s);
            s->short_pair[key >> 6] |= 1ull << (key & 63);
        }
    }
}

static int compile(const char *pat, uint32_t extra, pcre2_code **out, YaError *err) {
    int ec;
    PCRE2_SIZE eo;
    pcre2_compile_context *cc = pcre2_compile_context_create(NULL);
    if (!cc) return ya_fail(err, YA_ERR, "scorer: out of memory");
    pcre2_set_newline(cc, PCRE2_NEWLINE_LF); /* Python's '.' excludes only \n */
    *out = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP | extra, &ec, &eo, cc);
    pcre2_compile_context_free(cc);
    if (!*out) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(ec, msg, sizeof msg);
        return ya_fail(err, YA_ERR, "scorer: cannot compile /%s/ at offset %zu: %s", pat, (size_t)eo, (char *)msg);
    }
    pcre2_jit_compile(*out, PCRE2_JIT_COMPLETE); /* optional: without JIT the interpreter runs */
    return YA_OK;
}

int ya_scorer_new(YaScorer **out, YaError *err) {
    *out = NULL;
    YaScorer *s = calloc(1, sizeof *s);
    if (!s) return ya_fail(err, YA_ERR, "scorer: out of memory");
    int rc = YA_OK;
    for (int i = 0; i < 6 && !rc; i++) rc = compile(k_citation_patterns[i], PCRE2_CASELESS, &s->citation[i], err);
    if (!rc) rc = compile("\\d", PCRE2_ANCHORED, &s->digit_char, err);
    if (!rc) rc = compile(k_year_meta, 0, &s->year_meta, err);
    if (!rc) rc = compile(k_year_a, PCRE2_CASELESS, &s->year_a, err);
    if (!rc) rc = compile(k_year_b, PCRE2_CASELESS, &s->year_b, err);
    if (!rc) rc = compile("\\w", PCRE2_ANCHORED, &s->word_char, err);
    if (!rc) build_literals(s);
    if (!rc) {
        /* Python's re has no backtracking limit; make PCRE2's as large as it goes. */
        s->mctx = pcre2_match_context_create(NULL);
        if (!s->mctx) rc = ya_fail(err, YA_ERR, "scorer: out of memory");
        else {
            pcre2_set_match_limit(s->mctx, UINT32_MAX);
            pcre2_set_depth_limit(s->mctx, UINT32_MAX);
        }
    }
    if (rc) {
        ya_scorer_free(s);
        return rc;
    }
    *out = s;
    return YA_OK;
}

void ya_scorer_free(YaScorer *s) {
    if (!s) return;
    for (int i = 0; i < 6; i++) pcre2_code_free(s->citation[i]);
    pcre2_code_free(s->year_meta);
    pcre2_code_free(s->year_a);
    pcre2_code_free(s->year_b);
    pcre2_code_free(s->word_char);
    pcre2_code_free(s->digit_char);
    pcre2_match_context_free(s->mctx);
    free(s);
}

/* One match from byte offset `start`; returns 1 (match, ovector in md), 0 (none)
 * or -1 (error in err). Falls back to the interpreter if the JIT stack runs out. */
static int match_at(const YaScorer *s, const pcre2_code *re, const char *text, size_t len, size_t start,
                    pcre2_match_data *md, YaError *err) {
    int rc = pcre2_match(re, (PCRE2_SPTR)text, len, start, PCRE2_NO_UTF_CHECK, md, s->mctx);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
        rc = pcre2_match(re, (PCRE2_SPTR)text, len, start, PCRE2_NO_UTF_CHECK | PCRE2_NO_JIT, md, s->mctx);
    if (rc >= 0) return 1;
    if (rc == PCRE2_ERROR_NOMATCH) return 0;
    PCRE2_UCHAR msg[256];
    pcre2_get_error_message(rc, msg, sizeof msg);
    ya_fail(err, YA_ERR, "scorer: regex match failed: %s", (char *)msg);
    return -1;
}

/* Python len(re.findall(re, text)): non-overlapping matches left to right. */
static long long count_matches(const YaScorer *s, const pcre2_code *re, const char *text, size_t len,
                               pcre2_match_data *md, YaError *err) {
    long long n = 0;
    size_t pos = 0;
    while (pos <= len) {
        int r = match_at(s, re, text, len, pos, md, err);
        if (r < 0) return -1;
        if (r == 0) break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        n++;
        if (ov[1] > ov[0]) pos = ov[1];
        else { /* empty match (none of ours can be): step one code point */
            pos = ov[1] + 1;
            while (pos < len && ((unsigned char)text[pos] & 0xC0) == 0x80) pos++;
        }
    }
    return n;
}

/* Python \w for the code point starting at byte i. */
static int is_word_at(const YaScorer *s, const char *text, size_t len, size_t i, pcre2_match_data *md) {
    unsigned char c = (unsigned char)text[i];
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    return pcre2_match(s->word_char, (PCRE2_SPTR)text, len, i, PCRE2_NO_UTF_CHECK, md, NULL) >= 0;
}

/* The tail of the patent-number rule at byte i: \s*\d (a \d+ needs one digit;
 * backtracking \s* cannot help, a space is never a digit). */
static int space_then_digit(const YaScorer *s, const char *text, size_t len, size_t i, pcre2_match_data *md) {
    while (i < len) {
        unsigned char c = (unsigned char)text[i];
        if (c >= '0' && c <= '9') return 1;
        if (c >= 0x80 && pcre2_match(s->digit_char, (PCRE2_SPTR)text, len, i, PCRE2_NO_UTF_CHECK, md, NULL) >= 0)
            return 1;
        size_t k = i;
        if (!yas_py_isspace(yas_utf8_next((const unsigned char *)text, &k))) return 0;
        i = k;
    }
    return 0;
}

/* \b before byte i / after byte i (both sides of a literal made of word
 * characters at its ends): no word character on that side. */
static int boundary_before(const YaScorer *s, const char *text, size_t len, size_t i, pcre2_match_data *md) {
    if (i == 0) return 1;
    size_t b = i - 1;
    while (b > 0 && ((unsigned char)text[b] & 0xC0) == 0x80) b--;
    return !is_word_at(s, text, len, b, md);
}

/* What one pass over the lowered text finds. */
typedef struct LitHits {
    long long n_prim; /* Σ over primary markers of len(re.findall(r'\b'+m+r'\b', low)) */
    long long n_cons; /* Σ over consensus phrases of len(re.findall(re.escape(p), low)) */
    double inst;      /* max institutional score among markers present */
    int lab;          /* a lab_notebook substring is present */
    int rule[N_RULES]; /* word rules that match */
    int hint[N_HINTS]; /* prefilter literals seen */
} LitHits;

/* One left-to-right pass: at each byte, the literals starting with that byte
 * are compared. Per literal, a hit before the end of its previous counted hit
 * is ignored — exactly findall's non-overlapping scan for each pattern on its
 * own. Existence-only literals stop being checked once found. */
static void scan_literals(const YaScorer *s, const char *low, size_t n, pcre2_match_data *md, LitHits *h) {
    size_t next_ok[MAX_LITS] = {0}; /* per literal: first byte a new hit may start at */
    unsigned char done[MAX_LITS] = {0};
    memset(h, 0, sizeof *h);
    const unsigned char *u = (const unsigned char *)low; /* padded with >= 4 zero bytes */
    for (size_t i = 0; i + 1 < n; i++) { /* every literal is >= 2 bytes */
        uint32_t w4;
        memcpy(&w4, u + i, 4);
        unsigned th = tri_hash(w4 & 0xFFFFFFu), key = w4 & 0xFFFFu;
        if (!((s->tri_bits[th >> 6] >> (th & 63)) & 1) && !((s->short_pair[key >> 6] >> (key & 63)) & 1)) continue;
        unsigned id = s->pair_id[key];
        if (!id) continue;
        for (unsigned j = s->pair_start[id - 1]; j < s->pair_start[id]; j++) {
            int k = s->pair_lits[j];
            const Lit *l = &s->lits[k];
            if ((w4 & l->mask) != l->pre || done[k] || l->len > n - i || i < next_ok[k] ||
                (l->len > 4 && memcmp(low + i + 4, l->s + 4, l->len - 4u) != 0))
                continue;
            if (l->bounded && (!boundary_before(s, low, n, i, md) ||
                               (l->bounded == 1 && i + l->len < n && is_word_at(s, low, n, i + l->len, md))))
                continue;
            if (l->kind == LIT_PATNO && !space_then_digit(s, low, n, i + l->len, md)) continue;
            next_ok[k] = i + l->len;
            switch ((LitKind)l->kind) {
            case LIT_PRIMARY: h->n_prim++; break;
            case LIT_CONSENSUS: h->n_cons++; break;
            case LIT_INSTITUTIONAL:
                if (k_institutional[l->arg].score > h->inst) h->inst = k_institutional[l->arg].score;
                done[k] = 1;
                break;
            case LIT_LAB: h->lab = 1, done[k] = 1; break;
            case LIT_RULE: h->rule[l->arg] = 1, done[k] = 1; break;
            case LIT_HINT: h->hint[l->arg] = 1, done[k] = 1; break;
            case LIT_PATNO: h->rule[RULE_PATENT_NUMBER] = 1, done[k] = 1; break;
            }
        }
    }
}

static double institutional_in(const char *text, size_t len, double best) {
    for (int k = 0; k < N_INSTITUTIONAL; k++)
        if (k_institutional[k].score > best && memmem(text, len, k_institutional[k].marker,
                                                      strlen(k_institutional[k].marker)))
            best = k_institutional[k].score;
    return best;
}

/* Reads the digits of capture group 1 as Python's int() would. */
static long long group1_int(const char *text, pcre2_match_data *md) {
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    long long v = 0;
    size_t i = ov[2];
    while (i < ov[3]) {
        int d = yas_unicode_digit_value(yas_utf8_next((const unsigned char *)text, &i));
        v = v * 10 + (d < 0 ? 0 : d);
    }
    return v;
}

/* Scratch of one scoring call. */
typedef struct Work {
    pcre2_match_data *md;
    YaStrBuf lower; /* lowered text */
    YaStrBuf tmp;   /* stringified metadata */
} Work;

/* §4.4: *has = 0 when unknown. */
static int extract_year(const YaScorer *s, const char *text, size_t len, const json_t *meta, Work *w,
                        int maybe_digit, int maybe_pattern_a, int *has, long long *year, YaError *err) {
    static const char *const fields[] = {"year", "date", "publication_date", "published"};
    *has = 0;
    if (meta && json_is_object(meta) && json_object_size(meta) > 0) {
        for (int f = 0; f < 4; f++) {
            const json_t *v = json_object_get(meta, fields[f]);
            if (!v || !yas_py_truthy(v)) continue;
            if (json_is_integer(v) || json_is_true(v)) { /* isinstance(v, int): bool included, no range check */
                *has = 1;
                *year = json_is_true(v) ? 1 : (long long)json_integer_value(v);
                return YA_OK;
            }
            w->tmp.len = 0;
            if (yas_py_str(v, &w->tmp)) return ya_fail(err, YA_ERR, "scorer: out of memory");
            int r = match_at(s, s->year_meta, w->tmp.data, w->tmp.len, 0, w->md, err);
            if (r < 0) return YA_ERR;
            if (r) {
                *has = 1;
                *year = group1_int(w->tmp.data, w->md);
                return YA_OK;
            }
        }
    }
    if (!maybe_digit) return YA_OK; /* both text patterns need \d */
    size_t wlen = yas_utf8_prefix_bytes(text, len, 2000);
    int r = maybe_pattern_a ? match_at(s, s->year_a, text, wlen, 0, w->md, err) : 0;
    if (r < 0) return YA_ERR;
    if (r) {
        long long y = group1_int(text, w->md);
        if (y >= 1500 && y <= 2030) {
            *has = 1;
            *year = y;
            return YA_OK;
        }
    }
    r = match_at(s, s->year_b, text, wlen, 0, w->md, err);
    if (r < 0) return YA_ERR;
    if (r) { /* always within 1800–2029 */
        *has = 1;
        *year = group1_int(text, w->md);
    }
    return YA_OK;
}

/* Lowered string form of metadata[key] (Python str(metadata.get(key, '')).lower()) into w->tmp. */
static int meta_field_lower(const json_t *meta, const char *key, Work *w, YaStrBuf *lowered) {
    const json_t *v = json_object_get(meta, key);
    w->tmp.len = 0;
    if (v && yas_py_str(v, &w->tmp)) return -1;
    return yas_py_lower(w->tmp.data ? w->tmp.data : "", w->tmp.len, lowered);
}

static int score_with(const YaScorer *s, const char *text, size_t len, const json_t *meta, long long known_cit,
                      Work *w, YaScoreResult *out, YaError *err) {
    memset(out, 0, sizeof *out);
    if (known_cit < 0) /* the reference's math.log10 raised on these */
        return ya_fail(err, YA_ERR, "known citation count must be >= 0, got %lld", known_cit);
    size_t bad = yas_utf8_check(text, len);
    if (bad != len) return ya_fail(err, YA_ERR, "text is not valid UTF-8 (byte %zu)", bad);
    if (meta && (!json_is_object(meta) || json_object_size(meta) == 0)) meta = NULL; /* `if metadata:` */
    if (yas_py_lower(text, len, &w->lower) || ya_strbuf_reserve(&w->lower, 8))
        return ya_fail(err, YA_ERR, "scorer: out of memory");
    memset(w->lower.data + w->lower.len, 0, 8); /* padding for scan_literals' 4-byte loads */
    const char *low = w->lower.data ? w->lower.data : "";
    size_t low_len = w->lower.len;

    /* Every literal of the lowered text in one pass (markers, phrases, rules, hints). */
    LitHits hits;
    scan_literals(s, low, low_len, w->md, &hits);
    /* \d can only match an ASCII digit or a non-ASCII code point. */
    int maybe_digit = 0;
    for (size_t i = 0; i < len && !maybe_digit; i++) {
        unsigned char c = (unsigned char)text[i];
        maybe_digit = (unsigned char)(c - '0') < 10 || c >= 0x80;
    }
    int has_bracket = memchr(text, '[', len) != NULL, has_paren = memchr(text, '(', len) != NULL;
    int digit_dot = 0; /* pattern (6) starts with \d+\. : some digit (or non-ASCII) byte before a '.' */
    for (const char *d = maybe_digit ? memchr(text, '.', len) : NULL; d && !digit_dot;
         d = memchr(d + 1, '.', len - (size_t)(d + 1 - text))) {
        unsigned char c = d > text ? (unsigned char)d[-1] : 0;
        digit_dot = (unsigned char)(c - '0') < 10 || c >= 0x80;
    }

    /* n_cit */
    long long n_cit = 0;
    if (known_cit) n_cit = known_cit;
    else
        for (int k = 0; k < 6; k++) {
            /* Prefilters: a pattern that cannot match is not run. All but (5)
             * need a \d; (1),(4) need '[', (2),(3) need '(', (6) a digit before a '.'. */
            if (k == 4 ? !hits.hint[HINT_IBID]
                       : !maybe_digit || (k == 0 || k == 3 ? !has_bracket : k == 1 || k == 2 ? !has_paren : !digit_dot))
                continue;
            long long c = count_matches(s, s->citation[k], text, len, w->md, err);
            if (c < 0) return YA_ERR;
            n_cit += c;
        }

    /* inst: text, then source / url / publisher of the metadata */
    double inst = hits.inst;
    if (meta) {
        static const char *const keys[] = {"source", "url", "publisher"};
        YaStrBuf fl = {0};
        for (int k = 0; k < 3; k++) {
            if (meta_field_lower(meta, keys[k], w, &fl)) {
                ya_strbuf_free(&fl);
                return ya_fail(err, YA_ERR, "scorer: out of memory");
            }
            inst = institutional_in(fl.data ? fl.data : "", fl.len, inst);
        }
        ya_strbuf_free(&fl);
    }
    if (inst > 0.35) inst = 0.35;

    long long n_cons = hits.n_cons;

    int has_year;
    long long year = 0;
    if (extract_year(s, text, len, meta, w, maybe_digit, hits.hint[HINT_YEAR_A], &has_year, &year, err)) return YA_ERR;

    long long n_prim = hits.n_prim;

    /* §4.5 source types, recording the order the reference's Counter first sees each. */
    long long counts[YA_N_SOURCE_CATEGORIES] = {0};
    unsigned char order[YA_N_SOURCE_CATEGORIES];
    int n_types = 0;
#define BUMP(cat, by)                                              \
    do {                                                           \
        if (counts[cat] == 0) order[n_types++] = (unsigned char)(cat); \
        counts[cat] += (by);                                       \
    } while (0)
    for (int r = 0; r < N_RULES; r++) {
        if (r == RULE_MEASUREMENT && hits.lab) BUMP(CAT_LAB, 1); /* lab_notebook comes before measurement */
        int m = hits.rule[r];
        if (m) BUMP(k_rule_category[r], 1);
    }
    if (meta) {
        const json_t *st = json_object_get(meta, "source_type");
        YaStrBuf sl = {0};
        /* [ours] a non-string source_type counts as "" (the reference crashed). */
        if (st && json_is_string(st) && yas_py_lower(json_string_value(st), json_string_length(st), &sl)) {
            ya_strbuf_free(&sl);
            return ya_fail(err, YA_ERR, "scorer: out of memory");
        }
        const char *t = sl.data ? sl.data : "";
        size_t tl = sl.len;
        if (memmem(t, tl, "patent", 6)) BUMP(CAT_PATENT, 2);
        else if (memmem(t, tl, "newspaper", 9) || memmem(t, tl, "news", 4)) BUMP(CAT_NEWS, 1);
        else if (memmem(t, tl, "wiki", 4)) BUMP(CAT_WIKI, 2);
        else if (memmem(t, tl, "academic", 8) || memmem(t, tl, "paper", 5)) BUMP(CAT_ACADEMIC, 1);
        else if (memmem(t, tl, "book", 4)) BUMP(CAT_ARCHIVE, 1);
        ya_strbuf_free(&sl);
    }
#undef BUMP
    long long total = 0;
    for (int k = 0; k < n_types; k++) total += counts[order[k]];
    double shannon = 0.0; /* summed in the Counter's order, like the reference */
    for (int k = 0; k < n_types; k++) {
        double p = (double)counts[order[k]] / (double)total;
        shannon -= p * log2(p);
    }

    /* §4.6, operation for operation as the reference evaluates it. */
    double cit = fmin(0.25, log10((double)n_cit + 1) * 0.05);
    double cons = fmin(0.20, (double)n_cons * 0.10);
    double age = 0.0;
    if (has_year && year != 0) age = year < 1970 ? -0.15 : year < 1995 ? 0.0 : 0.15;
    double prim = fmin(0.45, (double)n_prim * 0.15) * -1;
    double raw = cit + inst + cons + age + prim;
    double auth = fmax(0.0, fmin(0.99, raw + 0.3));

    double base = (has_year && year != 0 && year < 1970) ? 5.5 : (has_year && year != 0 && year < 1995) ? 3.5 : 1.5;
    double prim_bonus = fmin(2.0, (double)n_prim * 0.5);
    double variety = fmin(1.5, (double)n_types * 0.3);
    double inst_pen = inst * -1.5;
    double cons_pen = fmin(1.0, (double)n_cons * 0.4) * -1;
    double h = fmax(0.0, base + shannon + prim_bonus + variety + inst_pen + cons_pen);

    out->authority_weight = auth;
    out->provenance_entropy = h;
    out->citation_count = n_cit;
    out->primary_source_count = n_prim;
    out->institutional_score = inst;
    out->consensus_score = cons;
    out->consensus_count = n_cons;
    out->has_year = has_year;
    out->year = year;
    out->n_source_types = n_types;
    double denom = (double)(total > 1 ? total : 1);
    for (int k = 0; k < n_types; k++) {
        out->source_type_order[k] = order[k];
        out->source_type_distribution[order[k]] = (double)counts[order[k]] / denom;
    }
    return YA_OK;
}

static int work_init(Work *w, YaError *err) {
    memset(w, 0, sizeof *w);
    w->md = pcre2_match_data_create(4, NULL);
    return w->md ? YA_OK : ya_fail(err, YA_ERR, "scorer: out of memory");
}

static void work_free(Work *w) {
    pcre2_match_data_free(w->md);
    ya_strbuf_free(&w->lower);
    ya_strbuf_free(&w->tmp);
}

int ya_score_document(const YaScorer *s, const char *text, size_t len, const json_t *metadata,
                      long long known_citation_count, YaScoreResult *out, YaError *err) {
    Work w;
    if (work_init(&w, err)) return YA_ERR;
    int rc = score_with(s, text, len, metadata, known_citation_count, &w, out, err);
    work_free(&w);
    return rc;
}

int ya_source_prior(const char *source_type, double *w, double *h, const char **trivium) {
    for (size_t k = 0; source_type && k < sizeof k_priors / sizeof k_priors[0]; k++)
        if (strcmp(source_type, k_priors[k].type) == 0) {
            *w = k_priors[k].w;
            *h = k_priors[k].h;
            if (trivium) *trivium = k_priors[k].trivium;
            return 1;
        }
    *w = 0.50;
    *h = 3.0;
    if (trivium) *trivium = "unknown";
    return 0;
}

static void blend(const char *source_type, YaScoreResult *r) {
    double pw, ph;
    ya_source_prior(source_type, &pw, &ph, NULL);
    r->authority_weight = 0.7 * pw + 0.3 * r->authority_weight;
    r->provenance_entropy = 0.7 * ph + 0.3 * r->provenance_entropy;
}

int ya_score_hybrid(const YaScorer *s, const char *text, size_t len, const json_t *metadata, const char *source_type,
                    YaScoreResult *out, YaError *err) {
    int rc = ya_score_document(s, text, len, metadata, 0, out, err);
    if (rc == YA_OK) blend(source_type, out);
    return rc;
}

const char *ya_scoring_method_name(YaScoringMethod m) {
    switch (m) {
    case YA_SCORING_DEFAULT: return "default";
    case YA_SCORING_HYBRID: return "hybrid";
    case YA_SCORING_DYNAMIC: return "dynamic";
    }
    return "unknown";
}

int ya_score_record(const YaScorer *s, const json_t *doc, const char *text_field, int use_known_source_type,
                    YaScoringMethod *method, YaScoreResult *out, YaError *err) {
    memset(out, 0, sizeof *out);
    const json_t *t = json_object_get(doc, text_field);
    if (t && !json_is_null(t) && !json_is_string(t))
        return ya_fail(err, YA_ERR, "field '%s' must be a string, got %s", text_field,
                       json_is_object(t) ? "an object" : json_is_array(t) ? "an array" : "a number or boolean");
    const char *text = t && json_is_string(t) ? json_string_value(t) : "";
    size_t len = t && json_is_string(t) ? json_string_length(t) : 0;
    if (yas_utf8_count_upto(text, len, 50) < 50) {
        *method = YA_SCORING_DEFAULT;
        out->authority_weight = 0.50;
        out->provenance_entropy = 3.0;
        return YA_OK;
    }
    const json_t *st = json_object_get(doc, "source_type");
    if (use_known_source_type && st) {
        *method = YA_SCORING_HYBRID;
        /* a non-string source_type has no prior: the unknown row */
        return ya_score_hybrid(s, text, len, doc, json_is_string(st) ? json_string_value(st) : NULL, out, err);
    }
    *method = YA_SCORING_DYNAMIC;
    return ya_score_document(s, text, len, doc, 0, out, err);
}

double ya_round4(double x) {
    /* glibc printf converts the exact binary value and breaks exact ties to
     * even, which is what Python's round(x, 4) does; strtod is correctly rounded. */
    if (!isfinite(x)) return x;
    char buf[400];
    snprintf(buf, sizeof buf, "%.4f", x);
    double r = strtod(buf, NULL);
    return r == 0.0 ? copysign(0.0, x) : r;
}

json_t *ya_score_result_json(const YaScoreResult *r) {
    json_t *o = json_object(), *dist = json_object();
    if (!o || !dist) {
        json_decref(o);
        json_decref(dist);
        return NULL;
    }
    json_object_set_new(o, "authority_weight", json_real(r->authority_weight));
    json_object_set_new(o, "provenance_entropy", json_real(r->provenance_entropy));
    json_object_set_new(o, "citation_count", json_integer(r->citation_count));
    json_object_set_new(o, "primary_source_count", json_integer(r->primary_source_count));
    json_object_set_new(o, "institutional_score", json_real(r->institutional_score));
    json_object_set_new(o, "consensus_score", json_real(r->consensus_score));
    for (int k = 0; k < r->n_source_types; k++) {
        int c = r->source_type_order[k];
        json_object_set_new(dist, ya_source_categories[c], json_real(r->source_type_distribution[c]));
    }
    json_object_set_new(o, "source_type_distribution", dist);
    return o;
}

int ya_score_annotate(json_t *doc, YaScoringMethod method, const YaScoreResult *r, int detail, YaError *err) {
    int bad = 0;
    bad |= json_object_set_new(doc, "auth_weight", json_real(ya_round4(r->authority_weight)));
    bad |= json_object_set_new(doc, "prov_entropy", json_real(ya_round4(r->provenance_entropy)));
    if (method != YA_SCORING_DEFAULT) {
        bad |= json_object_set_new(doc, "citation_count", json_integer(r->citation_count));
        bad |= json_object_set_new(doc, "primary_source_count", json_integer(r->primary_source_count));
    }
    bad |= json_object_set_new(doc, "scoring_method", json_string(ya_scoring_method_name(method)));
    bad |= json_object_set_new(doc, "scorer", json_string(YA_SCORER_VERSION));
    if (detail && method != YA_SCORING_DEFAULT) bad |= json_object_set_new(doc, "detail", ya_score_result_json(r));
    return bad ? ya_fail(err, YA_ERR, "scorer: out of memory") : YA_OK;
}
