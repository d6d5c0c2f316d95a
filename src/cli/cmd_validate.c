/* cmd_validate.c — `your_ai validate`: held-out perplexity by source type and
 * authority band, multiple-choice benchmarks by log-likelihood, the prompt
 * suite, a JSON report, a summary on stdout and an optional SVG plot (SPEC §11.2).
 * The work lives in src/eval/; this file parses flags and sequences the runs. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h" /* defines: ya_backend_cpu_set_threads */
#include "cli/cli.h"
#include "cli/cli_data.h"
#include "your_ai/adapter.h" /* defines: ya_adapter_load, ya_model_set_adapter */
#include "your_ai/device.h"  /* defines: ya_device_resolve */
#include "your_ai/eval.h"
#include "your_ai/fileio.h"
#include "your_ai/log.h"

static const char k_usage[] =
    "Usage: your_ai validate --model DIR [--adapter DIR] [--data VAL.jsonl ...] [--benchmark FILE]\n"
    "                        [--prompts FILE] --out REPORT.json [options]\n"
    "\n"
    "Evaluates a model (optionally with a LoRA adapter) and writes a JSON report\n"
    "(schema your_ai.validate/1, docs/VALIDATION.md) plus a summary on stdout.\n"
    "At least one of --data, --benchmark, --prompts is required.\n"
    "\n"
    "  Perplexity (--data): every val record goes through the training data loader\n"
    "  (same tokens, BOS/EOS, truncation and supervised targets as training);\n"
    "  per group: token-pooled NLL = sum(nll)/sum(tokens), ppl = exp(NLL), sample and\n"
    "  token counts, and a seeded 95% percentile-bootstrap interval over samples.\n"
    "  Groups: all, each source_type, authority bands low (auth_weight < 0.3),\n"
    "  mid [0.3, 0.7], high (> 0.7).\n"
    "  With --adapter the base model (same weights, no adapter) is evaluated too:\n"
    "  delta = NLL_adapter - NLL_base per group (paired bootstrap interval) and the\n"
    "  distrust signal delta_low - delta_high (negative = training moved the model\n"
    "  toward low-authority, primary sources).\n"
    "  Multiple choice (--benchmark): MC1, length-normalised MC1 and MC2 from the\n"
    "  log-likelihood of \" \" + choice after the prompt; order of choices cannot matter.\n"
    "  Prompt suite (--prompts): chat-templated greedy answers scored by keyword checks;\n"
    "  mc items under every rotation of their choices; pass rates with 95% Wilson intervals.\n"
    "\n"
    "Options:\n"
    "  --model DIR            HF model directory (required)\n"
    "  --adapter DIR          PEFT LoRA adapter or trainer checkpoint to evaluate (default: none)\n"
    "  --no-base              with --adapter: skip the base-model pass (no deltas, no distrust signal)\n"
    "  --data FILE            validation JSONL (repeatable, up to 16); records as in training (SPEC §5.1, §5.4)\n"
    "  --by WHAT              groups: source_type, auth_band or all (repeatable; default all)\n"
    "  --bootstrap N          bootstrap resamples for the intervals, 0 = none (default 1000)\n"
    "  --seed N               bootstrap seed; group streams bootstrap:<kind>:<name> (default 42)\n"
    "  --benchmark FILE       multiple-choice benchmark, JSONL or .csv (docs/VALIDATION.md)\n"
    "  --prompt-template T    MC prompt; {question} is replaced (default \"Q: {question}\\nA:\")\n"
    "  --prompts FILE         prompt-suite JSONL (e.g. data/prompt_suite.jsonl)\n"
    "  --max-new-tokens N     prompt suite: tokens generated per answer at most (default 512)\n"
    "  --compare REPORT       an earlier validate report (e.g. another model's): adds deltas\n"
    "                         (this run minus that one) to the summary, the report and the plot\n"
    "  --out FILE             report JSON, written atomically (required)\n"
    "  --plot FILE.svg        per-group perplexity bars, base (or --compare) vs this run (default: none)\n"
    "  --dump-ids FILE        debug: one JSON line per val sample with the ids and targets scored\n"
    "  --device D             cpu | cuda | auto: where the model runs (perplexity, multiple choice,\n"
    "                         prompt suite); cuda keeps bf16 weights, activations and KV cache on the\n"
    "                         GPU; auto = the GPU when this build has CUDA and one is visible, else the\n"
    "                         CPU (default cpu)\n"
    "  --gpu N                CUDA device index for --device cuda (default 0)\n"
    "  --threads N            OpenMP and OpenBLAS threads (default: the libraries' default)\n"
    "Data-loader flags (as in train; batching flags are accepted and ignored):\n"
    "  --max-seq-length N     tokens per sample; longer samples keep their first N (default 1024)\n"
    "  --mask-prompt on|off   loss only on completion/assistant tokens (default on)\n"
    "  --train-on WHICH       chat data: final | all-assistant (default final)\n"
    "  --no-append-eos        don't append EOS to text documents (default: append)\n"
    "  --chat-format F        chatml|llama3|mistral|qwen3: override the tokenizer's template; also\n"
    "                         used by the prompt suite (default: the tokenizer's own; none = plain prompt)\n"
    "  --on-bad-line P        fail | skip (default fail)\n"
    "  --max-line-bytes N     longest JSONL line accepted; a longer one is a bad line, skipped unread\n"
    "                         (default 16777216 = 16 MiB)\n"
    "\n"
    "Exit codes: 0 success, 1 runtime error (bad input names file:line; NaN/Inf logits name the\n"
    "first non-finite weight, and no report is written), 2 usage error.\n";

