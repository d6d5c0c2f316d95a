/* checkpoint.c — crash-safe checkpoints, manifests, keep-last-n, discovery and
 * exact reloading of the LoRA/optimizer buffers (SPEC §9; see checkpoint.h and
 * docs/CHECKPOINTS.md). */
#define _GNU_SOURCE
#include "your_ai/checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "your_ai/fileio.h"
#include "your_ai/log.h"
#include "your_ai/manifest.h"
#include "your_ai/safetensors.h"

static const char *const k_required_files[] = {"adapter_model.safetensors", "adapter_config.json",
                                               "optimizer.safetensors", "trainer_state.json", "run_config.json"};
#define N_REQUIRED (sizeof k_required_files / sizeof k_required_files[0])

/* ---- checkpoint names ---------------------------------------------------- */

/* Parses "checkpoint-<digits>[-final]" (tmp: followed by ".tmp-<pid>"). */
static int parse_name(const char *name, long long *step, int *final, int *temporary, long *pid) {
    static const char prefix[] = "checkpoint-";
    if (strncmp(name, prefix, sizeof prefix - 1) != 0) return 0;
    const char *p = name + sizeof prefix - 1;
    if (*p < '0' || *p > '9') return 0;
    char *end;
    errno = 0;
    long long s = strtoll(p, &end, 10);
    if (errno || s < 0) return 0;
    p = end;
    *final = 0;
    *temporary = 0;
    *pid = 0;
    if (strncmp(p, "-final", 6) == 0) { *final = 1; p += 6; }
    if (strncmp(p, ".tmp-", 5) == 0) {
        p += 5;
        if (*p < '0' || *p > '9') return 0;
        *pid = strtol(p, &end, 10);
        p = end;
        *temporary = 1;
    }
    if (*p) return 0;
    *step = s;
    return 1;
}

/* ---- JSON files ----------------------------------------------------------- */

static int write_json(const char *dir, const char *name, const json_t *v, YaError *err) {
    char path[4352];
    if (ya_path_join(path, sizeof path, dir, name, err)) return YA_ERR;
    char *text = ya_json_dumps(v);
    if (!text) return ya_fail(err, YA_ERR, "%s: cannot encode JSON (a non-finite number?)", path);
    size_t len = strlen(text);
    char *with_nl = realloc(text, len + 2);
    if (!with_nl) { free(text); return ya_fail(err, YA_ERR, "%s: out of memory", path); }
    with_nl[len] = '\n';
    with_nl[len + 1] = '\0';
    int rc = ya_write_file_atomic(path, with_nl, len + 1, err);
    free(with_nl);
    return rc;
}

static json_t *target_list(unsigned mask) {
    json_t *a = json_array();
    for (int t = 0; t < YA_LORA_TARGET_COUNT; t++)
        if (mask & YA_LORA_BIT(t)) json_array_append_new(a, json_string(ya_lora_target_name((YaLoraTarget)t)));
    return a;
}

/* alpha as an integer when it is one (PEFT declares lora_alpha: int). */
static json_t *alpha_json(double alpha) {
    if (alpha == (double)(long long)alpha) return json_integer((json_int_t)alpha);
    return json_real(alpha);
}

json_t *ya_adapter_config_json(const YaLoraSet *lora, const char *base_model) {
    json_t *c = json_object();
    json_object_set_new(c, "peft_type", json_string("LORA"));
    json_object_set_new(c, "task_type", json_string("CAUSAL_LM"));
    json_object_set_new(c, "base_model_name_or_path", json_string(base_model ? base_model : ""));
    json_object_set_new(c, "r", json_integer(lora->cfg.rank));
    json_object_set_new(c, "lora_alpha", alpha_json(lora->cfg.alpha));
    json_object_set_new(c, "lora_dropout", json_real(lora->cfg.dropout));
    json_object_set_new(c, "bias", json_string("none"));
    json_object_set_new(c, "fan_in_fan_out", json_false());
    json_object_set_new(c, "target_modules", target_list(lora->cfg.targets));
    json_object_set_new(c, "use_rslora", json_false());
    json_object_set_new(c, "use_dora", json_false());
    json_object_set_new(c, "modules_to_save", json_null());
    json_object_set_new(c, "inference_mode", json_true());
    if (lora->first_layer > 0) {
        json_t *layers = json_array();
        for (int l = lora->first_layer; l < lora->n_model_layers; l++) json_array_append_new(layers, json_integer(l));
        json_object_set_new(c, "layers_to_transform", layers);
    }
    return c;
}

