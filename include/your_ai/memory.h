/* memory.h — this process's resident memory, for the progress bar and logs.
 * Reads /proc/self/status (Linux); returns 0 where that is unavailable. */
#ifndef YOUR_AI_MEMORY_H
#define YOUR_AI_MEMORY_H

#include <stddef.h>
#include <stdint.h>

/* Peak resident set size (VmHWM) in bytes, or 0 if unknown. */
uint64_t ya_mem_peak_rss(void);
/* Current resident set size (VmRSS) in bytes, or 0 if unknown. */
uint64_t ya_mem_current_rss(void);

/* Formats bytes as "512 MiB" / "3.2 GiB" into out (cap ≥ 16). Returns out. */
char *ya_mem_format(uint64_t bytes, char *out, size_t cap);

#endif
