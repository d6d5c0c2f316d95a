/* bpe.c — the BPE model: one pre-token in, ids out, exactly as HF's
 * `BPE::tokenize` (merge_word + Word::merge_all).
 *
 * The word starts as one symbol per character (or its <0xXX> byte tokens under
 * byte_fallback, or the unk token, fused when fuse_unk). Merges are applied
 * lowest rank first through a binary heap of candidate pairs over a linked
 * list of symbols; stale heap entries are skipped when popped. That makes a
 * word of n characters O(n log n). Results for short pre-tokens go through a
 * bounded cache.
 *
 * Long pre-tokens (a whole SentencePiece-style document is one "word": no
 * pre-tokenizer) are encoded in chunks of at most tok->word_chunk bytes, so the
 * memory of one word is bounded and an encode that needs only its first tokens
 * can stop after a chunk. A chunk ends, where possible, at a safe cut: before a
 * character b, after a different character a, where no vocabulary token holds b
 * after anything but b itself. No merge can then produce a symbol spanning the
 * cut (it would be a token holding "ab"), and merges on either side never
 * interact, so the ids equal those of the whole word exactly. Only a pre-token
 * with no safe cut in the second half of a chunk (e.g. 64 KiB of letters with no
 * space) is cut at a character boundary there, and then its ids may differ
 * from HF's near the cut; the encoding is still the same whatever the caller's
 * token limit, as every encode cuts at the same places. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

typedef struct Symbol {
    int32_t id;
    int32_t prev, next; /* -1 = none */
    size_t len;         /* bytes covered; 0 = merged away */
} Symbol;

typedef struct Cand {
    int32_t rank, pos, new_id;
} Cand;

static inline int cand_less(Cand a, Cand b) { return a.rank != b.rank ? a.rank < b.rank : a.pos < b.pos; }

typedef struct Heap {
    Cand *v;
    size_t n, cap;
} Heap;

static int heap_push(Heap *h, Cand c) {
    if (h->n == h->cap) {
        size_t cap = h->cap ? h->cap * 2 : 64;
        Cand *v = realloc(h->v, cap * sizeof *v);
        if (!v) return -1;
        h->v = v;
        h->cap = cap;
    }
    size_t i = h->n++;
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!cand_less(c, h->v[p])) break;
        h->v[i] = h->v[p];
        i = p;
    }
    h->v[i] = c;
    return 0;
}

static Cand heap_pop(Heap *h) {
    Cand top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        Cand best = last;
        if (l < h->n && cand_less(h->v[l], best)) { m = l; best = h->v[l]; }
        if (r < h->n && cand_less(h->v[r], best)) m = r;
        if (m == i) break;
        h->v[i] = h->v[m];
        i = m;
    }
    if (h->n) h->v[i] = last;
    return top;
}

typedef struct Word {
    Symbol *v; // [n]
    size_t n, cap;
} Word;

static int word_add(Word *w, int32_t id, size_t len) {
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 32;
        Symbol *v = realloc(w->v, cap * sizeof *v);
        if (!v) return -1;
        w->v = v;
        w->cap = cap;
    }
    int32_t pos = (int32_t)w->n;
    w->v[w->n++] = (Symbol){.id = id, .prev = pos - 1, .next = -1, .len = len};
    if (pos > 0) w->v[pos - 1].next = pos;
    return 0;
}

/* HF merge_word: characters → initial symbols. w[0..len) is a chunk of a word:
 * word_start / word_end say whether it begins / ends the word (the subword
 * prefix and word suffix decorate by the position in the whole word). */