/* ---- safetensors ---------------------------------------------------------- */

static int write_adapter_tensors(const char *path, const YaLoraSet *lora, YaError *err) {
    YaStWriter *w = ya_st_writer_new();
    if (!w) return ya_fail(err, YA_ERR, "%s: out of memory", path);
    const int64_t r = lora->cfg.rank;
    for (size_t i = 0; i < lora->n_tensors; i++) {
        const YaLoraTensor *e = &lora->t[i];
        const int64_t shape_a[2] = {r, e->in}, shape_b[2] = {e->out, r};
        if (ya_st_writer_add(w, e->key_a, YA_DTYPE_F32, 2, shape_a, lora->params + e->a_off, err) ||
            ya_st_writer_add(w, e->key_b, YA_DTYPE_F32, 2, shape_b, lora->params + e->b_off, err)) {
            ya_st_writer_free(w);
            return ya_error_prefix(err, "%s", path);
        }
    }
    return ya_st_writer_finish(w, path, err);
}

static int write_optimizer_tensors(const char *path, const YaLoraSet *lora, long long t, const char *name,
                                   YaError *err) {
    YaStWriter *w = ya_st_writer_new();
    if (!w) return ya_fail(err, YA_ERR, "%s: out of memory", path);
    char t_str[32];
    snprintf(t_str, sizeof t_str, "%lld", t);
    const int64_t r = lora->cfg.rank;
    int rc = ya_st_writer_meta(w, "optimizer", name, err) || ya_st_writer_meta(w, "t", t_str, err);
    for (size_t i = 0; !rc && i < lora->n_tensors; i++) {
        const YaLoraTensor *e = &lora->t[i];
        const int64_t shape_a[2] = {r, e->in}, shape_b[2] = {e->out, r};
        char key[128];
        snprintf(key, sizeof key, "%s.exp_avg", e->key_a);
        rc = ya_st_writer_add(w, key, YA_DTYPE_F32, 2, shape_a, lora->m + e->a_off, err);
        snprintf(key, sizeof key, "%s.exp_avg_sq", e->key_a);
        rc = rc || ya_st_writer_add(w, key, YA_DTYPE_F32, 2, shape_a, lora->v + e->a_off, err);
        snprintf(key, sizeof key, "%s.exp_avg", e->key_b);
        rc = rc || ya_st_writer_add(w, key, YA_DTYPE_F32, 2, shape_b, lora->m + e->b_off, err);
        snprintf(key, sizeof key, "%s.exp_avg_sq", e->key_b);
        rc = rc || ya_st_writer_add(w, key, YA_DTYPE_F32, 2, shape_b, lora->v + e->b_off, err);
    }
    if (rc) {
        ya_st_writer_free(w);
        return ya_error_prefix(err, "%s", path);
    }
    return ya_st_writer_finish(w, path, err);
}

int ya_adapter_write(const char *dir, const YaLoraSet *lora, const char *base_model, YaError *err) {
    char path[4352];
    if (ya_mkdirs(dir, err)) return YA_ERR;
    if (ya_path_join(path, sizeof path, dir, "adapter_model.safetensors", err) ||
        write_adapter_tensors(path, lora, err))
        return YA_ERR;
    json_t *cfg = ya_adapter_config_json(lora, base_model);
    int rc = write_json(dir, "adapter_config.json", cfg, err);
    json_decref(cfg);
    return rc;
}

/* ---- manifest ------------------------------------------------------------- */

int ya_checkpoint_verify(const char *dir, YaError *err) {
    char path[4352];
    if (!ya_is_dir(dir)) return ya_fail(err, YA_ERR, "%s: not a directory", dir);
    if (ya_path_join(path, sizeof path, dir, YA_MANIFEST_NAME, err)) return YA_ERR;
    if (!ya_path_exists(path))
        return ya_fail(err, YA_ERR, "%s: no %s (incomplete checkpoint)", dir, YA_MANIFEST_NAME);
    return ya_manifest_verify(dir, k_required_files, N_REQUIRED, err);
}

