/* checkpoint.h — training checkpoints (SPEC §9): crash-safe writing, manifest
 * verification, keep-last-n, discovery for --resume and exact reloading.
 *
 * Layout of OUT/checkpoint-<step>[-final]/ (docs/CHECKPOINTS.md):
 *   adapter_model.safetensors  PEFT keys, F32, __metadata__ {"format":"pt"}
 *   adapter_config.json        SPEC §10.1 (layers_to_transform when not all layers)
 *   optimizer.safetensors      F32 <PEFT key>.exp_avg / <PEFT key>.exp_avg_sq
 *   trainer_state.json         step, optimizer t, LoRA shape + the trainer's own fields
 *   run_config.json            the trainer's resolved configuration (opaque here)
 *   MANIFEST.sha256            "<64 hex>  <name>" per other file, sorted (sha256sum -c)
 * Written into checkpoint-<step>.tmp-<pid>/ (each file fsynced, the directory
 * fsynced, the manifest last), renamed into place, parent fsynced; then
 * keep-last-n; then OUT/latest (a small text file holding the directory name)
 * is replaced atomically. A directory whose manifest does not verify is never
 * resumed from: discovery reports it by name and skips it. */
#ifndef YOUR_AI_CHECKPOINT_H
#define YOUR_AI_CHECKPOINT_H

#include <stddef.h>

#include "your_ai/error.h"
#include "your_ai/json.h"
#include "your_ai/lora.h"
#include "your_ai/rng.h"

#define YA_CHECKPOINT_FORMAT_VERSION 1

typedef struct YaCheckpointSave {
    const char *out_dir;          /* OUT (created if missing) */
    long long step;               /* completed optimizer updates */
    int final;                    /* 1: name it checkpoint-<step>-final */
    const YaLoraSet *lora;        /* params → adapter; m, v → optimizer (grads are not saved) */
    long long optimizer_t;        /* AdamW t (updates applied so far; normally == step) */
    const char *optimizer_name;   /* "adamw" | "adamw-mlx" (NULL: "adamw") */
    const char *base_model;       /* adapter_config.json base_model_name_or_path (NULL: "") */
    const json_t *trainer_state;  /* trainer-owned fields (RNG states, data cursor, weight statistics,
                                     loss history, …) merged into trainer_state.json; may be NULL */
    const json_t *run_config;     /* written as run_config.json; may be NULL ({}) */
    int keep_last_n;              /* after saving, keep the newest n non-final checkpoints; ≤ 0 keeps all */
    /* Called after each file inside the temporary directory is durable (name =
     * the file just written, "MANIFEST.sha256" last). A non-zero return aborts
     * the save as a failed write would (the temporary directory is removed and
     * nothing else changes). Tests use it to simulate failures; NULL = none. */
    int (*on_file_written)(void *ctx, const char *name);
    void *on_file_written_ctx;
} YaCheckpointSave;

/* Writes the checkpoint; on success copies its path into saved_path (may be NULL). */
int ya_checkpoint_save(const YaCheckpointSave *s, char *saved_path, size_t cap, YaError *err);

/* Verifies dir/MANIFEST.sha256: every listed file exists with that sha256,
 * and the required files are listed. The message names the directory and the file. */
int ya_checkpoint_verify(const char *dir, YaError *err);

/* A checkpoint-like directory found in OUT. */
typedef struct YaCheckpointEntry {
    char name[128];    /* "checkpoint-500", "checkpoint-5000-final", "checkpoint-500.tmp-1234" */
    char path[4096];
    long long step;
    int final;
    int temporary;     /* a .tmp-<pid> directory: an interrupted or running save */
    int verified;      /* 1 if ya_checkpoint_verify passed (only when scanned with verify) */
    char message[1024];/* why it is not valid (empty if valid or not checked) */
} YaCheckpointEntry;

/* Lists checkpoint directories of out_dir ordered oldest → newest (by step;
 * -final after a plain one of the same step; temporaries flagged). verify = 1
 * checks every manifest. *entries is malloc'ed (free()); none = 0 entries. */
int ya_checkpoint_scan(const char *out_dir, int verify, YaCheckpointEntry **entries, size_t *n, YaError *err);

/* The newest checkpoint of out_dir whose manifest verifies (-final included);
 * each newer invalid or incomplete one is reported with ya_warn naming it and
 * the reason. *found = 0 (and YA_OK) when there is none. */
int ya_checkpoint_find_latest(const char *out_dir, char *path, size_t cap, int *found, YaError *err);

/* --resume: "auto" → ya_checkpoint_find_latest (found may be 0: start fresh);
 * anything else is a checkpoint directory that must verify (found = 1). */
int ya_checkpoint_resolve(const char *resume, const char *out_dir, char *path, size_t cap, int *found, YaError *err);

typedef struct YaCheckpointState {
    long long step;
    long long optimizer_t;
    int final;
    json_t *trainer_state;  /* the whole trainer_state.json */
    json_t *run_config;     /* run_config.json */
    json_t *adapter_config; /* adapter_config.json */
} YaCheckpointState;

/* Verifies dir's manifest, checks that its LoRA rank, targets and layers match
 * lora (SPEC §9: otherwise resume fails), and loads params, m and v bit-exactly
 * into lora's buffers (grads are zeroed). On failure lora's buffers may be
 * partly overwritten; the caller must not train on them. */
int ya_checkpoint_load(const char *dir, YaLoraSet *lora, YaCheckpointState *st, YaError *err);
void ya_checkpoint_state_free(YaCheckpointState *st);

/* adapter_config.json of SPEC §10.1 for lora (reused by the PEFT exporter). */
json_t *ya_adapter_config_json(const YaLoraSet *lora, const char *base_model);

/* Writes adapter_model.safetensors (F32, PEFT keys) and adapter_config.json
 * into dir, each atomically. */
int ya_adapter_write(const char *dir, const YaLoraSet *lora, const char *base_model, YaError *err);

/* PRNG state ⇄ JSON for trainer_state.json: "<16 hex>:<16 hex>:<16 hex>:<16 hex>"
 * (the four xoshiro256** words), so a resumed run draws the same numbers. */
json_t *ya_rng_state_json(const YaRng *rng);
int ya_rng_state_parse(const json_t *v, const char *where, YaRng *rng, YaError *err);

#endif
