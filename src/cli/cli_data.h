/* cli_data.h — the data-loader flags, shared by every command that reads a
 * training set through the loader (`inspect-data`, and `train` if it wants them),
 * so their spelling, defaults and errors are the same everywhere. */
#ifndef YOUR_AI_CLI_DATA_H
#define YOUR_AI_CLI_DATA_H

#include "cli/cli.h"
#include "your_ai/data.h"

/* The flag list with defaults, for a command's usage text. */
#define YA_CLI_DATA_USAGE                                                                                          \
    "  --max-seq-length N   tokens per sample; longer samples keep their first N (default 1024)\n"                   \
    "  --batch-size N       rows per micro-batch (default 2)\n"                                                      \
    "  --batching MODE      pad: one sample per row, right-padded to the longest row;\n"                             \
    "                       pack: documents end to end in rows of N tokens, attention and loss\n"                   \
    "                       kept inside each document (default pad)\n"                                                \
    "  --seed N             data order: epoch k is a permutation drawn from stream epoch:<k> (default 42)\n"          \
    "  --mask-prompt on|off loss only on completion/assistant tokens (default on); off = every token\n"             \
    "  --train-on WHICH     chat data: final = the final assistant message, all-assistant = every\n"                \
    "                       assistant turn (default final)\n"                                                         \
    "  --no-append-eos      don't append EOS to text documents (default: append unless already last)\n"            \
    "  --chat-format F      chatml|llama3|mistral|qwen3: override the template from tokenizer_config.json\n"         \
    "                       (default: the tokenizer's own)\n"                                                         \
    "  --default-auth W     auth_weight for lines without one (default: such a line is bad)\n"                      \
    "  --default-entropy H  prov_entropy (0 to 1e6) for lines without one (default: such a line is bad)\n"           \
    "  --score              score lines without auth_weight/prov_entropy on the fly with the\n"                     \
    "                       citation scorer (SPEC §4.8 rules; default off)\n"                                        \
    "  --on-bad-line P      fail: stop at the first bad line with file:line: reason;\n"                              \
    "                       skip: report the first 20, count all, continue (default fail)\n"                       \
    YA_CLI_MAX_LINE_USAGE

/* Matches one data flag at argv[*i] into cfg (advancing *i past its value).
 * Returns 1 if consumed, 0 if argv[*i] is not a data flag, -1 after printing a
 * usage error. cmd names the command in messages. */
int ya_cli_data_flag(const char *cmd, int argc, char **argv, int *i, YaDataConfig *cfg);

#endif
