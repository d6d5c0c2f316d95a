/* hashmap.c — the two lookups the BPE hot path lives on: token string → id
 * (vocabulary, added tokens) and (left id, right id) → (rank, merged id).
 * Open addressing with linear probing, capacity a power of two ≥ 2× entries. */
#include <stdlib.h>
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

uint32_t ya_tok_hash_bytes(const void *p, size_t n) { /* FNV-1a, then a murmur finaliser */
    const unsigned char *s = p;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 16777619u;
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    return h;
}

static size_t pow2_at_least(size_t n) {
    size_t c = 16;
    while (c < n) c <<= 1;
    return c;
}

int ya_tok_strmap_init(YaStrMap *m, size_t expected) {
    size_t cap = pow2_at_least(expected * 2 + 1);
    m->slots = calloc(cap, sizeof *m->slots);
    m->mask = cap - 1;
    m->count = 0;
    return m->slots ? 0 : -1;
}

void ya_tok_strmap_free(YaStrMap *m) {
    free(m->slots);
    m->slots = NULL;
}

static int strmap_grow(YaStrMap *m) {
    YaStrMap bigger;
    size_t old_cap = m->mask + 1;
    bigger.slots = calloc(old_cap * 2, sizeof *bigger.slots);
    if (!bigger.slots) return -1;
    bigger.mask = old_cap * 2 - 1;
    bigger.count = m->count;
    for (size_t i = 0; i < old_cap; i++) {
        if (!m->slots[i].key) continue;
        size_t j = m->slots[i].hash & bigger.mask;
        while (bigger.slots[j].key) j = (j + 1) & bigger.mask;
        bigger.slots[j] = m->slots[i];
    }
    free(m->slots);
    *m = bigger;
    return 0;
}

int ya_tok_strmap_put(YaStrMap *m, const char *key, size_t len, int32_t value) {
    if ((m->count + 1) * 2 > m->mask + 1 && strmap_grow(m)) return -1;
    uint32_t h = ya_tok_hash_bytes(key, len);
    size_t i = h & m->mask;
    for (;; i = (i + 1) & m->mask) {
        struct YaStrSlot *s = &m->slots[i];
        if (!s->key) {
            s->key = key;
            s->key_len = (uint32_t)len;
            s->hash = h;
            s->value = value;
            m->count++;
            return 0;
        }
        if (s->hash == h && s->key_len == len && memcmp(s->key, key, len) == 0) {
            s->value = value;
            return 0;
        }
    }
}

int32_t ya_tok_strmap_get(const YaStrMap *m, const char *key, size_t len) {
    if (!m->slots) return -1;
    uint32_t h = ya_tok_hash_bytes(key, len);
    for (size_t i = h & m->mask;; i = (i + 1) & m->mask) {
        const struct YaStrSlot *s = &m->slots[i];
        if (!s->key) return -1;
        if (s->hash == h && s->key_len == len && memcmp(s->key, key, len) == 0) return s->value;
    }
}

static inline uint64_t pair_key(int32_t a, int32_t b) { return ((uint64_t)(uint32_t)a << 32) | (uint32_t)b; }

static inline size_t pair_hash(uint64_t k) {
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdull;
    k ^= k >> 33;
    return (size_t)k;
}

int ya_tok_mergemap_init(YaMergeMap *m, size_t expected) {
    size_t cap = pow2_at_least(expected * 2 + 1);
    m->slots = malloc(cap * sizeof *m->slots);
    if (!m->slots) return -1;
    for (size_t i = 0; i < cap; i++) m->slots[i].key = UINT64_MAX;
    m->mask = cap - 1;
    m->count = 0;
    return 0;
}

void ya_tok_mergemap_free(YaMergeMap *m) {
    free(m->slots);
    m->slots = NULL;
}

int ya_tok_mergemap_put(YaMergeMap *m, int32_t a, int32_t b, int32_t rank, int32_t new_id) {
    if ((m->count + 1) * 2 > m->mask + 1) { /* never happens when sized up front; grow anyway */
        YaMergeMap bigger;
        if (ya_tok_mergemap_init(&bigger, (m->mask + 1))) return -1;
        for (size_t i = 0; i <= m->mask; i++)
            if (m->slots[i].key != UINT64_MAX)
                ya_tok_mergemap_put(&bigger, (int32_t)(m->slots[i].key >> 32), (int32_t)(uint32_t)m->slots[i].key,
                                m->slots[i].rank, m->slots[i].new_id);
        free(m->slots);
        *m = bigger;
    }
    uint64_t k = pair_key(a, b);
    for (size_t i = pair_hash(k) & m->mask;; i = (i + 1) & m->mask) {
        if (m->slots[i].key == UINT64_MAX) {
            m->slots[i].key = k;
            m->slots[i].rank = rank;
            m->slots[i].new_id = new_id;
            m->count++;
            return 0;
        }
        if (m->slots[i].key == k) { /* a repeated merge: the later line wins, as in HF's HashMap collect */
            m->slots[i].rank = rank;
            m->slots[i].new_id = new_id;
            return 0;
        }
    }
}

int ya_tok_mergemap_get(const YaMergeMap *m, int32_t a, int32_t b, int32_t *rank, int32_t *new_id) {
    uint64_t k = pair_key(a, b);
    for (size_t i = pair_hash(k) & m->mask;; i = (i + 1) & m->mask) {
        if (m->slots[i].key == k) {
            *rank = m->slots[i].rank;
            *new_id = m->slots[i].new_id;
            return 1;
        }
        if (m->slots[i].key == UINT64_MAX) return 0;
    }
}
