/* export_internal.h — what the exporters share: a base weight upcast to F32
 * with its LoRA delta merged in (SPEC §10.2), and small file helpers. */
#ifndef YA_EXPORT_INTERNAL_H
#define YA_EXPORT_INTERNAL_H

#include "your_ai/adapter.h"
#include "your_ai/model.h"

/* dst [numel] = t upcast to F32, plus (α/r)·B·A when t is a projection weight
 * that a (may be NULL) adapts. Every value is checked as it is computed: a
 * non-finite one, or one beyond max_abs (what the output type holds, see
 * ya_export_max_abs), is an error naming the tensor, the element and the
 * adapter. */
int ya_export_weight_f32(const YaModel *m, const YaAdapter *a, const YaTensorInfo *t, float *dst, float max_abs,
                         YaError *err);

/* The largest |value| a tensor of dtype dt holds (F16: 65504, BF16: 3.39e38, F32: FLT_MAX). */
float ya_export_max_abs(YaDtype dt);

/* Copies dir_from/name to dir_to/name atomically when it exists (*copied = 1). */
int ya_export_copy_file(const char *dir_from, const char *dir_to, const char *name, int *copied, YaError *err);

#endif
