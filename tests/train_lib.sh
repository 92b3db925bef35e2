# Shared by the trainer's shell tests (test_train_cli.sh, test_train_arch.sh):
# a scratch folder of their own, the check helpers and the summary.
#   . "$(dirname "$0")/train_lib.sh" NAME
TMP=$(mktemp -d "${GS_TEST_TMP:-${TMPDIR:-/tmp}}/$1.XXXXXX") || exit 1
fails=0
check() { # check DESCRIPTION COMMAND...
    if "${@:2}"; then echo "ok: $1"; else echo "FAIL: $1"; fails=$((fails + 1)); fi
}
contains() { grep -q -- "$2" "$1" || { echo "--- $1:"; cat "$1"; return 1; }; }
lacks() { ! grep -q -- "$2" "$1" || { echo "--- $1:"; cat "$1"; return 1; }; }
# finish NAME: the summary and the exit status; the folder is kept when a
# check failed, to look at.
finish() {
    if [ "$fails" -eq 0 ]; then rm -rf "$TMP"; fi
    echo "$1: $fails failure(s)"
    [ "$fails" -eq 0 ]
}
