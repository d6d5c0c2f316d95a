/* fileio.h — whole-file reads and crash-safe writes.
 *
 * Never leave a partial file where a good one stood: YaAtomicFile writes to
 * "<path>.tmp-<pid>", fsyncs it, renames it over <path> and fsyncs the
 * directory. An aborted write removes the temporary and leaves <path> as it was.
 * Outputs made of several files go through publish.h (a staging directory
 * swapped in whole). */
#ifndef YOUR_AI_FILEIO_H
#define YOUR_AI_FILEIO_H

#include <stdint.h>
#include <stdio.h>

#include "your_ai/error.h"

/* Opens an input file read-only without ever blocking: a FIFO, directory, device or
 * socket where a file is expected is refused with a message naming the path and what
 * it is (a FIFO would otherwise hang open() until some writer appears). Every input
 * path from the user goes through these two. Returns a blocking O_CLOEXEC descriptor,
 * or -1 with err filled. */
int ya_open_input(const char *path, YaError *err);
/* The same as a stdio stream ("rb"); NULL with err filled. */
FILE *ya_fopen_input(const char *path, YaError *err);

/* Reads a whole file into a NUL-terminated malloc'ed buffer (*out_len excludes the NUL). */
int ya_read_file(const char *path, char **out, size_t *out_len, YaError *err);

typedef struct YaAtomicFile {
    FILE *fp;            /* write through this (or ya_atomic_write) */
    char path[4096];     /* final name */
    char tmp_path[4200]; /* temporary name */
} YaAtomicFile;

int ya_atomic_open(YaAtomicFile *f, const char *path, YaError *err);
int ya_atomic_write(YaAtomicFile *f, const void *data, size_t len, YaError *err);
/* Flushes, fsyncs, renames over the final name and fsyncs the directory. */
int ya_atomic_commit(YaAtomicFile *f, YaError *err);
/* Closes and removes the temporary; the final path is untouched. Safe to call twice. */
void ya_atomic_abort(YaAtomicFile *f);

/* Convenience: writes a whole buffer atomically. */
int ya_write_file_atomic(const char *path, const void *data, size_t len, YaError *err);

/* mkdir -p. */
int ya_mkdirs(const char *path, YaError *err);

/* rm -r: removes path (a file, or a directory and everything in it; symlinks
 * are removed, never followed). A missing path is not an error. */
int ya_remove_tree(const char *path, YaError *err);

/* fsync a directory (after a rename inside it). */
int ya_fsync_dir(const char *dir, YaError *err);

/* 1 if path is an existing directory, else 0. */
int ya_is_dir(const char *path);
/* 1 if path exists (any type), else 0. */
int ya_path_exists(const char *path);

/* Joins dir and name with a single '/'. Returns YA_ERR if it does not fit. */
int ya_path_join(char *out, size_t cap, const char *dir, const char *name, YaError *err);

#endif
