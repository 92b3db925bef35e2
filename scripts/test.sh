#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine: installs what it
# needs, builds Release and Sanitize (ASan+UBSan), runs every test in the
# Release build and the unit tests (label "unit") in the Sanitize build.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
"$src/scripts/install-deps.sh" --test
jobs=$(nproc)

"$src/scripts/build.sh" "$src/build" Release
ctest --test-dir "$src/build" --output-on-failure -j"$jobs"

"$src/scripts/build.sh" "$src/build-sanitize" Sanitize
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir "$src/build-sanitize" --output-on-failure -j"$jobs" -L unit
