#!/usr/bin/env bash
# Installs the Debian 12 packages Genrescope needs, idempotently: packages
# already present are not fetched again, and nothing runs apt when all are.
#   scripts/install-deps.sh          build + run dependencies
#   scripts/install-deps.sh --test   also what the tests and benchmarks use
set -euo pipefail

build_packages=(
  build-essential cmake pkg-config
  libsndfile1-dev libsoxr-dev libfftw3-dev libopenblas-dev libcjson-dev
  libavformat-dev libavcodec-dev libavutil-dev libswresample-dev
  libtag1-dev libsqlite3-dev sqlite3
  libtagc0-dev  # TagLib's C binding: only test_train_data, which tags its fixtures with it
  lv2-dev liblilv-dev
  help2man
)
test_packages=(
  python3 python3-numpy python3-torch python3-mutagen
  ffmpeg sox flac lame vorbis-tools opus-tools
  lilv-utils sordi jalv jackd2 ardour
  gnuplot-nox espeak-ng
  xz-utils  # unpacks Carla's source for test_plugin_carla
  man-db groff-base bash-completion zsh dpkg-dev file
  clang-format  # test_format: the sources are formatted to .clang-format
)

packages=("${build_packages[@]}")
if [[ "${1:-}" == "--test" ]]; then
  packages+=("${test_packages[@]}")
elif [[ $# -gt 0 ]]; then
  echo "usage: $0 [--test]" >&2
  exit 2
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
