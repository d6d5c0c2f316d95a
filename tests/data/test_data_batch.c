/* test_data_batch.c — padding and packing, token by token, on hand-made ids.
 *
 * Every expected array below is written out by hand from SPEC §5.5 and the
 * conventions in data.h (targets[t] = ids[t+1] when token t+1 is supervised and in
 * the same document; -1 elsewhere), not produced by the code under test. */
#include <stdint.h>

#include "test_util.h"
#include "your_ai/data.h"
#include "your_ai/rng.h"

#define N(a) ((int)(sizeof(a) / sizeof *(a)))

static void check_i32(const char *what, int row, const int32_t *got, const int32_t *want, int n) {
    for (int t = 0; t < n; t++)
        CHECK_MSG(got[t] == want[t], "%s row %d col %d: got %d, want %d", what, row, t, got[t], want[t]);
}
static void check_u8(const char *what, int row, const uint8_t *got, const int32_t *want, int n) {
    for (int t = 0; t < n; t++)
        CHECK_MSG(got[t] == (uint8_t)want[t], "%s row %d col %d: got %d, want %d", what, row, t, got[t], want[t]);
}

/* Sample documents: BOS=1, EOS=2.
 *  A: text "x y z"     [1,10,11,12,2]   all supervised (sup[0] never counts)
 *  B: prompt/compl.    [1,20,21 | 30,31,2]  completion + EOS supervised
 *  C: short text       [1,40,2]
 *  D: short text       [1,50,51,2] */
static const int32_t A_ids[] = {1, 10, 11, 12, 2};
static const uint8_t A_sup[] = {1, 1, 1, 1, 1};
static const int32_t B_ids[] = {1, 20, 21, 30, 31, 2};
static const uint8_t B_sup[] = {0, 0, 0, 1, 1, 1};
static const int32_t C_ids[] = {1, 40, 2};
static const uint8_t C_sup[] = {1, 1, 1};
static const int32_t D_ids[] = {1, 50, 51, 2};
static const uint8_t D_sup[] = {1, 1, 1, 1};

static YaDataSeq seq(const int32_t *ids, const uint8_t *sup, int len, uint64_t index) {
    YaDataSeq s = {.ids = ids, .sup = sup, .len = len, .w = 0.1 * (double)index, .h = 1.0 + (double)index, .index = index};
    return s;
}

static void test_pad(void) {
    YaError err = {0};
    YaBatch b;
    CHECK(ya_batch_alloc(&b, 2, 8, &err) == YA_OK);
    YaDataSeq s[2] = {seq(A_ids, A_sup, 5, 7), seq(B_ids, B_sup, 6, 3)};
    CHECK(ya_batch_build_pad(&b, s, 2, &err) == YA_OK);
    CHECK(b.B == 2 && b.T == 6); /* padded to the longest row, not to max_seq_len */
    const int32_t ids0[] = {1, 10, 11, 12, 2, 0}, tgt0[] = {10, 11, 12, 2, -1, -1}, msk0[] = {1, 1, 1, 1, 0, 0},
                  pos0[] = {0, 1, 2, 3, 4, 0}, seg0[] = {0, 0, 0, 0, 0, -1}, smp0[] = {0, 0, 0, 0, 0, -1};
    const int32_t ids1[] = {1, 20, 21, 30, 31, 2}, tgt1[] = {-1, -1, 30, 31, 2, -1}, msk1[] = {0, 0, 1, 1, 1, 0},
                  pos1[] = {0, 1, 2, 3, 4, 5}, seg1[] = {0, 0, 0, 0, 0, 0}, smp1[] = {1, 1, 1, 1, 1, 1};
    check_i32("ids", 0, b.ids, ids0, 6);
    check_i32("targets", 0, b.targets, tgt0, 6);
    check_u8("loss_mask", 0, b.loss_mask, msk0, 6);
    check_i32("pos_ids", 0, b.pos_ids, pos0, 6);
    check_i32("seg_ids", 0, b.seg_ids, seg0, 6);
    check_i32("sample_ids", 0, b.sample_ids, smp0, 6);
    check_i32("ids", 1, b.ids + 6, ids1, 6);
    check_i32("targets", 1, b.targets + 6, tgt1, 6);
    check_u8("loss_mask", 1, b.loss_mask + 6, msk1, 6);
    check_i32("pos_ids", 1, b.pos_ids + 6, pos1, 6);
    check_i32("seg_ids", 1, b.seg_ids + 6, seg1, 6);
    check_i32("sample_ids", 1, b.sample_ids + 6, smp1, 6);
    CHECK(b.row_len[0] == 5 && b.row_len[1] == 6);
    CHECK(b.n_samples == 2);
    CHECK(b.samples[0].n_sup == 4 && b.samples[1].n_sup == 3);
    CHECK(b.samples[0].index == 7 && b.samples[1].index == 3);
    CHECK_NEAR(b.samples[0].w, 0.7, 1e-15);
    CHECK_NEAR(b.samples[1].h, 4.0, 1e-15);
    CHECK(b.n_tokens == 11 && b.n_sup == 7);

    /* a batch of one row is not padded at all */
    CHECK(ya_batch_build_pad(&b, s, 1, &err) == YA_OK);
    CHECK(b.B == 1 && b.T == 5 && b.row_len[0] == 5 && b.targets[4] == -1);

    /* errors: too many rows, a sequence longer than the capacity, an empty one */
    YaDataSeq three[3] = {s[0], s[1], s[0]};
    CHECK(ya_batch_build_pad(&b, three, 3, &err) == YA_ERR);
    YaDataSeq big = seq(A_ids, A_sup, 9, 0);
    CHECK(ya_batch_build_pad(&b, &big, 1, &err) == YA_ERR);
    CHECK(strstr(err.message, "9 tokens") != NULL);
    YaDataSeq empty = seq(A_ids, A_sup, 0, 0);
    CHECK(ya_batch_build_pad(&b, &empty, 1, &err) == YA_ERR);
    ya_batch_free(&b);
}