/* ---- scanning ------------------------------------------------------------- */

static int cmp_entry(const void *a, const void *b) {
    const YaCheckpointEntry *x = a, *y = b;
    if (x->step != y->step) return x->step < y->step ? -1 : 1;
    if (x->temporary != y->temporary) return x->temporary - y->temporary;
    if (x->final != y->final) return x->final - y->final;
    return strcmp(x->name, y->name);
}

int ya_checkpoint_scan(const char *out_dir, int verify, YaCheckpointEntry **entries, size_t *n_out, YaError *err) {
    *entries = NULL;
    *n_out = 0;
    DIR *d = opendir(out_dir);
    if (!d) {
        if (errno == ENOENT) return YA_OK;
        return ya_fail(err, YA_ERR, "%s: cannot list: %s", out_dir, strerror(errno));
    }
    YaCheckpointEntry *list = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    int rc = YA_OK;
    while ((de = readdir(d)) != NULL) {
        long long step;
        int final, temporary;
        long pid;
        if (strlen(de->d_name) >= sizeof list->name || !parse_name(de->d_name, &step, &final, &temporary, &pid))
            continue;
        char path[4096];
        if (ya_path_join(path, sizeof path, out_dir, de->d_name, NULL) || !ya_is_dir(path)) continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            YaCheckpointEntry *nl = realloc(list, cap * sizeof *list);
            if (!nl) { rc = ya_fail(err, YA_ERR, "%s: out of memory", out_dir); break; }
            list = nl;
        }
        YaCheckpointEntry *e = &list[n++];
        memset(e, 0, sizeof *e);
        strcpy(e->name, de->d_name);
        strcpy(e->path, path);
        e->step = step;
        e->final = final;
        e->temporary = temporary;
    }
    closedir(d);
    if (rc) { free(list); return rc; }
    if (n) qsort(list, n, sizeof *list, cmp_entry);
    for (size_t i = 0; verify && i < n; i++) {
        YaCheckpointEntry *e = &list[i];
        if (e->temporary) {
            snprintf(e->message, sizeof e->message, "%.900s: incomplete checkpoint (temporary directory of an interrupted save)",
                     e->path);
            continue;
        }
        YaError verr;
        if (ya_checkpoint_verify(e->path, &verr) == YA_OK) e->verified = 1;
        else snprintf(e->message, sizeof e->message, "%s", verr.message);
    }
    *entries = list;
    *n_out = n;
    return YA_OK;
}

int ya_checkpoint_find_latest(const char *out_dir, char *path, size_t cap, int *found, YaError *err) {
    *found = 0;
    if (cap) path[0] = '\0';
    YaCheckpointEntry *list;
    size_t n;
    if (ya_checkpoint_scan(out_dir, 0, &list, &n, err)) return YA_ERR;
    /* Newest first; verify lazily so a long run's old checkpoints are not all re-hashed. */
    for (size_t k = n; k-- > 0;) {
        YaCheckpointEntry *e = &list[k];
        if (e->temporary) {
            ya_warn("skipping %s: incomplete checkpoint (temporary directory of an interrupted save)", e->path);
            continue;
        }
        YaError verr;
        if (ya_checkpoint_verify(e->path, &verr) != YA_OK) {
            ya_warn("skipping %s", verr.message); /* the message starts with the path */
            continue;
        }
        if (strlen(e->path) >= cap) { free(list); return ya_fail(err, YA_ERR, "%s: path too long", e->path); }
        strcpy(path, e->path);
        *found = 1;
        break;
    }
    free(list);
    return YA_OK;
}

int ya_checkpoint_resolve(const char *resume, const char *out_dir, char *path, size_t cap, int *found, YaError *err) {
    if (strcmp(resume, "auto") == 0) return ya_checkpoint_find_latest(out_dir, path, cap, found, err);
    *found = 0;
    if (!ya_is_dir(resume)) return ya_fail(err, YA_ERR, "--resume %s: no such checkpoint directory", resume);
    if (ya_checkpoint_verify(resume, err)) return ya_error_prefix(err, "--resume");
    if (strlen(resume) >= cap) return ya_fail(err, YA_ERR, "--resume %s: path too long", resume);
    strcpy(path, resume);
    *found = 1;
    return YA_OK;
}

