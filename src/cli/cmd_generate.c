/* cmd_generate.c — `your_ai generate`: text (or ids) from a prompt with the
 * KV cache and the sampler; streams output as it is produced and ends with a
 * throughput line on stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h" /* defines: ya_backend_cpu_set_threads */
#include "cli/cli.h"
#include "cli/cli_ids.h"
#include "your_ai/fileio.h"
#include "your_ai/generate.h"
#include "your_ai/adapter.h" /* defines: ya_adapter_load, ya_model_set_adapter */
#include "your_ai/device.h"  /* defines: ya_device_resolve */
#include "your_ai/model.h"
#include "your_ai/tokenizer.h"

static const char k_usage[] =
    "Usage: your_ai generate --model DIR (--prompt TEXT | --ids \"1 2 3\") [options]\n"
    "\n"
    "Generates a continuation with the KV cache (fp32 compute on the CPU; bf16\n"
    "weights, activations and KV cache with fp32 accumulation on the GPU with\n"
    "--device cuda) and prints it to stdout as it is produced. The last line, on\n"
    "stderr, reads\n"
    "  prompt: N tokens, X tok/s | decode: M tokens, Y tok/s\n"
    "Generation stops after --max-tokens or at an EOS id (config.json eos_token_id\n"
    "∪ generation_config.json ∪ the tokenizer's eos, and with --chat the template's\n"
    "end-of-turn token: <|eot_id|>, <|im_end|>, </s>); the EOS token is not printed.\n"
    "Sampling settings in generation_config.json are not applied: pass them as flags.\n"
    "\n"
    "Options:\n"
    "  --model DIR               HF model directory (required)\n"
    "  --adapter DIR             apply a PEFT LoRA adapter (adapter_config.json +\n"
    "                            adapter_model.safetensors, e.g. a checkpoint) without merging (default: none)\n"
    "  --prompt TEXT             prompt text, encoded with DIR/tokenizer.json (BOS added as the tokenizer does)\n"
    "  --ids LIST                prompt as token ids (spaces or commas); no tokenizer needed\n"
    "  --chat                    send --prompt as a user turn through the tokenizer's chat template\n"
    "                            (tokenizer_config.json: Llama 3, Mistral [INST], ChatML, Qwen3)\n"
    "  --chat-format F           like --chat, with the template F: llama3|mistral|chatml|qwen3\n"
    "  --max-tokens N            tokens to generate at most (default 128)\n"
    "  --temperature T           0 = greedy, as HF generate() without do_sample (default 0)\n"
    "  --top-k K                 sample among the K most likely tokens, 0 = off (default 0)\n"
    "  --top-p P                 nucleus sampling mass in (0, 1], 1 = off (default 1)\n"
    "  --repetition-penalty R    HF repetition penalty over prompt and output ids, 1 = off (default 1)\n"
    "  --seed N                  sampling seed (default 0)\n"
    "  --device D                cpu | cuda | auto: where the model runs; auto = the GPU when this build\n"
    "                            has CUDA and one is visible, else the CPU (default cpu)\n"
    "  --gpu N                   CUDA device index for --device cuda (default 0)\n"
    "  --threads N               OpenMP and OpenBLAS threads (default: the libraries' default; on a\n"
    "                            machine shared with other jobs, OMP_WAIT_POLICY=passive helps)\n"
    "  --print-ids               print the generated ids (space-separated, EOS included) instead of text\n"
    "  --no-cache                recompute the whole sequence each step (debug: checks the KV cache)\n"
    "\n"
    "Exit codes: 0 success, 1 runtime error (NaN/Inf logits name the first non-finite weight),\n"
    "2 usage error.\n";

typedef struct Stream {
    const YaTokenizer *tok; /* NULL: print ids */
    const YaGenerateParams *params;
    int32_t *out;           // [max_tokens] generated so far
    int n_out;
    size_t printed;         /* bytes of the decoded output already written */
    int print_ids;
    int failed;
    YaError err;
} Stream;

static int is_stop(const YaGenerateParams *p, int32_t id) {
    for (int i = 0; i < p->n_eos; i++)
        if (p->eos[i] == id) return 1;
    return 0;
}

/* Prints the new part of the decoded output. The whole output is re-decoded
 * each time (SentencePiece spaces and multi-byte characters split across
 * tokens decode correctly only in context); text ending in an incomplete
 * character (U+FFFD) waits for the next token. */