/* The attention rule documented in data.h, applied to a batch row. */
static int may_attend(const YaBatch *b, int row, int i, int j) {
    const int32_t *seg = b->seg_ids + (size_t)row * (size_t)b->T;
    return j <= i && seg[i] >= 0 && seg[i] == seg[j];
}

static void test_pack(void) {
    YaError err = {0};
    YaBatch b;
    CHECK(ya_batch_alloc(&b, 2, 8, &err) == YA_OK);
    /* max_seq_len 8, 2 rows: A(5)+C(3) fill row 0 exactly; B(6) opens row 1; D(4) would
     * need a third row, so the batch stops before it. */
    YaDataSeq s[4] = {seq(A_ids, A_sup, 5, 0), seq(C_ids, C_sup, 3, 1), seq(B_ids, B_sup, 6, 2), seq(D_ids, D_sup, 4, 3)};
    const int lens[4] = {5, 3, 6, 4};
    CHECK(ya_pack_count(lens, 4, 2, 8) == 3);
    int used = 0;
    CHECK(ya_batch_build_pack(&b, s, 4, 8, &used, &err) == YA_OK);
    CHECK(used == 3);
    CHECK(b.B == 2 && b.T == 8);
    /* row 0: A then C. The target of A's EOS (t=4) is -1: no loss across the boundary. */
    const int32_t ids0[] = {1, 10, 11, 12, 2, 1, 40, 2}, tgt0[] = {10, 11, 12, 2, -1, 40, 2, -1},
                  msk0[] = {1, 1, 1, 1, 0, 1, 1, 0}, pos0[] = {0, 1, 2, 3, 4, 0, 1, 2}, seg0[] = {0, 0, 0, 0, 0, 1, 1, 1},
                  smp0[] = {0, 0, 0, 0, 0, 1, 1, 1};
    const int32_t ids1[] = {1, 20, 21, 30, 31, 2, 0, 0}, tgt1[] = {-1, -1, 30, 31, 2, -1, -1, -1},
                  msk1[] = {0, 0, 1, 1, 1, 0, 0, 0}, pos1[] = {0, 1, 2, 3, 4, 5, 0, 0}, seg1[] = {0, 0, 0, 0, 0, 0, -1, -1},
                  smp1[] = {2, 2, 2, 2, 2, 2, -1, -1};
    check_i32("ids", 0, b.ids, ids0, 8);
    check_i32("targets", 0, b.targets, tgt0, 8);
    check_u8("loss_mask", 0, b.loss_mask, msk0, 8);
    check_i32("pos_ids", 0, b.pos_ids, pos0, 8);
    check_i32("seg_ids", 0, b.seg_ids, seg0, 8);
    check_i32("sample_ids", 0, b.sample_ids, smp0, 8);
    check_i32("ids", 1, b.ids + 8, ids1, 8);
    check_i32("targets", 1, b.targets + 8, tgt1, 8);
    check_u8("loss_mask", 1, b.loss_mask + 8, msk1, 8);
    check_i32("pos_ids", 1, b.pos_ids + 8, pos1, 8);
    check_i32("seg_ids", 1, b.seg_ids + 8, seg1, 8);
    check_i32("sample_ids", 1, b.sample_ids + 8, smp1, 8);
    CHECK(b.row_len[0] == 8 && b.row_len[1] == 6);
    CHECK(b.n_samples == 3);
    CHECK(b.samples[0].row == 0 && b.samples[0].start == 0 && b.samples[0].len == 5 && b.samples[0].n_sup == 4);
    CHECK(b.samples[1].row == 0 && b.samples[1].start == 5 && b.samples[1].len == 3 && b.samples[1].n_sup == 2);
    CHECK(b.samples[2].row == 1 && b.samples[2].start == 0 && b.samples[2].len == 6 && b.samples[2].n_sup == 3);
    CHECK(b.n_sup == 9 && b.n_tokens == 14);
    /* attention: C's tokens never see A's; A's EOS sees A; padding sees nothing */
    for (int i = 5; i < 8; i++)
        for (int j = 0; j < 5; j++) CHECK_MSG(!may_attend(&b, 0, i, j), "row 0: %d attends %d across documents", i, j);
    CHECK(may_attend(&b, 0, 7, 5) && may_attend(&b, 0, 4, 0) && !may_attend(&b, 0, 5, 6));
    CHECK(!may_attend(&b, 1, 6, 0) && !may_attend(&b, 1, 7, 7));

    /* the remaining document on its own: one row, T shrinks to its length */
    CHECK(ya_batch_build_pack(&b, s + 3, 1, 8, &used, &err) == YA_OK);
    CHECK(used == 1 && b.B == 1 && b.T == 4 && b.n_samples == 1 && b.samples[0].index == 3);

    /* a document exactly max_seq_len long fills a row by itself; the next opens row 1 */
    YaDataSeq full[2] = {seq(A_ids, A_sup, 5, 0), seq(C_ids, C_sup, 3, 1)};
    CHECK(ya_batch_build_pack(&b, full, 2, 5, &used, &err) == YA_OK);
    CHECK(used == 2 && b.B == 2 && b.T == 5 && b.row_len[0] == 5 && b.row_len[1] == 3);
    CHECK(b.samples[1].row == 1 && b.samples[1].start == 0);
    ya_batch_free(&b);
}

