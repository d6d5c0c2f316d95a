/* test_import_text.c — the plain-text and Brown importers (import_text.h). */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"
#include "your_ai/import_text.h"
#include "your_ai/json.h"
#include "your_ai/prepare.h"

static void check_detag(const char *in, const char *want) {
    size_t n;
    char *got = ya_brown_detag(in, strlen(in), &n);
    CHECK_MSG(got && strcmp(got, want) == 0, "detag(%s) = '%s', want '%s'", in, got ? got : "(null)", want);
    if (got) CHECK(n == strlen(got));
    free(got);
}

static void test_detag(void) {
    /* the first sentence of ca01 */
    check_detag("\tThe/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd Friday/nr an/at investigation/nn "
                "of/in Atlanta's/np$ recent/jj primary/nn election/nn produced/vbd ``/`` no/at evidence/nn ''/'' "
                "that/cs any/dti irregularities/nns took/vbd place/nn ./.",
                "The Fulton County Grand Jury said Friday an investigation of Atlanta's recent primary election "
                "produced \"no evidence\" that any irregularities took place.");
    /* the tag follows the LAST slash; punctuation and quotes attach; sentences on lines join */
    check_detag("He/pps paid/vbd 1-1/2/cd dollars/nns ,/, ``/`` he/pps said/vbd ''/'' ./.\n"
                "Then/rb (/( quietly/rb )/) left/vbd ;/. did/dod he/pps ?/. Yes/rb !/.",
                "He paid 1-1/2 dollars, \"he said\". Then (quietly) left; did he? Yes!");
    check_detag("the/at boys'/nns$ '/' game/nn '/' --/-- over/rb :/:", "the boys'' game' -- over:");
    check_detag("  \n\t ", "");
    /* headline tokens (-hl) end with a line break: "Merger proposed" in ca01 */
    check_detag("Merger/nn-hl proposed/vbn-hl\nHowever/rb ,/, the/at jury/nn", "Merger proposed\nHowever, the jury");
    check_detag("Thirty-three/cd-hl\nScotty/np did/dod not/* go/vb", "Thirty-three\nScotty did not go");
    check_detag("notag and/cc //in more/ap", "notag and / more"); /* a token without a tag stays whole */
}

static void test_genres(void) {
    CHECK(ya_brown_genre_of("ca01") && ya_brown_genre_of("ca01")->code == 'a');
    CHECK(ya_brown_genre_of("cr09") && ya_brown_genre_of("cr09")->code == 'r');
    CHECK(ya_brown_genre_of("README") == NULL);
    CHECK(ya_brown_genre_of("ci01") == NULL); /* there is no genre i */
    CHECK(ya_brown_genre_of("ca1") == NULL);
    CHECK(ya_brown_genre_of("ca01.txt") == NULL);
    /* every genre file either maps to its type by prepare's filename rule, or is marked for an override */
    for (size_t g = 0; g < 15; g++) {
        const YaBrownGenre *b = &ya_brown_genres[g];
        const char *by_name = ya_prepare_source_type_for_filename(b->file);
        if (b->override) CHECK_MSG(by_name == NULL, "%s maps to %s but is marked override", b->file, by_name);
        else CHECK_MSG(by_name && strcmp(by_name, b->source_type) == 0, "%s -> %s, want %s", b->file,
                       by_name ? by_name : "NULL", b->source_type);
    }
}

