#!/usr/bin/env bash
# docs/CLI.md must equal what tools/gen_cli_doc.sh produces from the binary.
set -eu
BUILD=$1 SRC=$2
tmp=$(mktemp)
trap 'rm -f "$tmp" "$tmp.tmp"' EXIT
"$SRC/tools/gen_cli_doc.sh" "$BUILD" "$tmp"
if ! diff -u "$SRC/docs/CLI.md" "$tmp"; then
  echo "docs/CLI.md is out of date: run tools/gen_cli_doc.sh $BUILD"
  exit 1
fi
echo "docs/CLI.md in sync"
