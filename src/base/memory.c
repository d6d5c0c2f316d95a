/* memory.c — resident-memory readers from /proc/self/status (see memory.h). */
#include "your_ai/memory.h"

#include <stdio.h>
#include <string.h>

/* Value of a "Key:   1234 kB" line of /proc/self/status in bytes, 0 if absent. */
static uint64_t proc_status_kb(const char *key) {
    FILE *fp = fopen("/proc/self/status", "r");
    if (!fp) return 0;
    char line[256];
    size_t klen = strlen(key);
    uint64_t bytes = 0;
    while (fgets(line, sizeof line, fp)) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            unsigned long long kb = 0;
            if (sscanf(line + klen + 1, "%llu", &kb) == 1) bytes = (uint64_t)kb * 1024u;
            break;
        }
    }
    fclose(fp);
    return bytes;
}

uint64_t ya_mem_peak_rss(void) { return proc_status_kb("VmHWM"); }
uint64_t ya_mem_current_rss(void) { return proc_status_kb("VmRSS"); }

char *ya_mem_format(uint64_t bytes, char *out, size_t cap) {
    const double gib = 1024.0 * 1024.0 * 1024.0, mib = 1024.0 * 1024.0;
    if (bytes >= (uint64_t)gib) snprintf(out, cap, "%.1f GiB", (double)bytes / gib);
    else snprintf(out, cap, "%.0f MiB", (double)bytes / mib);
    return out;
}