/* ---- saving --------------------------------------------------------------- */

/* Removes temporaries left by saves that are no longer running (a crash). */
static void remove_stale_temporaries(const char *out_dir) {
    YaCheckpointEntry *list;
    size_t n;
    if (ya_checkpoint_scan(out_dir, 0, &list, &n, NULL)) return;
    for (size_t i = 0; i < n; i++) {
        long long step;
        int final, temporary;
        long pid;
        if (!list[i].temporary || !parse_name(list[i].name, &step, &final, &temporary, &pid)) continue;
        if (pid == (long)getpid() || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
            YaError e;
            if (ya_remove_tree(list[i].path, &e) == YA_OK) ya_info("removed %s (left by an interrupted save)", list[i].path);
        }
    }
    free(list);
}

static int keep_last_n(const char *out_dir, int keep, const char *just_saved, YaError *err) {
    if (keep <= 0) return YA_OK;
    YaCheckpointEntry *list;
    size_t n;
    if (ya_checkpoint_scan(out_dir, 0, &list, &n, err)) return YA_ERR;
    /* Complete = not temporary, not -final, and has a manifest (a cheap check:
     * re-hashing every old checkpoint on each save would cost minutes). */
    size_t complete = 0;
    for (size_t i = 0; i < n; i++) {
        char mpath[4352];
        YaCheckpointEntry *e = &list[i];
        e->verified = !e->temporary && !e->final &&
                      ya_path_join(mpath, sizeof mpath, e->path, YA_MANIFEST_NAME, NULL) == YA_OK && ya_path_exists(mpath);
        complete += (size_t)e->verified;
    }
    int rc = YA_OK;
    for (size_t i = 0; i < n && complete > (size_t)keep; i++) {
        if (!list[i].verified || strcmp(list[i].name, just_saved) == 0) continue;
        if (ya_remove_tree(list[i].path, err)) { rc = YA_ERR; break; }
        complete--;
    }
    free(list);
    return rc;
}

static json_t *build_trainer_state(const YaCheckpointSave *s) {
    json_t *st = json_object();
    const YaLoraSet *lora = s->lora;
    json_object_set_new(st, "format", json_string("your_ai.trainer_state"));
    json_object_set_new(st, "format_version", json_integer(YA_CHECKPOINT_FORMAT_VERSION));
    json_object_set_new(st, "step", json_integer(s->step));
    json_object_set_new(st, "final", json_boolean(s->final));
    json_t *opt = json_object();
    json_object_set_new(opt, "name", json_string(s->optimizer_name ? s->optimizer_name : "adamw"));
    json_object_set_new(opt, "t", json_integer(s->optimizer_t));
    json_object_set_new(st, "optimizer", opt);
    json_t *l = json_object();
    json_object_set_new(l, "rank", json_integer(lora->cfg.rank));
    json_object_set_new(l, "alpha", json_real(lora->cfg.alpha));
    json_object_set_new(l, "dropout", json_real(lora->cfg.dropout));
    json_object_set_new(l, "target_modules", target_list(lora->cfg.targets));
    json_object_set_new(l, "layers", json_integer(lora->cfg.layers));
    json_object_set_new(l, "n_params", json_integer((json_int_t)lora->n_params));
    json_object_set_new(st, "lora", l);
    if (s->trainer_state && json_is_object(s->trainer_state)) {
        const char *key;
        json_t *val;
        json_object_foreach((json_t *)s->trainer_state, key, val) {
            if (!json_object_get(st, key)) json_object_set(st, key, val); /* ours win on a clash */
        }
    }
    return st;
}

/* Moves tmp to final; if final already exists (the same step saved again after
 * a resume), the two are swapped atomically and the old one removed. */
