#!/usr/bin/env bash
# Long fuzzing runs with libFuzzer (clang 14, ASan + UBSan):
#   scripts/fuzz.sh TARGET SECONDS     TARGET: model audio tag_writer genre_names index
# Builds build-fuzz/ (clang, -fsanitize=fuzzer-no-link,address,undefined),
# generates the seed corpus (tests/fuzz/make_seeds.py) into a scratch folder,
# runs the target for SECONDS on one core and prints runs, seconds and
# crashes. Crash reproducers are kept in build-fuzz/crashes/TARGET/ (add one
# to tests/fuzz/make_seeds.py as a recipe to keep it as a regression input).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
target=${1:?usage: scripts/fuzz.sh TARGET SECONDS}
seconds=${2:?usage: scripts/fuzz.sh TARGET SECONDS}
build=$src/build-fuzz
command -v clang-14 > /dev/null || { echo "scripts/fuzz.sh needs clang 14: apt-get install clang-14" >&2; exit 2; }
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -g -O1"
if [ ! -f "$build/CMakeCache.txt" ]; then
  CC=clang-14 CXX=clang++-14 cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DGS_FUZZ_LIBFUZZER=ON -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" > /dev/null
fi
cmake --build "$build" -j"$(nproc)" --target "fuzz_$target" gs_write_fixture_model genrescope_fake > /dev/null
work=$(mktemp -d "${TMPDIR:-/tmp}/gs-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
/usr/bin/python3 "$src/tests/fuzz/make_seeds.py" "$work/seeds" "$build" "$src"
mkdir -p "$work/corpus" "$build/crashes/$target"
export GS_TEST_TMP="$work" ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  LSAN_OPTIONS=suppressions=$src/tests/fuzz/lsan.supp
set +e
"$build/tests/fuzz_$target" "$work/corpus" "$work/seeds/$target" -max_total_time="$seconds" -rss_limit_mb=4096 \
  -timeout=30 -artifact_prefix="$build/crashes/$target/" -print_final_stats=1 2> "$work/log"
rc=$?
set -e
runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$work/log" | grep -o '[0-9]*$' || echo '?')
crashes=$(find "$build/crashes/$target" -type f -newer "$work/seeds" | wc -l)
echo "fuzz_$target: runs $runs, seconds $seconds, crashes $crashes, exit $rc"
[ "$rc" -eq 0 ] || tail -n 40 "$work/log"
exit "$rc"
