#!/usr/bin/env bash
# Every command answers --help with exit 0; usage errors exit 2.
set -u
BIN=$1
fail=0
check() { # expected_rc description cmd...
  local want=$1 what=$2; shift 2
  "$@" >/dev/null 2>&1
  local rc=$?
  if [ "$rc" -ne "$want" ]; then echo "FAIL: $what: exit $rc, expected $want"; fail=1; else echo "ok: $what"; fi
}
check 2 "no arguments" "$BIN"
check 0 "help" "$BIN" help
check 0 "--help" "$BIN" --help
check 0 "version" "$BIN" version
check 2 "unknown command" "$BIN" no-such-command
check 2 "help for unknown command" "$BIN" help no-such-command
cmds=$("$BIN" help | awk '/^Commands:/{f=1; next} f && /^  [a-z]/{print $1}')
[ -n "$cmds" ] || { echo "FAIL: help lists no commands"; fail=1; }
for c in $cmds; do
  case "$c" in help|version) continue ;; esac
  check 0 "$c --help" "$BIN" "$c" --help
  check 0 "help $c" "$BIN" help "$c"
  check 2 "$c --no-such-flag" "$BIN" "$c" --no-such-flag
  out=$("$BIN" "$c" --help)
  echo "$out" | grep -q "your_ai $c" || { echo "FAIL: $c --help does not show 'your_ai $c'"; fail=1; }
done
[ $fail -eq 0 ] && echo "cli_smoke: all passed"
exit $fail
