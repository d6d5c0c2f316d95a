/* data_ranges.c — range checks of what a data line yields (see data.h "value ranges"). */
#include <stdio.h>

#include "your_ai/data.h"

int ya_data_check_vocab(const YaTokSeq *seq, int vocab_size, char *reason, size_t cap) {
    if (vocab_size <= 0) return 0;
    for (size_t t = 0; t < seq->len; t++)
        if (seq->ids[t] < 0 || seq->ids[t] >= vocab_size) {
            snprintf(reason, cap,
                     "token id %d at position %zu is outside the model's vocabulary [0, %d): the tokenizer and the "
                     "model's config.json vocab_size disagree",
                     (int)seq->ids[t], t, vocab_size);
            return 1;
        }
    return 0;
}