typedef struct Opts {
    const char *model, *adapter, *benchmark, *prompts, *compare, *out, *plot, *dump_ids, *tpl, *device;
    const char *data[16];
    size_t n_data;
    int no_base, by_source, by_band, n_bootstrap, max_new_tokens;
    uint64_t seed;
    long long threads, gpu;
    YaDataConfig dcfg;
} Opts;

static int parse(int argc, char **argv, Opts *o) {
    const char *cmd = "validate", *v;
    long long n;
    int by_given = 0;
    memset(o, 0, sizeof *o);
    o->n_bootstrap = 1000;
    o->max_new_tokens = 512;
    o->seed = 42;
    o->device = "cpu";
    ya_data_config_default(&o->dcfg);
    o->dcfg.need_scores = 0; /* val data may lack w/H: bands need only auth_weight when present */
    for (int i = 1; i < argc; i++) {
        int r;
        if ((r = ya_cli_flag(argc, argv, &i, "--seed", &v))) { /* ours, not the data order's */
            if (r < 0 || ya_cli_parse_u64("--seed", v, &o->seed)) return YA_ERR_USAGE;
            continue;
        }
        if ((r = ya_cli_data_flag(cmd, argc, argv, &i, &o->dcfg)) < 0) return YA_ERR_USAGE;
        if (r > 0) continue;
        if ((r = ya_cli_flag(argc, argv, &i, "--model", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            o->model = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--adapter", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            o->adapter = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--data", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            if (o->n_data == 16) return ya_cli_usage_error(cmd, "at most 16 --data files");
            o->data[o->n_data++] = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--by", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            by_given = 1;
            if (strcmp(v, "source_type") == 0) o->by_source = 1;
            else if (strcmp(v, "auth_band") == 0) o->by_band = 1;
            else if (strcmp(v, "all") == 0) o->by_source = o->by_band = 1;
            else return ya_cli_usage_error(cmd, "--by must be source_type, auth_band or all, got '%s'", v);
        } else if ((r = ya_cli_flag(argc, argv, &i, "--bootstrap", &v))) {
            if (r < 0 || ya_cli_parse_int("--bootstrap", v, 0, 1000000, &n)) return YA_ERR_USAGE;
            o->n_bootstrap = (int)n;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--benchmark", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            o->benchmark = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--prompt-template", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            if (!strstr(v, "{question}")) return ya_cli_usage_error(cmd, "--prompt-template must contain {question}");
            o->tpl = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--prompts", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            o->prompts = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--max-new-tokens", &v))) {
            if (r < 0 || ya_cli_parse_int("--max-new-tokens", v, 1, 1 << 20, &n)) return YA_ERR_USAGE;
            o->max_new_tokens = (int)n;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--compare", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            o->compare = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--out", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            o->out = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--plot", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            o->plot = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--dump-ids", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            o->dump_ids = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--threads", &v))) {
            if (r < 0 || ya_cli_parse_int("--threads", v, 1, 4096, &o->threads)) return YA_ERR_USAGE;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--device", &v))) {
            if (r < 0) return YA_ERR_USAGE;
            o->device = v;
        } else if ((r = ya_cli_flag(argc, argv, &i, "--gpu", &v))) {
            if (r < 0 || ya_cli_parse_int("--gpu", v, 0, 1023, &o->gpu)) return YA_ERR_USAGE;
        } else if (strcmp(argv[i], "--no-base") == 0) {
            o->no_base = 1;
        } else {
            return ya_cli_usage_error(cmd, "unknown option '%s'", argv[i]);
        }
    }
    if (!by_given) o->by_source = o->by_band = 1;
    if (!o->model) return ya_cli_usage_error(cmd, "--model DIR is required");
    if (!o->out) return ya_cli_usage_error(cmd, "--out FILE is required");
    if (!o->n_data && !o->benchmark && !o->prompts)
        return ya_cli_usage_error(cmd, "nothing to evaluate: give --data, --benchmark and/or --prompts");
    if (o->plot && !o->n_data) return ya_cli_usage_error(cmd, "--plot draws perplexity groups: it needs --data");
    if (o->no_base && !o->adapter) return ya_cli_usage_error(cmd, "--no-base only makes sense with --adapter");
    return YA_OK;
}