static void test_utf8(void) {
    size_t at;
    CHECK(ya_utf8_valid("a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 10, &at));
    CHECK(!ya_utf8_valid("ab\xc3", 3, &at) && at == 2);          /* truncated */
    CHECK(!ya_utf8_valid("\xc0\xaf", 2, &at) && at == 0);        /* overlong '/' */
    CHECK(!ya_utf8_valid("x\xed\xa0\x80", 4, &at) && at == 1);   /* surrogate */
    CHECK(!ya_utf8_valid("\xf4\x90\x80\x80", 4, &at) && at == 0); /* > U+10FFFF */
    CHECK(!ya_utf8_valid("\xff", 1, &at));
}

static void write_file(const char *dir, const char *name, const char *data) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    fputs(data, f);
    fclose(f);
}

static json_t *read_lines(const char *path, size_t *n) {
    json_t *arr = json_array();
    FILE *f = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0;
    while (f && getline(&line, &cap, f) > 0) json_array_append_new(arr, json_loads(line, 0, NULL));
    if (f) fclose(f);
    free(line);
    *n = json_array_size(arr);
    return arr;
}

static void test_import_plain(void) {
    char dir[] = "/tmp/ya_import_test_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char in[4200], out[4200];
    snprintf(in, sizeof in, "%s/in", dir);
    mkdir(in, 0755);
    write_file(in, "b.txt", "\xef\xbb\xbf" "First para\r\nline two\r\n\r\n  \t\r\nSecond \xc3\xa9 para\n\n\n");
    write_file(in, "a.txt", "only one paragraph, no newline at end");
    write_file(in, "c.bin", "bad \xff byte\n");
    write_file(in, ".hidden", "ignored");
    YaImportOptions o;
    ya_import_options_default(&o);
    o.input_dir = in;
    snprintf(out, sizeof out, "%s/out.jsonl", dir);
    o.out = out;
    o.source_type = "historical_book";
    o.unit = YA_IMPORT_PER_PARAGRAPH;
    YaImportStats st;
    YaError err = {0};
    CHECK(ya_import_run(&o, &st, &err) == YA_OK);
    CHECK(st.files == 2 && st.bad_files == 1 && st.documents == 3);
    size_t n;
    json_t *recs = read_lines(out, &n);
    CHECK(n == 3);
    if (n == 3) {
        /* sorted file order: a.txt then b.txt */
        CHECK_STREQ(json_string_value(json_object_get(json_array_get(recs, 0), "text")), "only one paragraph, no newline at end");
        CHECK_STREQ(json_string_value(json_object_get(json_array_get(recs, 0), "source")), "a.txt#1");
        CHECK_STREQ(json_string_value(json_object_get(json_array_get(recs, 1), "text")), "First para\nline two");
        CHECK(json_integer_value(json_object_get(json_array_get(recs, 1), "line")) == 1);
        CHECK_STREQ(json_string_value(json_object_get(json_array_get(recs, 2), "text")), "Second \xc3\xa9 para");
        CHECK(json_integer_value(json_object_get(json_array_get(recs, 2), "line")) == 5);
        CHECK(json_integer_value(json_object_get(json_array_get(recs, 2), "paragraph")) == 2);
        CHECK_STREQ(json_string_value(json_object_get(json_array_get(recs, 2), "source_type")), "historical_book");
    }
    json_decref(recs);

    /* per file, with a code-point minimum: a.txt has 37 code points; b.txt, trimmed with
     * BOM and CRs gone, "First para\nline two\n\n  \t\nSecond é para" has 38 */
    o.unit = YA_IMPORT_PER_FILE;
    o.min_chars = 39;
    CHECK(ya_import_run(&o, &st, &err) == YA_ERR); /* no documents is an error */
    o.min_chars = 38;
    CHECK(ya_import_run(&o, &st, &err) == YA_OK);
    CHECK(st.documents == 1 && st.too_short == 1);
    /* fail policy stops at the bad file */
    o.on_bad_line = YA_BAD_LINE_FAIL;
    CHECK(ya_import_run(&o, &st, &err) == YA_ERR);
    CHECK_MSG(strstr(err.message, "c.bin:1: invalid UTF-8 at byte 4") != NULL, "%s", err.message);

    /* Brown: two small files of genre a and one of h; chunking joins the short tail */
    char brown[4200], bout[4200];
    snprintf(brown, sizeof brown, "%s/brown", dir);
    snprintf(bout, sizeof bout, "%s/bout", dir);
    mkdir(brown, 0755);
    write_file(brown, "ca01", "\n\n\tOne/cd ./.\n\n\n\tTwo/cd words/nns ./.\nMore/ap ./.\n\n\n\tThree/cd ./.\n");
    write_file(brown, "ca02", "\tSolo/np ./.\n");
    write_file(brown, "ch01", "\tGov/nn text/nn ./.\n");
    write_file(brown, "README", "not a corpus file");
    ya_import_options_default(&o);
    o.format = YA_IMPORT_BROWN;
    o.input_dir = brown;
    o.out = bout;
    o.chunk_chars = 12; /* "One." (4) + "Two words. More." (16) ≥ 12 → doc 1; "Three." joins it as a short tail */
    CHECK(ya_import_run(&o, &st, &err) == YA_OK);
    CHECK(st.files == 3 && st.documents == 3 && st.genre_docs[0] == 2 && st.genre_docs['h' - 'a'] == 1);
    char path[4300];
    snprintf(path, sizeof path, "%s/brown_a_press_reportage_newspaper.jsonl", bout);
    recs = read_lines(path, &n);
    CHECK(n == 2);
    if (n == 2) {
        json_t *r0 = json_array_get(recs, 0);
        CHECK_STREQ(json_string_value(json_object_get(r0, "text")), "One.\n\nTwo words. More.\n\nThree.");
        CHECK_STREQ(json_string_value(json_object_get(r0, "source")), "brown:ca01");
        CHECK_STREQ(json_string_value(json_object_get(r0, "genre")), "press: reportage");
        CHECK_STREQ(json_string_value(json_object_get(r0, "source_type")), "historical_newspaper");
        CHECK(json_integer_value(json_object_get(r0, "year")) == 1961);
        CHECK(json_integer_value(json_object_get(r0, "part")) == 1);
        CHECK_STREQ(json_string_value(json_object_get(json_array_get(recs, 1), "text")), "Solo.");
    }
    json_decref(recs);
    o.chunk_chars = 5; /* "One." 4 <5, +"Two words. More." → doc 1; "Three." (6) → doc 2 */
    CHECK(ya_import_run(&o, &st, &err) == YA_OK);
    CHECK(st.documents == 4);
    snprintf(path, sizeof path, "%s/brown_h_government.jsonl", bout);
    recs = read_lines(path, &n);
    CHECK(n == 1 && strcmp(json_string_value(json_object_get(json_array_get(recs, 0), "source_type")), "government") == 0);
    json_decref(recs);

    char cmd[4300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

int main(void) {
    test_detag();
    test_genres();
    test_utf8();
    test_import_plain();
    TEST_MAIN_END();
}
