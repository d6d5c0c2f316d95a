/* tokenizer_internal.h — the structures behind YaTokenizer, shared by the
 * files of src/tokenizer/ only (the public API is include/your_ai/tokenizer.h).
 *
 * The pipeline mirrors HuggingFace `tokenizers` (Tokenizer::encode):
 *   added-token split (raw text) → normalizer → added-token split (normalized)
 *   → pre-tokenizer → BPE model per pre-token → post-processor.
 * Each stage lives in its own file; this header is the data they share. */
#ifndef YA_TOKENIZER_INTERNAL_H
#define YA_TOKENIZER_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h> /* defines: pcre2_code, pcre2_match */

#include "your_ai/error.h"
#include "your_ai/strbuf.h" /* defines: YaStrBuf, the growable byte buffer */
#include "your_ai/tokenizer.h"

/* ---- byte strings ------------------------------------------------------ */
typedef struct YaStr {
    char *s; /* NUL-terminated, owned */
    size_t len;
} YaStr;


/* ---- hash maps (open addressing, linear probing, power-of-two capacity) -- */
/* String → int32; keys are borrowed (they must outlive the map). */
typedef struct YaStrMap {
    struct YaStrSlot {
        const char *key; /* NULL = empty */
        uint32_t key_len;
        uint32_t hash;
        int32_t value;
    } *slots;
    size_t mask, count;
} YaStrMap;
uint32_t ya_tok_hash_bytes(const void *p, size_t n);
int ya_tok_strmap_init(YaStrMap *m, size_t expected);
void ya_tok_strmap_free(YaStrMap *m);
/* Inserts or overwrites. Returns 0, or -1 out of memory. */
int ya_tok_strmap_put(YaStrMap *m, const char *key, size_t len, int32_t value);
/* The value, or -1 when absent. */
int32_t ya_tok_strmap_get(const YaStrMap *m, const char *key, size_t len);

/* (left id, right id) → (rank, merged id). */
typedef struct YaMergeMap {
    struct YaMergeSlot {
        uint64_t key; /* UINT64_MAX = empty */
        int32_t rank, new_id;
    } *slots;
    size_t mask, count;
} YaMergeMap;
int ya_tok_mergemap_init(YaMergeMap *m, size_t expected);
void ya_tok_mergemap_free(YaMergeMap *m);
int ya_tok_mergemap_put(YaMergeMap *m, int32_t a, int32_t b, int32_t rank, int32_t new_id);
/* 1 and fills rank/new_id when the pair merges, else 0. */
int ya_tok_mergemap_get(const YaMergeMap *m, int32_t a, int32_t b, int32_t *rank, int32_t *new_id);

/* ---- normalizers -------------------------------------------------------- */
typedef enum {
    YA_NORM_NFC, YA_NORM_NFD, YA_NORM_NFKC, YA_NORM_NFKD,
    YA_NORM_PREPEND, YA_NORM_REPLACE,
} YaNormKind;
typedef struct YaNormStep {
    YaNormKind kind;
    YaStr a, b; /* PREPEND: a = prefix; REPLACE: a = pattern (literal), b = content */
} YaNormStep;

/* ---- pre-tokenizers ----------------------------------------------------- */
typedef enum {
    YA_SPLIT_REMOVED, YA_SPLIT_ISOLATED, YA_SPLIT_MERGED_PREV, YA_SPLIT_MERGED_NEXT, YA_SPLIT_CONTIGUOUS,
} YaSplitBehavior;
typedef enum { YA_PRE_SPLIT, YA_PRE_BYTELEVEL, YA_PRE_METASPACE } YaPreKind;
typedef struct YaPreStep {
    YaPreKind kind;
    /* SPLIT: the compiled pattern (a String pattern is compiled as an escaped literal) */
    pcre2_code *re;
    YaSplitBehavior behavior;
    int invert;
    /* BYTELEVEL */
    int add_prefix_space, use_regex; /* use_regex: split with the GPT-2 pattern first (re holds it) */
    /* METASPACE: spaces → replacement, prepended per scheme; split: re matches the replacement */
    YaStr replacement;
    int prepend_scheme; /* YA_PREPEND_* */
    int split;
} YaPreStep;
enum { YA_PREPEND_ALWAYS, YA_PREPEND_FIRST, YA_PREPEND_NEVER };