/* Attaches (1) or detaches (0) the adapter. */
static int use_adapter(YaModel *m, const YaAdapter *a, int on, YaError *err) {
    return a ? ya_model_set_adapter(m, on ? a : NULL, err) : YA_OK;
}

static int write_plot(const Opts *o, const YaPplGroup *g, size_t ng, const json_t *cmp, YaError *err) {
    const char **labels = calloc(ng, sizeof *labels);
    char (*names)[128] = calloc(ng, sizeof *names);
    double *tuned = calloc(ng, sizeof *tuned), *base = calloc(ng, sizeof *base);
    int rc = labels && names && tuned && base ? YA_OK : ya_fail(err, YA_ERR, "out of memory");
    int any_base = 0;
    for (size_t i = 0; rc == YA_OK && i < ng; i++) {
        snprintf(names[i], sizeof names[i], "%s%s", strcmp(g[i].kind, "auth_band") == 0 ? "auth " : "", g[i].name);
        labels[i] = names[i];
        tuned[i] = g[i].ppl;
        base[i] = NAN;
        if (g[i].has_base) base[i] = g[i].base_ppl;
        else if (cmp) {
            json_t *groups = json_object_get(json_object_get(cmp, "perplexity"), "groups"), *x;
            size_t k;
            json_array_foreach(groups, k, x) {
                json_t *kk = json_object_get(x, "kind"), *nn = json_object_get(x, "name"), *pp = json_object_get(x, "ppl");
                if (json_is_string(kk) && json_is_string(nn) && json_is_number(pp) &&
                    strcmp(json_string_value(kk), g[i].kind) == 0 && strcmp(json_string_value(nn), g[i].name) == 0)
                    base[i] = json_number_value(pp);
            }
        }
        any_base |= !isnan(base[i]);
    }
    const char *base_name = g[0].has_base ? "base (no adapter)" : o->compare ? "compare report" : "base";
    const char *tuned_name = o->adapter ? "tuned (adapter)" : "this model";
    if (rc == YA_OK)
        rc = ya_plot_svg_write(o->plot, "Validation perplexity by group", labels, tuned, any_base ? base : NULL, ng,
                               tuned_name, base_name, err);
    free(labels);
    free(names);
    free(tuned);
    free(base);
    return rc;
}

