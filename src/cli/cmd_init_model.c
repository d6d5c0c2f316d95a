/* cmd_init_model.c — `your_ai init-model`: write a randomly initialised model
 * directory in the HF layout (tests, the demo and benchmarks use it, since no
 * pretrained weights can be downloaded here). The work is ya_init_model(). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "your_ai/config.h"
#include "your_ai/init_model.h"

static const char k_usage[] =
    "Usage: your_ai init-model (--preset NAME | --config CONFIG.json) --out DIR [options]\n"
    "\n"
    "Writes a randomly initialised model to DIR in exactly the Hugging Face layout:\n"
    "config.json, generation_config.json, and model.safetensors (or\n"
    "model-0000i-of-0000K.safetensors shards + model.safetensors.index.json).\n"
    "Weights follow transformers' _init_weights: normal(0, 0.02) for linear and\n"
    "embedding matrices, ones for RMSNorm weights, zeros for biases. The same seed\n"
    "gives byte-identical files whatever the thread count.\n"
    "\n"
    "Options:\n"
    "  --preset NAME      a built-in shape (one of --preset/--config is required):\n"
    "                       tiny        llama, h 256, L 4, heads 8/kv 4, f 688, V 32000, tied (~11M params)\n"
    "                       small       llama, h 512, L 8, heads 8/kv 4, f 1376, V 32000, untied (~56M)\n"
    "                       llama3-1b   Llama-3.2-1B: h 2048, L 16, 32/8, f 8192, V 128256, theta 5e5,\n"
    "                                   llama3 rope (factor 32, low 1, high 4, orig 8192), tied (1.24B)\n"
    "                       llama3-8b   Llama-3.1-8B: h 4096, L 32, 32/8, f 14336, V 128256, theta 5e5,\n"
    "                                   llama3 rope (factor 8), untied (8.03B)\n"
    "                       mistral-7b  Mistral-7B-v0.1: h 4096, L 32, 32/8, f 14336, V 32000,\n"
    "                                   theta 1e4, sliding_window 4096 (7.24B)\n"
    "                       qwen2-0.5b  Qwen2-0.5B: h 896, L 24, 14/2, f 4864, V 151936, q/k/v bias,\n"
    "                                   theta 1e6, eps 1e-6, tied (0.49B)\n"
    "  --config FILE      an HF config.json (model_type llama, mistral or qwen2), validated\n"
    "                     like any model's config\n"
    "  --out DIR          output directory, created if needed (required)\n"
    "  --dtype T          f32, bf16 or f16: the stored dtype, also written as torch_dtype\n"
    "                     (default: bf16)\n"
    "  --seed N           RNG seed (default: 0)\n"
    "  --shard-size MB    at most MB megabytes (10^6 bytes) of tensor data per shard;\n"
    "                     a larger tensor gets its own shard (default: 5000, as transformers' 5GB)\n"
    "  --tokenizer PATH   copy tokenizer.json (PATH is the file or its directory) and, when\n"
    "                     present beside it, tokenizer_config.json, special_tokens_map.json,\n"
    "                     tokenizer.model (default: no tokenizer is written)\n"
    "  --threads N        OpenMP threads for the RNG (default: OpenMP's default)\n"
    "  --force            overwrite DIR when it already holds a config.json (default: refuse)\n"
    "\n"
    "Exit codes: 0 success, 1 runtime error (bad config, I/O), 2 usage error.\n";

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int run_init_model(int argc, char **argv) {
    const char *preset = NULL, *config = NULL, *out = NULL, *dtype = "bf16", *v;
    YaInitModelOptions opt = {.dtype = YA_DTYPE_BF16, .seed = 0, .max_shard_bytes = 5000ull * 1000 * 1000};
    for (int i = 1; i < argc; i++) {
        int r;
        long long n;
        if ((r = ya_cli_flag(argc, argv, &i, "--preset", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            preset = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--config", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            config = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--out", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            out = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--dtype", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            dtype = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--seed", &v))) {
            if (r < 0 || ya_cli_parse_u64("--seed", v, &opt.seed)) return YA_ERR_USAGE;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--shard-size", &v))) {
            if (r < 0 || ya_cli_parse_int("--shard-size", v, 1, 1000000000, &n)) return YA_ERR_USAGE;
            opt.max_shard_bytes = (uint64_t)n * 1000 * 1000;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--tokenizer", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            opt.tokenizer = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--threads", &v))) {
            if (r < 0 || ya_cli_parse_int("--threads", v, 1, 4096, &n)) return YA_ERR_USAGE;
            opt.threads = (int)n;
        } else if (strcmp(argv[i], "--force") == 0) {
            opt.force = 1;
        } else {
            return ya_cli_usage_error(argv[0], "unknown option '%s'", argv[i]);
        }
    }
    if (!preset == !config) return ya_cli_usage_error(argv[0], "give exactly one of --preset NAME or --config FILE");
    if (!out) return ya_cli_usage_error(argv[0], "--out DIR is required");
    if (strcmp(dtype, "f32") == 0) opt.dtype = YA_DTYPE_F32;
    else if (strcmp(dtype, "bf16") == 0) opt.dtype = YA_DTYPE_BF16;
    else if (strcmp(dtype, "f16") == 0) opt.dtype = YA_DTYPE_F16;
    else return ya_cli_usage_error(argv[0], "--dtype must be f32, bf16 or f16, got '%s'", dtype);

    YaError err = {0};
    YaModelConfig cfg;
    if (preset ? ya_config_preset(preset, &cfg, &err) : ya_config_load(config, &cfg, &err))
        return err.code == YA_ERR_USAGE ? ya_cli_usage_error(argv[0], "%s", err.message) : ya_cli_report(argv[0], &err);
    double t0 = now_seconds();
    if (ya_init_model(&cfg, out, &opt, &err)) return ya_cli_report(argv[0], &err);
    uint64_t params = ya_config_param_count(&cfg);
    printf("init-model: wrote %s (%s, %llu params, %s) in %.1f s\n", out, cfg.model_type, (unsigned long long)params,
           dtype, now_seconds() - t0);
    return 0;
}

const YaCommand ya_cmd_init_model = {
    .name = "init-model",
    .summary = "write a randomly initialised HF model directory (presets or a config.json)",
    .usage = k_usage,
    .order = 5,
    .run = run_init_model,
};