/* ---- decoders ----------------------------------------------------------- */
typedef enum { YA_DEC_BYTELEVEL, YA_DEC_REPLACE, YA_DEC_BYTEFALLBACK, YA_DEC_FUSE, YA_DEC_STRIP, YA_DEC_METASPACE } YaDecKind;
typedef struct YaDecStep {
    YaDecKind kind;
    YaStr a, b;           /* REPLACE: a = pattern, b = content; STRIP, METASPACE: a = the character */
    int prepend_scheme;   /* METASPACE */
    size_t start, stop;   /* STRIP */
} YaDecStep;

/* ---- added tokens --------------------------------------------------------- */
typedef struct YaAddedToken {
    YaStr content;
    int32_t id;
    int special, normalized, lstrip, rstrip, single_word;
} YaAddedToken;

/* Leftmost-longest literal matcher over a set of added tokens (a byte trie). */
typedef struct YaTrie {
    struct YaTrieNode {
        int32_t first_child, next_sibling; /* -1 = none */
        int32_t token;                     /* index into tok->added, -1 if no token ends here */
        unsigned char byte;
    } *nodes;
    size_t n, cap;
} YaTrie;
int ya_tok_trie_add(YaTrie *t, const char *s, size_t len, int32_t token);
void ya_tok_trie_free(YaTrie *t);

/* ---- the BPE pre-token cache (bounded, direct-mapped, lock-striped so a
 * const tokenizer can be shared by threads) -------------------------------- */
#define YA_CACHE_SLOTS 16384
#define YA_CACHE_LOCKS 64
#define YA_CACHE_MAX_WORD 64 /* longer pre-tokens are not cached */
typedef struct YaCacheSlot {
    char *key;      /* NULL = empty */
    uint32_t key_len, n_ids;
    int32_t *ids;   // [n_ids]
} YaCacheSlot;
typedef struct YaBpeCache {
    YaCacheSlot *slots; // [YA_CACHE_SLOTS]
    pthread_mutex_t locks[YA_CACHE_LOCKS];
} YaBpeCache;

/* ---- the tokenizer ------------------------------------------------------------ */
struct YaTokenizer {
    char path[4096]; /* the tokenizer.json file, for messages */

    /* model: BPE */
    YaStr *vocab;       // [n_vocab] id → token (s == NULL for ids absent from the vocab)
    size_t n_vocab;     /* max model id + 1 */
    YaStrMap vocab_map; /* token → id */
    YaMergeMap merges;
    int32_t unk_id;     /* -1 if none */
    int byte_fallback, fuse_unk, ignore_merges;
    YaStr subword_prefix, word_suffix; /* continuing_subword_prefix / end_of_word_suffix (len 0 = none) */
    int32_t byte_ids[256];            /* "<0xXX>" ids for byte_fallback, -1 where absent */

    YaNormStep *norm;  // [n_norm]
    size_t n_norm;
    YaPreStep *pre;    // [n_pre]
    size_t n_pre;
    YaDecStep *dec;    // [n_dec]
    size_t n_dec;
    int has_decoder;

    YaAddedToken *added; // [n_added]
    size_t n_added;
    YaStrMap added_map;  /* content → index into added */
    YaTrie trie_raw, trie_norm; /* non-normalized / normalized added tokens */
    int32_t *added_by_id; // [n_total] index into added, -1 when the id is not an added token
    size_t n_total;       /* max id + 1 over model and added tokens */

    /* post-processor (TemplateProcessing, single sequence) */
    int32_t *post_prefix, *post_suffix; // [n_post_prefix], [n_post_suffix]
    size_t n_post_prefix, n_post_suffix;

    /* tokenizer_config.json */
    int32_t bos_id, eos_id, pad_id;
    YaChatFormat chat_format;
    int chat_template_present;
    int chat_always_generation_prompt; /* the template emits the assistant header unconditionally */
    YaStr bos_token, eos_token;        /* strings the chat renderers emit */