static void test_pack_errors(void) {
    YaError err = {0};
    YaBatch b;
    CHECK(ya_batch_alloc(&b, 1, 4, &err) == YA_OK);
    YaDataSeq s = seq(B_ids, B_sup, 6, 0);
    int used = -1;
    CHECK(ya_batch_build_pack(&b, &s, 1, 4, &used, &err) == YA_ERR);
    CHECK(strstr(err.message, "6 tokens") != NULL);
    CHECK(ya_batch_build_pack(&b, &s, 1, 9, &used, &err) == YA_ERR); /* max_seq_len above capacity */
    ya_batch_free(&b);
    CHECK(ya_batch_alloc(&b, 0, 4, &err) == YA_ERR_USAGE);
}

/* One row, three docs that fit exactly: seg ids 0,1,2 and positions restart each time. */
static void test_pack_three_in_a_row(void) {
    YaError err = {0};
    YaBatch b;
    CHECK(ya_batch_alloc(&b, 1, 10, &err) == YA_OK);
    YaDataSeq s[3] = {seq(C_ids, C_sup, 3, 0), seq(D_ids, D_sup, 4, 1), seq(C_ids, C_sup, 3, 2)};
    int used = 0;
    CHECK(ya_batch_build_pack(&b, s, 3, 10, &used, &err) == YA_OK);
    CHECK(used == 3 && b.T == 10);
    const int32_t ids[] = {1, 40, 2, 1, 50, 51, 2, 1, 40, 2}, tgt[] = {40, 2, -1, 50, 51, 2, -1, 40, 2, -1},
                  pos[] = {0, 1, 2, 0, 1, 2, 3, 0, 1, 2}, seg[] = {0, 0, 0, 1, 1, 1, 1, 2, 2, 2};
    check_i32("ids", 0, b.ids, ids, 10);
    check_i32("targets", 0, b.targets, tgt, 10);
    check_i32("pos_ids", 0, b.pos_ids, pos, 10);
    check_i32("seg_ids", 0, b.seg_ids, seg, 10);
    ya_batch_free(&b);
}

static void test_permutation(void) {
    /* epoch k's order is a permutation, differs between epochs, and is reproducible */
    uint64_t p0[50], p1[50], q0[50];
    ya_data_epoch_permutation(42, 0, p0, 50);
    ya_data_epoch_permutation(42, 1, p1, 50);
    ya_data_epoch_permutation(42, 0, q0, 50);
    int seen[50] = {0}, same01 = 1;
    for (int i = 0; i < 50; i++) {
        CHECK(p0[i] < 50);
        if (p0[i] < 50) seen[p0[i]]++;
        if (p0[i] != p1[i]) same01 = 0;
        CHECK(p0[i] == q0[i]);
    }
    for (int i = 0; i < 50; i++) CHECK(seen[i] == 1);
    CHECK(!same01);
    /* independent re-implementation of SPEC §8 (xoshiro256** stream "epoch:0",
     * Fisher–Yates from the top index down with unbiased bounded ints) */
    YaRng rng;
    ya_rng_seed(&rng, 42, "epoch:0");
    uint64_t r[50];
    for (int i = 0; i < 50; i++) r[i] = (uint64_t)i;
    for (int i = 49; i > 0; i--) {
        uint64_t j = ya_rng_below(&rng, (uint64_t)i + 1), t = r[i];
        r[i] = r[j];
        r[j] = t;
    }
    CHECK(memcmp(r, p0, sizeof r) == 0);
}

int main(void) {
    test_pad();
    test_pack();
    test_pack_errors();
    test_pack_three_in_a_row();
    test_permutation();
    TEST_MAIN_END();
}
