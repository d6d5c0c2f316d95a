/* publish.c — outputs swapped in whole from a staging directory beside them,
 * never over an input (see publish.h). */
#define _GNU_SOURCE /* renameat2, RENAME_EXCHANGE / RENAME_NOREPLACE */
#include "your_ai/publish.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "your_ai/fileio.h"
#include "your_ai/log.h"

/* path → its directory and last component (path has no trailing slash). */
static void split_path(const char *path, char *dir, size_t dcap, char *base, size_t bcap) {
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, dcap, ".");
    else if (slash == path) snprintf(dir, dcap, "/");
    else snprintf(dir, dcap, "%.*s", (int)(slash - path), path);
    snprintf(base, bcap, "%s", slash ? slash + 1 : path);
}

/* Drops trailing slashes; a last component "." or ".." becomes the real path
 * (rename cannot move "."). */
static int normalize_out(const char *out, char *norm, size_t cap, YaError *err) {
    size_t n = strlen(out);
    while (n > 1 && out[n - 1] == '/') n--;
    if (n == 0 || n >= cap) return ya_fail(err, YA_ERR_USAGE, "output path '%s' is empty or too long", out);
    memcpy(norm, out, n);
    norm[n] = '\0';
    const char *base = strrchr(norm, '/');
    base = base ? base + 1 : norm;
    if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || strcmp(norm, "/") == 0) {
        char *r = realpath(norm, NULL);
        if (!r) return ya_fail(err, YA_ERR, "%s: %s", out, strerror(errno));
        int bad = strcmp(r, "/") == 0 || strlen(r) >= cap;
        if (!bad) strcpy(norm, r);
        free(r);
        if (bad) return ya_fail(err, YA_ERR_USAGE, "%s: cannot be an output directory", out);
    }
    return YA_OK;
}