static int install_dir(const char *tmp, const char *final, YaError *err) {
    if (rename(tmp, final) == 0) return YA_OK;
    if (errno != ENOTEMPTY && errno != EEXIST)
        return ya_fail(err, YA_ERR, "%s: rename to %s failed: %s", tmp, final, strerror(errno));
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, final, RENAME_EXCHANGE) != 0)
        return ya_fail(err, YA_ERR, "%s: cannot replace the existing %s: %s", tmp, final, strerror(errno));
    return ya_remove_tree(tmp, err); /* tmp now holds the old checkpoint */
}

int ya_checkpoint_save(const YaCheckpointSave *s, char *saved_path, size_t cap, YaError *err) {
    char name[128], tmp_name[160], tmp[4352], final[4352], path[4352];
    snprintf(name, sizeof name, "checkpoint-%lld%s", s->step, s->final ? "-final" : "");
    snprintf(tmp_name, sizeof tmp_name, "%s.tmp-%ld", name, (long)getpid());
    if (ya_mkdirs(s->out_dir, err) || ya_path_join(tmp, sizeof tmp, s->out_dir, tmp_name, err) ||
        ya_path_join(final, sizeof final, s->out_dir, name, err))
        return YA_ERR;
    remove_stale_temporaries(s->out_dir);
    if (mkdir(tmp, 0755) != 0) return ya_fail(err, YA_ERR, "%s: cannot create: %s", tmp, strerror(errno));

    int rc = YA_OK;
#define STEP_DONE(file)                                                                                        \
    do {                                                                                                       \
        if (!rc && s->on_file_written && s->on_file_written(s->on_file_written_ctx, (file)))                    \
            rc = ya_fail(err, YA_ERR, "%s: save aborted after %s", tmp, (file));                                \
    } while (0)
    /* Each writer below is atomic inside tmp (temp file, fsync, rename, fsync tmp). */
    rc = ya_path_join(path, sizeof path, tmp, "adapter_model.safetensors", err) ||
         write_adapter_tensors(path, s->lora, err);
    STEP_DONE("adapter_model.safetensors");
    if (!rc) {
        json_t *ac = ya_adapter_config_json(s->lora, s->base_model);
        rc = write_json(tmp, "adapter_config.json", ac, err);
        json_decref(ac);
    }
    STEP_DONE("adapter_config.json");
    if (!rc) {
        rc = ya_path_join(path, sizeof path, tmp, "optimizer.safetensors", err) ||
             write_optimizer_tensors(path, s->lora, s->optimizer_t, s->optimizer_name ? s->optimizer_name : "adamw",
                                     err);
    }
    STEP_DONE("optimizer.safetensors");
    if (!rc) {
        json_t *st = build_trainer_state(s);
        rc = write_json(tmp, "trainer_state.json", st, err);
        json_decref(st);
    }
    STEP_DONE("trainer_state.json");
    if (!rc) {
        json_t *empty = json_object();
        rc = write_json(tmp, "run_config.json", s->run_config ? s->run_config : empty, err);
        json_decref(empty);
    }
    STEP_DONE("run_config.json");
    if (!rc) rc = ya_manifest_write(tmp, err); /* last: its presence marks the directory complete */
    STEP_DONE(YA_MANIFEST_NAME);
#undef STEP_DONE
    if (!rc) rc = ya_fsync_dir(tmp, err);
    if (!rc) rc = install_dir(tmp, final, err);
    if (rc) {
        ya_remove_tree(tmp, NULL);
        return ya_error_prefix(err, "checkpoint %s", name);
    }
    if (ya_fsync_dir(s->out_dir, err)) return YA_ERR;
    /* OUT/latest moves to the new checkpoint before any old one is pruned, so a
     * crash at any point leaves it naming a complete checkpoint. */
    char latest[4352], text[160];
    int len = snprintf(text, sizeof text, "%s\n", name);
    if (ya_path_join(latest, sizeof latest, s->out_dir, "latest", err) ||
        ya_write_file_atomic(latest, text, (size_t)len, err))
        return YA_ERR;
    /* A failed prune loses nothing: warn and carry on (the new checkpoint is safe). */
    YaError prune_err;
    if (keep_last_n(s->out_dir, s->keep_last_n, name, &prune_err))
        ya_warn("keep-last-n: %s", prune_err.message);
    if (saved_path) {
        if (strlen(final) >= cap) return ya_fail(err, YA_ERR, "%s: path too long", final);
        strcpy(saved_path, final);
    }
    return YA_OK;
}

