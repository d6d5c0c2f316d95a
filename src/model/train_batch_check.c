/* train_batch_check.c — micro-batch argument checks shared by the CPU and GPU training graphs. */
#include <math.h>

#include "model/train_batch_check.h"

int ya_train_batch_check(const int32_t *ids, const int32_t *targets, const float *weight, int B, int T, int max_rows,
                         int max_seq, int V, const YaTrainSegment *segs, int n_segs, int *seg_row, int *seg_start,
                         int *seg_len, int *n_out, YaError *err) {
    if (B <= 0 || T <= 0 || B > max_rows || T > max_seq)
        return ya_fail(err, YA_ERR_USAGE, "micro-batch %d x %d outside the training graph's %d x %d", B, T, max_rows,
                       max_seq);
    int BT = B * T;
    if (!segs) n_segs = B;
    if (n_segs < 1 || n_segs > BT) return ya_fail(err, YA_ERR_USAGE, "%d attention segments for %d x %d tokens", n_segs, B, T);
    for (int sg = 0; sg < n_segs; sg++) {
        int row = segs ? segs[sg].row : sg, start = segs ? segs[sg].start : 0, len = segs ? segs[sg].len : T;
        if (row < 0 || row >= B || start < 0 || len < 1 || start + len > T)
            return ya_fail(err, YA_ERR_USAGE, "attention segment %d (row %d, tokens %d..%d) outside the %d x %d batch", sg,
                           row, start, start + len, B, T);
        if (sg > 0 && (row < seg_row[sg - 1] || (row == seg_row[sg - 1] && start < seg_start[sg - 1] + seg_len[sg - 1])))
            return ya_fail(err, YA_ERR_USAGE, "attention segment %d overlaps or precedes segment %d", sg, sg - 1);
        seg_row[sg] = row, seg_start[sg] = start, seg_len[sg] = len;
    }
    *n_out = n_segs;
    for (int i = 0; i < BT; i++) {
        if (ids[i] < 0 || ids[i] >= V)
            return ya_fail(err, YA_ERR_USAGE, "token id %d at row %d position %d is outside the vocabulary [0, %d)",
                           (int)ids[i], i / T, i % T, V);
        if (weight[i] != 0.0f && (targets[i] < 0 || targets[i] >= V))
            return ya_fail(err, YA_ERR_USAGE, "target id %d at row %d position %d is outside the vocabulary [0, %d)",
                           (int)targets[i], i / T, i % T, V);
        if (!isfinite(weight[i]))
            return ya_fail(err, YA_ERR_USAGE, "loss weight at row %d position %d is not finite", i / T, i % T);
    }
    return YA_OK;
}
