/* cmd_tokenize.c — `your_ai tokenize`: encode or decode with a HuggingFace
 * tokenizer.json, one string (--text) or a JSONL batch (--jsonl, the interface
 * the parity tests use), and render chat messages through a template (--chat). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "your_ai/data.h"
#include "your_ai/fileio.h" /* defines: ya_fopen_input */
#include "your_ai/json.h"
#include "your_ai/tokenizer.h"

static const char k_usage[] =
    "Usage: your_ai tokenize --tokenizer PATH (--text TEXT | --jsonl FILE | --chat FILE) [options]\n"
    "\n"
    "Encodes text with a HuggingFace tokenizer.json exactly as the HF tokenizers library does,\n"
    "or decodes ids back to text.\n"
    "\n"
    "  --tokenizer PATH     a tokenizer.json file or a model directory holding one (required);\n"
    "                       tokenizer_config.json beside it supplies bos/eos/pad and the chat template\n"
    "  --text TEXT          encode TEXT and print the ids separated by spaces\n"
    "                       (with --decode: TEXT is space-separated ids; prints the decoded text)\n"
    "  --jsonl FILE         batch mode: each line {\"text\": ...} gives one line {\"ids\": [...]};\n"
    "                       with --decode each line {\"ids\": [...]} gives {\"text\": ...}; order kept\n"
    "                       ('-' reads stdin)\n"
    "  --no-special         do not add the post-processor's special tokens (BOS/EOS); default: add them\n"
    "  --decode             decode ids instead of encoding text\n"
    "  --skip-special       with --decode: drop special tokens from the text (default: keep them)\n"
    "  --chat FILE          render a JSON array of {\"role\", \"content\"} messages (or an object with\n"
    "                       \"messages\" and optionally \"tools\"; tool_calls and role \"tool\" as in\n"
    "                       training data, rendered by the qwen3 template) through the chat template\n"
    "                       and print the text\n"
    "  --chat-format NAME   llama3 | mistral | chatml | qwen3 (default: recognised from\n"
    "                       tokenizer_config.json's chat_template)\n"
    "  --add-generation-prompt  with --chat: append the assistant header (default: off)\n"
    "  --ids                with --chat: print the ids of the rendered text instead of the text\n"
    "  --stats              with --jsonl: print texts, bytes, tokens and the time spent in encode\n"
    "                       (single thread, excluding loading and JSON I/O) to stderr\n"
    "\n"
    "Invalid UTF-8 in the input is replaced by U+FFFD (one per maximal invalid subpart) before\n"
    "encoding. Exit codes: 0 ok, 1 runtime error (bad tokenizer file, bad input line), 2 usage error.\n";

static void print_ids(FILE *out, const YaIds *ids) {
    for (size_t i = 0; i < ids->len; i++) fprintf(out, i ? " %d" : "%d", ids->ids[i]);
    fputc('\n', out);
}

