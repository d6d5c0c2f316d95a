/* added_tokens.c — splitting added/special tokens out of the text before the
 * model runs, with HF AddedVocabulary semantics: a leftmost-longest literal
 * match (HF uses aho-corasick LeftmostLongest), then the token's single_word,
 * lstrip and rstrip options. Called twice per encode: non-normalized tokens
 * on the raw text, normalized tokens on each normalized text piece. */
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h> /* defines: utf8proc_category */

#include "tokenizer/tokenizer_internal.h"

static int32_t trie_node(YaTrie *t, unsigned char byte) {
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct YaTrieNode *v = realloc(t->nodes, cap * sizeof *v);
        if (!v) return -1;
        t->nodes = v;
        t->cap = cap;
    }
    t->nodes[t->n] = (struct YaTrieNode){.first_child = -1, .next_sibling = -1, .token = -1, .byte = byte};
    return (int32_t)t->n++;
}

static int32_t trie_child(const YaTrie *t, int32_t node, unsigned char byte) {
    for (int32_t c = t->nodes[node].first_child; c >= 0; c = t->nodes[c].next_sibling)
        if (t->nodes[c].byte == byte) return c;
    return -1;
}

int ya_tok_trie_add(YaTrie *t, const char *s, size_t len, int32_t token) {
    if (t->n == 0 && trie_node(t, 0) < 0) return -1; /* the root */
    int32_t node = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)s[i];
        int32_t c = trie_child(t, node, b);
        if (c < 0) {
            c = trie_node(t, b);
            if (c < 0) return -1;
            t->nodes[c].next_sibling = t->nodes[node].first_child;
            t->nodes[node].first_child = c;
        }
        node = c;
    }
    if (t->nodes[node].token < 0) t->nodes[node].token = token; /* first definition of a duplicate wins */
    return 0;
}

void ya_tok_trie_free(YaTrie *t) {
    free(t->nodes);
    t->nodes = NULL;
    t->n = t->cap = 0;
}

void ya_tok_pieces_free(YaPieces *p) {
    free(p->v);
    p->v = NULL;
    p->n = p->cap = 0;
}

static int pieces_push(YaPieces *p, size_t off, size_t len, int32_t token) {
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        YaPiece *v = realloc(p->v, cap * sizeof *v);
        if (!v) return -1;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n++] = (YaPiece){off, len, token};
    return 0;
}

/* Rust char::is_whitespace (the White_Space property). */
static int is_ws(uint32_t c) {
    return (c >= 9 && c <= 13) || c == ' ' || c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) ||
           c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F || c == 0x3000;
}

/* A word character as the Rust regex `\w` HF uses for single_word: Alphabetic
 * (letters, letter numbers), marks, decimal digits, connector punctuation (`_`)
 * and the joiners. */
static int is_word(uint32_t c) {
    if (c == 0x200C || c == 0x200D) return 1;
    utf8proc_category_t k = utf8proc_category((utf8proc_int32_t)c);
    return (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) ||
           (k >= UTF8PROC_CATEGORY_MN && k <= UTF8PROC_CATEGORY_ME) || k == UTF8PROC_CATEGORY_ND ||
           k == UTF8PROC_CATEGORY_NL || k == UTF8PROC_CATEGORY_PC;
}

static uint32_t last_char(const char *s, size_t len) {
    size_t i = len;
    while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80) i--;
    if (i == 0) return 0;
    uint32_t cp;
    ya_tok_utf8_decode(s + i - 1, &cp);
    return cp;
}

int ya_tok_added_split(const YaTokenizer *tok, const YaTrie *trie, const char *text, size_t len, YaPieces *out) {
    if (trie->n == 0) return len ? pieces_push(out, 0, len, -1) : 0;
    size_t start_offset = 0;
    size_t i = 0;
    while (i < len) {
        /* longest token starting at i */
        int32_t node = 0, best = -1;
        size_t best_end = 0;
        for (size_t j = i; j < len; j++) {
            node = trie_child(trie, node, (unsigned char)text[j]);
            if (node < 0) break;
            if (trie->nodes[node].token >= 0) {
                best = trie->nodes[node].token;
                best_end = j + 1;
            }
        }
        if (best < 0) {
            i++;
            continue;
        }
        const YaAddedToken *at = &tok->added[best];
        size_t start = i, stop = best_end;
        if (at->single_word) {
            int start_space = start == 0 || !is_word(last_char(text, start));
            uint32_t next_cp = 0;
            if (stop < len) ya_tok_utf8_decode(text + stop, &next_cp);
            int stop_space = stop == len || !is_word(next_cp);
            if (!start_space || !stop_space) { /* rejected: the search resumes after it, as aho-corasick's find_iter */
                i = best_end;
                continue;
            }
        }
        if (at->lstrip) { /* swallow the whitespace before it (not what a previous match took) */
            size_t ns = start;
            while (ns > 0) {
                size_t k = ns;
                while (k > 0 && ((unsigned char)text[k - 1] & 0xC0) == 0x80) k--;
                if (k == 0) break;
                uint32_t cp;
                ya_tok_utf8_decode(text + k - 1, &cp);
                if (!is_ws(cp)) break;
                ns = k - 1;
            }
            start = ns > start_offset ? ns : start_offset;
        }
        if (at->rstrip) {
            while (stop < len) {
                uint32_t cp;
                size_t cl = ya_tok_utf8_decode(text + stop, &cp);
                if (!is_ws(cp)) break;
                stop += cl;
            }
        }
        if (start_offset < start && pieces_push(out, start_offset, start - start_offset, -1)) return -1;
        if (pieces_push(out, start, stop - start, best)) return -1;
        start_offset = stop;
        i = best_end; /* the matcher resumes after the match itself, not after stripped spaces */
    }
    if (start_offset < len && pieces_push(out, start_offset, len - start_offset, -1)) return -1;
    return 0;
}
