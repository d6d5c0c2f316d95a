#!/usr/bin/env bash
# Writes docs/CLI.md from the binary's own help texts, so the two never drift:
#   tools/gen_cli_doc.sh BUILD_DIR [OUT]   (OUT defaults to docs/CLI.md)
# ctest's cli_doc_sync regenerates it into a temporary file and diffs.
set -euo pipefail
BIN=${1:?usage: gen_cli_doc.sh BUILD_DIR [OUT]}/your_ai
OUT=${2:-docs/CLI.md}
{
  echo "# your_ai command-line reference"
  echo
  echo "Generated from \`your_ai help\` and \`your_ai <command> --help\` by \`tools/gen_cli_doc.sh\`;"
  echo "a test fails when this file and the binary disagree. Exit codes for every command:"
  echo "0 success, 1 runtime error (bad file, bad data, I/O), 2 usage error (bad flag or value)."
  echo
  echo '```'
  "$BIN" help
  echo '```'
  for cmd in $("$BIN" help | awk '/^Commands:/{f=1; next} f && /^  [a-z]/{print $1}'); do
    case "$cmd" in help|version) continue ;; esac
    echo
    echo "## \`your_ai $cmd\`"
    echo
    echo '```'
    "$BIN" "$cmd" --help
    echo '```'
  done
} >"$OUT.tmp"
mv "$OUT.tmp" "$OUT"