static int parse_id_list(const char *s, YaIds *out, YaError *err) {
    while (*s) {
        while (*s == ' ' || *s == ',' || *s == '\t' || *s == '\n') s++;
        if (!*s) break;
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > INT32_MAX) return ya_fail(err, YA_ERR_USAGE, "--text: '%s' is not a list of token ids", s);
        if (ya_ids_push(out, (int32_t)v)) return ya_fail(err, YA_ERR, "out of memory");
        s = end;
    }
    return YA_OK;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int run_jsonl(const YaTokenizer *tok, const char *path, int decode, int add_special, int skip_special,
                     int stats, YaError *err) {
    double enc_s = 0;
    unsigned long long n_texts = 0, n_bytes = 0, n_tokens = 0;
    FILE *fp = strcmp(path, "-") == 0 ? stdin : ya_fopen_input(path, err);
    if (!fp) return YA_ERR;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long line_no = 0;
    int rc = YA_OK;
    YaIds ids = {0};
    while (rc == YA_OK && (n = getline(&line, &cap, fp)) >= 0) {
        line_no++;
        size_t len = (size_t)n;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) len--;
        size_t k = 0;
        while (k < len && (line[k] == ' ' || line[k] == '\t')) k++;
        if (k == len) continue;
        json_error_t je;
        json_t *obj = json_loadb(line, len, JSON_ALLOW_NUL, &je);
        if (!obj || !json_is_object(obj)) {
            rc = ya_fail(err, YA_ERR, "%s:%lu: %s", path, line_no, obj ? "not a JSON object" : je.text);
            json_decref(obj);
            break;
        }
        ids.len = 0;
        if (!decode) {
            const json_t *t = json_object_get(obj, "text");
            if (!json_is_string(t)) {
                rc = ya_fail(err, YA_ERR, "%s:%lu: field 'text' must be a string", path, line_no);
            } else {
                double t0 = now_s();
                rc = ya_tokenizer_encode(tok, json_string_value(t), json_string_length(t), add_special, &ids, err);
                enc_s += now_s() - t0;
                n_texts++;
                n_bytes += json_string_length(t);
                n_tokens += ids.len;
            }
            if (rc != YA_OK) {
                if (json_is_string(t)) ya_error_prefix(err, "%s:%lu", path, line_no);
            } else {
                fputs("{\"ids\":[", stdout);
                for (size_t i = 0; i < ids.len; i++) printf(i ? ",%d" : "%d", ids.ids[i]);
                fputs("]}\n", stdout);
            }
        } else {
            const json_t *a = json_object_get(obj, "ids");
            if (!json_is_array(a)) rc = ya_fail(err, YA_ERR, "%s:%lu: field 'ids' must be an array of integers", path, line_no);
            for (size_t i = 0; rc == YA_OK && i < json_array_size(a); i++) {
                const json_t *x = json_array_get(a, i);
                if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > INT32_MAX)
                    rc = ya_fail(err, YA_ERR, "%s:%lu: ids[%zu] must be a non-negative integer", path, line_no, i);
                else if (ya_ids_push(&ids, (int32_t)json_integer_value(x)))
                    rc = ya_fail(err, YA_ERR, "out of memory");
            }
            char *text = NULL;
            size_t tlen = 0;
            if (rc == YA_OK && (rc = ya_tokenizer_decode(tok, ids.ids, ids.len, skip_special, &text, &tlen, err)) == YA_OK) {
                json_t *o = json_object();
                json_object_set_new(o, "text", json_stringn_nocheck(text, tlen));
                ya_json_write(stdout, o);
                fputc('\n', stdout);
                json_decref(o);
            }
            free(text);
        }
        json_decref(obj);
    }
    free(line);
    ya_ids_free(&ids);
    if (fp != stdin) fclose(fp);
    if (stats && !decode && rc == YA_OK)
        fprintf(stderr, "tokenize: %llu texts, %llu bytes, %llu tokens, encode %.3f s: %.0f tokens/s, %.2f MB/s\n", n_texts,
                n_bytes, n_tokens, enc_s, enc_s > 0 ? (double)n_tokens / enc_s : 0.0,
                enc_s > 0 ? (double)n_bytes / enc_s / 1e6 : 0.0);
    return rc;
}

static int run_chat(const YaTokenizer *tok, const char *path, const char *format, int gen, int as_ids, YaError *err) {
    YaChatFormat fmt = ya_tokenizer_chat_format(tok);
    if (format && ya_chat_format_parse(format, &fmt))
        return ya_fail(err, YA_ERR_USAGE, "--chat-format: unknown format '%s' (llama3, mistral, chatml, qwen3)", format);
    if (fmt == YA_CHAT_NONE)
        return ya_fail(err, YA_ERR_USAGE, "%s; pick one with --chat-format llama3|mistral|chatml|qwen3",
                       ya_tokenizer_has_chat_template(tok) ? "the tokenizer's chat_template is not one we recognise"
                                                          : "the tokenizer has no chat_template");
    json_t *root;
    if (ya_json_load_file(path, 0, &root, err)) return YA_ERR;
    if (json_is_array(root)) { /* a bare messages array */
        json_t *obj = json_pack("{s:o}", "messages", root);
        root = obj;
    }
    if (!json_is_object(root) || !json_is_array(json_object_get(root, "messages"))) {
        json_decref(root);
        return ya_fail(err, YA_ERR, "%s: expected a JSON array of messages or an object with \"messages\"", path);
    }
    /* the training data's own reading of a chat line: the same checks, tools and tool calls */
    YaDataConfig cfg;
    ya_data_config_default(&cfg);
    cfg.need_scores = 0;
    cfg.mask_prompt = 0;
    YaDataFormat df = YA_DATA_CHAT;
    YaDataRecord rec;
    YaDataChat chat = {0};
    char reason[512];
    int rc = YA_OK;
    if (ya_data_record_parse(root, &cfg, &df, NULL, &rec, reason, sizeof reason))
        rc = ya_fail(err, YA_ERR, "%s: %s", path, reason);
    else
        rc = ya_data_chat_build(&rec, &chat, err);
    char *text = NULL;
    if (rc == YA_OK)
        rc = ya_chat_render_tools(fmt, tok, chat.msgs, chat.turn_calls, chat.n, chat.tools, chat.n_tools, gen, &text, err);
    if (rc == YA_OK) {
        if (as_ids) {
            YaIds ids = {0};
            rc = ya_tokenizer_encode(tok, text, strlen(text), 0, &ids, err);
            if (rc == YA_OK) print_ids(stdout, &ids);
            ya_ids_free(&ids);
        } else {
            fputs(text, stdout);
        }
    }
    free(text);
    ya_data_chat_free(&chat);
    json_decref(root);
    return rc;
}

