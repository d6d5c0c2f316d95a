/* test_tokenizer.c — what the HF parity corpus cannot show: rejection of bad
 * tokenizer files (each error must name the JSON path), invalid UTF-8 input,
 * the BPE algorithm on a tiny hand-checkable vocabulary, and the chat
 * renderers against renders derived by hand from each template's text. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "your_ai/tokenizer.h"

/* A tiny byte-level-free BPE: characters a b c, merges "a b" then "ab c". */
static const char k_tiny[] =
    "{\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"fuse_unk\":true,"
    "\"vocab\":{\"<unk>\":0,\"a\":1,\"b\":2,\"c\":3,\"ab\":4,\"abc\":5,\"bc\":6},"
    "\"merges\":[\"a b\",[\"ab\",\"c\"],\"b c\"]},"
    "\"added_tokens\":[{\"id\":7,\"content\":\"<x>\",\"special\":true,\"normalized\":false,"
    "\"lstrip\":false,\"rstrip\":false,\"single_word\":false}],"
    "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<x>\",\"type_id\":0}},"
    "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}},{\"SpecialToken\":{\"id\":\"<x>\",\"type_id\":0}}],"
    "\"special_tokens\":{\"<x>\":{\"id\":\"<x>\",\"ids\":[7],\"tokens\":[\"<x>\"]}}}}";

static void expect_load_error(const char *json, const char *needle) {
    YaTokenizer *tok = NULL;
    YaError err = {0};
    int rc = ya_tokenizer_load_memory(json, strlen(json), NULL, 0, &tok, &err);
    CHECK_MSG(rc == YA_ERR && tok == NULL, "loaded a bad file: %s", json);
    CHECK_MSG(strstr(err.message, needle) != NULL, "message '%s' lacks '%s'", err.message, needle);
    ya_tokenizer_free(tok);
}

static void test_bad_files(void) {
    expect_load_error("{\"model\": ", "tokenizer.json:1:");                       /* malformed JSON */
    expect_load_error("[1,2]", "must be a JSON object");
    expect_load_error("{\"normalizer\":null}", "missing required field 'model'");  /* missing model */
    expect_load_error("{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}", "model.type \"WordPiece\" is not supported");
    expect_load_error("{\"model\":{\"type\":\"Unigram\"}}", "model.type \"Unigram\" is not supported");
    expect_load_error("{\"model\":{\"vocab\":{}}}", "model.type is missing");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a zz\"]}}",
                      "model.merges[0]: token \"zz\" is not in model.vocab");          /* merge → unknown token */
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1},\"merges\":[[\"a\",\"b\"]]}}",
                      "model.merges[0]: merged token \"ab\" is not in model.vocab");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[\"a  a\"]}}",
                      "model.merges[0]");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":-3},\"merges\":[]}}", "model.vocab[\"a\"]");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]},"
                      "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"NFC\"},{\"type\":\"Lowercase\"}]}}",
                      "normalizer.normalizers[1].type \"Lowercase\" is not supported");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]},"
                      "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Whitespace\"}]}}",
                      "pre_tokenizer.pretokenizers[0].type \"Whitespace\" is not supported");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]},"
                      "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"(\"},\"behavior\":\"Isolated\"}}",
                      "pre_tokenizer.pattern: regex does not compile");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]},"
                      "\"pre_tokenizer\":{\"type\":\"Split\",\"pattern\":{\"Regex\":\"a\"},\"behavior\":\"Sideways\"}}",
                      "pre_tokenizer.behavior \"Sideways\"");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]},\"decoder\":{\"type\":\"WordPiece\"}}",
                      "decoder.type \"WordPiece\" is not supported");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]},\"post_processor\":{\"type\":\"BertProcessing\"}}",
                      "post_processor.type \"BertProcessing\" is not supported");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[],\"dropout\":0.1}}", "model.dropout");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[],\"unk_token\":\"<unk>\"}}",
                      "model.unk_token \"<unk>\" is not in model.vocab");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{},\"merges\":[]},\"added_tokens\":[{\"id\":\"x\"}]}",
                      "added_tokens[0].id");
    /* two tokens for one id: rejected naming both (decoding that id would be ambiguous) */
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0,\"b\":1,\"c\":1},\"merges\":[]}}",
                      "tokens \"b\" and \"c\" both have id 1");
    /* a post-processor special-token id past int32 must not wrap to 0 (2^40 and 2^32 both did) */
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"post_processor\":"
                      "{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"
                      "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],"
                      "\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[1099511627776],\"tokens\":[\"<s>\"]}}}}",
                      "ids must be integer ids in [0, 2^24)");
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"post_processor\":"
                      "{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"
                      "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],"
                      "\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[4294967296],\"tokens\":[\"<s>\"]}}}}",
                      "ids must be integer ids in [0, 2^24)");
    /* in int32 range but past the vocabulary */
    expect_load_error("{\"model\":{\"type\":\"BPE\",\"vocab\":{\"a\":0},\"merges\":[]},\"post_processor\":"
                      "{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<s>\",\"type_id\":0}},"
                      "{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}],"
                      "\"special_tokens\":{\"<s>\":{\"id\":\"<s>\",\"ids\":[5],\"tokens\":[\"<s>\"]}}}}",
                      "special token id 5 is outside the vocabulary");
    YaTokenizer *tok = NULL;
    YaError err = {0};
    CHECK(ya_tokenizer_load("/nonexistent/dir", &tok, &err) == YA_ERR && strstr(err.message, "/nonexistent/dir"));
}

