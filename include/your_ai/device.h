/* device.h — where a command computes: `--device cpu|cuda|auto` (train,
 * forward, generate, validate). auto picks the first GPU when this build has
 * the CUDA backend and a GPU is visible, else the CPU (and says which). */
#ifndef YOUR_AI_DEVICE_H
#define YOUR_AI_DEVICE_H

#include "your_ai/error.h"

typedef enum YaDevice { YA_DEVICE_CPU = 0, YA_DEVICE_CUDA = 1 } YaDevice;

/* "cpu" | "cuda" | "auto" → a concrete device. "cuda" on a build without the
 * CUDA backend, or with no visible GPU, is an error (YA_ERR, naming why);
 * an unknown name is YA_ERR_USAGE naming the flag. */
int ya_device_resolve(const char *name, YaDevice *out, YaError *err);
const char *ya_device_name(YaDevice d);

#endif
