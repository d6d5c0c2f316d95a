/* finite_check.h — no NaN or Inf leaves a forward pass silently.
 *
 * The logits are computed anyway, so checking them is the cheap happy path
 * (T·V compares against a forward of T·(params) multiply-adds). Only when one
 * is not finite is the model scanned — in graph order, base weights then the
 * attached LoRA factors — to name the first tensor holding a NaN or Inf. */
#ifndef YOUR_AI_MODEL_FINITE_CHECK_H
#define YOUR_AI_MODEL_FINITE_CHECK_H

#include "your_ai/model.h"

/* logits [rows, V] of positions first_pos … first_pos+rows−1. YA_OK when every
 * value is finite; otherwise YA_ERR with a message naming the position and the
 * offending tensor and element (or saying that every weight is finite and the
 * activations overflowed). */
int ya_model_check_logits(const YaModel *m, const float *logits, int rows, int first_pos, YaError *err);

/* Scans the weights the graph uses, then the attached LoRA factors, in graph
 * order. Returns 1 and writes "NAME: NaN at element I …" into where for the
 * first non-finite value, 0 when all are finite. Slow (reads every weight):
 * for error paths only. */
int ya_model_find_nonfinite(const YaModel *m, char *where, size_t cap);

#endif
