/* tensorboard.h — a minimal TensorBoard event-file writer (scalars only).
 *
 * Writes logs/events.out.tfevents.<unix time>.<host> as TensorBoard reads it:
 * TFRecord framing (u64 length, masked CRC32C of the length, the bytes, masked
 * CRC32C of the bytes) around hand-encoded tensorflow.Event protobufs:
 *   Event { wall_time = 1 (double), step = 2 (int64),
 *           file_version = 3 (string "brain.Event:2") | summary = 5 (Summary) }
 *   Summary { value = 1 (repeated Value) }
 *   Value { tag = 1 (string), simple_value = 2 (float) }
 * The first record is the file_version event. No protobuf library needed. */
#ifndef YOUR_AI_TENSORBOARD_H
#define YOUR_AI_TENSORBOARD_H

#include <stddef.h>
#include <stdint.h>

#include "your_ai/error.h"

typedef struct YaTbWriter YaTbWriter;

/* Creates logdir (mkdir -p) and a new event file in it. wall_time (seconds
 * since the epoch; ≤ 0 = now) stamps the file name and the version record. */
int ya_tb_open(const char *logdir, double wall_time, YaTbWriter **out, YaError *err);

/* Appends one Event carrying n scalars (tags[i], values[i]) at step. wall_time
 * ≤ 0 means now. Flushed to the OS at once so TensorBoard sees it live. */
int ya_tb_scalars(YaTbWriter *w, int64_t step, double wall_time, size_t n, const char *const *tags,
                  const float *values, YaError *err);

/* Closes the file (after a flush). Safe on NULL. */
void ya_tb_close(YaTbWriter *w);

/* The event file's path. */
const char *ya_tb_path(const YaTbWriter *w);

/* CRC-32C (Castagnoli), and TFRecord's masking of it; exposed for tests. */
uint32_t ya_crc32c(const void *data, size_t len);
uint32_t ya_crc32c_masked(const void *data, size_t len);

#endif