/* ---- loading -------------------------------------------------------------- */

static int load_tensor(const YaSafetensors *st, const char *key, int64_t d0, int64_t d1, float *dst, YaError *err) {
    const YaTensorInfo *t = ya_st_find(st, key);
    if (!t) return ya_fail(err, YA_ERR, "%s: missing tensor %s", ya_st_path(st), key);
    if (t->dtype != YA_DTYPE_F32 || t->ndim != 2 || t->shape[0] != d0 || t->shape[1] != d1)
        return ya_fail(err, YA_ERR, "%s: tensor %s: expected F32 [%lld, %lld], found %s with %d dims [%lld, %lld]",
                       ya_st_path(st), key, (long long)d0, (long long)d1, ya_dtype_name(t->dtype), t->ndim,
                       (long long)t->shape[0], (long long)(t->ndim > 1 ? t->shape[1] : 0));
    memcpy(dst, t->data, (size_t)t->nbytes);
    return YA_OK;
}

static int check_lora_matches(const char *dir, const json_t *ac, const YaLoraSet *lora, YaError *err) {
    const char *where = "adapter_config.json";
    long long r;
    if (ya_json_req_int(ac, "r", where, &r, err)) return ya_error_prefix(err, "%s", dir);
    if (r != lora->cfg.rank)
        return ya_fail(err, YA_ERR, "%s: LoRA rank %lld in the checkpoint, %d requested (--lora-rank must match to resume)",
                       dir, r, lora->cfg.rank);
    json_t *tm = json_object_get(ac, "target_modules");
    unsigned mask = 0;
    for (size_t i = 0; json_is_array(tm) && i < json_array_size(tm); i++) {
        const char *s = json_string_value(json_array_get(tm, i));
        unsigned bit;
        if (!s || ya_lora_parse_targets(s, &bit, NULL)) return ya_fail(err, YA_ERR, "%s: %s: bad target_modules", dir, where);
        mask |= bit;
    }
    if (mask != lora->cfg.targets) {
        char have[128], want[128];
        ya_lora_format_targets(mask, have, sizeof have);
        ya_lora_format_targets(lora->cfg.targets, want, sizeof want);
        return ya_fail(err, YA_ERR, "%s: LoRA targets %s in the checkpoint, %s requested (--lora-targets must match)",
                       dir, have, want);
    }
    json_t *ltt = json_object_get(ac, "layers_to_transform");
    int first = 0;
    if (ltt && !json_is_null(ltt)) {
        size_t n = json_array_size(ltt);
        first = n ? (int)json_integer_value(json_array_get(ltt, 0)) : -1;
        for (size_t i = 0; i < n; i++)
            if (json_integer_value(json_array_get(ltt, i)) != first + (long long)i || first + (long long)n != lora->n_model_layers)
                first = -1;
    }
    if (first != lora->first_layer)
        return ya_fail(err, YA_ERR, "%s: the checkpoint adapts different layers than requested (--lora-layers %d must match)",
                       dir, lora->cfg.layers);
    return YA_OK;
}

