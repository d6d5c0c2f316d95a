/* peft.c — `export --format peft`: the adapter as PEFT saves it (SPEC §10.1).
 * F32 reuses the checkpoint writer (ya_adapter_write) byte for byte, so a
 * checkpoint directory and its export agree; BF16 writes the same keys with the
 * factors rounded to nearest even, and the same adapter_config.json. */
#include <stdlib.h>
#include <string.h>

#include "your_ai/checkpoint.h" /* defines: ya_adapter_write, ya_adapter_config_json */
#include "your_ai/export.h"
#include "your_ai/fileio.h"     /* defines: ya_mkdirs, ya_path_join, ya_write_file_atomic */
#include "your_ai/json.h"       /* defines: ya_json_dumps */
#include "your_ai/lora.h"

static int write_bf16(const char *dir, const YaLoraSet *lora, const char *base_model, YaError *err) {
    char path[4352];
    if (ya_path_join(path, sizeof path, dir, "adapter_model.safetensors", err)) return YA_ERR;
    uint16_t *bits = malloc(lora->n_params * sizeof *bits); // [n_params] every factor as BF16
    YaStWriter *w = ya_st_writer_new();
    if (!bits || !w) {
        free(bits);
        ya_st_writer_free(w);
        return ya_fail(err, YA_ERR, "%s: out of memory", path);
    }
    ya_from_f32(YA_DTYPE_BF16, lora->params, bits, lora->n_params);
    const int64_t r = lora->cfg.rank;
    int rc = YA_OK;
    for (size_t i = 0; i < lora->n_tensors && !rc; i++) {
        const YaLoraTensor *e = &lora->t[i];
        const int64_t sa[2] = {r, e->in}, sb[2] = {e->out, r};
        rc = ya_st_writer_add(w, e->key_a, YA_DTYPE_BF16, 2, sa, bits + e->a_off, err) ||
             ya_st_writer_add(w, e->key_b, YA_DTYPE_BF16, 2, sb, bits + e->b_off, err);
    }
    if (rc) ya_st_writer_free(w);
    else rc = ya_st_writer_finish(w, path, err);
    free(bits);
    if (rc) return rc;
    json_t *cfg = ya_adapter_config_json(lora, base_model);
    char *text = ya_json_dumps(cfg);
    json_decref(cfg);
    if (!text) return ya_fail(err, YA_ERR, "out of memory");
    rc = ya_path_join(path, sizeof path, dir, "adapter_config.json", err) ||
         ya_write_file_atomic(path, text, strlen(text), err);
    free(text);
    return rc ? YA_ERR : YA_OK;
}

int ya_export_peft(const YaModel *m, const YaAdapter *a, const char *out_dir, YaDtype dt, const char *base_model,
                   YaError *err) {
    if (dt != YA_DTYPE_F32 && dt != YA_DTYPE_BF16)
        return ya_fail(err, YA_ERR_USAGE, "PEFT export: dtype %s is not supported (f32 or bf16)", ya_dtype_name(dt));
    if (!base_model) base_model = ya_adapter_base_model(a)[0] ? ya_adapter_base_model(a) : m->dir;
    if (ya_mkdirs(out_dir, err)) return YA_ERR;
    const YaLoraSet *lora = ya_adapter_lora(a);
    int rc = dt == YA_DTYPE_F32 ? ya_adapter_write(out_dir, lora, base_model, err) : write_bf16(out_dir, lora, base_model, err);
    return rc ? ya_error_prefix(err, "PEFT export to %s", out_dir) : YA_OK;
}
