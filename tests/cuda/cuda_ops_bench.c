/* cuda_ops_bench.c — times each CUDA op at Llama-7B layer sizes (T = 4096
 * tokens, h = 4096, f = 11008, 32 heads of 128, V = 32000), the element-wise
 * ops also at the Llama-3-8B training step's (BT = 2048, f = 14336; 16-byte
 * kernels and, on odd-offset pointers, their scalar fallbacks), and prints the
 * achieved rate next to the op's floor-defining quantity (TFLOP/s for GEMMs
 * and attention, GB/s of compulsory traffic for the memory-bound ops).
 * Not a test (no assertions on time); a baseline for the performance work.
 * Each row: median over 5 repetitions of `iters` launches, stream-synchronised
 * before and after, after one warm-up repetition. Inputs are random.
 * Usage: cuda_ops_bench (on the GPU machine; exits 77 without a GPU). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/cuda/cuda_attention.h" /* the warp reference, for comparison */
#include "backend/cuda/cuda_ops.h"
#include "your_ai/rng.h"

static YaCudaCtx *g_ctx; /* this program's one context (a tool, not the engine) */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sync_or_die(void) {
    YaError err;
    if (ya_cuda_sync(g_ctx, &err)) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
}

static void *dalloc(size_t bytes, const char *what) {
    YaError err;
    void *p = ya_cuda_alloc(g_ctx, bytes, what, &err);
    if (!p) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
    return p;
}

/* Random bf16 (or fp32) device buffer from a host pool of random values. */
static uint16_t *g_pool_bf16;
static float *g_pool_f32;
static const size_t k_pool = (size_t)1 << 24;

static void *rand_dev(size_t n, int f32, const char *what) {
    size_t esz = f32 ? 4 : 2;
    char *d = dalloc(n * esz, what);
    for (size_t off = 0; off < n; off += k_pool) {
        size_t len = n - off < k_pool ? n - off : k_pool;
        ya_cuda_upload(g_ctx, d + off * esz, f32 ? (void *)g_pool_f32 : (void *)g_pool_bf16, len * esz);
    }
    sync_or_die();
    return d;
}

typedef void (*BenchFn)(void *arg);

static double time_ms(BenchFn fn, void *arg, int iters) {
    double reps[5];
    fn(arg); /* warm-up: handles, heuristics, module load */
    sync_or_die();
    for (int r = 0; r < 5; r++) {
        double t0 = now_s();
        for (int i = 0; i < iters; i++) fn(arg);
        sync_or_die();
        reps[r] = (now_s() - t0) * 1e3 / iters;
    }
    for (int i = 0; i < 5; i++) /* median of 5 */
        for (int j = i + 1; j < 5; j++)
            if (reps[j] < reps[i]) {
                double t = reps[i];
                reps[i] = reps[j];
                reps[j] = t;
            }
    return reps[2];
}

static void report_flops(const char *name, double ms, double flops) {
    printf("%-52s %9.3f ms  %8.1f TFLOP/s\n", name, ms, flops / (ms * 1e-3) / 1e12);
}
static void report_bytes(const char *name, double ms, double bytes) {
    printf("%-52s %9.3f ms  %8.1f GB/s\n", name, ms, bytes / (ms * 1e-3) / 1e9);
}

typedef struct Args {
    const YaCudaOps *ops;
    void *a, *b, *c, *d, *e, *f, *g;
    int M, K, N, T, h, V, n_h, n_kv, dh, chunk;
    size_t n;
} Args;