static int run_validate(int argc, char **argv) {
    Opts o;
    int rc = parse(argc, argv, &o);
    if (rc) return rc;
    ya_backend_cpu_set_threads((int)o.threads);

    YaError err = {0};
    YaDevice device;
    if (ya_device_resolve(o.device, &device, &err) != YA_OK) return ya_cli_report("validate", &err);
    const int gpu = (int)o.gpu;
    YaModel *model = NULL;
    YaTokenizer *tok = NULL;
    YaAdapter *adapter = NULL;
    json_t *cmp = NULL, *report = NULL;
    FILE *dump = NULL;
    YaPplSamples tuned = {0}, base = {0};
    YaPplGroup *groups = NULL;
    size_t n_groups = 0;
    YaDistrustSignal signal = {0};
    YaMcSet mcset = {0};
    YaMcResult mc = {0}, mc_base = {0};
    YaSuite suite = {0};
    YaSuiteResult sr = {0}, sr_base = {0};
    int have_mc = 0, have_mc_base = 0, have_suite = 0, have_suite_base = 0;
    const int with_base = o.adapter && !o.no_base;

    /* Inputs that can fail fast are read before any model work. */
    if (o.compare && (rc = ya_json_load_file(o.compare, 0, &cmp, &err))) goto done;
    if (o.benchmark && (rc = ya_mc_load(o.benchmark, &mcset, &err))) goto done;
    if (o.prompts && (rc = ya_suite_load(o.prompts, &suite, &err))) goto done;
    if ((rc = ya_model_open(o.model, &model, &err)) || (rc = ya_tokenizer_load(o.model, &tok, &err))) goto done;
    if (o.adapter && ((rc = ya_adapter_load(o.adapter, model, &adapter, &err)) ||
                      (rc = ya_model_set_adapter(model, adapter, &err))))
        goto done;

    if (o.n_data) {
        if (o.dump_ids && !(dump = fopen(o.dump_ids, "w"))) {
            rc = ya_fail(&err, YA_ERR, "%s: cannot open for writing", o.dump_ids);
            goto done;
        }
        ya_info("validate: perplexity over %zu file(s)%s", o.n_data, with_base ? " (adapter, then base)" : "");
        if ((rc = ya_ppl_collect_on(model, device, gpu, tok, &o.dcfg, o.data, o.n_data, dump, &tuned, &err))) goto done;
        if (with_base && ((rc = use_adapter(model, adapter, 0, &err)) ||
                          (rc = ya_ppl_collect_on(model, device, gpu, tok, &o.dcfg, o.data, o.n_data, NULL, &base, &err)) ||
                          (rc = use_adapter(model, adapter, 1, &err))))
            goto done;
        YaPplOptions po = {.by_source_type = o.by_source, .by_auth_band = o.by_band, .n_bootstrap = o.n_bootstrap, .seed = o.seed};
        if ((rc = ya_ppl_groups(&tuned, with_base ? &base : NULL, &po, &groups, &n_groups, &signal, &err))) goto done;
    }
    if (o.benchmark) {
        YaMcModelCtx mctx = {.model = model, .tok = tok, .device = device, .gpu = gpu};
        ya_info("validate: multiple choice, %zu items", mcset.n);
        rc = ya_mc_run(&mcset, o.tpl, ya_mc_model_loglik, &mctx, &mc, &err);
        have_mc = rc == YA_OK;
        if (rc == YA_OK && with_base) {
            if ((rc = use_adapter(model, adapter, 0, &err)) == YA_OK)
                rc = ya_mc_run(&mcset, o.tpl, ya_mc_model_loglik, &mctx, &mc_base, &err);
            have_mc_base = rc == YA_OK;
            if (rc == YA_OK) rc = use_adapter(model, adapter, 1, &err);
        }
        ya_mc_model_ctx_free(&mctx);
        if (rc) goto done;
    }
    if (o.prompts) {
        YaChatFormat fmt = o.dcfg.chat_format != YA_CHAT_NONE ? o.dcfg.chat_format : ya_tokenizer_chat_format(tok);
        if (fmt == YA_CHAT_NONE)
            ya_warn("validate: the tokenizer has no recognised chat template; the prompt suite uses plain prompts "
                    "(pass --chat-format to force one)");
        YaSuiteModelCtx sctx = {.model = model, .tok = tok, .chat_format = fmt, .max_new_tokens = o.max_new_tokens,
                                .seed = o.seed, .device = device, .gpu = gpu};
        ya_info("validate: prompt suite, %zu items", suite.n);
        rc = ya_suite_run(&suite, ya_suite_model_generate, &sctx, NULL, &sr, &err);
        have_suite = rc == YA_OK;
        if (rc == YA_OK && with_base) {
            if ((rc = use_adapter(model, adapter, 0, &err)) == YA_OK &&
                (rc = ya_suite_run(&suite, ya_suite_model_generate, &sctx, NULL, &sr_base, &err)) == YA_OK)
                rc = use_adapter(model, adapter, 1, &err);
            have_suite_base = rc == YA_OK;
        }
        ya_suite_model_ctx_free(&sctx);
        if (rc) goto done;
    }

    YaEvalReport rep = {
        .model_dir = o.model, .adapter_dir = o.adapter, .data_paths = o.data, .n_data = o.n_data,
        .groups = groups, .n_groups = n_groups, .signal = &signal, .n_bootstrap = o.n_bootstrap, .seed = o.seed,
        .benchmark_path = o.benchmark, .mc_set = &mcset, .mc = have_mc ? &mc : NULL, .mc_base = have_mc_base ? &mc_base : NULL,
        .prompts_path = o.prompts, .suite = &suite, .suite_res = have_suite ? &sr : NULL,
        .suite_base = have_suite_base ? &sr_base : NULL, .compare = cmp, .compare_path = o.compare,
    };
    report = ya_eval_report_json(&rep);
    char *text = report ? ya_json_dumps(report) : NULL;
    if (!text) {
        rc = ya_fail(&err, YA_ERR, "out of memory");
        goto done;
    }
    size_t tl = strlen(text);
    YaAtomicFile af;
    if ((rc = ya_atomic_open(&af, o.out, &err)) == YA_OK) {
        if ((rc = ya_atomic_write(&af, text, tl, &err)) == YA_OK && (rc = ya_atomic_write(&af, "\n", 1, &err)) == YA_OK)
            rc = ya_atomic_commit(&af, &err);
        else
            ya_atomic_abort(&af);
    }
    free(text);
    if (rc) goto done;
    if (o.plot && n_groups && (rc = write_plot(&o, groups, n_groups, cmp, &err))) goto done;
    ya_eval_report_print(stdout, &rep);
    printf("\nreport: %s%s%s\n", o.out, o.plot ? "  plot: " : "", o.plot ? o.plot : "");

done:
    if (dump) fclose(dump);
    json_decref(report);
    json_decref(cmp);
    free(groups);
    ya_ppl_samples_free(&tuned);
    ya_ppl_samples_free(&base);
    ya_mc_result_free(&mc, mcset.n);
    ya_mc_result_free(&mc_base, mcset.n);
    ya_mc_set_free(&mcset);
    ya_suite_result_free(&sr);
    ya_suite_result_free(&sr_base);
    ya_suite_free(&suite);
    if (model && adapter) ya_model_set_adapter(model, NULL, &(YaError){0});
    ya_adapter_free(adapter);
    ya_tokenizer_free(tok);
    ya_model_free(model);
    return rc == YA_OK ? YA_OK : ya_cli_report("validate", &err);
}

const YaCommand ya_cmd_validate = {
    .name = "validate",
    .summary = "perplexity by source type and authority band, multiple choice, the prompt suite",
    .usage = k_usage,
    .order = 80,
    .run = run_validate,
};
