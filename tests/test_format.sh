#!/usr/bin/env bash
# Every C/C++ source of the project is formatted to .clang-format, so a
# change shows only what it changes. Fix with:
#   clang-format -i $(git ls-files '*.c' '*.h' '*.cpp' '*.hpp')
# Skips (77) only when clang-format is not installed; scripts/install-deps.sh
# --test installs it, so CI always runs it.
set -uo pipefail
src=${GS_SOURCE_DIR:?GS_SOURCE_DIR is the source tree}
cf=$(command -v clang-format || command -v clang-format-14 || true)
if [ -z "$cf" ]; then
    echo "SKIP: clang-format is not installed"
    exit 77
fi
mapfile -d '' files < <(find "$src/core" "$src/tags" "$src/tagger" "$src/train" "$src/plugin" "$src/tests" \
    "$src/bench" -type f \( -name '*.c' -o -name '*.h' -o -name '*.cpp' -o -name '*.hpp' \) -print0 | sort -z)
if [ "${#files[@]}" -lt 100 ]; then
    echo "FAIL: found only ${#files[@]} sources under $src: wrong source tree?"
    exit 1
fi
report=$("$cf" --style=file --dry-run --Werror "${files[@]}" 2>&1)
rc=$?
if [ $rc -ne 0 ]; then
    printf '%s\n' "$report" | head -40
    echo "FAIL: $(printf '%s\n' "$report" | grep -c 'error:') lines not formatted to .clang-format in" \
         "$(printf '%s\n' "$report" | grep 'error:' | cut -d: -f1 | sort -u | wc -l) files (fix: clang-format -i FILE)"
    exit 1
fi
echo "ok: ${#files[@]} sources formatted to .clang-format"