static void ids_eq(const YaIds *got, const int32_t *want, size_t n, const char *what) {
    int same = got->len == n;
    for (size_t i = 0; same && i < n; i++) same = got->ids[i] == want[i];
    CHECK_MSG(same, "%s: got %zu ids", what, got->len);
}

static void test_tiny_bpe(void) {
    YaTokenizer *tok = NULL;
    YaError err = {0};
    CHECK_MSG(ya_tokenizer_load_memory(k_tiny, strlen(k_tiny), NULL, 0, &tok, &err) == YA_OK, "%s", err.message);
    if (!tok) return;
    YaIds ids = {0};
    /* "abc": a b → ab (rank 0), ab c → abc (rank 1) */
    CHECK(ya_tokenizer_encode(tok, "abc", 3, 0, &ids, &err) == YA_OK);
    ids_eq(&ids, (int32_t[]){5}, 1, "abc");
    /* "bcab": b c → bc (rank 2), a b → ab (rank 0) */
    ids.len = 0;
    CHECK(ya_tokenizer_encode(tok, "bcab", 4, 0, &ids, &err) == YA_OK);
    ids_eq(&ids, (int32_t[]){6, 4}, 2, "bcab");
    /* unknown characters fuse into one <unk>; the added token splits out; template wraps */
    ids.len = 0;
    CHECK(ya_tokenizer_encode(tok, "zz<x>a", 6, 1, &ids, &err) == YA_OK);
    ids_eq(&ids, (int32_t[]){7, 0, 7, 1, 7}, 5, "zz<x>a");
    /* invalid UTF-8: each maximal invalid subpart is one U+FFFD (here: unk), as from_utf8_lossy */
    ids.len = 0;
    CHECK(ya_tokenizer_encode(tok, "a\xff\xe2\x82" "b\xc0", 6, 0, &ids, &err) == YA_OK);
    ids_eq(&ids, (int32_t[]){1, 0, 2, 0}, 4, "invalid utf-8");
    /* a long word stays linear-time and merges pairwise left to right */
    char *lw = malloc(200001);
    for (int i = 0; i < 200000; i++) lw[i] = "ab"[i & 1];
    ids.len = 0;
    CHECK(ya_tokenizer_encode(tok, lw, 200000, 0, &ids, &err) == YA_OK);
    CHECK(ids.len == 100000 && ids.ids[0] == 4 && ids.ids[99999] == 4);
    free(lw);
    char *text = NULL;
    size_t len = 0;
    int32_t d[] = {7, 5, 99, 6};
    CHECK(ya_tokenizer_decode(tok, d, 4, 1, &text, &len, &err) == YA_OK); /* no decoder: tokens joined by spaces */
    CHECK_STREQ(text, "abc bc");
    free(text);
    CHECK(ya_tokenizer_token_to_id(tok, "<x>") == 7 && ya_tokenizer_is_special(tok, 7) && !ya_tokenizer_is_special(tok, 5));
    CHECK_STREQ(ya_tokenizer_id_to_token(tok, 4), "ab");
    CHECK(ya_tokenizer_vocab_size(tok) == 8);
    ya_ids_free(&ids);
    ya_tokenizer_free(tok);
}

