/* manifest.h — MANIFEST.sha256, the integrity list of a directory's files.
 *
 * One line per file, "<64 lowercase hex>  <name>\n", sorted by name: the
 * format `sha256sum -c` reads. Training checkpoints carry one (written last,
 * so its presence marks the directory complete); every reader of a checkpoint
 * (resume, and the adapter loader behind export/forward/generate/validate)
 * verifies it, so a corrupted or half-copied checkpoint is never used. */
#ifndef YOUR_AI_MANIFEST_H
#define YOUR_AI_MANIFEST_H

#include <stddef.h>

#include "your_ai/error.h"

#define YA_MANIFEST_NAME "MANIFEST.sha256"

/* sha256 of a whole file as 64 hex digits + NUL. */
int ya_sha256_file(const char *path, char hex[65], YaError *err);

/* Writes dir/MANIFEST.sha256 (atomically) listing every other regular file of
 * dir whose name does not start with '.' (at most 64 files). */
int ya_manifest_write(const char *dir, YaError *err);

/* Verifies dir/MANIFEST.sha256: every listed file exists and has that sha256,
 * and each of the n_required names is listed. A mismatch names the directory,
 * the file and both hashes. The manifest must exist. */
int ya_manifest_verify(const char *dir, const char *const *required, size_t n_required, YaError *err);

#endif
