/* test_publish.c — ya_publish_*: outputs appear whole (staging beside OUT,
 * renamed or exchanged in), failures and aborts leave nothing (not even the
 * parents begin made), stale staging of a dead pid is removed, existing
 * outputs need force, and an output on top of an input is refused. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"
#include "your_ai/fileio.h"
#include "your_ai/publish.h"

static void put(const char *path, const char *text) {
    YaError err;
    CHECK_MSG(ya_write_file_atomic(path, text, strlen(text), &err) == YA_OK, "%s", err.message);
}

static int has(const char *path, const char *text) {
    char *buf = NULL;
    YaError err;
    if (ya_read_file(path, &buf, NULL, &err)) return 0;
    int same = strcmp(buf, text) == 0;
    free(buf);
    return same;
}

/* Writes OUT (a directory holding name = text, or the file itself) through the publisher. */
static int publish(const char *out, int is_file, int force, const char *name, const char *text, YaError *err) {
    YaPublish p;
    const char *const inputs[] = {"in", NULL};
    int rc = ya_publish_begin(&p, out, is_file, force, inputs, 2, err);
    if (rc) return rc;
    char path[4608];
    if (is_file) snprintf(path, sizeof path, "%s", p.target);
    else snprintf(path, sizeof path, "%s/%s", p.target, name);
    put(path, text);
    return ya_publish_commit(&p, err);
}

static int count_staging(const char *dir) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "test -z \"$(find %s -name '*.tmp-*' -o -name '*.old-*')\"", dir);
    return system(cmd) != 0;
}

int main(void) {
    char tmpl[] = "/tmp/ya_publish_XXXXXX";
    if (!mkdtemp(tmpl) || chdir(tmpl) != 0) return 1;
    YaError err;
    mkdir("in", 0755);
    put("in/weights", "input");

    /* a new directory with missing parents */
    CHECK_MSG(publish("a/b/out", 0, 0, "f", "one", &err) == YA_OK, "%s", err.message);
    CHECK(has("a/b/out/f", "one"));
    /* an existing non-empty one: refused without force, exchanged whole with it */
    CHECK(publish("a/b/out", 0, 0, "g", "two", &err) == YA_ERR && strstr(err.message, "give --force"));
    CHECK(has("a/b/out/f", "one"));
    CHECK_MSG(publish("a/b/out/", 0, 1, "g", "two", &err) == YA_OK, "%s", err.message);
    CHECK(has("a/b/out/g", "two") && !ya_path_exists("a/b/out/f"));
    /* an existing empty directory needs no force */
    mkdir("empty", 0755);
    CHECK_MSG(publish("empty", 0, 0, "f", "three", &err) == YA_OK, "%s", err.message);
    CHECK(has("empty/f", "three"));
    CHECK(count_staging(".") == 0);

    /* abort: nothing left, not even the parents begin made (but an existing one stays) */
    YaPublish p;
    CHECK_MSG(ya_publish_begin(&p, "x/y/out", 0, 0, NULL, 0, &err) == YA_OK, "%s", err.message);
    CHECK_STREQ(p.made_parent, "x");
    put("x/y/out.tmp-dummy", "not ours"); /* a name that is no pid: never removed */
    char path[4608];
    snprintf(path, sizeof path, "%s/f", p.target);
    put(path, "partial");
    ya_publish_abort(&p);
    CHECK(!ya_path_exists(p.staging) && ya_path_exists("x/y/out.tmp-dummy")); /* x/y holds a file: kept */
    unlink("x/y/out.tmp-dummy");
    CHECK_MSG(ya_publish_begin(&p, "x/y/out", 0, 0, NULL, 0, &err) == YA_OK, "%s", err.message);
    CHECK_STREQ(p.made_parent, ""); /* x/y was there before */
    ya_publish_abort(&p);
    CHECK(ya_is_dir("x/y"));
    rmdir("x/y");
    rmdir("x");
    CHECK_MSG(ya_publish_begin(&p, "x/y/out", 0, 0, NULL, 0, &err) == YA_OK, "%s", err.message);
    ya_publish_abort(&p);
    CHECK(!ya_path_exists("x"));
    CHECK(ya_publish_begin(&p, "a/b/out", 0, 1, NULL, 0, &err) == YA_OK);
    ya_publish_abort(&p);
    CHECK(has("a/b/out/g", "two"));

    /* a file output */
    CHECK_MSG(publish("g/m.gguf", 1, 0, NULL, "v1", &err) == YA_OK, "%s", err.message);
    CHECK(has("g/m.gguf", "v1"));
    CHECK(publish("g/m.gguf", 1, 0, NULL, "v2", &err) == YA_ERR && strstr(err.message, "give --force"));
    CHECK_MSG(publish("g/m.gguf", 1, 1, NULL, "v2", &err) == YA_OK, "%s", err.message);
    CHECK(has("g/m.gguf", "v2"));
    CHECK(publish("g", 1, 1, NULL, "v3", &err) == YA_ERR && strstr(err.message, "is a directory"));
    CHECK(count_staging(".") == 0);

    /* staging left by a process that is gone is removed by the next begin */
    pid_t child = fork();
    if (child == 0) _exit(0);
    waitpid(child, NULL, 0);
    char stale[64];
    snprintf(stale, sizeof stale, "a/b/out.tmp-%ld", (long)child);
    mkdir(stale, 0755);
    snprintf(path, sizeof path, "%s/shard", stale);
    put(path, "half");
    CHECK(ya_publish_begin(&p, "a/b/out", 0, 1, NULL, 0, &err) == YA_OK);
    CHECK(!ya_path_exists(stale));
    ya_publish_abort(&p);

    /* outputs on top of an input */
    CHECK(publish("in", 0, 1, "f", "x", &err) == YA_ERR_USAGE && strstr(err.message, "is the input in"));
    CHECK(publish("in/sub", 0, 1, "f", "x", &err) == YA_ERR_USAGE && strstr(err.message, "lies inside the input in"));
    CHECK(publish("in/weights", 1, 1, NULL, "x", &err) == YA_ERR_USAGE && strstr(err.message, "lies inside"));
    CHECK(publish(".", 0, 1, "f", "x", &err) == YA_ERR_USAGE && strstr(err.message, "contains the input in"));
    symlink("in", "link");
    CHECK(publish("link", 0, 1, "f", "x", &err) == YA_ERR_USAGE && strstr(err.message, "is the input in"));
    CHECK(has("in/weights", "input"));
    CHECK(count_staging(".") == 0);

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
    if (chdir("/") != 0 || system(cmd) != 0) return 1;
    TEST_MAIN_END();
}
