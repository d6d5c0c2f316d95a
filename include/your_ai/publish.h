/* publish.h — an output (a directory, or one file) appears whole or not at
 * all, and never on top of an input.
 *
 * ya_publish_begin makes a staging directory beside OUT, "OUT.tmp-<pid>" (same
 * filesystem), and the writer fills `target` inside it (each file written
 * atomically, so fsynced). ya_publish_commit fsyncs the staging directory and
 * swaps it in:
 *   directory output, OUT missing or empty: rename(staging, OUT);
 *   directory output, OUT not empty (force only): renameat2(RENAME_EXCHANGE),
 *     then the old tree is removed, so readers see the old or the new
 *     directory whole. A filesystem without RENAME_EXCHANGE gets OUT renamed to
 *     "OUT.old-<pid>", staging to OUT, the old one removed: for that instant OUT
 *     is missing, never mixed;
 *   file output: staging holds the one file, renamed over OUT (an existing OUT
 *     only with force).
 * ya_publish_abort (every failure path) removes the staging directory and the
 * parent directories begin created, so a failed export leaves nothing. A
 * staging directory left by a killed process (its pid no longer runs) is
 * removed by the next begin for the same OUT.
 *
 * begin refuses an OUT that is, contains or lies inside one of the inputs (or
 * a file inside one, symlinks resolved), comparing device and inode numbers:
 * the swap would otherwise replace or delete the input. */
#ifndef YOUR_AI_PUBLISH_H
#define YOUR_AI_PUBLISH_H

#include <stddef.h>

#include "your_ai/error.h"

typedef struct YaPublish {
    char out[4096];         /* OUT (trailing slashes dropped; "." and ".." resolved) */
    char staging[4200];     /* OUT.tmp-<pid> */
    char target[4400];      /* where the writer writes: staging, or staging/<OUT's file name> */
    char made_parent[4096]; /* the topmost parent directory begin created ("" = none) */
    int is_file, force, active;
} YaPublish;

/* is_file: OUT is one file (else a directory). force: an existing non-empty
 * OUT may be replaced. inputs: directories the command reads (NULL entries
 * are skipped). */
int ya_publish_begin(YaPublish *p, const char *out, int is_file, int force, const char *const *inputs,
                     size_t n_inputs, YaError *err);
/* Swaps the finished output in (see above). On failure the staging directory is removed. */
int ya_publish_commit(YaPublish *p, YaError *err);
/* Removes what begin made. Safe after commit and when begin failed. */
void ya_publish_abort(YaPublish *p);

#endif
