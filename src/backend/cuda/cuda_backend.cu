/* cuda_backend.cu — the CUDA op table (YaCudaOps, cuda_ops.h): the same op
 * list as the CPU table in cpu_backend.c, gathered from the per-family files
 * (cuda_matmul.cu, cuda_norm.cu, cuda_rope.cu, cuda_attention.cu, cuda_activation.cu,
 * cuda_embedding.cu, cuda_cross_entropy.cu, cuda_optimizer.cu). */
#include "backend/cuda/cuda_internal.h"

static YaCudaOps make_ops() {
    YaCudaOps o = {};
    o.name = "cuda";
    o.linear = ya_cuda_linear;
    o.linear_backward = ya_cuda_linear_backward;
    o.rmsnorm = ya_cuda_rmsnorm;
    o.rmsnorm_backward = ya_cuda_rmsnorm_backward;
    o.rope = ya_cuda_rope;
    o.rope_backward = ya_cuda_rope_backward;
    o.attention = ya_cuda_attention;
    o.attention_backward = ya_cuda_attention_backward;
    o.swiglu = ya_cuda_swiglu;
    o.swiglu_backward = ya_cuda_swiglu_backward;
    o.swiglu_backward_set = ya_cuda_swiglu_backward_set;
    o.add = ya_cuda_add;
    o.embedding = ya_cuda_embedding;
    o.embedding_backward = ya_cuda_embedding_backward;
    o.cross_entropy = ya_cuda_cross_entropy;
    o.cross_entropy_scratch = ya_cuda_cross_entropy_scratch;
    o.to_f32 = ya_cuda_to_f32;
    o.to_bf16 = ya_cuda_to_bf16;
    o.scale = ya_cuda_scale;
    o.dropout = ya_cuda_dropout;
    o.adamw = ya_cuda_adamw;
    o.grad_global_norm = ya_cuda_grad_global_norm;
    o.grad_scale = ya_cuda_grad_scale;
    o.grad_accumulate = ya_cuda_grad_accumulate;
    return o;
}

/* Built once at static-initialisation time and read-only afterwards. */
static const YaCudaOps k_cuda_ops = make_ops();

extern "C" const YaCudaOps *ya_backend_cuda(void) { return &k_cuda_ops; }
