/* ollama.c — `export --format ollama`: a directory that `ollama create NAME -f
 * DIR/Modelfile` takes without editing: DIR/model.gguf (the adapter merged, as
 * --format gguf writes it) and DIR/Modelfile with FROM, the chat TEMPLATE in
 * Ollama's Go template syntax, and one PARAMETER stop per stop token
 * (stop_tokens.c: EOS ∪ the template's end-of-turn token). Each template below
 * produces for plain system/user/assistant messages the text our renderer
 * (src/tokenizer/chat.c) produces, then the generation prompt. A chat template
 * we do not recognise is an error: a guessed template gives a model that
 * answers badly or never stops. The directory is written into the staging
 * directory of cmd_export.c's ya_publish, so it appears whole or not at all. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "export_internal.h"
#include "your_ai/export.h"
#include "your_ai/fileio.h" /* defines: ya_mkdirs, ya_write_file_atomic */
#include "your_ai/strbuf.h" /* defines: YaStrBuf */

static int puts_(YaStrBuf *o, const char *s) { return ya_strbuf_put(o, s, strlen(s)); }

/* Ollama's Go template for format f. bos: the BOS text when the template must
 * write it itself (the tokenizer does not insert it), else "". eot: the end-of-turn text. */
static int go_template(YaChatFormat f, const char *bos, const char *eot, YaStrBuf *o) {
    if (puts_(o, bos)) return -1;
    switch (f) {
    case YA_CHAT_LLAMA3:
        return puts_(o, "{{ range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n{{ .Content }}") ||
               puts_(o, eot) || puts_(o, "{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n");
    case YA_CHAT_CHATML:
    case YA_CHAT_QWEN3: /* Qwen3's <think> block only appears in replayed reasoning, not in plain turns */
        return puts_(o, "{{ range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}") || puts_(o, eot) ||
               puts_(o, "\n{{ end }}<|im_start|>assistant\n");
    case YA_CHAT_MISTRAL: /* no system role: a system message is folded into the next user turn */
        return puts_(o, "{{ $sys := \"\" }}{{ range .Messages }}{{ if eq .Role \"system\" }}{{ $sys = .Content }}"
                        "{{ else if eq .Role \"user\" }}[INST] {{ if $sys }}{{ $sys }}\n\n{{ end }}{{ .Content }} [/INST]"
                        "{{ $sys = \"\" }}{{ else if eq .Role \"assistant\" }}{{ .Content }}") ||
               puts_(o, eot) || puts_(o, "{{ end }}{{ end }}");
    default: return -1;
    }
}

/* A Modelfile "..." string: backslash and quote escaped. */
static int put_quoted(YaStrBuf *o, const char *s) {
    int rc = ya_strbuf_put(o, "\"", 1);
    for (; *s && !rc; s++) rc = (*s == '"' || *s == '\\') ? ya_strbuf_put(o, "\\", 1) || ya_strbuf_put(o, s, 1)
                                                           : ya_strbuf_put(o, s, 1);
    return rc || ya_strbuf_put(o, "\"", 1);
}

int ya_ollama_modelfile(const YaExportStops *s, const char *gguf_name, char **out, YaError *err) {
    *out = NULL;
    if (s->chat == YA_CHAT_NONE)
        return ya_fail(err, YA_ERR_USAGE, "%s chat template: Ollama needs one; pick it with --chat-format llama3|mistral|chatml|qwen3",
                       s->chat_template ? "tokenizer_config.json has an unrecognised" : "tokenizer_config.json has no");
    const char *bos = "";
    if (!s->add_bos && (s->chat == YA_CHAT_LLAMA3 || s->chat == YA_CHAT_MISTRAL)) {
        bos = s->bos_id >= 0 && s->tok ? ya_tokenizer_id_to_token(s->tok, s->bos_id) : NULL;
        if (!bos) return ya_fail(err, YA_ERR, "the %s template starts with BOS, but the model has no bos token",
                                 ya_chat_format_name(s->chat));
    }
    const char *eot = ya_chat_end_of_turn(s->chat, s->tok);
    YaStrBuf o = {0}, t = {0};
    int rc = puts_(&o, "# your_ai export --format ollama (chat format ") || puts_(&o, ya_chat_format_name(s->chat)) ||
             puts_(&o, "); then: ollama create NAME -f Modelfile\nFROM ./") || puts_(&o, gguf_name) ||
             puts_(&o, "\nTEMPLATE \"\"\"") || go_template(s->chat, bos, eot, &t) || ya_strbuf_put(&o, t.data, t.len) ||
             puts_(&o, "\"\"\"\n");
    for (int i = 0; i < s->n && !rc; i++) {
        const char *text = ya_export_stop_text(s, i);
        if (!text) continue;
        rc = puts_(&o, "PARAMETER stop ") || put_quoted(&o, text) || puts_(&o, "\n");
    }
    ya_strbuf_free(&t);
    if (rc) {
        ya_strbuf_free(&o);
        return ya_fail(err, YA_ERR, "out of memory");
    }
    *out = o.data;
    return YA_OK;
}

int ya_export_ollama(const YaModel *m, const YaAdapter *a, const char *out_dir, YaGgufWeightType wt, YaChatFormat chat,
                     YaError *err) {
    /* out_dir is the staging directory of the caller's ya_publish (cmd_export.c):
     * it appears under its final name whole, or not at all. */
    YaExportStops s;
    char path[4352 + 32];
    char *modelfile = NULL;
    int rc = ya_export_stops_load(m, chat, &s, err);
    if (rc == YA_OK) rc = ya_ollama_modelfile(&s, "model.gguf", &modelfile, err);
    if (rc == YA_OK) rc = ya_mkdirs(out_dir, err);
    if (rc == YA_OK) {
        snprintf(path, sizeof path, "%s/model.gguf", out_dir);
        rc = ya_export_gguf(m, a, path, wt, err);
    }
    if (rc == YA_OK) {
        snprintf(path, sizeof path, "%s/Modelfile", out_dir);
        rc = ya_write_file_atomic(path, modelfile, strlen(modelfile), err);
    }
    free(modelfile);
    ya_export_stops_free(&s);
    return rc ? ya_error_prefix(err, "Ollama export") : YA_OK;
}