static void b_linear(void *p) {
    Args *a = p;
    a->ops->linear(g_ctx, a->c, a->a, a->b, NULL, YA_DTYPE_BF16, a->M, a->K, a->N, 0);
}
static void b_linear_bwd(void *p) {
    Args *a = p;
    a->ops->linear_backward(g_ctx, a->d, a->e, NULL, a->c, a->a, a->b, YA_DTYPE_BF16, a->M, a->K, a->N);
}
static void b_rmsnorm(void *p) {
    Args *a = p;
    a->ops->rmsnorm(g_ctx, a->c, a->d, a->a, a->b, a->M, a->h, 1e-5f);
}
static void b_rmsnorm_bwd(void *p) {
    Args *a = p;
    a->ops->rmsnorm_backward(g_ctx, a->e, NULL, a->c, a->a, a->b, a->d, a->M, a->h);
}
static void b_swiglu(void *p) {
    Args *a = p;
    a->ops->swiglu(g_ctx, a->c, a->a, a->b, a->n);
}
static void b_swiglu_bwd(void *p) { /* accumulating: dgate = d, dup = e */
    Args *a = p;
    a->ops->swiglu_backward(g_ctx, a->d, a->e, a->c, a->a, a->b, a->n);
}
static void b_swiglu_bwd_set(void *p) {
    Args *a = p;
    a->ops->swiglu_backward_set(g_ctx, a->d, a->e, a->c, a->a, a->b, a->n);
}
static void b_add(void *p) {
    Args *a = p;
    a->ops->add(g_ctx, a->d, a->a, a->n);
}
static void b_to_bf16(void *p) { /* f = fp32 source */
    Args *a = p;
    a->ops->to_bf16(g_ctx, a->d, a->f, YA_DTYPE_F32, a->n);
}
static void b_rope_bwd(void *p) {
    Args *a = p;
    a->ops->rope_backward(g_ctx, a->a, a->b, a->c, a->T, a->n_h, a->dh);
}
static void b_rope(void *p) {
    Args *a = p;
    a->ops->rope(g_ctx, a->a, a->b, a->c, a->T, a->n_h, a->dh);
}
static void b_attn(void *p) {
    Args *a = p;
    a->ops->attention(g_ctx, a->d, a->e, a->a, a->b, a->c, a->T, a->T, 0, a->n_h, a->n_kv, a->dh);
}
static void b_attn_bwd(void *p) {
    Args *a = p;
    a->ops->attention_backward(g_ctx, a->f, a->g, a->g, a->d, a->e, a->d, a->a, a->b, a->c, a->T, a->T, 0, a->n_h,
                               a->n_kv, a->dh);
}
static void b_attn_bwd_dq(void *p) { /* the dq kernel alone (dk = dv = NULL) */
    Args *a = p;
    a->ops->attention_backward(g_ctx, a->f, NULL, NULL, a->d, a->e, a->d, a->a, a->b, a->c, a->T, a->T, 0, a->n_h,
                               a->n_kv, a->dh);
}
static void b_attn_bwd_dkdv(void *p) { /* the dk/dv kernel alone (dq = NULL) */
    Args *a = p;
    a->ops->attention_backward(g_ctx, NULL, a->g, a->g, a->d, a->e, a->d, a->a, a->b, a->c, a->T, a->T, 0, a->n_h,
                               a->n_kv, a->dh);
}
static void b_attn_ref(void *p) {
    Args *a = p;
    ya_cuda_attention_reference(g_ctx, a->d, a->e, a->a, a->b, a->c, a->T, a->T, 0, a->n_h, a->n_kv, a->dh);
}
static void b_attn_bwd_ref(void *p) {
    Args *a = p;
    ya_cuda_attention_backward_reference(g_ctx, a->f, a->g, a->g, a->d, a->e, a->d, a->a, a->b, a->c, a->T, a->T, 0,
                                         a->n_h, a->n_kv, a->dh);
}
static void b_ce(void *p) { /* dw = a->e: NULL for LoRA (frozen head) */
    Args *a = p;
    a->ops->cross_entropy(g_ctx, NULL, a->d, a->e, a->a, a->b, YA_DTYPE_BF16, a->c, a->f, a->T, a->h, a->V,
                          a->chunk, a->g);
}
static void b_ce_eval(void *p) { /* logits + log-sum-exp only */
    Args *a = p;
    a->ops->cross_entropy(g_ctx, NULL, NULL, NULL, a->a, a->b, YA_DTYPE_BF16, a->c, a->f, a->T, a->h, a->V,
                          a->chunk, a->g);
}
static void b_adamw(void *p) {
    Args *a = p;
    a->ops->adamw(g_ctx, 0, 0.9, 0.999, 1e-8, 0.01, 10, 1e-4, a->a, a->b, a->c, a->d, a->n);
}
static void b_norm(void *p) {
    Args *a = p;
    a->ops->grad_global_norm(g_ctx, a->b, a->n);
}

