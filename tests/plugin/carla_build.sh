#!/usr/bin/env bash
# Builds Carla's backend (libcarla_standalone2.so and its Python host API)
# from the source tarball in CARLA_SRC_DIR into CACHE_DIR/<tarball hash>,
# once: a rerun finds the finished build and prints its path at once.
#   carla_build.sh CARLA_SRC_DIR CACHE_DIR
# Prints the Carla tree (holding bin/ and source/frontend/) on stdout.
# Exit 77 when there is no tarball (the caller skips), 1 when the build fails.
# The unpacked tree lives only under CACHE_DIR (the project's build tree):
# the shared source folder is only read. A build interrupted half-way
# leaves a scratch directory that the next run removes, never a cache entry
# that looks finished, because the entry appears by rename when complete.
set -euo pipefail
src=${1:?CARLA_SRC_DIR}
cache=${2:?CACHE_DIR}
shopt -s nullglob
tarballs=("$src"/carla-*.tar.xz)
if [ ! -d "$src" ] || [ "${#tarballs[@]}" -eq 0 ]; then
  echo "SKIP: no Carla source tarball in $src (see ../shared/carla/README.md)" >&2
  exit 77
fi
if [ "${#tarballs[@]}" -ne 1 ]; then
  echo "carla_build: more than one Carla tarball in $src: ${tarballs[*]}" >&2
  exit 1
fi
tarball=${tarballs[0]}
key=$(sha256sum "$tarball" | cut -c1-16)
entry="$cache/$key"
mkdir -p "$cache"

# Two build trees (or two ctest runs) may ask at once: one builds, the
# other waits for it instead of building a second copy.
exec 9> "$cache/.lock"
flock 9
if [ -f "$entry/carla/bin/libcarla_standalone2.so" ]; then
  echo "$entry/carla"
  exit 0
fi
rm -rf "$cache"/.scratch.* "$entry"
scratch=$(mktemp -d "$cache/.scratch.XXXXXX")
trap 'rm -rf "$scratch"' EXIT
tar -xJf "$tarball" -C "$scratch"
[ -f "$scratch/carla/Makefile" ] || { echo "carla_build: $tarball does not unpack to carla/" >&2; exit 1; }
# Carla's build looks at a few user paths; keep them inside the scratch tree.
start=$(date +%s)
if ! HOME="$scratch/home" XDG_CONFIG_HOME="$scratch/home/.config" \
     nice -n 19 make -C "$scratch/carla" -j"${GS_CARLA_JOBS:-2}" backend > "$scratch/build.log" 2>&1; then
  tail -n 40 "$scratch/build.log" >&2
  echo "carla_build: make backend failed (log above)" >&2
  exit 1
fi
[ -f "$scratch/carla/bin/libcarla_standalone2.so" ] ||
  { echo "carla_build: make backend built no libcarla_standalone2.so" >&2; exit 1; }
echo "carla_build: built Carla's backend in $(( $(date +%s) - start )) s" >&2
mkdir "$entry"
mv "$scratch/carla" "$entry/carla"
echo "$entry/carla"