static int same_file(const struct stat *a, const struct stat *b) {
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* 1 if the absolute path `resolved` or one of its ancestors is the file `id`. */
static int is_under(const char *resolved, const struct stat *id) {
    char buf[PATH_MAX];
    snprintf(buf, sizeof buf, "%s", resolved);
    for (;;) {
        struct stat st;
        if (stat(buf, &st) == 0 && same_file(&st, id)) return 1;
        char *slash = strrchr(buf, '/');
        if (!slash || (slash == buf && buf[1] == '\0')) return 0;
        if (slash == buf) buf[1] = '\0';
        else *slash = '\0';
    }
}

/* OUT against one input directory (or file): refuses OUT == input, OUT inside
 * it, and OUT holding it or one of its files (symlinks resolved: a Hugging Face
 * cache snapshot's files point into ../../blobs). */
static int check_input(const YaPublish *p, const char *existing_ancestor, const char *input, YaError *err) {
    char in_real[PATH_MAX], out_dir_real[PATH_MAX];
    struct stat in_st, out_st;
    if (!realpath(input, in_real) || stat(in_real, &in_st) != 0) return YA_OK; /* its reader reports it */
    if (!realpath(existing_ancestor, out_dir_real))
        return ya_fail(err, YA_ERR, "%s: %s", existing_ancestor, strerror(errno));
    int out_exists = stat(p->out, &out_st) == 0;
    if (out_exists && same_file(&out_st, &in_st))
        return ya_fail(err, YA_ERR_USAGE, "output %s is the input %s: refusing to write over an input", p->out, input);
    if (is_under(out_dir_real, &in_st))
        return ya_fail(err, YA_ERR_USAGE, "output %s lies inside the input %s: refusing to write into an input", p->out,
                       input);
    if (!out_exists) return YA_OK;
    if (is_under(in_real, &out_st))
        return ya_fail(err, YA_ERR_USAGE, "output %s contains the input %s: replacing it would delete the input",
                       p->out, input);
    if (!S_ISDIR(in_st.st_mode)) return YA_OK;
    DIR *d = opendir(in_real);
    if (!d) return ya_fail(err, YA_ERR, "%s: cannot list: %s", input, strerror(errno));
    int rc = YA_OK;
    struct dirent *de;
    while (!rc && (de = readdir(d)) != NULL) {
        char path[PATH_MAX + 256], real[PATH_MAX];
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        snprintf(path, sizeof path, "%s/%s", in_real, de->d_name);
        if (realpath(path, real) && is_under(real, &out_st))
            rc = ya_fail(err, YA_ERR_USAGE, "output %s contains %s, a file of the input %s (via %s/%s): replacing it "
                         "would delete the input", p->out, real, input, input, de->d_name);
    }
    closedir(d);
    return rc;
}

static int dir_is_empty(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *de;
    int empty = 1;
    while (empty && (de = readdir(d)) != NULL) empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
    closedir(d);
    return empty;
}

/* Removes "<base>.tmp-<pid>" / "<base>.old-<pid>" in parent whose process no
 * longer runs: staging left by a killed export (or a file temporary). */
static void remove_stale(const char *parent, const char *base) {
    DIR *d = opendir(parent);
    if (!d) return;
    char *stale[32];
    size_t n = 0, bl = strlen(base);
    struct dirent *de;
    while (n < sizeof stale / sizeof *stale && (de = readdir(d)) != NULL) {
        const char *s = de->d_name + bl;
        if (strncmp(de->d_name, base, bl) != 0 || (strncmp(s, ".tmp-", 5) != 0 && strncmp(s, ".old-", 5) != 0)) continue;
        s += 5;
        char *end;
        long pid = strtol(s, &end, 10);
        if (s[0] < '0' || s[0] > '9' || *end || pid <= 0) continue;
        if (pid == (long)getpid() || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) stale[n++] = strdup(de->d_name);
    }
    closedir(d);
    for (size_t i = 0; i < n; i++) {
        char path[4352];
        YaError e;
        if (stale[i] && ya_path_join(path, sizeof path, parent, stale[i], NULL) == YA_OK) {
            if (ya_remove_tree(path, &e) == YA_OK) ya_info("removed %s (left by an interrupted export)", path);
            else ya_warn("%s", e.message);
        }
        free(stale[i]);
    }
}

/* mkdir -p parent, remembering the topmost directory made (abort removes it again). */
static int make_parents(YaPublish *p, const char *parent, YaError *err) {
    if (ya_is_dir(parent)) return YA_OK;
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", parent);
    for (;;) {
        if (ya_path_exists(buf)) break;
        snprintf(p->made_parent, sizeof p->made_parent, "%s", buf);
        char *slash = strrchr(buf, '/');
        if (!slash || slash == buf) break;
        *slash = '\0';
    }
    return ya_mkdirs(parent, err);
}

/* The nearest existing ancestor directory of path (path has no trailing slash). */
static void existing_ancestor(const char *path, char *out, size_t cap) {
    char base[4096];
    split_path(path, out, cap, base, sizeof base);
    while (!ya_path_exists(out) && strcmp(out, ".") != 0 && strcmp(out, "/") != 0) {
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s", out);
        split_path(tmp, out, cap, base, sizeof base);
    }
}

int ya_publish_begin(YaPublish *p, const char *out, int is_file, int force, const char *const *inputs,
                     size_t n_inputs, YaError *err) {
    memset(p, 0, sizeof *p);
    p->is_file = is_file;
    p->force = force;
    if (normalize_out(out, p->out, sizeof p->out, err)) return YA_ERR;
    char parent[4096], base[4096], anc[4096];
    split_path(p->out, parent, sizeof parent, base, sizeof base);
    existing_ancestor(p->out, anc, sizeof anc);
    for (size_t i = 0; i < n_inputs; i++)
        if (inputs[i] && check_input(p, anc, inputs[i], err)) return err ? err->code : YA_ERR;
    struct stat st, lst;
    if (stat(p->out, &st) == 0) {
        if (is_file && S_ISDIR(st.st_mode))
            return ya_fail(err, YA_ERR, "%s: is a directory (the output is a file)", p->out);
        if (!is_file && !S_ISDIR(st.st_mode))
            return ya_fail(err, YA_ERR, "%s: exists and is not a directory", p->out);
        if (!force && (is_file || !dir_is_empty(p->out)))
            return ya_fail(err, YA_ERR, "%s: exists%s; give --force to replace it (atomically)", p->out,
                           is_file ? "" : " and is not empty");
    } else if (lstat(p->out, &lst) == 0 && !(is_file && force)) {
        return ya_fail(err, YA_ERR, "%s: exists (a dangling symbolic link)%s", p->out,
                       is_file ? "; give --force to replace it" : "");
    }
    if (make_parents(p, parent, err)) {
        ya_publish_abort(p);
        return YA_ERR;
    }
    remove_stale(parent, base);
    snprintf(p->staging, sizeof p->staging, "%s.tmp-%ld", p->out, (long)getpid());
    if (mkdir(p->staging, 0755) != 0) {
        int e = errno;
        ya_publish_abort(p);
        return ya_fail(err, YA_ERR, "%s: cannot create: %s", p->staging, strerror(e));
    }
    p->active = 1;
    if (is_file) snprintf(p->target, sizeof p->target, "%s/%s", p->staging, base);
    else snprintf(p->target, sizeof p->target, "%s", p->staging);
    return YA_OK;
}

/* Directory output: staging → OUT; *old receives the path now holding the
 * replaced directory ("" when there was none). */
static int swap_in_dir(YaPublish *p, char *old, size_t cap, YaError *err) {
    old[0] = '\0';
    if (rename(p->staging, p->out) == 0) return YA_OK;
    if ((errno != ENOTEMPTY && errno != EEXIST) || !p->force)
        return ya_fail(err, YA_ERR, "%s: cannot move %s into place: %s", p->out, p->staging,
                       errno == ENOTEMPTY || errno == EEXIST ? "it appeared meanwhile (give --force to replace it)"
                                                             : strerror(errno));
    if (renameat2(AT_FDCWD, p->staging, AT_FDCWD, p->out, RENAME_EXCHANGE) == 0) {
        snprintf(old, cap, "%s", p->staging); /* the staging name now holds the old directory */
        return YA_OK;
    }
    if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
        return ya_fail(err, YA_ERR, "%s: cannot exchange it with %s: %s", p->out, p->staging, strerror(errno));
    ya_info("%s: this filesystem cannot exchange directories atomically: the old one is moved aside first "
            "(for an instant the path is missing, never mixed)", p->out);
    snprintf(old, cap, "%s.old-%ld", p->out, (long)getpid());
    if (rename(p->out, old) != 0) {
        int e = errno;
        old[0] = '\0';
        return ya_fail(err, YA_ERR, "%s: cannot move it aside: %s", p->out, strerror(e));
    }
    if (rename(p->staging, p->out) != 0) {
        int e = errno;
        if (rename(old, p->out) == 0) old[0] = '\0';
        return ya_fail(err, YA_ERR, "%s: cannot move %s into place: %s", p->out, p->staging, strerror(e));
    }
    return YA_OK;
}

/* File output: staging/<name> → OUT, never over an existing OUT without force. */
static int swap_in_file(YaPublish *p, YaError *err) {
    int r = renameat2(AT_FDCWD, p->target, AT_FDCWD, p->out, p->force ? 0 : RENAME_NOREPLACE);
    if (r != 0 && !p->force && errno == EINVAL) { /* no RENAME_NOREPLACE on this filesystem */
        errno = EEXIST;
        r = ya_path_exists(p->out) ? -1 : rename(p->target, p->out);
    }
    if (r != 0)
        return ya_fail(err, YA_ERR, "%s: cannot move %s into place: %s", p->out, p->target,
                       errno == EEXIST ? "it appeared meanwhile (give --force to replace it)" : strerror(errno));
    return YA_OK;
}

int ya_publish_commit(YaPublish *p, YaError *err) {
    if (!p->active) return ya_fail(err, YA_ERR, "%s: nothing staged to publish", p->out);
    char parent[4096], base[4096], old[4400] = "";
    split_path(p->out, parent, sizeof parent, base, sizeof base);
    int rc = ya_fsync_dir(p->staging, err);
    if (!rc) rc = p->is_file ? swap_in_file(p, err) : swap_in_dir(p, old, sizeof old, err);
    if (!rc) rc = ya_fsync_dir(parent, err);
    if (rc) {
        /* Nothing was swapped, or the new output is in place and only the fsync
         * failed: either way the staging name holds nothing to keep. */
        ya_publish_abort(p);
        return YA_ERR;
    }
    p->made_parent[0] = '\0'; /* they hold the output now */
    YaError e;
    if (old[0] && ya_remove_tree(old, &e)) ya_warn("%s (the replaced output)", e.message);
    if (ya_remove_tree(p->staging, &e)) ya_warn("%s", e.message); /* a file output's emptied staging directory */
    p->active = 0;
    return YA_OK;
}

void ya_publish_abort(YaPublish *p) {
    if (p->active) ya_remove_tree(p->staging, NULL);
    p->active = 0;
    if (p->made_parent[0]) { /* rmdir from OUT's parent up to the topmost one begin made (only while empty) */
        char buf[4096];
        size_t top = strlen(p->made_parent);
        snprintf(buf, sizeof buf, "%s", p->out);
        for (;;) {
            char *slash = strrchr(buf, '/');
            if (!slash) break;
            *slash = '\0';
            if (strlen(buf) < top || rmdir(buf) != 0 || strcmp(buf, p->made_parent) == 0) break;
        }
        p->made_parent[0] = '\0';
    }
}
