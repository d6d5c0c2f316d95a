/* eval_internal.h — helpers shared by the eval files (not public API). */
#ifndef YOUR_AI_EVAL_INTERNAL_H
#define YOUR_AI_EVAL_INTERNAL_H

#include <math.h>

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

#endif
