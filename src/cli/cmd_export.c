/* cmd_export.c — `your_ai export`: base model + LoRA adapter → PEFT adapter,
 * merged HF model, GGUF model or GGUF LoRA adapter (SPEC §10; docs/DEPLOY.md
 * says what loads each one). Thin: parses flags, opens the model (mmap) and the
 * adapter, and calls src/export. */
#include <stdio.h>
#include <string.h>

#include "backend/backend.h" /* defines: ya_backend_cpu_set_threads */
#include "cli/cli.h"
#include "your_ai/adapter.h" /* defines: ya_adapter_load */
#include "your_ai/export.h"  /* defines: ya_export_* */
#include "your_ai/fileio.h"  /* defines: ya_path_join */
#include "your_ai/model.h"
#include "your_ai/publish.h" /* defines: ya_publish_begin, ya_publish_commit, ya_publish_abort */

static const char k_usage[] =
    "Usage: your_ai export --model BASE_DIR --adapter CKPT_DIR --format FORMAT --out DIR [options]\n"
    "\n"
    "Exports a LoRA adapter (a training checkpoint directory or any PEFT adapter\n"
    "directory) for other tools (docs/DEPLOY.md):\n"
    "  peft          DIR/adapter_model.safetensors + DIR/adapter_config.json, as PEFT writes them\n"
    "  merged        a complete HF model directory with W + (alpha/r)·B·A folded into every\n"
    "                adapted weight (config.json, safetensors shards + index, tokenizer files,\n"
    "                generation_config.json); also the input of the Core ML path\n"
    "  gguf          a llama.cpp GGUF model with the adapter merged (DIR/model.gguf)\n"
    "  gguf-adapter  a llama.cpp GGUF LoRA adapter for `llama-cli --lora` (DIR/adapter.gguf)\n"
    "  ollama        DIR/model.gguf (as gguf) + DIR/Modelfile (FROM, the chat TEMPLATE, one\n"
    "                PARAMETER stop per stop token) for `ollama create NAME -f DIR/Modelfile`;\n"
    "                DIR must not exist\n"
    "Every format carries the stop tokens: config.json eos ids, the tokenizer's eos and\n"
    "the chat template's end-of-turn token (generation_config.json eos_token_id list,\n"
    "GGUF tokenizer.ggml.eos_token_id / eot_token_id, Ollama PARAMETER stop).\n"
    "For gguf and gguf-adapter, an --out ending in .gguf names the file itself.\n"
    "\n"
    "The output appears whole or not at all: it is written into OUT.tmp-<pid> beside\n"
    "OUT and then renamed into place (a failed export leaves nothing behind). An\n"
    "output that is, contains or lies inside --model or --adapter is refused. A\n"
    "checkpoint's MANIFEST.sha256 is verified before it is read, and a merged value\n"
    "that is not finite (or overflows the output dtype) stops the export, naming it.\n"
    "\n"
    "Options:\n"
    "  --model DIR        base HF model directory (required)\n"
    "  --adapter DIR      adapter directory (adapter_config.json + adapter_model.safetensors);\n"
    "                     required except for merged, gguf and ollama, which then convert the base alone\n"
    "  --format F         peft | merged | gguf | gguf-adapter | ollama (required)\n"
    "  --out DIR          output directory (created if missing) (required)\n"
    "  --force            replace an existing output (a non-empty peft/merged/ollama directory, or\n"
    "                     the GGUF file): the new one is swapped in atomically, then the old\n"
    "                     one removed. Without it an existing output is an error\n"
    "  --dtype T          bf16 | f16 | f32. Defaults: peft f32; merged the base's stored dtype;\n"
    "                     gguf and ollama f16; gguf-adapter f32. peft accepts f32 or bf16\n"
    "  --quant Q          gguf and ollama: quantized matrices, bit for bit what llama.cpp's\n"
    "                     llama-quantize writes from an f32 GGUF of the same weights (docs/DEPLOY.md):\n"
    "                     q8_0    every matrix Q8_0 (rows not a multiple of 32 fall back to f16)\n"
    "                     q4_k_m  Q4_K, with Q6_K for the output and for attn_v/ffn_down of\n"
    "                             the first/last eighth of the layers and every third between\n"
    "                     q5_k_m  the same with Q5_K in place of Q4_K\n"
    "                     q6_k    every matrix Q6_K\n"
    "                     K-quant rows not a multiple of 256 fall back as llama.cpp's do\n"
    "                     (Q4_K → Q5_0, Q5_K → Q5_1, Q6_K → Q8_0)\n"
    "  --chat-format F    ollama only: llama3 | mistral | chatml | qwen3, the chat template of the\n"
    "                     Modelfile (default: recognised from tokenizer_config.json's chat_template;\n"
    "                     an unrecognised or missing template is an error)\n"
    "  --shard-size MB    merged only: at most MB megabytes (10^6 bytes) of tensor data per shard\n"
    "                     (default 5000, as transformers' 5GB)\n"
    "  --base-model NAME  peft only: adapter_config.json base_model_name_or_path\n"
    "                     (default: the adapter's own, else BASE_DIR)\n"
    "  --threads N        OpenMP and OpenBLAS threads (default: the libraries' default)\n"
    "\n"
    "Exit codes: 0 success, 1 runtime error, 2 usage error.\n";