int main(void) {
    YaError err;
    if (ya_cuda_create(&g_ctx, 0, (size_t)6 << 30, &err)) {
        printf("SKIP: %s\n", err.message);
        return 77;
    }
    printf("device: %s\n", ya_cuda_info(g_ctx)->name);
    YaRng rng;
    ya_rng_seed(&rng, 1234, "cuda_ops_bench");
    g_pool_bf16 = malloc(k_pool * 2);
    g_pool_f32 = malloc(k_pool * 4);
    for (size_t i = 0; i < k_pool; i++) {
        g_pool_f32[i] = 0.5f * (2.0f * ya_rng_uniform_f32(&rng) - 1.0f);
        g_pool_bf16[i] = ya_f32_to_bf16(g_pool_f32[i]);
    }
    const YaCudaOps *ops = ya_backend_cuda();
    const int T = 4096, h = 4096, f = 11008, n_h = 32, dh = 128, V = 32000;
    char name[96];

    /* GEMMs: q/k/v/o-sized and MLP-sized projections */
    int shapes[2][3] = {{T, h, h}, {T, h, f}};
    for (int s = 0; s < 2; s++) {
        size_t mark = ya_cuda_mark(g_ctx);
        Args a = {.ops = ops, .M = shapes[s][0], .K = shapes[s][1], .N = shapes[s][2]};
        a.a = rand_dev((size_t)a.M * a.K, 0, "x");
        a.b = rand_dev((size_t)a.N * a.K, 0, "w");
        a.c = rand_dev((size_t)a.M * a.N, 0, "y");
        a.d = rand_dev((size_t)a.M * a.K, 0, "dx");
        a.e = rand_dev((size_t)a.N * a.K, 1, "dw");
        double fl = 2.0 * a.M * a.N * a.K;
        snprintf(name, sizeof name, "linear bf16 %dx%dx%d", a.M, a.K, a.N);
        report_flops(name, time_ms(b_linear, &a, 10), fl);
        snprintf(name, sizeof name, "linear_backward bf16 (dx + dw f32) %dx%dx%d", a.M, a.K, a.N);
        report_flops(name, time_ms(b_linear_bwd, &a, 10), 2 * fl);
        ya_cuda_release(g_ctx, mark);
    }
    {
        size_t mark = ya_cuda_mark(g_ctx);
        Args a = {.ops = ops, .M = T, .h = h};
        a.a = rand_dev((size_t)T * h, 0, "x");
        a.b = rand_dev((size_t)h, 0, "w");
        a.c = rand_dev((size_t)T * h, 0, "y");
        a.d = rand_dev((size_t)T, 1, "rstd");
        a.e = rand_dev((size_t)T * h, 0, "dx");
        snprintf(name, sizeof name, "rmsnorm %dx%d", T, h);
        report_bytes(name, time_ms(b_rmsnorm, &a, 50), 4.0 * T * h);
        ops->rmsnorm(g_ctx, a.c, a.d, a.a, a.b, T, h, 1e-5f); /* a real rstd for the backward */
        snprintf(name, sizeof name, "rmsnorm_backward (dx) %dx%d", T, h);
        report_bytes(name, time_ms(b_rmsnorm_bwd, &a, 50), 8.0 * T * h);
        ya_cuda_release(g_ctx, mark);
    }
    {
        size_t mark = ya_cuda_mark(g_ctx);
        Args a = {.ops = ops, .n = (size_t)T * f};
        a.a = rand_dev(a.n, 0, "gate");
        a.b = rand_dev(a.n, 0, "up");
        a.c = rand_dev(a.n, 0, "out");
        snprintf(name, sizeof name, "swiglu n=%zu", a.n);
        report_bytes(name, time_ms(b_swiglu, &a, 50), 6.0 * a.n);
        ya_cuda_release(g_ctx, mark);
    }
    {
        size_t mark = ya_cuda_mark(g_ctx);
        Args a = {.ops = ops, .T = T, .n_h = n_h, .dh = dh};
        a.a = rand_dev((size_t)T * n_h * dh, 0, "x");
        a.b = rand_dev((size_t)T * dh / 2, 1, "cos");
        a.c = rand_dev((size_t)T * dh / 2, 1, "sin");
        snprintf(name, sizeof name, "rope T%d h%d d%d", T, n_h, dh);
        report_bytes(name, time_ms(b_rope, &a, 50), 4.0 * T * n_h * dh);
        ya_cuda_release(g_ctx, mark);
    }
    {
        /* Llama-3-8B element-wise shapes (B1 × T2048: BT = 2048, h = 4096, f = 14336,
         * 32 q / 8 kv heads of 128) as the training step runs them; GB/s of compulsory
         * traffic. "odd" rows pass every pointer one bf16 element off 16-byte
         * alignment: the scalar fallback kernels, for comparison. */
        const int BT = 2048, h8 = 4096, f8 = 14336;
        size_t mark = ya_cuda_mark(g_ctx), nf = (size_t)BT * f8, nh = (size_t)BT * h8;
        Args a = {.ops = ops, .n = nf};
        a.a = rand_dev(nf + 8, 0, "gate"); /* + 8: room for the odd-offset views */
        a.b = rand_dev(nf + 8, 0, "up");
        a.c = rand_dev(nf + 8, 0, "dout");
        a.d = rand_dev(nf + 8, 0, "dgate");
        a.e = rand_dev(nf + 8, 0, "dup");
        a.f = rand_dev(nf + 8, 1, "f32");
        Args o = a; /* the odd views */
        o.a = (char *)a.a + 2, o.b = (char *)a.b + 2, o.c = (char *)a.c + 2, o.d = (char *)a.d + 2;
        o.e = (char *)a.e + 2, o.f = (char *)a.f + 4;
        for (int odd = 0; odd < 2; odd++) {
            Args *p = odd ? &o : &a;
            const char *tag = odd ? " odd (scalar)" : "";
            snprintf(name, sizeof name, "8B swiglu n=%zu%s", nf, tag);
            report_bytes(name, time_ms(b_swiglu, p, 50), 6.0 * nf);
            snprintf(name, sizeof name, "8B swiglu_backward_set n=%zu%s", nf, tag);
            report_bytes(name, time_ms(b_swiglu_bwd_set, p, 50), 10.0 * nf);
            snprintf(name, sizeof name, "8B swiglu_backward (+=) n=%zu%s", nf, tag);
            report_bytes(name, time_ms(b_swiglu_bwd, p, 50), 14.0 * nf);
        }
        for (int odd = 0; odd < 2; odd++) {
            Args v = odd ? o : a; /* the residual-sized [BT, h] ops */
            v.n = nh;
            const char *tag = odd ? " odd (scalar)" : "";
            snprintf(name, sizeof name, "8B add n=%zu%s", nh, tag);
            report_bytes(name, time_ms(b_add, &v, 50), 6.0 * nh);
            snprintf(name, sizeof name, "8B to_bf16 F32 n=%zu%s", nh, tag);
            report_bytes(name, time_ms(b_to_bf16, &v, 50), 6.0 * nh);
        }
        ya_cuda_release(g_ctx, mark);

        /* RMSNorm 2048×4096: x = a, w = b, y = c, rstd = d, dx = e */
        mark = ya_cuda_mark(g_ctx);
        Args r = {.ops = ops, .M = BT, .h = h8};
        r.a = rand_dev(nh + 8, 0, "x");
        r.b = rand_dev((size_t)h8 + 8, 0, "w");
        r.c = rand_dev(nh + 8, 0, "y");
        r.d = rand_dev((size_t)BT, 1, "rstd");
        r.e = rand_dev(nh + 8, 0, "dx");
        ops->rmsnorm(g_ctx, r.c, r.d, r.a, r.b, BT, h8, 1e-5f); /* a real rstd for the backward */
        Args ro = r;
        ro.a = (char *)r.a + 2, ro.b = (char *)r.b + 2, ro.c = (char *)r.c + 2, ro.e = (char *)r.e + 2;
        for (int odd = 0; odd < 2; odd++) {
            Args *p = odd ? &ro : &r;
            const char *tag = odd ? " odd (scalar)" : "";
            snprintf(name, sizeof name, "8B rmsnorm %dx%d%s", BT, h8, tag);
            report_bytes(name, time_ms(b_rmsnorm, p, 100), 4.0 * nh);
            snprintf(name, sizeof name, "8B rmsnorm_backward (dx) %dx%d%s", BT, h8, tag);
            report_bytes(name, time_ms(b_rmsnorm_bwd, p, 100), 8.0 * nh);
        }
        ya_cuda_release(g_ctx, mark);

        /* RoPE on q [2048, 32·128] (and k: 8 heads): x = a, cos = b, sin = c */
        mark = ya_cuda_mark(g_ctx);
        Args q = {.ops = ops, .T = BT, .n_h = n_h, .dh = dh};
        q.a = rand_dev((size_t)BT * n_h * dh + 8, 0, "q");
        q.b = rand_dev((size_t)BT * dh / 2, 1, "cos");
        q.c = rand_dev((size_t)BT * dh / 2, 1, "sin");
        Args qo = q;
        qo.a = (char *)q.a + 2;
        for (int odd = 0; odd < 2; odd++) {
            Args *p = odd ? &qo : &q;
            const char *tag = odd ? " odd (scalar)" : "";
            for (int kv = 0; kv < 2; kv++) {
                Args t = *p;
                t.n_h = kv ? 8 : n_h;
                double bytes = 4.0 * BT * t.n_h * dh + 8.0 * BT * dh / 2; /* x in and out + both tables */
                snprintf(name, sizeof name, "8B rope T%d h%d d%d%s", BT, t.n_h, dh, tag);
                report_bytes(name, time_ms(b_rope, &t, 100), bytes);
                snprintf(name, sizeof name, "8B rope_backward T%d h%d d%d%s", BT, t.n_h, dh, tag);
                report_bytes(name, time_ms(b_rope_bwd, &t, 100), bytes);
            }
        }
        ya_cuda_release(g_ctx, mark);
    }
    {
        /* Attention: one sequence of 2048 (the training graph calls it per document),
         * Llama-3-8B heads (32 × 128, 8 kv heads) and Llama-3.2-1B heads (32 × 64, 8 kv
         * heads); the flash kernels behind the op table, then the warp reference on
         * the first shape for comparison. FLOPs counted causally (QKᵀ and PV over the
         * T(T+1)/2 visible pairs; the backward as 2.5× the forward). */
        int Ts = 2048;
        const int att_shapes[3][3] = {{n_h, 8, dh}, {n_h, 8, 64}, {n_h, n_h, dh}}; /* n_h, n_kv, d */
        for (int sh = 0; sh < 3; sh++) {
            int nh = att_shapes[sh][0], nkv = att_shapes[sh][1], d = att_shapes[sh][2];
            size_t mark = ya_cuda_mark(g_ctx), nq = (size_t)Ts * nh * d, nk = (size_t)Ts * nkv * d;
            Args a = {.ops = ops, .T = Ts, .n_h = nh, .n_kv = nkv, .dh = d};
            a.a = rand_dev(nq, 0, "q");
            a.b = rand_dev(nk, 0, "k");
            a.c = rand_dev(nk, 0, "v");
            a.d = rand_dev(nq, 0, "out");
            a.e = rand_dev((size_t)nh * Ts, 1, "lse");
            a.f = rand_dev(nq, 0, "dq");
            a.g = rand_dev(nk, 0, "dkdv");
            ops->attention(g_ctx, a.d, a.e, a.a, a.b, a.c, Ts, Ts, 0, nh, nkv, d); /* a real out and lse */
            double fl = 4.0 * nh * d * ((double)Ts * (Ts + 1) / 2);
            snprintf(name, sizeof name, "attention (flash) T%d h%d/%d d%d, causal", Ts, nh, nkv, d);
            report_flops(name, time_ms(b_attn, &a, 10), fl);
            snprintf(name, sizeof name, "attention_backward (flash) T%d h%d/%d d%d", Ts, nh, nkv, d);
            report_flops(name, time_ms(b_attn_bwd, &a, 10), 2.5 * fl);
            if (sh == 0) {
                /* the backward's two kernels, FLOPs as they compute them: dq 3 GEMMs
                 * (q·kᵀ, dout·vᵀ, dS·k), dk/dv 4 (k·qᵀ, v·doutᵀ, Pᵀ·dout, dSᵀ·q) */
                snprintf(name, sizeof name, "  of which dq (3 GEMMs)");
                report_flops(name, time_ms(b_attn_bwd_dq, &a, 10), 1.5 * fl);
                snprintf(name, sizeof name, "  of which dk, dv (4 GEMMs)");
                report_flops(name, time_ms(b_attn_bwd_dkdv, &a, 10), 2.0 * fl);
                snprintf(name, sizeof name, "attention (warp reference) T%d h%d/%d d%d", Ts, nh, nkv, d);
                report_flops(name, time_ms(b_attn_ref, &a, 1), fl);
                snprintf(name, sizeof name, "attention_backward (warp reference) T%d h%d/%d d%d", Ts, nh, nkv, d);
                report_flops(name, time_ms(b_attn_bwd_ref, &a, 1), 2.5 * fl);
            }
            ya_cuda_release(g_ctx, mark);
        }
    }
    {
        /* Cross-entropy (lm_head fused): the Llama-7B shape of the table above (dx + dw),
         * then Llama-3-8B (2048 rows a micro-batch) and Llama-3.2-1B (B4 × T2048 rows), V =
         * 128256, as the LoRA training graph calls it (dw = NULL) and with dw. FLOPs: 2·T·h·V
         * per GEMM, the GEMMs the op runs (logits, dx, dw). Then the op's GEMMs alone at
         * its row block (Tb = 512 for these shapes: ce_rows in cuda_cross_entropy.cu),
         * through linear (bf16 out, where the op writes fp32), as a proxy for what the
         * cuBLASLt heuristic makes of them. */
        const int ce_shapes[5][5] = {/* T, h, V, chunk, with dw */
                                     {T, h, V, 8192, 1},
                                     {2048, 4096, 128256, 4096, 0},
                                     {2048, 4096, 128256, 4096, 1},
                                     {8192, 2048, 128256, 4096, 0},
                                     {8192, 2048, 128256, 4096, 1}};
        for (int sh = 0; sh < 5; sh++) {
            int Tc = ce_shapes[sh][0], hc = ce_shapes[sh][1], Vc = ce_shapes[sh][2], with_dw = ce_shapes[sh][4];
            size_t mark = ya_cuda_mark(g_ctx);
            Args a = {.ops = ops, .T = Tc, .h = hc, .V = Vc, .chunk = ce_shapes[sh][3]};
            a.a = rand_dev((size_t)Tc * hc, 0, "x");
            a.b = rand_dev((size_t)Vc * hc, 0, "lm_head");
            int32_t *tg = malloc((size_t)Tc * 4);
            float *wt = malloc((size_t)Tc * 4);
            for (int t = 0; t < Tc; t++) {
                tg[t] = (int32_t)ya_rng_below(&rng, (uint64_t)Vc);
                wt[t] = 1.0f / Tc;
            }
            a.c = dalloc((size_t)Tc * 4, "targets");
            a.f = dalloc((size_t)Tc * 4, "weights");
            ya_cuda_upload(g_ctx, a.c, tg, (size_t)Tc * 4);
            ya_cuda_upload(g_ctx, a.f, wt, (size_t)Tc * 4);
            a.d = rand_dev((size_t)Tc * hc, 0, "dx");
            a.e = with_dw ? rand_dev((size_t)Vc * hc, 1, "dw") : NULL;
            a.g = dalloc(ops->cross_entropy_scratch(Tc, hc, Vc, a.chunk) * sizeof(float), "scratch");
            double gemm = 2.0 * Tc * hc * Vc;
            if (!with_dw) {
                snprintf(name, sizeof name, "cross_entropy eval T%d h%d V%d C%d", Tc, hc, Vc, a.chunk);
                report_flops(name, time_ms(b_ce_eval, &a, 3), gemm);
            }
            snprintf(name, sizeof name, "cross_entropy fwd+bwd T%d h%d V%d C%d%s", Tc, hc, Vc, a.chunk,
                     with_dw ? " +dw" : "");
            report_flops(name, time_ms(b_ce, &a, 3), gemm * (with_dw ? 3 : 2));
            free(tg), free(wt);
            ya_cuda_release(g_ctx, mark);
            if (sh == 1 || sh == 3) { /* the op's GEMM shapes at Tb = 512 rows */
                mark = ya_cuda_mark(g_ctx);
                const int Tb = 512;
                Args g = {.ops = ops, .M = Tb, .K = hc, .N = Vc};
                g.a = rand_dev((size_t)Tb * hc, 0, "x_blk");
                g.b = rand_dev((size_t)Vc * hc, 0, "lm_head");
                g.c = rand_dev((size_t)Tb * Vc, 0, "logits / dlogits");
                g.d = rand_dev((size_t)Tb * hc, 0, "dx_blk");
                g.e = rand_dev((size_t)Vc * hc, 1, "dw");
                double fl = 2.0 * Tb * hc * Vc;
                snprintf(name, sizeof name, "  proxy: logits GEMM %dx%dx%d", Tb, hc, Vc);
                report_flops(name, time_ms(b_linear, &g, 10), fl);
                snprintf(name, sizeof name, "  proxy: dx + dw GEMMs %dx%dx%d", Tb, hc, Vc);
                report_flops(name, time_ms(b_linear_bwd, &g, 10), 2 * fl);
                g.e = NULL;
                snprintf(name, sizeof name, "  proxy: dx GEMM (k = V) %dx%dx%d", Tb, hc, Vc);
                report_flops(name, time_ms(b_linear_bwd, &g, 10), fl);
                ya_cuda_release(g_ctx, mark);
            }
        }
    }
    {
        size_t mark = ya_cuda_mark(g_ctx);
        Args a = {.ops = ops, .n = (size_t)40 << 20};
        a.a = rand_dev(a.n, 1, "p");
        a.b = rand_dev(a.n, 1, "g");
        a.c = rand_dev(a.n, 1, "m");
        a.d = rand_dev(a.n, 1, "v");
        snprintf(name, sizeof name, "adamw n=%zu", a.n);
        report_bytes(name, time_ms(b_adamw, &a, 20), 28.0 * a.n);
        snprintf(name, sizeof name, "grad_global_norm n=%zu (incl. sync + 8-byte copy)", a.n);
        report_bytes(name, time_ms(b_norm, &a, 20), 4.0 * a.n);
        ya_cuda_release(g_ctx, mark);
    }
    ya_cuda_destroy(g_ctx);
    free(g_pool_bf16), free(g_pool_f32);
    return 0;
}
