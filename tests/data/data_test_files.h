/* data_test_files.h — the scratch-file helper the data-loader tests share.
 * Each test sets g_scratch (its scratch directory) before writing. */
#ifndef YOUR_AI_DATA_TEST_FILES_H
#define YOUR_AI_DATA_TEST_FILES_H

#include <stdio.h>
#include <stdlib.h>

static const char *g_scratch;

/* Writes content to g_scratch/name and returns the path (valid for the next 15 calls). */
static const char *write_file(const char *name, const char *content) {
    static char paths[16][1024];
    static int next;
    char *p = paths[next++ % 16];
    snprintf(p, 1024, "%s/%s", g_scratch, name);
    FILE *fp = fopen(p, "wb");
    if (!fp) {
        fprintf(stderr, "cannot write %s\n", p);
        exit(1);
    }
    fputs(content, fp);
    fclose(fp);
    return p;
}

#endif
