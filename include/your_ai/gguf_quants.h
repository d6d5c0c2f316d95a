/* gguf_quants.h — ggml's block-quantized tensor formats that our GGUF exporter
 * writes, with llama.cpp's reference quantizers (the *_ref algorithms its
 * llama-quantize uses when no importance matrix is given), reproduced bit for
 * bit, and the matching dequantizers. A row of n values is n / block_size
 * blocks; every block is self-contained:
 *   Q8_0  32 values, 34 bytes: fp16 d, int8 q[32]                    x = d·q
 *   Q5_0  32 values, 22 bytes: fp16 d, qh[4], qs[16]                 x = d·(q − 16)
 *   Q5_1  32 values, 24 bytes: fp16 d, fp16 m, qh[4], qs[16]         x = d·q + m
 *   Q4_K 256 values, 144 bytes: fp16 d, fp16 dmin, scales[12], qs[128]
 *   Q5_K 256 values, 176 bytes: fp16 d, fp16 dmin, scales[12], qh[32], qs[128]
 *        8 sub-blocks of 32, each x = d·sc·q − dmin·m with 6-bit sc, m
 *   Q6_K 256 values, 210 bytes: ql[128], qh[64], int8 scales[16], fp16 d
 *        16 sub-blocks of 16, each x = d·scale·(q − 32) with 6-bit q
 * docs/DEPLOY.md says which tensors get which type. */
#ifndef YOUR_AI_GGUF_QUANTS_H
#define YOUR_AI_GGUF_QUANTS_H

#include <stddef.h>
#include <stdint.h>

/* Values per block (1 for F32/F16/BF16), 0 for a type we do not know. */
int ya_ggml_block_size(int type);
/* Bytes per block (per element for F32/F16/BF16), 0 for a type we do not know. */
size_t ya_ggml_block_bytes(int type);

/* n floats (a multiple of the block size) → n / block_size blocks of `type`
 * (Q8_0, Q5_0, Q5_1, Q4_K, Q5_K or Q6_K). Returns the bytes written, 0 if the
 * type is not a block type we quantize or n is not a whole number of blocks. */
size_t ya_ggml_quantize(int type, const float *x, void *dst, int64_t n);

/* The inverse: n values of a quantized (or F32/F16/BF16) buffer → n floats.
 * Returns 0 on success, -1 for an unknown type or a partial block. */
int ya_ggml_dequantize(int type, const void *src, float *y, int64_t n);

/* The individual formats (n a multiple of the block size). */
void ya_quantize_q5_0(const float *x, uint8_t *dst, int64_t n);
void ya_quantize_q5_1(const float *x, uint8_t *dst, int64_t n);
void ya_quantize_q4_k(const float *x, uint8_t *dst, int64_t n);
void ya_quantize_q5_k(const float *x, uint8_t *dst, int64_t n);
void ya_quantize_q6_k(const float *x, uint8_t *dst, int64_t n);
void ya_dequantize_q5_0(const uint8_t *src, float *y, int64_t n);
void ya_dequantize_q5_1(const uint8_t *src, float *y, int64_t n);
void ya_dequantize_q4_k(const uint8_t *src, float *y, int64_t n);
void ya_dequantize_q5_k(const uint8_t *src, float *y, int64_t n);
void ya_dequantize_q6_k(const uint8_t *src, float *y, int64_t n);

#endif