    YaBpeCache cache;

    /* long pre-tokens (bpe.c): BPE runs on chunks of at most word_chunk bytes,
     * cut where possible before a character whose bit is set here: a vocabulary
     * token itself that no token holds after a different character */
    size_t word_chunk;
    uint8_t *cut_before; // [YA_TOK_MAX_CP / 8] bitmap over code points
};
#define YA_TOK_MAX_CP 0x110000
#define YA_TOK_WORD_CHUNK ((size_t)64 << 10) /* bytes; 64 KiB of BPE symbols and heap is ~3 MB */
/* tokenizer_load.c: fills tok->cut_before from the vocabulary. */
int ya_tok_cut_table_build(YaTokenizer *tok);

/* bpe.c: appends the ids of one pre-token (model input string) to out. A long
 * pre-token is encoded in chunks; it stops after the chunk that brings out->len
 * to `stop` or beyond (SIZE_MAX: the whole pre-token). */
int ya_tok_bpe_word(const YaTokenizer *tok, const char *w, size_t len, size_t stop, YaIds *out, YaError *err);
int ya_tok_bpe_cache_init(YaBpeCache *c);
void ya_tok_bpe_cache_free(YaBpeCache *c);

/* normalize.c: runs the normalizer chain on s; *out is malloc'ed. */
int ya_tok_normalize(const YaTokenizer *tok, const char *s, size_t len, YaStrBuf *out, YaError *err);

/* pretokenize.c: a list of pre-tokens as spans of one buffer. */
typedef struct YaSpans {
    YaStrBuf buf;
    struct YaSpan { size_t off, len; } *v;
    size_t n, cap;
} YaSpans;
void ya_tok_spans_free(YaSpans *s);
int ya_tok_spans_push(YaSpans *s, size_t off, size_t len);
/* Runs the pre-tokenizer chain over text; fills out (initially empty). at_start: text
 * begins the input (HF offsets_original().0 == 0), for Metaspace's "first" scheme. */
int ya_tok_pretokenize(const YaTokenizer *tok, const char *text, size_t len, int at_start, YaSpans *out, YaError *err);
/* Compiles a PCRE2 pattern with UTF|UCP (+ JIT); where names it in messages. */
int ya_tok_regex_compile(const char *pattern, size_t len, int literal, const char *where, pcre2_code **out,
                     YaError *err);
extern const char ya_tok_gpt2_pattern[]; /* ByteLevel's use_regex pattern */

/* added_tokens.c: a piece of input, either already an added token or text. */
typedef struct YaPiece {
    size_t off, len;
    int32_t token; /* index into tok->added, or -1 for text */
} YaPiece;
typedef struct YaPieces {
    YaPiece *v;
    size_t n, cap;
} YaPieces;
/* Splits text by the added tokens of trie (HF AddedVocabulary::find_matches). */
int ya_tok_added_split(const YaTokenizer *tok, const YaTrie *trie, const char *text, size_t len, YaPieces *out);
void ya_tok_pieces_free(YaPieces *p);

/* decode.c */
int ya_tok_decode_chain(const YaTokenizer *tok, YaStr *tokens, size_t n, YaStrBuf *out, YaError *err);

/* UTF-8 helpers (utf8.c) */
/* Length of the valid UTF-8 sequence at s (1..4), or 0 when invalid (maximal subpart rules). */
size_t ya_tok_utf8_valid_len(const unsigned char *s, size_t n);
/* Length of the maximal invalid subpart at s (≥ 1), as Rust's from_utf8_lossy / WHATWG. */
size_t ya_tok_utf8_invalid_len(const unsigned char *s, size_t n);
/* Appends s with each maximal invalid subpart replaced by U+FFFD. Returns -1 on OOM. */
int ya_tok_utf8_sanitize(const char *s, size_t n, YaStrBuf *out);
/* Decodes one code point from valid UTF-8 at s; returns its length. */
size_t ya_tok_utf8_decode(const char *s, uint32_t *cp);
size_t ya_tok_utf8_encode(uint32_t cp, char out[4]);

#endif
