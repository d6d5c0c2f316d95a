/* st_tool.c — test driver that compares our safetensors reader and fp
 * conversions with the independent Python/torch references (tools/st_ref.py):
 *
 *   st_tool floats FILE   checks ya_f32_to_bf16/f16 and ya_*_to_f32 against every
 *                         line of `st_ref.py floats` (bit-exact; NaN as NaN)
 *   st_tool dump DIR      opens DIR with ya_weights_open_dir and prints, sorted by
 *                         name, "name dtype [shape] sha256(fp32 LE bytes)" — the same
 *                         lines `st_ref.py check` prints, so the two can be diffed */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/safetensors.h"
#include "your_ai/sha256.h"

static float bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static uint32_t f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* The bulk converters (blocked, vectorised loops) over every 16-bit pattern and
 * every fp32 reference value, from deliberately misaligned buffers, must agree
 * bit for bit with the scalar functions checked line by line. */
static long check_bulk(const char *path) {
    long bad = 0;
    enum { N16 = 65536 };
    unsigned char *raw = malloc(2 * N16 + 1); // [1 + 2·65536] one byte of misalignment
    float *out = malloc(sizeof(float) * N16);
    for (uint32_t h = 0; h < N16; h++) {
        uint16_t v = (uint16_t)h;
        memcpy(raw + 1 + 2 * h, &v, 2);
    }
    YaDtype dts[2] = {YA_DTYPE_F16, YA_DTYPE_BF16};
    for (int d = 0; d < 2; d++) {
        ya_to_f32(dts[d], raw + 1, out, N16);
        for (uint32_t h = 0; h < N16; h++) {
            float want = dts[d] == YA_DTYPE_F16 ? ya_f16_to_f32((uint16_t)h) : ya_bf16_to_f32((uint16_t)h);
            if (f32_bits(out[h]) != f32_bits(want) && !(isnan(want) && isnan(out[h]))) bad++;
        }
    }
    /* fp32 → 16 bits: reuse the reference file's inputs */
    FILE *fp = fopen(path, "r");
    float *xs = malloc(sizeof(float) * 200000);
    size_t n = 0;
    char line[256], kind[8], a[16];
    while (fp && n < 200000 && fgets(line, sizeof line, fp))
        if (sscanf(line, "%7s %15s", kind, a) == 2 && strcmp(kind, "to16") == 0)
            xs[n++] = bits_f32((uint32_t)strtoul(a, NULL, 16));
    if (fp) fclose(fp);
    unsigned char *o16 = malloc(2 * n + 1);
    for (int d = 0; d < 2; d++) {
        ya_from_f32(dts[d], xs, o16 + 1, n);
        for (size_t i = 0; i < n; i++) {
            uint16_t got, want = dts[d] == YA_DTYPE_F16 ? ya_f32_to_f16(xs[i]) : ya_f32_to_bf16(xs[i]);
            memcpy(&got, o16 + 1 + 2 * i, 2);
            if (got != want) bad++;
        }
    }
    if (bad) fprintf(stderr, "bulk conversions: %ld mismatches with the scalar ones\n", bad);
    free(raw);
    free(out);
    free(xs);
    free(o16);
    return bad;
}

static int check_floats(const char *path) {
    FILE *fp = fopen(path, "r");
    if (!fp) {
        perror(path);
        return 1;
    }
    char line[256], kind[8], a[16], b[16], c[16];
    long lines = 0, bad = 0;
    while (fgets(line, sizeof line, fp)) {
        if (line[0] == '#') continue;
        if (sscanf(line, "%7s %15s %15s %15s", kind, a, b, c) != 4) continue;
        lines++;
        if (strcmp(kind, "to16") == 0) {
            float x = bits_f32((uint32_t)strtoul(a, NULL, 16));
            uint16_t gb = ya_f32_to_bf16(x), gh = ya_f32_to_f16(x);
            if (strcmp(b, "nan") == 0) {
                if (!isnan(ya_bf16_to_f32(gb)) || !isnan(ya_f16_to_f32(gh))) {
                    fprintf(stderr, "NaN %s: got bf16 %04x f16 %04x, not NaN\n", a, gb, gh);
                    bad++;
                }
                continue;
            }
            unsigned wb = (unsigned)strtoul(b, NULL, 16), wh = (unsigned)strtoul(c, NULL, 16);
            if (gb != wb || gh != wh) {
                if (bad < 20)
                    fprintf(stderr, "f32 %s (%.9g): bf16 %04x want %04x, f16 %04x want %04x\n", a, x, gb, wb, gh, wh);
                bad++;
            }
        } else {
            uint16_t h = (uint16_t)strtoul(a, NULL, 16);
            uint32_t wf = (uint32_t)strtoul(b, NULL, 16), wb = (uint32_t)strtoul(c, NULL, 16);
            /* the bulk converter must agree with the scalar one */
            float bulk_h, bulk_b;
            ya_to_f32(YA_DTYPE_F16, &h, &bulk_h, 1);
            ya_to_f32(YA_DTYPE_BF16, &h, &bulk_b, 1);
            uint32_t gf = f32_bits(ya_f16_to_f32(h)), gb = f32_bits(ya_bf16_to_f32(h));
            int nan_f = isnan(bits_f32(wf)), nan_b = isnan(bits_f32(wb));
            int ok_f = nan_f ? isnan(bits_f32(gf)) && isnan(bulk_h) : gf == wf && f32_bits(bulk_h) == wf;
            int ok_b = nan_b ? isnan(bits_f32(gb)) && isnan(bulk_b) : gb == wb && f32_bits(bulk_b) == wb;
            if (!ok_f || !ok_b) {
                if (bad < 20) fprintf(stderr, "16-bit %04x: f16->f32 %08x want %08x, bf16->f32 %08x want %08x\n", h, gf, wf, gb, wb);
                bad++;
            }
        }
    }
    fclose(fp);
    bad += check_bulk(path);
    printf("%ld reference lines, %ld mismatches\n", lines, bad);
    return bad || lines < 65536 ? 1 : 0;
}

static int cmp_names(const void *a, const void *b) {
    return strcmp((*(const YaTensorInfo *const *)a)->name, (*(const YaTensorInfo *const *)b)->name);
}

static int dump(const char *dir) {
    YaError err = {0};
    YaWeights *w;
    if (ya_weights_open_dir(dir, &w, &err)) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    size_t n = ya_weights_count(w);
    const YaTensorInfo **ts = malloc((n + 1) * sizeof *ts);
    for (size_t i = 0; i < n; i++) ts[i] = ya_weights_at(w, i);
    qsort(ts, n, sizeof *ts, cmp_names);
    for (size_t i = 0; i < n; i++) {
        const YaTensorInfo *t = ts[i];
        float *f = malloc(t->numel * sizeof *f + 1);
        ya_to_f32(t->dtype, t->data, f, t->numel);
        char hex[65];
        ya_sha256_hex(f, t->numel * sizeof *f, hex); /* little-endian host */
        printf("%s %s [", t->name, ya_dtype_name(t->dtype));
        for (int d = 0; d < t->ndim; d++) printf("%s%lld", d ? "," : "", (long long)t->shape[d]);
        printf("] %s\n", hex);
        free(f);
    }
    free(ts);
    ya_weights_close(w);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "floats") == 0) return check_floats(argv[2]);
    if (argc == 3 && strcmp(argv[1], "dump") == 0) return dump(argv[2]);
    fprintf(stderr, "usage: st_tool floats FILE | dump DIR\n");
    return 2;
}