static int run(int argc, char **argv) {
    const char *tok_path = NULL, *text = NULL, *jsonl = NULL, *chat = NULL, *chat_format = NULL;
    int add_special = 1, decode = 0, skip_special = 0, gen = 0, as_ids = 0, stats = 0;
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = ya_cli_flag(argc, argv, &i, "--tokenizer", &tok_path)) ||
            (r = ya_cli_flag(argc, argv, &i, "--text", &text)) || (r = ya_cli_flag(argc, argv, &i, "--jsonl", &jsonl)) ||
            (r = ya_cli_flag(argc, argv, &i, "--chat", &chat)) ||
            (r = ya_cli_flag(argc, argv, &i, "--chat-format", &chat_format))) {
            if (r < 0) return YA_ERR_USAGE;
        } else if (strcmp(argv[i], "--no-special") == 0) add_special = 0;
        else if (strcmp(argv[i], "--decode") == 0) decode = 1;
        else if (strcmp(argv[i], "--skip-special") == 0) skip_special = 1;
        else if (strcmp(argv[i], "--add-generation-prompt") == 0) gen = 1;
        else if (strcmp(argv[i], "--ids") == 0) as_ids = 1;
        else if (strcmp(argv[i], "--stats") == 0) stats = 1;
        else return ya_cli_usage_error("tokenize", "unknown option '%s'", argv[i]);
    }
    if (!tok_path) return ya_cli_usage_error("tokenize", "--tokenizer is required");
    if ((text != NULL) + (jsonl != NULL) + (chat != NULL) != 1)
        return ya_cli_usage_error("tokenize", "give exactly one of --text, --jsonl, --chat");
    if (chat && decode) return ya_cli_usage_error("tokenize", "--chat cannot be combined with --decode");
    YaError err = {0};
    YaTokenizer *tok;
    if (ya_tokenizer_load(tok_path, &tok, &err)) return ya_cli_report("tokenize", &err);
    int rc = YA_OK;
    if (jsonl) {
        rc = run_jsonl(tok, jsonl, decode, add_special, skip_special, stats, &err);
    } else if (chat) {
        rc = run_chat(tok, chat, chat_format, gen, as_ids, &err);
    } else if (decode) {
        YaIds ids = {0};
        char *out = NULL;
        size_t len = 0;
        rc = parse_id_list(text, &ids, &err);
        if (rc == YA_OK) rc = ya_tokenizer_decode(tok, ids.ids, ids.len, skip_special, &out, &len, &err);
        if (rc == YA_OK) {
            fwrite(out, 1, len, stdout);
            fputc('\n', stdout);
        }
        free(out);
        ya_ids_free(&ids);
    } else {
        YaIds ids = {0};
        rc = ya_tokenizer_encode(tok, text, strlen(text), add_special, &ids, &err);
        if (rc == YA_OK) print_ids(stdout, &ids);
        ya_ids_free(&ids);
    }
    ya_tokenizer_free(tok);
    if (fflush(stdout) != 0 && rc == YA_OK) rc = ya_fail(&err, YA_ERR, "writing to stdout failed");
    return rc ? ya_cli_report("tokenize", &err) : 0;
}

const YaCommand ya_cmd_tokenize = {
    .name = "tokenize",
    .summary = "encode/decode text with a HuggingFace tokenizer.json (exact), render chat templates",
    .usage = k_usage,
    .order = 20,
    .run = run,
};
