/* manifest.c — MANIFEST.sha256 writing and verification (see manifest.h). */
#define _POSIX_C_SOURCE 200809L
#include "your_ai/manifest.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/fileio.h"
#include "your_ai/sha256.h"

int ya_sha256_file(const char *path, char hex[65], YaError *err) {
    FILE *fp = ya_fopen_input(path, err);
    if (!fp) return YA_ERR;
    YaSha256 ctx;
    ya_sha256_init(&ctx);
    static const size_t chunk = 1 << 20;
    unsigned char *buf = malloc(chunk);
    if (!buf) { fclose(fp); return ya_fail(err, YA_ERR, "%s: out of memory", path); }
    size_t n;
    while ((n = fread(buf, 1, chunk, fp)) > 0) ya_sha256_update(&ctx, buf, n);
    int bad = ferror(fp);
    fclose(fp);
    free(buf);
    if (bad) return ya_fail(err, YA_ERR, "%s: read error", path);
    uint8_t digest[32];
    ya_sha256_final(&ctx, digest);
    ya_digest_to_hex(digest, hex);
    return YA_OK;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int ya_manifest_write(const char *dir, YaError *err) {
    DIR *d = opendir(dir);
    if (!d) return ya_fail(err, YA_ERR, "%s: cannot list: %s", dir, strerror(errno));
    char *names[64];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, YA_MANIFEST_NAME) == 0) continue;
        if (n == sizeof names / sizeof names[0]) { n++; break; }
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    if (n > sizeof names / sizeof names[0]) {
        for (size_t i = 0; i + 1 < n; i++) free(names[i]);
        return ya_fail(err, YA_ERR, "%s: more than %zu files to list in %s", dir, sizeof names / sizeof names[0],
                       YA_MANIFEST_NAME);
    }
    qsort(names, n, sizeof names[0], cmp_str);
    size_t cap = n * (64 + 2 + 256 + 1) + 1, len = 0;
    char *text = malloc(cap);
    int rc = text ? YA_OK : ya_fail(err, YA_ERR, "%s: out of memory", dir);
    for (size_t i = 0; !rc && i < n; i++) {
        char path[4352], hex[65];
        if (!names[i] || strlen(names[i]) > 255) { rc = ya_fail(err, YA_ERR, "%s: bad file name", dir); break; }
        rc = ya_path_join(path, sizeof path, dir, names[i], err) || ya_sha256_file(path, hex, err);
        if (!rc) len += (size_t)snprintf(text + len, cap - len, "%s  %s\n", hex, names[i]);
    }
    if (!rc) {
        char path[4352];
        rc = ya_path_join(path, sizeof path, dir, YA_MANIFEST_NAME, err) || ya_write_file_atomic(path, text, len, err);
    }
    free(text);
    for (size_t i = 0; i < n; i++) free(names[i]);
    return rc ? YA_ERR : YA_OK;
}

int ya_manifest_verify(const char *dir, const char *const *required, size_t n_required, YaError *err) {
    char path[4352];
    if (ya_path_join(path, sizeof path, dir, YA_MANIFEST_NAME, err)) return YA_ERR;
    char *text = NULL;
    size_t len = 0;
    if (ya_read_file(path, &text, &len, err)) return YA_ERR;
    unsigned char *seen = calloc(n_required ? n_required : 1, 1);
    if (!seen) { free(text); return ya_fail(err, YA_ERR, "%s: out of memory", path); }
    int rc = YA_OK, line_no = 0;
    for (char *line = text; *line && !rc;) {
        char *nl = strchr(line, '\n');
        line_no++;
        if (!nl) { rc = ya_fail(err, YA_ERR, "%s:%d: truncated line", path, line_no); break; }
        *nl = '\0';
        /* "<64 hex>  <name>" */
        size_t n = strlen(line);
        int ok = n > 66 && line[64] == ' ' && line[65] == ' ';
        for (int i = 0; ok && i < 64; i++) ok = strchr("0123456789abcdef", line[i]) && line[i];
        const char *name = line + 66;
        if (!ok || strchr(name, '/') || name[0] == '.') {
            rc = ya_fail(err, YA_ERR, "%s:%d: expected '<64 hex>  <file name>'", path, line_no);
            break;
        }
        char fpath[4352], hex[65];
        if (ya_path_join(fpath, sizeof fpath, dir, name, err)) { rc = YA_ERR; break; }
        if (!ya_path_exists(fpath)) { rc = ya_fail(err, YA_ERR, "%s: %s is listed in the manifest but missing", dir, name); break; }
        if (ya_sha256_file(fpath, hex, err)) { rc = YA_ERR; break; }
        if (memcmp(hex, line, 64) != 0) {
            rc = ya_fail(err, YA_ERR, "%s: %s: sha256 %s does not match the manifest (%.64s)", dir, name, hex, line);
            break;
        }
        for (size_t i = 0; i < n_required; i++)
            if (strcmp(name, required[i]) == 0) seen[i] = 1;
        line = nl + 1;
    }
    free(text);
    for (size_t i = 0; !rc && i < n_required; i++)
        if (!seen[i]) rc = ya_fail(err, YA_ERR, "%s: %s does not list %s", dir, YA_MANIFEST_NAME, required[i]);
    free(seen);
    return rc;
}
