/* eval_internal.h — helpers shared by the eval files (not public API). */
#ifndef YOUR_AI_EVAL_INTERNAL_H
#define YOUR_AI_EVAL_INTERNAL_H

#include <math.h>

#include "your_ai/model.h"

/* −log softmax(row)[y] for one row of logits [V]. The exponentials are taken in
 * float (expf is several times cheaper than exp and this loop dominates
 * evaluation of small models with large vocabularies) and summed in blocks of
 * 1024 floats that are accumulated in double: relative error ~1e-7, far inside
 * the 1e-5 parity tolerance. */
static inline double ya_eval_row_nll(const float *row, int V, int y) {
    float mx = row[0];
    for (int v = 1; v < V; v++) mx = row[v] > mx ? row[v] : mx;
    double se = 0.0;
    for (int v0 = 0; v0 < V; v0 += 1024) {
        int v1 = v0 + 1024 < V ? v0 + 1024 : V;
        float part = 0.0f;
        for (int v = v0; v < v1; v++) part += expf(row[v] - mx);
        se += part;
    }
    return (double)mx + log(se) - (double)row[y];
}

/* Positions for an inference state that must hold `need`: rounded up to a
 * multiple of step (so later, slightly longer items reuse it) but never past
 * the model's sliding window or max_position_embeddings unless need itself is. */
static inline int ya_eval_state_cap(const YaModel *m, int need, int step) {
    int cap = (need + step - 1) / step * step;
    int limits[2] = {m->cfg.sliding_window, m->cfg.max_position_embeddings};
    for (int i = 0; i < 2; i++)
        if (limits[i] > 0 && cap > limits[i]) cap = need > limits[i] ? need : limits[i];
    return cap;
}

#endif
