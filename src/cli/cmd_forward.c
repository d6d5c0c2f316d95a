/* cmd_forward.c — `your_ai forward`: logits of a token sequence, written as a
 * safetensors file. The debug entry point the PyTorch parity tests use; with
 * --load-only it measures model loading (bench/load_8b.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/backend.h" /* defines: ya_backend_cpu_set_threads */
#include "cli/cli.h"
#include "cli/cli_ids.h"
#include "your_ai/adapter.h" /* defines: ya_adapter_load, ya_model_set_adapter */
#include "your_ai/device.h"  /* defines: ya_device_resolve */
#include "your_ai/model.h"
#include "your_ai/safetensors.h"

static const char k_usage[] =
    "Usage: your_ai forward --model DIR --ids \"1 2 3 ...\" --out FILE.safetensors [options]\n"
    "\n"
    "Runs the model over one token sequence and writes tensor `logits` (F32,\n"
    "[T, vocab_size]) to FILE.safetensors. On the CPU the compute is fp32; with\n"
    "--device cuda the weights are bf16 on the GPU (an --adapter merged in), the\n"
    "activations bf16 with fp32 accumulation, and the logits widened to F32.\n"
    "\n"
    "Options:\n"
    "  --model DIR        HF model directory (config.json + *.safetensors) (required)\n"
    "  --adapter DIR      apply a PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors,\n"
    "                     e.g. a training checkpoint) without merging it (default: none)\n"
    "  --ids LIST         token ids separated by spaces or commas (required unless --load-only)\n"
    "  --out FILE         output .safetensors path (required unless --load-only)\n"
    "  --last-only        write only the last position's logits ([1, vocab_size])\n"
    "  --chunk N          tokens per forward step (default: all of them; smaller bounds memory)\n"
    "  --device D         cpu | cuda | auto: where the forward runs; auto = the GPU when this build\n"
    "                     has CUDA and one is visible, else the CPU (default cpu)\n"
    "  --gpu N            CUDA device index for --device cuda (default 0)\n"
    "  --threads N        OpenMP and OpenBLAS threads (default: the libraries' default)\n"
    "  --load-only        open and check the model, print the load time, and exit\n"
    "\n"
    "Exit codes: 0 success, 1 runtime error (missing tensor, bad file, NaN/Inf logits: the\n"
    "message names the first non-finite weight), 2 usage error.\n";

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int run_forward(int argc, char **argv) {
    const char *model_dir = NULL, *ids_s = NULL, *out_path = NULL, *adapter_dir = NULL, *device_s = "cpu", *v;
    int last_only = 0, load_only = 0;
    long long threads = 0, chunk = 0, gpu = 0;
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = ya_cli_flag(argc, argv, &i, "--model", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            model_dir = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--ids", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            ids_s = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--out", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            out_path = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--adapter", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            adapter_dir = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--threads", &v))) {
            if (r < 0 || ya_cli_parse_int("--threads", v, 1, 1024, &threads)) return YA_ERR_USAGE;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--device", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            device_s = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--gpu", &v))) {
            if (r < 0 || ya_cli_parse_int("--gpu", v, 0, 1023, &gpu)) return YA_ERR_USAGE;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--chunk", &v))) {
            if (r < 0 || ya_cli_parse_int("--chunk", v, 1, 1 << 20, &chunk)) return YA_ERR_USAGE;
        } else if (strcmp(argv[i], "--last-only") == 0) {
            last_only = 1;
        } else if (strcmp(argv[i], "--load-only") == 0) {
            load_only = 1;
        } else {
            return ya_cli_usage_error(argv[0], "unknown option '%s'", argv[i]);
        }
    }
    if (!model_dir) return ya_cli_usage_error(argv[0], "--model is required");
    if (!load_only && (!ids_s || !out_path)) return ya_cli_usage_error(argv[0], "--ids and --out are required");
    ya_backend_cpu_set_threads((int)threads);

    int32_t *ids = NULL;
    int T = 0;
    if (ids_s) {
        int rc = ya_cli_parse_ids("--ids", ids_s, &ids, &T);
        if (rc != YA_OK) return rc;
    }
    YaError err = {0};
    YaDevice device;
    if (ya_device_resolve(device_s, &device, &err) != YA_OK) {
        free(ids);
        return ya_cli_report(argv[0], &err);
    }
    YaModel *model = NULL;
    YaInferState *st = NULL;
    float *logits = NULL;
    double t0 = now_seconds();
    YaAdapter *adapter = NULL;
    int rc = ya_model_open(model_dir, &model, &err);
    if (rc != YA_OK) goto fail;
    if (adapter_dir && ((rc = ya_adapter_load(adapter_dir, model, &adapter, &err)) != YA_OK ||
                        (rc = ya_model_set_adapter(model, adapter, &err)) != YA_OK))
        goto fail;
    if (load_only) {
        const YaModelConfig *c = &model->cfg;
        printf("loaded %s: %zu tensors, %d layers, hidden %d, vocab %d, in %.1f ms\n", model_dir,
               ya_weights_count(model->weights), c->num_hidden_layers, c->hidden_size, c->vocab_size,
               1e3 * (now_seconds() - t0));
        goto out;
    }
    rc = ya_infer_state_new_on(model, device, (int)gpu, T, chunk > 0 ? (int)chunk : T, &st, &err);
    if (rc != YA_OK) goto fail;
    int V = model->cfg.vocab_size, rows = last_only ? 1 : T;
    logits = malloc((size_t)rows * V * sizeof *logits); // [rows, V]
    if (!logits) {
        rc = ya_fail(&err, YA_ERR, "out of memory for [%d, %d] logits", rows, V);
        goto fail;
    }
    rc = ya_model_forward(model, st, ids, T, !last_only, logits, &err);
    if (rc != YA_OK) goto fail;
    YaStWriter *w = ya_st_writer_new();
    int64_t shape[2] = {rows, V};
    if (!w) {
        rc = ya_fail(&err, YA_ERR, "out of memory");
        goto fail;
    }
    rc = ya_st_writer_add(w, "logits", YA_DTYPE_F32, 2, shape, logits, &err);
    if (rc == YA_OK)
        rc = ya_st_writer_finish(w, out_path, &err);
    else
        ya_st_writer_free(w);
    if (rc != YA_OK) goto fail;
out:
    free(logits);
    ya_infer_state_free(st);
    ya_model_free(model);
    ya_adapter_free(adapter);
    free(ids);
    return YA_OK;
fail:
    free(logits);
    ya_infer_state_free(st);
    ya_model_free(model);
    ya_adapter_free(adapter);
    free(ids);
    return ya_cli_report(argv[0], &err);
}

const YaCommand ya_cmd_forward = {
    .name = "forward",
    .summary = "logits of a token sequence (debug / parity checks)",
    .usage = k_usage,
    .order = 60,
    .run = run_forward,
};
