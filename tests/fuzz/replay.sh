#!/bin/bash
# Replays the generated seed corpora and the kept reproducers through every
# fuzz target (tests/fuzz/fuzz_*.c linked with fuzz_replay.c). A crash,
# sanitizer report or broken invariant fails the test.
#   replay.sh BUILD_DIR SOURCE_DIR
set -u
build=$1 source=$2
tmp=$(mktemp -d "${GS_TEST_TMP:-/tmp}/fuzz-replay.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export GS_TEST_TMP="$tmp" HOME="$tmp" XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data"
/usr/bin/python3 "$source/tests/fuzz/make_seeds.py" "$tmp/corpus" "$build" "$source" || exit 1
fail=0
for target in model audio tag_writer genre_names index; do
  bin="$build/tests/fuzz_$target"
  if [ ! -d "$tmp/corpus/$target" ]; then
    echo "FAIL: no corpus for $target"; fail=1; continue
  fi
  "$bin" "$tmp/corpus/$target" || { echo "FAIL: fuzz_$target"; fail=1; }
done
exit $fail