int ya_checkpoint_load(const char *dir, YaLoraSet *lora, YaCheckpointState *st, YaError *err) {
    memset(st, 0, sizeof *st);
    if (ya_checkpoint_verify(dir, err)) return YA_ERR;
    char path[4352];
    YaSafetensors *ad = NULL, *opt = NULL;
    int rc = ya_path_join(path, sizeof path, dir, "adapter_config.json", err) ||
             ya_json_load_file(path, 0, &st->adapter_config, err) ||
             check_lora_matches(dir, st->adapter_config, lora, err);
    rc = rc || ya_path_join(path, sizeof path, dir, "trainer_state.json", err) ||
         ya_json_load_file(path, 0, &st->trainer_state, err);
    rc = rc || ya_path_join(path, sizeof path, dir, "run_config.json", err) ||
         ya_json_load_file(path, 0, &st->run_config, err);
    if (!rc) {
        long long t = 0;
        json_t *o = json_object_get(st->trainer_state, "optimizer");
        rc = ya_json_req_int(st->trainer_state, "step", "trainer_state.json", &st->step, err) ||
             ya_json_req_int(o, "t", "trainer_state.json optimizer", &t, err);
        st->optimizer_t = t;
        st->final = json_is_true(json_object_get(st->trainer_state, "final"));
        if (rc) ya_error_prefix(err, "%s", dir);
    }
    rc = rc || ya_path_join(path, sizeof path, dir, "adapter_model.safetensors", err) || ya_st_open(path, &ad, err);
    rc = rc || ya_path_join(path, sizeof path, dir, "optimizer.safetensors", err) || ya_st_open(path, &opt, err);
    if (!rc && (ya_st_count(ad) != 2 * lora->n_tensors || ya_st_count(opt) != 4 * lora->n_tensors))
        rc = ya_fail(err, YA_ERR, "%s: %zu adapter / %zu optimizer tensors, expected %zu / %zu", dir, ya_st_count(ad),
                     ya_st_count(opt), 2 * lora->n_tensors, 4 * lora->n_tensors);
    const int64_t r = lora->cfg.rank;
    for (size_t i = 0; !rc && i < lora->n_tensors; i++) {
        const YaLoraTensor *e = &lora->t[i];
        char key[128];
        rc = load_tensor(ad, e->key_a, r, e->in, lora->params + e->a_off, err) ||
             load_tensor(ad, e->key_b, e->out, r, lora->params + e->b_off, err);
        snprintf(key, sizeof key, "%s.exp_avg", e->key_a);
        rc = rc || load_tensor(opt, key, r, e->in, lora->m + e->a_off, err);
        snprintf(key, sizeof key, "%s.exp_avg_sq", e->key_a);
        rc = rc || load_tensor(opt, key, r, e->in, lora->v + e->a_off, err);
        snprintf(key, sizeof key, "%s.exp_avg", e->key_b);
        rc = rc || load_tensor(opt, key, e->out, r, lora->m + e->b_off, err);
        snprintf(key, sizeof key, "%s.exp_avg_sq", e->key_b);
        rc = rc || load_tensor(opt, key, e->out, r, lora->v + e->b_off, err);
    }
    ya_st_close(ad);
    ya_st_close(opt);
    if (rc) {
        ya_checkpoint_state_free(st);
        return YA_ERR;
    }
    memset(lora->grads, 0, lora->n_params * sizeof(float));
    return YA_OK;
}

void ya_checkpoint_state_free(YaCheckpointState *st) {
    json_decref(st->trainer_state);
    json_decref(st->run_config);
    json_decref(st->adapter_config);
    memset(st, 0, sizeof *st);
}

/* ---- PRNG state ----------------------------------------------------------- */

json_t *ya_rng_state_json(const YaRng *rng) {
    char buf[80];
    snprintf(buf, sizeof buf, "%016llx:%016llx:%016llx:%016llx", (unsigned long long)rng->s[0],
             (unsigned long long)rng->s[1], (unsigned long long)rng->s[2], (unsigned long long)rng->s[3]);
    return json_string(buf);
}

int ya_rng_state_parse(const json_t *v, const char *where, YaRng *rng, YaError *err) {
    const char *s = json_string_value(v);
    if (!s || strlen(s) != 67)
        return ya_fail(err, YA_ERR, "%s: expected a PRNG state \"<16 hex>:<16 hex>:<16 hex>:<16 hex>\"", where);
    for (int w = 0; w < 4; w++) {
        uint64_t x = 0;
        for (int i = 0; i < 16; i++) {
            char c = s[w * 17 + i];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0) return ya_fail(err, YA_ERR, "%s: bad hex digit '%c' in PRNG state", where, c);
            x = x << 4 | (uint64_t)d;
        }
        if (w < 3 && s[w * 17 + 16] != ':') return ya_fail(err, YA_ERR, "%s: PRNG state words must be ':'-separated", where);
        rng->s[w] = x;
    }
    if (!(rng->s[0] | rng->s[1] | rng->s[2] | rng->s[3]))
        return ya_fail(err, YA_ERR, "%s: an all-zero xoshiro256** state is invalid", where);
    return YA_OK;
}
