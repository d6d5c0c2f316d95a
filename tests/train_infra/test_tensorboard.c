/* test_tensorboard.c — the event-file writer, read back by an independent
 * decoder (tools/tb_decode.py: its own CRC32C and protobuf parsing).
 * Usage: test_tensorboard PYTHON TOOLS_DIR WORK_DIR */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "your_ai/fileio.h"
#include "your_ai/json.h"
#include "your_ai/tensorboard.h"

int main(int argc, char **argv) {
    if (argc < 4) return 2;
    const char *python = argv[1], *tools = argv[2], *work = argv[3];
    YaError err;
    /* CRC-32C standard check value. */
    CHECK(ya_crc32c("123456789", 9) == 0xE3069283u);

    char logdir[4096];
    snprintf(logdir, sizeof logdir, "%s/logs", work);
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", logdir);
    CHECK(system(cmd) == 0);
    YaTbWriter *w = NULL;
    CHECK(ya_tb_open(logdir, 1700000000.25, &w, &err) == YA_OK);
    if (!w) TEST_MAIN_END();
    const char *tags[] = {"train/total", "train/lr", "train/grad_norm"};
    const int64_t steps[] = {0, 10, 300, 5000000000LL};
    for (int i = 0; i < 4; i++) {
        float values[3] = {2.5f - 0.1f * i, 1e-7f * (i + 1), i == 2 ? NAN : 3.25f};
        CHECK(ya_tb_scalars(w, steps[i], 1700000001.5 + i, 3, tags, values, &err) == YA_OK);
    }
    char path[4200];
    snprintf(path, sizeof path, "%s", ya_tb_path(w));
    CHECK(strstr(path, "/logs/events.out.tfevents.1700000000.") != NULL);
    ya_tb_close(w);

    char out[4400];
    snprintf(out, sizeof out, "%s/decoded.json", work);
    snprintf(cmd, sizeof cmd, "'%s' '%s/tb_decode.py' '%s' > '%s'", python, tools, path, out);
    CHECK_MSG(system(cmd) == 0, "%s", cmd);
    json_t *d = NULL;
    CHECK(ya_json_load_file(out, 0, &d, &err) == YA_OK);
    if (d) {
        CHECK(json_integer_value(json_object_get(d, "records")) == 5);
        CHECK_STREQ(json_string_value(json_object_get(d, "file_version")), "brain.Event:2");
        json_t *evs = json_object_get(d, "events");
        CHECK(json_array_size(evs) == 4);
        for (int i = 0; i < 4 && i < (int)json_array_size(evs); i++) {
            json_t *e = json_array_get(evs, i), *vals = json_object_get(e, "values");
            CHECK(json_integer_value(json_object_get(e, "step")) == steps[i]);
            CHECK(json_real_value(json_object_get(e, "wall_time")) == 1700000001.5 + i);
            /* float32 values survive exactly: compare as floats. */
            CHECK((float)json_number_value(json_object_get(vals, "train/total")) == 2.5f - 0.1f * i);
            CHECK((float)json_number_value(json_object_get(vals, "train/lr")) == 1e-7f * (i + 1));
            if (i == 2) CHECK_STREQ(json_string_value(json_object_get(vals, "train/grad_norm")), "nan");
            else CHECK(json_number_value(json_object_get(vals, "train/grad_norm")) == 3.25);
        }
        json_decref(d);
    }
    /* The decoder really checks CRCs: one flipped byte must make it fail. */
    char *bytes = NULL;
    size_t len = 0;
    CHECK(ya_read_file(path, &bytes, &len, &err) == YA_OK);
    if (bytes && len > 60) {
        bytes[len - 10] ^= 0x01;
        char bad[4400];
        snprintf(bad, sizeof bad, "%s/corrupt.tfevents", work);
        CHECK(ya_write_file_atomic(bad, bytes, len, &err) == YA_OK);
        snprintf(cmd, sizeof cmd, "'%s' '%s/tb_decode.py' '%s' > /dev/null 2>&1", python, tools, bad);
        CHECK(system(cmd) != 0);
    }
    free(bytes);
    TEST_MAIN_END();
}