static void check_render(YaChatFormat f, const YaTokenizer *tok, const YaChatMessage *m, size_t n, int gen,
                         const char *want) {
    char *out = NULL;
    YaError err = {0};
    CHECK_MSG(ya_chat_render(f, tok, m, n, gen, &out, &err) == YA_OK, "%s", err.message);
    if (out) CHECK_STREQ(out, want);
    free(out);
}

/* Expected strings derived by reading each template's Jinja text (docs/TOKENIZER.md). */
static void test_chat(const char *testdata) {
    const YaChatMessage conv[] = {{"system", "Be brief."}, {"user", " Hi there \n"}, {"assistant", "Hello!"}};
    check_render(YA_CHAT_CHATML, NULL, conv, 3, 0,
                 "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n Hi there \n<|im_end|>\n"
                 "<|im_start|>assistant\nHello!<|im_end|>\n");
    check_render(YA_CHAT_CHATML, NULL, conv, 2, 1,
                 "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n Hi there \n<|im_end|>\n<|im_start|>assistant\n");
    check_render(YA_CHAT_LLAMA3, NULL, conv, 3, 0,
                 "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>"
                 "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
                 "<|start_header_id|>assistant<|end_header_id|>\n\nHello!<|eot_id|>");
    check_render(YA_CHAT_MISTRAL, NULL, conv, 3, 0, "<s>[INST] Be brief.\n\n Hi there \n [/INST]Hello!</s>");
    /* Qwen3: the final assistant turn after the last user query gets an empty think block */
    check_render(YA_CHAT_QWEN3, NULL, conv, 3, 0,
                 "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n Hi there \n<|im_end|>\n"
                 "<|im_start|>assistant\n<think>\n\n</think>\n\nHello!<|im_end|>\n");
    const YaChatMessage two[] = {{"user", "a"}, {"assistant", "<think>\nr1\n</think>\n\nx"}, {"user", "b"},
                                 {"assistant", "<think>r2</think>y"}};
    check_render(YA_CHAT_QWEN3, NULL, two, 4, 0,
                 "<|im_start|>user\na<|im_end|>\n<|im_start|>assistant\nx<|im_end|>\n<|im_start|>user\nb<|im_end|>\n"
                 "<|im_start|>assistant\n<think>\nr2\n</think>\n\ny<|im_end|>\n");
    YaChatFormat f;
    CHECK(ya_chat_format_parse("chatml", &f) == 0 && f == YA_CHAT_CHATML);
    CHECK(ya_chat_format_parse("jinja", &f) == -1);
    char *out = NULL;
    YaError err = {0};
    CHECK(ya_chat_render(YA_CHAT_NONE, NULL, conv, 3, 0, &out, &err) != YA_OK);

    /* recognition from the fetched tokenizer_config.json files */
    const char *names[] = {"llama2", "llama3", "qwen3"};
    const YaChatFormat want[] = {YA_CHAT_NONE, YA_CHAT_LLAMA3, YA_CHAT_QWEN3};
    for (int i = 0; i < 3 && testdata; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s/models", testdata, names[i]);
        YaTokenizer *tok = NULL;
        if (ya_tokenizer_load(path, &tok, &err) != YA_OK) {
            CHECK_MSG(0, "%s", err.message);
            continue;
        }
        CHECK_MSG(ya_tokenizer_chat_format(tok) == want[i], "%s: format %s", names[i],
                  ya_chat_format_name(ya_tokenizer_chat_format(tok)));
        if (i == 0) CHECK(ya_tokenizer_bos_id(tok) == 1 && ya_tokenizer_eos_id(tok) == 2 && ya_tokenizer_add_bos(tok));
        if (i == 1) {
            CHECK(ya_tokenizer_bos_id(tok) == 128000 && ya_tokenizer_eos_id(tok) == 128001 && !ya_tokenizer_add_bos(tok));
            /* this (base-model) template emits the assistant header unconditionally */
            const YaChatMessage u[] = {{"user", "Hi"}};
            check_render(YA_CHAT_LLAMA3, tok, u, 1, 0,
                         "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
                         "<|start_header_id|>assistant<|end_header_id|>\n\n");
        }
        if (i == 2) CHECK(ya_tokenizer_bos_id(tok) == -1 && ya_tokenizer_eos_id(tok) == 151645 && ya_tokenizer_pad_id(tok) == 151643);
        ya_tokenizer_free(tok);
    }
}

