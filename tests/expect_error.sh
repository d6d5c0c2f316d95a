# expect_error.sh — sourced by the shell tests: run a command that must fail with a
# given exit code and a message that names what is wrong.
#   expect_error RC SUBSTRING cmd...
# stderr goes to $EXPECT_ERR_FILE (default err.txt in the working directory) and is
# echoed, so a failing test shows what the command said. The caller defines fail().
expect_error() {
  local want_rc=$1 want=$2 errf=${EXPECT_ERR_FILE:-err.txt}
  shift 2
  set +e
  "$@" 2>"$errf" >/dev/null
  local rc=$?
  set -e
  cat "$errf" >&2
  [ $rc -eq "$want_rc" ] || fail "exit code $rc, expected $want_rc for: $*"
  grep -qF -- "$want" "$errf" || fail "error message does not name '$want' for: $*"
}
