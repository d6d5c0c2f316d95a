/* train_batch_check.h — the argument checks every training graph runs before
 * a micro-batch (train_graph.h's contract): the shape against the graph's,
 * token and target ids inside the vocabulary, finite loss weights, and the
 * attention segments (given, or one per row covering it) ordered, inside the
 * batch and not overlapping. */
#ifndef YOUR_AI_TRAIN_BATCH_CHECK_H
#define YOUR_AI_TRAIN_BATCH_CHECK_H

#include "your_ai/train_graph.h"

/* On success seg_row/seg_start/seg_len [≤ B·T] hold the segments and *n_out their count. */
int ya_train_batch_check(const int32_t *ids, const int32_t *targets, const float *weight, int B, int T, int max_rows,
                         int max_seq, int V, const YaTrainSegment *segs, int n_segs, int *seg_row, int *seg_start,
                         int *seg_len, int *n_out, YaError *err);

#endif