static int word_init(const YaTokenizer *tok, const char *w, size_t len, int word_start, int word_end, Word *word,
                     YaError *err) {
    int32_t unk_id = -1;
    size_t unk_len = 0;
    int have_unk = 0;
    YaStrBuf big = {0};
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        size_t cl = ya_tok_utf8_decode(w + i, &cp);
        if (i + cl > len) cl = len - i;
        int is_first = word_start && i == 0, is_last = word_end && i + cl == len;
        const char *s = w + i;
        size_t slen = cl;
        /* continuing_subword_prefix / end_of_word_suffix decorate the lookup key */
        size_t extra = (!is_first ? tok->subword_prefix.len : 0) + (is_last ? tok->word_suffix.len : 0);
        if (extra) {
            big.len = 0;
            if ((!is_first && ya_strbuf_put(&big, tok->subword_prefix.s, tok->subword_prefix.len)) ||
                ya_strbuf_put(&big, w + i, cl) ||
                (is_last && ya_strbuf_put(&big, tok->word_suffix.s, tok->word_suffix.len)))
                goto oom;
            s = big.data;
            slen = big.len;
        }
        int32_t id = ya_tok_strmap_get(&tok->vocab_map, s, slen);
        if (id >= 0) {
            if (have_unk) {
                if (word_add(word, unk_id, unk_len)) goto oom;
                have_unk = 0;
            }
            if (word_add(word, id, cl)) goto oom;
        } else {
            int done = 0;
            if (tok->byte_fallback) {
                int all = 1;
                for (size_t k = 0; k < slen; k++)
                    if (tok->byte_ids[(unsigned char)s[k]] < 0) all = 0;
                if (all) { /* HF pushes the bytes without flushing a pending unk first; so do we */
                    for (size_t k = 0; k < slen; k++)
                        if (word_add(word, tok->byte_ids[(unsigned char)s[k]], 1)) goto oom;
                    done = 1;
                }
            }
            if (!done && tok->unk_id >= 0) {
                if (have_unk && tok->fuse_unk) {
                    unk_len += cl;
                } else {
                    if (have_unk && word_add(word, unk_id, unk_len)) goto oom;
                    unk_id = tok->unk_id;
                    unk_len = cl;
                    have_unk = 1;
                }
            }
            /* no unk token: the character is dropped, as HF does */
        }
        i += cl;
    }
    if (have_unk && word_add(word, unk_id, unk_len)) goto oom;
    ya_strbuf_free(&big);
    return YA_OK;
oom:
    ya_strbuf_free(&big);
    return ya_fail(err, YA_ERR, "out of memory");
}

/* HF Word::merge_all without dropout. */
static int word_merge_all(const YaTokenizer *tok, Word *word, Heap *heap) {
    Symbol *sym = word->v; // [n]
    heap->n = 0;
    for (size_t i = 0; i + 1 < word->n; i++) {
        int32_t rank, nid;
        if (ya_tok_mergemap_get(&tok->merges, sym[i].id, sym[i + 1].id, &rank, &nid) &&
            heap_push(heap, (Cand){rank, (int32_t)i, nid}))
            return -1;
    }
    while (heap->n) {
        Cand top = heap_pop(heap);
        Symbol *cur = &sym[top.pos];
        if (cur->len == 0 || cur->next < 0) continue;
        int32_t next_pos = cur->next;
        Symbol right = sym[next_pos];
        int32_t rank, nid;
        if (!ya_tok_mergemap_get(&tok->merges, cur->id, right.id, &rank, &nid) || nid != top.new_id) continue; /* stale */
        cur->id = top.new_id;
        cur->len += right.len;
        cur->next = right.next;
        sym[next_pos].len = 0;
        if (right.next >= 0) sym[right.next].prev = top.pos;
        if (cur->prev >= 0 &&
            ya_tok_mergemap_get(&tok->merges, sym[cur->prev].id, cur->id, &rank, &nid) &&
            heap_push(heap, (Cand){rank, cur->prev, nid}))
            return -1;
        if (cur->next >= 0 && ya_tok_mergemap_get(&tok->merges, cur->id, sym[cur->next].id, &rank, &nid) &&
            heap_push(heap, (Cand){rank, top.pos, nid}))
            return -1;
    }
    return 0;
}

int ya_tok_bpe_cache_init(YaBpeCache *c) {
    c->slots = calloc(YA_CACHE_SLOTS, sizeof *c->slots);
    if (!c->slots) return -1;
    for (int i = 0; i < YA_CACHE_LOCKS; i++) pthread_mutex_init(&c->locks[i], NULL);
    return 0;
}

void ya_tok_bpe_cache_free(YaBpeCache *c) {
    if (!c->slots) return;
    for (size_t i = 0; i < YA_CACHE_SLOTS; i++) {
        free(c->slots[i].key);
        free(c->slots[i].ids);
    }
    free(c->slots);
    c->slots = NULL;
    for (int i = 0; i < YA_CACHE_LOCKS; i++) pthread_mutex_destroy(&c->locks[i]);
}

/* The cache is logically const: it never changes a result, only remembers one. */
static int cache_lookup(const YaTokenizer *tok, uint32_t h, const char *w, size_t len, YaIds *out, int *hit) {
    YaBpeCache *c = (YaBpeCache *)&tok->cache;
    size_t slot = h & (YA_CACHE_SLOTS - 1);
    pthread_mutex_t *lock = &c->locks[slot % YA_CACHE_LOCKS];
    int rc = 0;
    *hit = 0;
    pthread_mutex_lock(lock);
    YaCacheSlot *s = &c->slots[slot];
    if (s->key && s->key_len == len && memcmp(s->key, w, len) == 0) {
        *hit = 1;
        for (uint32_t i = 0; i < s->n_ids && !rc; i++) rc = ya_ids_push(out, s->ids[i]);
    }
    pthread_mutex_unlock(lock);
    return rc;
}

