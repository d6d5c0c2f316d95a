/* train_ref.h — the tests' view of a tools/torch_train_ref.py reference file
 * (safetensors of the batch, initial factors and float64 gradients) and of the
 * case's spec JSON, shared by test_train.c and test_train_bf16.c. One test
 * process checks one case, so the file and spec are process-wide. */
#ifndef YOUR_AI_TEST_TRAIN_REF_H
#define YOUR_AI_TEST_TRAIN_REF_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "your_ai/json.h"
#include "your_ai/safetensors.h"

static YaSafetensors *g_ref;
static json_t *g_spec;
static const char *g_case = "?";

/* The reference tensor `name`, or exit 1 naming it. */
static inline const YaTensorInfo *ref_tensor(const char *name) {
    const YaTensorInfo *t = ya_st_find(g_ref, name);
    if (!t) {
        fprintf(stderr, "%s: tensor '%s' missing from the reference file\n", g_case, name);
        exit(1);
    }
    return t;
}

/* A reference tensor widened to float64 (malloc'd); *n = its element count. */
static inline double *ref_f64(const char *name, size_t *n) {
    const YaTensorInfo *t = ref_tensor(name);
    double *out = malloc(t->numel * sizeof *out + 8);
    if (t->dtype == YA_DTYPE_F64) memcpy(out, t->data, t->numel * 8);
    else {
        float *tmp = malloc(t->numel * sizeof(float) + 4);
        ya_to_f32(t->dtype, t->data, tmp, t->numel);
        for (size_t i = 0; i < t->numel; i++) out[i] = tmp[i];
        free(tmp);
    }
    if (n) *n = t->numel;
    return out;
}

static inline double spec_num(const char *key, double def) {
    json_t *v = json_object_get(g_spec, key);
    return v && json_is_number(v) ? json_number_value(v) : def;
}

/* max|got − want| / max|want| (max|got − want| when want is all zero). */
static inline double rel_err(const float *got, const double *want, size_t n) {
    double md = 0, mr = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - want[i]);
        if (!(d <= md)) md = d;
        if (fabs(want[i]) > mr) mr = fabs(want[i]);
    }
    return mr > 0 ? md / mr : md;
}

#endif