/* One tokenizer shared by threads (its pre-token cache is shared): every thread
 * must get the serial result. */
typedef struct Job {
    const YaTokenizer *tok;
    const char *const *texts;
    size_t n_texts;
    const YaIds *want;
    int bad;
} Job;

static void *encode_job(void *arg) {
    Job *j = arg;
    YaError err = {0};
    for (int round = 0; round < 20; round++)
        for (size_t i = 0; i < j->n_texts; i++) {
            YaIds ids = {0};
            if (ya_tokenizer_encode(j->tok, j->texts[i], strlen(j->texts[i]), 1, &ids, &err) != YA_OK ||
                ids.len != j->want[i].len || memcmp(ids.ids, j->want[i].ids, ids.len * sizeof *ids.ids) != 0)
                j->bad++;
            ya_ids_free(&ids);
        }
    return NULL;
}

static void test_threads(const char *testdata) {
    char path[4096];
    snprintf(path, sizeof path, "%s/qwen3/models", testdata);
    YaTokenizer *tok = NULL;
    YaError err = {0};
    if (ya_tokenizer_load(path, &tok, &err) != YA_OK) {
        CHECK_MSG(0, "%s", err.message);
        return;
    }
    static const char *const texts[] = {"Hello world, hello again.", "The the the the", "caf\xc3\xa9 na\xc3\xafve",
                                        "<|im_start|>user\nhi<|im_end|>", "1234567 numbers 89", "  spaces   here  "};
    enum { N = sizeof texts / sizeof *texts, T = 4 };
    YaIds want[N] = {{0}};
    for (size_t i = 0; i < N; i++) CHECK(ya_tokenizer_encode(tok, texts[i], strlen(texts[i]), 1, &want[i], &err) == YA_OK);
    Job jobs[T];
    pthread_t th[T];
    for (int t = 0; t < T; t++) {
        jobs[t] = (Job){tok, texts, N, want, 0};
        pthread_create(&th[t], NULL, encode_job, &jobs[t]);
    }
    for (int t = 0; t < T; t++) {
        pthread_join(th[t], NULL);
        CHECK(jobs[t].bad == 0);
    }
    for (size_t i = 0; i < N; i++) ya_ids_free(&want[i]);
    ya_tokenizer_free(tok);
}

int main(int argc, char **argv) {
    test_bad_files();
    test_tiny_bpe();
    test_chat(argc > 1 ? argv[1] : NULL);
    if (argc > 1) test_threads(argv[1]);
    TEST_MAIN_END();
}
