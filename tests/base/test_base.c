/* test_base.c — rng, sha256, Python-repr number formatting, atomic writes, JSONL reader. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"
#include "your_ai/fileio.h"
#include "your_ai/json.h"
#include "your_ai/jsonl.h"
#include "your_ai/rng.h"
#include "your_ai/sha256.h"

static void test_sha256(void) {
    char hex[65];
    ya_sha256_hex("", 0, hex);
    CHECK_STREQ(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    ya_sha256_hex("abc", 3, hex);
    CHECK_STREQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    ya_sha256_hex(m, strlen(m), hex);
    CHECK_STREQ(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* streaming in odd pieces equals one shot */
    char big[1000];
    for (int i = 0; i < 1000; i++) big[i] = (char)(i * 7);
    YaSha256 c;
    ya_sha256_init(&c);
    for (int i = 0; i < 1000; i += 37) ya_sha256_update(&c, big + i, i + 37 <= 1000 ? 37 : 1000 - i);
    uint8_t d1[32], d2[32];
    ya_sha256_final(&c, d1);
    ya_sha256(big, 1000, d2);
    CHECK(memcmp(d1, d2, 32) == 0);
}

static void test_rng(void) {
    YaRng a, b;
    ya_rng_seed(&a, 42, "shuffle");
    ya_rng_seed(&b, 42, "shuffle");
    for (int i = 0; i < 100; i++) CHECK(ya_rng_next_u64(&a) == ya_rng_next_u64(&b));
    ya_rng_seed(&b, 42, "split");
    CHECK(ya_rng_next_u64(&a) != ya_rng_next_u64(&b));
    /* bounded draws stay in range and hit every value */
    int seen[7] = {0};
    for (int i = 0; i < 7000; i++) {
        uint64_t v = ya_rng_below(&a, 7);
        CHECK(v < 7);
        if (v < 7) seen[v]++;
    }
    for (int i = 0; i < 7; i++) CHECK_MSG(seen[i] > 800 && seen[i] < 1200, "bucket %d has %d", i, seen[i]);
    uint64_t items[50];
    for (int i = 0; i < 50; i++) items[i] = (uint64_t)i;
    ya_rng_shuffle_u64(&a, items, 50);
    uint64_t sum = 0;
    for (int i = 0; i < 50; i++) sum += items[i];
    CHECK(sum == 49 * 50 / 2);
    double u = ya_rng_uniform(&a);
    CHECK(u >= 0 && u < 1);
}

static void test_repr(void) {
    /* expected strings are what CPython's repr(float) prints */
    struct { double x; const char *s; } cases[] = {
        {1923.0, "1923.0"}, {0.35, "0.35"}, {9.1, "9.1"}, {0.1 + 0.2, "0.30000000000000004"},
        {1e16, "1e+16"}, {1.5e16, "1.5e+16"}, {9999999999999998.0, "9999999999999998.0"},
        {0.0001, "0.0001"}, {0.00001, "1e-05"}, {1.25e-7, "1.25e-07"}, {-2.5, "-2.5"},
        {0.0, "0.0"}, {123456789.125, "123456789.125"}, {5e-324, "5e-324"}, {1e300, "1e+300"},
        {100.0, "100.0"}, {0.480103, "0.480103"},
    };
    char buf[32];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) CHECK_STREQ(ya_format_double_repr(cases[i].x, buf), cases[i].s);
}

static void test_json_write(void) {
    YaError err;
    json_t *v;
    const char *src = "{\"b\":1,\"a\":[2.5,\"x\\n\\u00e9\",true,null],\"c\":0.1}";
    CHECK(ya_json_parse(src, strlen(src), "test", 0, &v, &err) == YA_OK);
    char *out = ya_json_dumps(v);
    CHECK_STREQ(out, "{\"b\":1,\"a\":[2.5,\"x\\n\xc3\xa9\",true,null],\"c\":0.1}");
    free(out);
    json_decref(v);
    CHECK(ya_json_parse("{\"a\":NaN}", 9, "t", 0, &v, &err) != YA_OK);
    CHECK(ya_json_parse("{\"a\":1,\"a\":2}", 13, "hdr", JSON_REJECT_DUPLICATES, &v, &err) != YA_OK);
    CHECK(strstr(err.message, "hdr:1:") != NULL);
}

