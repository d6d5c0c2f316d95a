/* prepare_dedup.c — duplicate detection by the hash of normalised text (SPEC §5.3).
 *
 * Web-scale corpora repeat documents with cosmetic differences (case, line
 * wrapping, non-breaking spaces). The key is the SHA-256 of the text after
 * ASCII lowercasing and whitespace collapsing; the first occurrence in
 * (sorted file, line) order is kept. The same digest, hex-prefixed, is the
 * record's `id`. */
#include <stdlib.h>
#include <string.h>

#include "your_ai/prepare.h"
#include "your_ai/sha256.h"

/* Length in bytes of the whitespace unit at s[i] (0 if none): ASCII whitespace or U+00A0. */
static size_t space_at(const char *s, size_t len, size_t i) {
    unsigned char c = (unsigned char)s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r') return 1;
    if (c == 0xC2 && i + 1 < len && (unsigned char)s[i + 1] == 0xA0) return 2;
    return 0;
}

char *ya_prepare_normalize(const char *text, size_t len, size_t *out_len) {
    char *out = malloc(len + 1);
    if (!out) return NULL;
    size_t o = 0;
    int pending_space = 0;
    for (size_t i = 0; i < len;) {
        size_t w = space_at(text, len, i);
        if (w) {
            pending_space = o > 0; /* leading runs vanish */
            i += w;
            continue;
        }
        if (pending_space) out[o++] = ' ';
        pending_space = 0;
        unsigned char c = (unsigned char)text[i++];
        out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
    }
    out[o] = '\0'; /* a trailing run was never written */
    if (out_len) *out_len = o;
    return out;
}

int ya_prepare_dedup_key(const char *text, size_t len, uint8_t digest[32]) {
    size_t n;
    char *norm = ya_prepare_normalize(text, len, &n);
    if (!norm) return YA_ERR;
    ya_sha256(norm, n, digest);
    free(norm);
    return YA_OK;
}

void ya_digest_set_init(YaDigestSet *s) { memset(s, 0, sizeof *s); }

void ya_digest_set_free(YaDigestSet *s) {
    free(s->slots);
    free(s->used);
    memset(s, 0, sizeof *s);
}

static size_t slot_of(const uint8_t d[32], size_t cap) {
    uint64_t h;
    memcpy(&h, d, sizeof h); /* a SHA-256 prefix is already uniformly spread */
    return (size_t)(h & (cap - 1));
}

static int grow(YaDigestSet *s) {
    size_t cap = s->cap ? s->cap * 2 : 1024;
    uint8_t(*slots)[32] = calloc(cap, sizeof *slots);
    unsigned char *used = calloc(cap, 1);
    if (!slots || !used) {
        free(slots);
        free(used);
        return -1;
    }
    for (size_t i = 0; i < s->cap; i++) {
        if (!s->used[i]) continue;
        size_t j = slot_of(s->slots[i], cap);
        while (used[j]) j = (j + 1) & (cap - 1);
        memcpy(slots[j], s->slots[i], 32);
        used[j] = 1;
    }
    free(s->slots);
    free(s->used);
    s->slots = slots;
    s->used = used;
    s->cap = cap;
    return 0;
}

int ya_digest_set_insert(YaDigestSet *s, const uint8_t digest[32]) {
    if ((s->count + 1) * 2 > s->cap && grow(s) != 0) return -1; /* keep the load <= 1/2 */
    size_t j = slot_of(digest, s->cap);
    while (s->used[j]) {
        if (memcmp(s->slots[j], digest, 32) == 0) return 0;
        j = (j + 1) & (s->cap - 1);
    }
    memcpy(s->slots[j], digest, 32);
    s->used[j] = 1;
    s->count++;
    return 1;
}