static int on_token(void *user, int32_t id) {
    Stream *s = user;
    s->out[s->n_out++] = id;
    if (s->print_ids) {
        printf("%s%d", s->n_out > 1 ? " " : "", (int)id);
        fflush(stdout);
        return 0;
    }
    if (is_stop(s->params, id)) return 0;
    char *text = NULL;
    size_t len = 0;
    if (ya_tokenizer_decode(s->tok, s->out, (size_t)s->n_out, 1, &text, &len, &s->err) != YA_OK) {
        s->failed = 1;
        return 1;
    }
    int pending = len >= 3 && memcmp(text + len - 3, "\xEF\xBF\xBD", 3) == 0;
    if (!pending && len > s->printed) {
        fwrite(text + s->printed, 1, len - s->printed, stdout);
        fflush(stdout);
        s->printed = len;
    }
    free(text);
    return 0;
}

static int run_generate(int argc, char **argv) {
    const char *model_dir = NULL, *prompt = NULL, *ids_s = NULL, *adapter_dir = NULL, *device_s = "cpu", *v;
    long long max_tokens = 128, threads = 0, top_k = 0, gpu = 0;
    uint64_t seed = 0;
    int print_ids = 0, chat = 0;
    YaChatFormat chat_format = YA_CHAT_NONE;
    YaGenerateParams params = {.sampling = ya_sampler_defaults()};
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = ya_cli_flag(argc, argv, &i, "--model", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            model_dir = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--prompt", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            prompt = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--ids", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            ids_s = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--max-tokens", &v))) {
            if (r < 0 || ya_cli_parse_int("--max-tokens", v, 1, 1 << 20, &max_tokens)) return YA_ERR_USAGE;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--temperature", &v))) {
            if (r < 0 || ya_cli_parse_double("--temperature", v, &params.sampling.temperature)) return YA_ERR_USAGE;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--top-k", &v))) {
            if (r < 0 || ya_cli_parse_int("--top-k", v, 0, INT32_MAX, &top_k)) return YA_ERR_USAGE;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--top-p", &v))) {
            if (r < 0 || ya_cli_parse_double("--top-p", v, &params.sampling.top_p)) return YA_ERR_USAGE;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--repetition-penalty", &v))) {
            if (r < 0 || ya_cli_parse_double("--repetition-penalty", v, &params.sampling.repetition_penalty))
                return YA_ERR_USAGE;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--seed", &v))) {
            if (r < 0 || ya_cli_parse_u64("--seed", v, &seed)) return YA_ERR_USAGE;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--adapter", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            adapter_dir = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--device", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            device_s = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--gpu", &v))) {
            if (r < 0 || ya_cli_parse_int("--gpu", v, 0, 1023, &gpu)) return YA_ERR_USAGE;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--threads", &v))) {
            if (r < 0 || ya_cli_parse_int("--threads", v, 1, 1024, &threads)) return YA_ERR_USAGE;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--chat-format", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            if (ya_chat_format_parse(v, &chat_format) != 0)
                return ya_cli_usage_error(argv[0], "--chat-format must be llama3, mistral, chatml or qwen3, got '%s'", v);
            chat = 1;
        } else if (strcmp(argv[i], "--chat") == 0) {
            chat = 1;
        } else if (strcmp(argv[i], "--print-ids") == 0) {
            print_ids = 1;
        } else if (strcmp(argv[i], "--no-cache") == 0) {
            params.no_cache = 1;
        } else {
            return ya_cli_usage_error(argv[0], "unknown option '%s'", argv[i]);
        }
    }
    if (!model_dir) return ya_cli_usage_error(argv[0], "--model is required");
    if (!prompt == !ids_s) return ya_cli_usage_error(argv[0], "give exactly one of --prompt and --ids");
    if (chat && !prompt) return ya_cli_usage_error(argv[0], "--chat and --chat-format apply to --prompt");
    params.max_tokens = (int)max_tokens;
    params.sampling.top_k = (int)top_k;
    params.sampling.seed = seed;
    params.gpu = (int)gpu;
    ya_backend_cpu_set_threads((int)threads);

    YaError err = {0};
    if (ya_device_resolve(device_s, &params.device, &err) != YA_OK) return ya_cli_report(argv[0], &err);
    YaModel *model = NULL;
    YaAdapter *adapter = NULL;
    YaTokenizer *tok = NULL;
    YaIds prompt_ids = {0};
    int32_t *ids = NULL, *out_ids = NULL;
    int n_ids = 0, rc;
    if (ids_s && (rc = ya_cli_parse_ids("--ids", ids_s, &ids, &n_ids)) != YA_OK) return rc;
    if ((rc = ya_model_open(model_dir, &model, &err)) != YA_OK) goto done;
    if (adapter_dir && ((rc = ya_adapter_load(adapter_dir, model, &adapter, &err)) != YA_OK ||
                        (rc = ya_model_set_adapter(model, adapter, &err)) != YA_OK))
        goto done;

    char tok_path[4096];
    if ((rc = ya_path_join(tok_path, sizeof tok_path, model_dir, "tokenizer.json", &err)) != YA_OK) goto done;
    int need_tokenizer = prompt || !print_ids;
    if (need_tokenizer || ya_path_exists(tok_path)) {
        if (!ya_path_exists(tok_path)) {
            rc = ya_fail(&err, YA_ERR, "%s: no tokenizer.json (needed for %s; use --ids%s)", model_dir,
                         prompt ? "--prompt" : "printing text", prompt ? "" : " with --print-ids");
            goto done;
        }
        if ((rc = ya_tokenizer_load(model_dir, &tok, &err)) != YA_OK) goto done;
    }
    if (prompt && chat) {
        if (chat_format == YA_CHAT_NONE && (chat_format = ya_tokenizer_chat_format(tok)) == YA_CHAT_NONE) {
            rc = ya_fail(&err, YA_ERR_USAGE, "%s: tokenizer_config.json has %s chat template; pick one with --chat-format",
                         model_dir, ya_tokenizer_has_chat_template(tok) ? "an unrecognised" : "no");
            goto done;
        }
        if ((rc = ya_chat_encode_user(chat_format, tok, prompt, &prompt_ids, &err)) != YA_OK) goto done;
        ids = prompt_ids.ids;
        n_ids = (int)prompt_ids.len;
    } else if (prompt) {
        if ((rc = ya_tokenizer_encode(tok, prompt, strlen(prompt), 1, &prompt_ids, &err)) != YA_OK) goto done;
        ids = prompt_ids.ids;
        n_ids = (int)prompt_ids.len;
    }
    ya_generate_eos_set(&params, &model->cfg, tok ? ya_tokenizer_eos_id(tok) : -1);
    if (chat) { /* a chat model ends its turn with the template's end-of-turn token, which may not be the EOS */
        const char *eot = ya_chat_end_of_turn(chat_format, tok);
        int32_t eot_id = eot ? ya_tokenizer_token_to_id(tok, eot) : -1;
        if (eot_id < 0) {
            rc = ya_fail(&err, YA_ERR, "%s: the %s template's end-of-turn token %s is not in the vocabulary", model_dir,
                         ya_chat_format_name(chat_format), eot ? eot : "(none)");
            goto done;
        }
        if (!is_stop(&params, eot_id) && params.n_eos < YA_MAX_EOS) params.eos[params.n_eos++] = eot_id;
    }

    out_ids = malloc((size_t)params.max_tokens * sizeof *out_ids);
    if (!out_ids) {
        rc = ya_fail(&err, YA_ERR, "out of memory");
        goto done;
    }
    Stream stream = {.tok = tok, .params = &params, .out = out_ids, .print_ids = print_ids};
    YaGenerateStats stats;
    rc = ya_generate(model, ids, n_ids, &params, on_token, &stream, &stats, &err);
    if (rc == YA_OK && stream.failed) {
        err = stream.err;
        rc = err.code ? err.code : YA_ERR;
    }
    if (rc != YA_OK) goto done;
    printf("\n");
    fflush(stdout);
    /* The first output token comes from the prefill; decode steps are the forwards after it. */
    int decode_steps = stats.n_decode > 0 ? stats.n_decode - 1 : 0;
    fprintf(stderr, "prompt: %d tokens, %.1f tok/s | decode: %d tokens, %.1f tok/s%s\n", stats.n_prompt,
            stats.prompt_seconds > 0 ? stats.n_prompt / stats.prompt_seconds : 0.0, stats.n_decode,
            stats.decode_seconds > 0 ? decode_steps / stats.decode_seconds : 0.0, stats.hit_eos ? " (eos)" : "");

done:
    if (prompt_ids.ids) ya_ids_free(&prompt_ids);
    else free(ids);
    free(out_ids);
    ya_tokenizer_free(tok);
    ya_model_free(model);
    ya_adapter_free(adapter);
    return rc == YA_OK ? YA_OK : ya_cli_report(argv[0], &err);
}

const YaCommand ya_cmd_generate = {
    .name = "generate",
    .summary = "generate text with the KV cache (greedy or sampled)",
    .usage = k_usage,
    .order = 61,
    .run = run_generate,
};