static void test_atomic_and_jsonl(void) {
    char dir[] = "/tmp/ya_test_base_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/a.jsonl", dir);
    YaError err;
    const char *data = "{\"text\":\"one\"}\n\n  \n{bad json}\r\n[1,2]\n{\"text\":\"\xc3\xa9\"}\n";
    CHECK(ya_write_file_atomic(path, data, strlen(data), &err) == YA_OK);
    /* an aborted write leaves the good file in place */
    YaAtomicFile f;
    CHECK(ya_atomic_open(&f, path, &err) == YA_OK);
    ya_atomic_write(&f, "partial", 7, &err);
    ya_atomic_abort(&f);
    char *back;
    size_t len;
    CHECK(ya_read_file(path, &back, &len, &err) == YA_OK);
    CHECK(len == strlen(data) && memcmp(back, data, len) == 0);
    free(back);

    YaJsonlReader r;
    CHECK(ya_jsonl_open(&r, path, &err) == YA_OK);
    json_t *o;
    char reason[256];
    CHECK(ya_jsonl_next(&r, &o, reason, sizeof reason, &err) == YA_JSONL_OBJECT);
    CHECK(r.line_no == 1 && r.line_offset == 0);
    json_decref(o);
    CHECK(ya_jsonl_next(&r, &o, reason, sizeof reason, &err) == YA_JSONL_BAD);
    CHECK(r.line_no == 4);
    CHECK(ya_jsonl_next(&r, &o, reason, sizeof reason, &err) == YA_JSONL_BAD);
    CHECK_STREQ(reason, "not a JSON object");
    CHECK(ya_jsonl_next(&r, &o, reason, sizeof reason, &err) == YA_JSONL_OBJECT);
    uint64_t off = r.line_offset, line = r.line_no;
    CHECK(line == 6);
    json_decref(o);
    CHECK(ya_jsonl_next(&r, &o, reason, sizeof reason, &err) == YA_JSONL_EOF);
    /* seeking back returns the same line with the same number */
    CHECK(ya_jsonl_seek(&r, off, line, &err) == YA_OK);
    CHECK(ya_jsonl_next(&r, &o, reason, sizeof reason, &err) == YA_JSONL_OBJECT);
    CHECK(r.line_no == 6);
    CHECK_STREQ(json_string_value(json_object_get(o, "text")), "\xc3\xa9");
    json_decref(o);
    ya_jsonl_close(&r);

    YaBadLines bad = {.policy = YA_BAD_LINE_FAIL};
    CHECK(ya_bad_line(&bad, "x.jsonl", 4, "invalid JSON", &err) == YA_ERR);
    CHECK(strstr(err.message, "x.jsonl:4: invalid JSON") != NULL);
    unlink(path);
    rmdir(dir);
}

/* Inputs that are not regular files are refused at once, naming what they are; a FIFO
 * without a writer must not block (alarm: a hang fails the test instead of ctest). */
static void test_open_input(void) {
    alarm(20);
    char dir[] = "/tmp/ya_open_input_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char fifo[256], file[256];
    snprintf(fifo, sizeof fifo, "%s/config.json", dir);
    snprintf(file, sizeof file, "%s/data.jsonl", dir);
    CHECK(mkfifo(fifo, 0600) == 0);
    YaError err = {0};
    CHECK(ya_open_input(fifo, &err) == -1 && err.code == YA_ERR);
    CHECK_MSG(strstr(err.message, fifo) && strstr(err.message, "FIFO"), "%s", err.message);
    CHECK(ya_fopen_input(dir, &err) == NULL);
    CHECK_MSG(strstr(err.message, "is a directory, not a regular file"), "%s", err.message);
    CHECK(ya_open_input("/dev/null", &err) == -1);
    CHECK_MSG(strstr(err.message, "character device"), "%s", err.message);
    char *text = NULL;
    CHECK(ya_read_file(fifo, &text, NULL, &err) == YA_ERR && strstr(err.message, "FIFO"));
    json_t *j = NULL;
    CHECK(ya_json_load_file(fifo, 0, &j, &err) == YA_ERR && strstr(err.message, "FIFO"));
    YaJsonlReader r;
    CHECK(ya_jsonl_open(&r, fifo, &err) == YA_ERR && strstr(err.message, "FIFO"));
    /* a regular file: a blocking descriptor that reads */
    CHECK(ya_write_file_atomic(file, "{}\n", 3, &err) == YA_OK);
    int fd = ya_open_input(file, &err);
    CHECK(fd >= 0 && !(fcntl(fd, F_GETFL) & O_NONBLOCK) && (fcntl(fd, F_GETFD) & FD_CLOEXEC));
    char buf[4] = {0};
    CHECK(read(fd, buf, sizeof buf) == 3 && buf[0] == '{');
    close(fd);
    CHECK(ya_open_input("/nonexistent/ya/x.json", &err) == -1 && strstr(err.message, "cannot open"));
    unlink(fifo);
    unlink(file);
    rmdir(dir);
    alarm(0);
}

int main(void) {
    test_sha256();
    test_rng();
    test_repr();
    test_json_write();
    test_atomic_and_jsonl();
    test_open_input();
    TEST_MAIN_END();
}
