#!/usr/bin/env bash
# Configures and builds Genrescope.  scripts/build.sh [BUILD_DIR] [BUILD_TYPE]
# BUILD_TYPE: Release (default), Debug, RelWithDebInfo or Sanitize (ASan+UBSan).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
type=${2:-Release}
cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE="$type" >/dev/null
cmake --build "$build" -j"$(nproc)"
