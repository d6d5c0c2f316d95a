/* stop_tokens.c — the one place that decides which tokens end generation for
 * an exported model, so every format carries the same set (generation_config.json
 * of a merged export, the GGUF's tokenizer.ggml.eos/eot_token_id, Ollama's
 * PARAMETER stop). A chat model ends its turn with the template's end-of-turn
 * token (<|eot_id|>, <|im_end|>, </s>), which is often not config.json's EOS
 * (Llama 3: <|end_of_text|>): an export that loses it gives a model that never
 * stops. The set is config.json eos ids ∪ the tokenizer's eos ∪ that token. */
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "your_ai/fileio.h" /* defines: ya_path_join, ya_path_exists */
#include "your_ai/json.h"   /* defines: ya_json_load_file */

static void add_id(YaExportStops *s, int32_t id) {
    if (id < 0) return;
    for (int i = 0; i < s->n; i++)
        if (s->ids[i] == id) return;
    if (s->n < (int)(sizeof s->ids / sizeof *s->ids)) s->ids[s->n++] = id;
}

/* tokenizer_config.json's chat_template: a string, or the "default" entry of a list. */
static int read_template(const char *model_dir, YaExportStops *s, YaError *err) {
    char path[4352];
    if (ya_path_join(path, sizeof path, model_dir, "tokenizer_config.json", err)) return YA_ERR;
    if (!ya_path_exists(path)) return YA_OK;
    json_t *cfg = NULL; /* model_max_length is often 1e30 written as an integer */
    if (ya_json_load_file(path, JSON_DECODE_INT_AS_REAL, &cfg, err)) return YA_ERR;
    const json_t *t = json_object_get(cfg, "chat_template");
    const char *tmpl = json_string_value(t);
    for (size_t i = 0; !tmpl && json_is_array(t) && i < json_array_size(t); i++) {
        const json_t *e = json_array_get(t, i);
        const char *name = json_string_value(json_object_get(e, "name"));
        if (name && strcmp(name, "default") == 0) tmpl = json_string_value(json_object_get(e, "template"));
    }
    const json_t *ab = json_object_get(cfg, "add_bos_token");
    if (json_is_boolean(ab)) s->add_bos = json_is_true(ab);
    int rc = YA_OK;
    if (tmpl && !(s->chat_template = strdup(tmpl))) rc = ya_fail(err, YA_ERR, "out of memory");
    json_decref(cfg);
    return rc;
}

int ya_export_stops_load(const YaModel *m, YaChatFormat force, YaExportStops *s, YaError *err) {
    const YaModelConfig *c = &m->cfg;
    memset(s, 0, sizeof *s);
    s->bos_id = c->bos_token_id;
    s->eos_id = c->n_eos > 0 ? c->eos_token_ids[0] : -1;
    s->eot_id = -1;
    for (int i = 0; i < c->n_eos; i++) add_id(s, c->eos_token_ids[i]);
    char path[4352];
    if (ya_path_join(path, sizeof path, m->dir, "tokenizer.json", err)) return YA_ERR;
    if (!ya_path_exists(path)) {
        if (force != YA_CHAT_NONE)
            return ya_fail(err, YA_ERR, "%s: no tokenizer.json: the %s end-of-turn token cannot be looked up", m->dir,
                           ya_chat_format_name(force));
        return YA_OK;
    }
    if (ya_tokenizer_load(m->dir, &s->tok, err)) return YA_ERR;
    s->add_bos = ya_tokenizer_add_bos(s->tok);
    if (read_template(m->dir, s, err)) return YA_ERR;
    if (s->bos_id < 0) s->bos_id = ya_tokenizer_bos_id(s->tok);
    if (s->eos_id < 0) s->eos_id = ya_tokenizer_eos_id(s->tok);
    add_id(s, ya_tokenizer_eos_id(s->tok));
    s->chat = force != YA_CHAT_NONE ? force : ya_tokenizer_chat_format(s->tok);
    const char *eot = ya_chat_end_of_turn(s->chat, s->tok);
    if (eot) {
        s->eot_id = ya_tokenizer_token_to_id(s->tok, eot);
        if (s->eot_id < 0)
            return ya_fail(err, YA_ERR, "%s: the %s chat template's end-of-turn token %s is not in tokenizer.json", m->dir,
                           ya_chat_format_name(s->chat), eot);
        add_id(s, s->eot_id);
    }
    return YA_OK;
}

const char *ya_export_stop_text(const YaExportStops *s, int i) {
    return s->tok && i >= 0 && i < s->n ? ya_tokenizer_id_to_token(s->tok, s->ids[i]) : NULL;
}

void ya_export_stops_free(YaExportStops *s) {
    ya_tokenizer_free(s->tok);
    free(s->chat_template);
    memset(s, 0, sizeof *s);
}

int ya_export_write_generation_config(const YaModel *m, const char *out_dir, YaError *err) {
    char path[4352];
    json_t *g = NULL;
    if (ya_path_join(path, sizeof path, m->dir, "generation_config.json", err)) return YA_ERR;
    if (ya_path_exists(path) ? ya_json_load_file(path, 0, &g, err) : !(g = json_object()))
        return g ? YA_ERR : ya_fail(err, YA_ERR, "out of memory");
    if (!json_is_object(g)) {
        json_decref(g);
        return ya_fail(err, YA_ERR, "%s: must be a JSON object", path);
    }
    YaExportStops s;
    int rc = ya_export_stops_load(m, YA_CHAT_NONE, &s, err);
    if (rc == YA_OK) {
        if (s.bos_id >= 0) json_object_set_new(g, "bos_token_id", json_integer(s.bos_id));
        if (s.n > 0) { /* a list: transformers' generate() stops at any of them */
            json_t *eos = json_array();
            for (int i = 0; i < s.n; i++) json_array_append_new(eos, json_integer(s.ids[i]));
            json_object_set_new(g, "eos_token_id", eos);
        }
        char *text = ya_json_dumps(g);
        rc = !text ? ya_fail(err, YA_ERR, "out of memory")
                   : ya_path_join(path, sizeof path, out_dir, "generation_config.json", err) ||
                     ya_write_file_atomic(path, text, strlen(text), err);
        free(text);
    }
    ya_export_stops_free(&s);
    json_decref(g);
    return rc ? YA_ERR : YA_OK;
}
