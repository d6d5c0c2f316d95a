/* gguf_tensor_cmp.c — are two GGUF files the same model, tensor by tensor?
 *   gguf_tensor_cmp OURS.gguf THEIRS.gguf [KEY...]
 * Every tensor of either file must exist in the other with the same dims, the
 * same ggml type and identical bytes (the order of the tensors in the files
 * may differ), and each KEY (a uint32 such as general.file_type) must have the
 * same value in both. Prints a per-type summary; each difference names the
 * tensor, both types, and the first differing block.
 * Exit 0 identical, 1 a difference, 2 usage or unreadable file. */
#include <stdio.h>
#include <string.h>

#include "your_ai/gguf.h"
#include "your_ai/gguf_quants.h"

static int u32_key(const YaGguf *g, const char *key, uint32_t *v) {
    const YaGgufKV *kv = ya_gguf_find_kv(g, key);
    if (!kv || kv->type != YA_GGUF_UINT32) return -1;
    memcpy(v, kv->data, 4);
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: gguf_tensor_cmp OURS.gguf THEIRS.gguf [KEY...]\n");
        return 2;
    }
    YaError err = {0};
    YaGguf *a = NULL, *b = NULL;
    if (ya_gguf_read(argv[1], &a, &err) || ya_gguf_read(argv[2], &b, &err)) {
        fprintf(stderr, "gguf_tensor_cmp: %s\n", err.message);
        ya_gguf_free(a);
        return 2;
    }
    int bad = 0;
    uint64_t per_type[64] = {0};
    for (uint64_t i = 0; i < b->n_tensors; i++)
        if (!ya_gguf_find_tensor(a, b->tensors[i].name)) {
            fprintf(stderr, "FAIL %s: in %s only\n", b->tensors[i].name, argv[2]);
            bad++;
        }
    for (uint64_t i = 0; i < a->n_tensors; i++) {
        const YaGgufTensor *ta = &a->tensors[i], *tb = ya_gguf_find_tensor(b, ta->name);
        if (!tb) {
            fprintf(stderr, "FAIL %s: in %s only\n", ta->name, argv[1]);
            bad++;
            continue;
        }
        if (ta->type != tb->type || ta->n_dims != tb->n_dims || memcmp(ta->dims, tb->dims, sizeof ta->dims) != 0) {
            fprintf(stderr, "FAIL %s: %s [%llu, %llu] in %s, %s [%llu, %llu] in %s\n", ta->name,
                    ya_ggml_type_name(ta->type), (unsigned long long)ta->dims[0], (unsigned long long)ta->dims[1],
                    argv[1], ya_ggml_type_name(tb->type), (unsigned long long)tb->dims[0],
                    (unsigned long long)tb->dims[1], argv[2]);
            bad++;
            continue;
        }
        if (ta->nbytes != tb->nbytes || memcmp(ta->data, tb->data, (size_t)ta->nbytes) != 0) {
            size_t o = 0, block = ya_ggml_block_bytes(ta->type), n_diff = 0;
            while (ta->data[o] == tb->data[o]) o++;
            for (size_t k = 0; k + block <= ta->nbytes; k += block) n_diff += memcmp(ta->data + k, tb->data + k, block) != 0;
            fprintf(stderr, "FAIL %s (%s): %zu of %llu blocks differ, the first at block %zu (byte %zu)\n", ta->name,
                    ya_ggml_type_name(ta->type), n_diff, (unsigned long long)(ta->nbytes / block), o / block, o);
            bad++;
            continue;
        }
        if (ta->type >= 0 && ta->type < 64) per_type[ta->type]++;
    }
    for (int k = 3; k < argc; k++) {
        uint32_t va, vb;
        if (u32_key(a, argv[k], &va) || u32_key(b, argv[k], &vb)) {
            fprintf(stderr, "FAIL key %s: not a uint32 in both files\n", argv[k]);
            bad++;
        } else if (va != vb) {
            fprintf(stderr, "FAIL key %s: %u in %s, %u in %s\n", argv[k], va, argv[1], vb, argv[2]);
            bad++;
        }
    }
    printf("%s: %llu tensors identical to %s (", bad ? "FAIL" : "ok", (unsigned long long)a->n_tensors, argv[2]);
    for (int t = 0, first = 1; t < 64; t++)
        if (per_type[t]) {
            printf("%s%llu %s", first ? "" : ", ", (unsigned long long)per_type[t], ya_ggml_type_name(t));
            first = 0;
        }
    printf(")%s\n", bad ? ", with the differences above" : "");
    ya_gguf_free(a);
    ya_gguf_free(b);
    return bad ? 1 : 0;
}
