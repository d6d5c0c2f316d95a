/* cli_ids.h — "1 2 3" / "1,2,3" token-id lists on the command line. */
#ifndef YOUR_AI_CLI_IDS_H
#define YOUR_AI_CLI_IDS_H

#include <stdint.h>

#include "your_ai/error.h"

/* Parses s into a malloc'ed array (*out, *n_out ≥ 1). Usage errors name flag
 * and return YA_ERR_USAGE; out of memory returns YA_ERR. */
int ya_cli_parse_ids(const char *flag, const char *s, int32_t **out, int *n_out);

#endif
