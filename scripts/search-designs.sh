#!/bin/bash
# Design search for the shipped model (issue 11), measured on valid:
#   scripts/search-designs.sh [GTZAN_DIR]      (default ../shared/gtzan)
# Runs every experiment of the list below (or of the file $EXPERIMENTS) as the
# recipe's split run (scripts/train-gtzan.sh: --split train.txt valid.txt and
# exactly its common options), JOBS at a time with one OpenBLAS thread each,
# then prints the table (scripts/design-table.py: accuracy, balanced accuracy,
# worst genres, seconds, parameters). An experiment whose predictions already
# exist in WORK is not rerun, so an interrupted search continues.
# Environment: WORK (scratch folder; default a new mktemp -d, kept and named at
# the end), CACHE (spectrogram cache; default WORK/cache, e.g. point it at a
# recipe run's cache to skip the front-end), JOBS (2), GENRESCOPE_TRAIN,
# KEEP_MODELS (1: keep each run's model as WORK/NAME.json.fold1.safetensors,
# e.g. to classify held-out non-music with it).
# The not-music examples are the recipe's: scripts/nonmusic.py --set train
# --per-family 12 --seed 1 (deterministic, byte-identical to the recipe's).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$here/../shared/gtzan}
data=$(cd "$data" && pwd)
work=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/gs-search.XXXXXX")}
mkdir -p "$work"
cache=${CACHE:-$work/cache}
jobs=${JOBS:-2}
keep=${KEEP_MODELS:-}
[ "$keep" = 1 ] || keep=
train=${GENRESCOPE_TRAIN:-$here/build-release/train/genrescope-train}
if [ ! -x "$train" ]; then
    cmake -S "$here" -B "$here/build-release" -DCMAKE_BUILD_TYPE=Release > /dev/null
    cmake --build "$here/build-release" -j2 --target genrescope_train > /dev/null
fi
# name  arch (models/arch/NAME.json)  seed  epochs  extra trainer options
default_list='
max-s1-e12       shortchunk-max       1 12
max-s2-e12       shortchunk-max       2 12
max-s1-e24       shortchunk-max       1 24
wide-s1-e12      shortchunk-max-wide  1 12
max-ls01-s1-e12  shortchunk-max       1 12 --label-smoothing 0.1
# not run in the 2026-12-05 search (no time left; see models/design-search.md):
# wide-s1-e24      shortchunk-max-wide  1 24
# max-mix04-s1-e12 shortchunk-max       1 12 --mixup 0.4
# max-mix0-s1-e12  shortchunk-max       1 12 --mixup 0
'
list=$default_list
[ -n "${EXPERIMENTS:-}" ] && list=$(cat "$EXPERIMENTS")
[ -d "$work/nonmusic" ] ||
    /usr/bin/python3 "$here/scripts/nonmusic.py" --set train --out "$work/nonmusic" --per-family 12 --seed 1 > /dev/null

run_one() {  # name arch seed epochs [extra...]
    local name=$1 arch=$here/models/arch/$2.json seed=$3 epochs=$4; shift 4
    [ -f "$work/$name-pred.csv" ] && { echo "== $name: already in $work"; return 0; }
    local common=(--not-music "$work/nonmusic" --cache "$cache" --seed "$seed" --threads 1
                  --epochs "$epochs" --crops-per-clip 8 --lr 2e-3 --batch 32 --gain-db 24 --log-offset 1e-10
                  --clip-variants 2 --patch-hop 128 --balance genre --lowpass 0.25)
    echo "$arch" > "$work/$name.arch"
    echo "== $name: $(basename "$arch" .json) seed $seed, $epochs epochs $*"
    OPENBLAS_NUM_THREADS=1 nice -n 10 "$train" "$data" --split "$data/train.txt" "$data/valid.txt" "${common[@]}" \
        --arch "$arch" --name "$name" --cv-only --summary "$work/$name.json" --predictions "$work/$name-pred.csv" \
        --log "$work/$name-log" ${keep:+--keep-fold-models} -q "$@" > "$work/$name.out" 2>&1 || { echo "== $name FAILED (see $work/$name.out)"; return 1; }
    echo "== $name: done"
}
export -f run_one
export here work cache data train keep
names=()
while read -r name rest; do
    [ -z "$name" ] || [[ $name == \#* ]] && continue
    printf '%s %s\n' "$name" "$rest"
done <<< "$list" | xargs -P "$jobs" -L 1 bash -c 'run_one "$@"' _ || true
while read -r name rest; do [ -n "$name" ] && [[ $name != \#* ]] && names+=("$name"); done <<< "$list"
echo
echo "table (valid: $(wc -l < "$data/valid.txt") clips; $work):"
/usr/bin/python3 "$here/scripts/design-table.py" "$work" "${names[@]}"
