/* sha256.h — SHA-256 (FIPS 180-4), used for dedup keys, manifests and model identity. */
#ifndef YOUR_AI_SHA256_H
#define YOUR_AI_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct YaSha256 {
    uint32_t h[8];
    uint64_t total_len;
    uint8_t block[64];
    size_t block_len;
} YaSha256;

void ya_sha256_init(YaSha256 *ctx);
void ya_sha256_update(YaSha256 *ctx, const void *data, size_t len);
void ya_sha256_final(YaSha256 *ctx, uint8_t digest[32]);

/* One-shot helpers. hex must hold 65 bytes (64 hex digits + NUL). */
void ya_sha256(const void *data, size_t len, uint8_t digest[32]);
void ya_sha256_hex(const void *data, size_t len, char hex[65]);
void ya_digest_to_hex(const uint8_t digest[32], char hex[65]);

#endif