static int parse_dtype(const char *s, YaDtype *dt) {
    if (strcmp(s, "f32") == 0) *dt = YA_DTYPE_F32;
    else if (strcmp(s, "f16") == 0) *dt = YA_DTYPE_F16;
    else if (strcmp(s, "bf16") == 0) *dt = YA_DTYPE_BF16;
    else return -1;
    return 0;
}

/* The GGUF file: DIR/default_name, or --out itself when it ends in .gguf. */
static int gguf_path(const char *out, const char *default_name, char *path, size_t cap, YaError *err) {
    size_t n = strlen(out);
    if (n > 5 && strcmp(out + n - 5, ".gguf") == 0) {
        if (n >= cap) return ya_fail(err, YA_ERR_USAGE, "--out: path too long");
        memcpy(path, out, n + 1);
        return YA_OK;
    }
    return ya_path_join(path, cap, out, default_name, err);
}

static int run_export(int argc, char **argv) {
    const char *model_dir = NULL, *adapter_dir = NULL, *format = NULL, *out = NULL, *base_name = NULL, *v;
    YaChatFormat chat = YA_CHAT_NONE;
    YaDtype dt = YA_DTYPE_COUNT;
    int quant = -1, force = 0; /* quant: a YaGgufWeightType when --quant is given */
    long long shard_mb = 5000, threads = 0;
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = ya_cli_flag(argc, argv, &i, "--model", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            model_dir = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--adapter", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            adapter_dir = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--format", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            format = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--out", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            out = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--dtype", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            if (parse_dtype(v, &dt)) return ya_cli_usage_error(argv[0], "--dtype: expected bf16, f16 or f32, got '%s'", v);
        } else if ((r = ya_cli_flag(argc, argv, &i, "--quant", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            if (strcmp(v, "q8_0") == 0) quant = YA_GGUF_W_Q8_0;
            else if (strcmp(v, "q4_k_m") == 0) quant = YA_GGUF_W_Q4_K_M;
            else if (strcmp(v, "q5_k_m") == 0) quant = YA_GGUF_W_Q5_K_M;
            else if (strcmp(v, "q6_k") == 0) quant = YA_GGUF_W_Q6_K;
            else return ya_cli_usage_error(argv[0], "--quant: expected q8_0, q4_k_m, q5_k_m or q6_k, got '%s'", v);
        } else if ((r = ya_cli_flag(argc, argv, &i, "--chat-format", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            if (ya_chat_format_parse(v, &chat) != 0)
                return ya_cli_usage_error(argv[0], "--chat-format must be llama3, mistral, chatml or qwen3, got '%s'", v);
        } else if ((r = ya_cli_flag(argc, argv, &i, "--shard-size", &v))) {
            if (r < 0 || ya_cli_parse_int("--shard-size", v, 1, 1000000000, &shard_mb)) return YA_ERR_USAGE;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--base-model", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            base_name = v;
        } else if (strcmp(argv[i], "--force") == 0) {
            force = 1;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--threads", &v))) {
            if (r < 0 || ya_cli_parse_int("--threads", v, 1, 1024, &threads)) return YA_ERR_USAGE;
        } else {
            return ya_cli_usage_error(argv[0], "unknown option '%s'", argv[i]);
        }
    }
    if (!model_dir || !format || !out) return ya_cli_usage_error(argv[0], "--model, --format and --out are required");
    int is_peft = strcmp(format, "peft") == 0, is_merged = strcmp(format, "merged") == 0;
    int is_gguf = strcmp(format, "gguf") == 0, is_gguf_adapter = strcmp(format, "gguf-adapter") == 0;
    int is_ollama = strcmp(format, "ollama") == 0;
    if (!is_peft && !is_merged && !is_gguf && !is_gguf_adapter && !is_ollama)
        return ya_cli_usage_error(argv[0], "--format: expected peft, merged, gguf, gguf-adapter or ollama, got '%s'", format);
    if ((is_peft || is_gguf_adapter) && !adapter_dir)
        return ya_cli_usage_error(argv[0], "--format %s needs --adapter", format);
    if (quant >= 0 && !is_gguf && !is_ollama) return ya_cli_usage_error(argv[0], "--quant applies to --format gguf and ollama only");
    if (chat != YA_CHAT_NONE && !is_ollama) return ya_cli_usage_error(argv[0], "--chat-format applies to --format ollama only");
    if (quant >= 0 && dt != YA_DTYPE_COUNT) return ya_cli_usage_error(argv[0], "give either --quant or --dtype, not both");
    if (is_peft && dt == YA_DTYPE_F16) return ya_cli_usage_error(argv[0], "--format peft: --dtype must be f32 or bf16");
    if (base_name && !is_peft) return ya_cli_usage_error(argv[0], "--base-model applies to --format peft only");
    ya_backend_cpu_set_threads((int)threads);

    YaError err = {0};
    YaModel *model = NULL;
    YaAdapter *adapter = NULL;
    int rc = ya_model_open(model_dir, &model, &err);
    if (rc == YA_OK && adapter_dir) rc = ya_adapter_load(adapter_dir, model, &adapter, &err);
    /* Every format is written into a staging directory beside the output and
     * swapped in whole; GGUF outputs are one file, the others a directory. */
    char path[4352];
    YaPublish pub;
    const char *inputs[2] = {model_dir, adapter_dir};
    int is_file = is_gguf || is_gguf_adapter;
    if (rc == YA_OK && is_file) rc = gguf_path(out, is_gguf ? "model.gguf" : "adapter.gguf", path, sizeof path, &err);
    else snprintf(path, sizeof path, "%s", out);
    if (rc == YA_OK && (rc = ya_publish_begin(&pub, path, is_file, force, inputs, 2, &err)) == YA_OK) {
        YaGgufWeightType wt = quant >= 0 ? (YaGgufWeightType)quant
                              : dt == YA_DTYPE_F32 ? YA_GGUF_W_F32
                              : dt == YA_DTYPE_BF16 ? YA_GGUF_W_BF16
                              : dt == YA_DTYPE_F16 ? YA_GGUF_W_F16
                              : is_gguf || is_ollama ? YA_GGUF_W_F16 : YA_GGUF_W_F32;
        if (is_peft)
            rc = ya_export_peft(model, adapter, pub.target, dt == YA_DTYPE_COUNT ? YA_DTYPE_F32 : dt, base_name, &err);
        else if (is_merged)
            rc = ya_export_merged(model, adapter, pub.target, dt, (uint64_t)shard_mb * 1000 * 1000, &err);
        else if (is_ollama)
            rc = ya_export_ollama(model, adapter, pub.target, wt, chat, &err);
        else if (is_gguf)
            rc = ya_export_gguf(model, adapter, pub.target, wt, &err);
        else
            rc = ya_export_gguf_adapter(model, adapter, pub.target, wt, &err);
        if (rc == YA_OK) rc = ya_publish_commit(&pub, &err);
        else ya_publish_abort(&pub);
    }
    if (rc == YA_OK)
        fprintf(stderr, "exported %s%s%s as %s to %s\n", model_dir, adapter ? " + " : "", adapter ? adapter_dir : "",
                format, path);
    ya_adapter_free(adapter);
    ya_model_free(model);
    return rc == YA_OK ? YA_OK : ya_cli_report(argv[0], &err);
}

const YaCommand ya_cmd_export = {
    .name = "export",
    .summary = "export an adapter: PEFT, merged HF model, GGUF, GGUF LoRA adapter, Ollama",
    .usage = k_usage,
    .order = 70,
    .run = run_export,
};