static void cache_store(const YaTokenizer *tok, uint32_t h, const char *w, size_t len, const int32_t *ids, size_t n) {
    YaBpeCache *c = (YaBpeCache *)&tok->cache;
    size_t slot = h & (YA_CACHE_SLOTS - 1);
    char *key = malloc(len + 1);
    int32_t *copy = malloc((n ? n : 1) * sizeof *copy);
    if (!key || !copy) { /* a cache that cannot grow just forgets */
        free(key);
        free(copy);
        return;
    }
    memcpy(key, w, len);
    key[len] = 0;
    if (n) memcpy(copy, ids, n * sizeof *copy);
    pthread_mutex_t *lock = &c->locks[slot % YA_CACHE_LOCKS];
    pthread_mutex_lock(lock);
    YaCacheSlot *s = &c->slots[slot];
    free(s->key);
    free(s->ids);
    s->key = key;
    s->key_len = (uint32_t)len;
    s->ids = copy;
    s->n_ids = (uint32_t)n;
    pthread_mutex_unlock(lock);
}

/* BPE of one chunk of a word, appended to out. */
static int bpe_chunk(const YaTokenizer *tok, const char *w, size_t len, int word_start, int word_end, YaIds *out,
                     YaError *err) {
    Word word = {0};
    Heap heap = {0};
    int rc = word_init(tok, w, len, word_start, word_end, &word, err);
    if (rc == YA_OK && word_merge_all(tok, &word, &heap)) rc = ya_fail(err, YA_ERR, "out of memory");
    for (size_t i = 0; i < word.n && rc == YA_OK; i++)
        if (word.v[i].len && ya_ids_push(out, word.v[i].id)) rc = ya_fail(err, YA_ERR, "out of memory");
    free(word.v);
    free(heap.v);
    return rc;
}

static int is_char_start(unsigned char c) { return (c & 0xC0) != 0x80; }

/* 1 when no merge can span the boundary before byte c of w (see the file
 * comment). b, the character at c, is a vocabulary token itself, so it is never
 * an unk that fuse_unk could join to a; a may be anything else. */
static int safe_cut(const YaTokenizer *tok, const char *w, size_t c) {
    if (!tok->cut_before || tok->subword_prefix.len || tok->word_suffix.len || c == 0) return 0;
    uint32_t a = 0, b = 0;
    ya_tok_utf8_decode(w + c, &b);
    size_t p = c - 1;
    while (p > 0 && !is_char_start((unsigned char)w[p])) p--;
    ya_tok_utf8_decode(w + p, &a);
    return a != b && b < YA_TOK_MAX_CP && (tok->cut_before[b >> 3] >> (b & 7) & 1);
}

/* End of the chunk that starts at byte pos of w[0..len). */
static size_t chunk_end(const YaTokenizer *tok, const char *w, size_t pos, size_t len) {
    size_t chunk = tok->word_chunk;
    if (len - pos <= chunk) return len;
    size_t end = pos + chunk;
    while (end > pos + 1 && !is_char_start((unsigned char)w[end])) end--;
    for (size_t c = end; c > pos + chunk / 2; c--)
        if (is_char_start((unsigned char)w[c]) && safe_cut(tok, w, c)) return c;
    return end; /* no safe cut: a character boundary (may differ from HF near here) */
}

int ya_tok_bpe_word(const YaTokenizer *tok, const char *w, size_t len, size_t stop, YaIds *out, YaError *err) {
    if (len == 0) return YA_OK;
    if (tok->ignore_merges) { /* a pre-token that is itself a token is emitted whole */
        int32_t id = ya_tok_strmap_get(&tok->vocab_map, w, len);
        if (id >= 0) return ya_ids_push(out, id) ? ya_fail(err, YA_ERR, "out of memory") : YA_OK;
    }
    if (len > tok->word_chunk) { /* chunked (see the file comment); never cached */
        int rc = YA_OK;
        for (size_t pos = 0; pos < len && rc == YA_OK && out->len < stop;) {
            size_t end = chunk_end(tok, w, pos, len);
            rc = bpe_chunk(tok, w + pos, end - pos, pos == 0, end == len, out, err);
            pos = end;
        }
        return rc;
    }
    int cacheable = len <= YA_CACHE_MAX_WORD && tok->cache.slots;
    uint32_t h = 0;
    if (cacheable) {
        int hit;
        h = ya_tok_hash_bytes(w, len);
        if (cache_lookup(tok, h, w, len, out, &hit)) return ya_fail(err, YA_ERR, "out of memory");
        if (hit) return YA_OK;
    }
    size_t first = out->len;
    int rc = bpe_chunk(tok, w, len, 1, 1, out, err);
    if (rc == YA_OK && cacheable) cache_store(tok, h, w, len, out->len > first ? out->ids + first : NULL, out->len - first);
    return rc;
}
