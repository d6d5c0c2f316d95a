/* postprocess.c — the post-processor for one sequence: TemplateProcessing's
 * `single` template (special tokens before and after sequence "A"), applied
 * only when special tokens are requested, as HF's encode(..., add_special_tokens).
 * A ByteLevel post-processor only moves offsets, so it has nothing to do here. */
#include <string.h>

#include "tokenizer/tokenizer_internal.h"

int ya_tok_postprocess(const YaTokenizer *tok, YaIds *ids, size_t first, YaError *err) {
    size_t body = ids->len - first;
    if (tok->n_post_prefix + tok->n_post_suffix == 0) return YA_OK;
    for (size_t i = 0; i < tok->n_post_prefix + tok->n_post_suffix; i++)
        if (ya_ids_push(ids, 0)) return ya_fail(err, YA_ERR, "out of memory");
    int32_t *seq = ids->ids + first; // [prefix + body + suffix]
    if (body) memmove(seq + tok->n_post_prefix, seq, body * sizeof *seq);
    if (tok->n_post_prefix) memcpy(seq, tok->post_prefix, tok->n_post_prefix * sizeof *seq);
    if (tok->n_post_suffix) memcpy(seq + tok->n_post_prefix + body, tok->post_suffix, tok->n_post_suffix * sizeof *seq);
    return YA_OK;
}
