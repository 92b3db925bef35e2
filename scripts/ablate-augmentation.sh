#!/bin/bash
# Augmentation ablation of the shipped design (models/README.md, "Augmentation
# ablation"): the recipe's cross-validation of shortchunk-cnn with exactly the
# options of scripts/train-gtzan.sh, changing ONE thing per run:
#   no-mixup       --mixup 0
#   no-masks       --time-masks 0 --freq-masks 0
#   no-gain        --gain-db 0
#   no-clip-var    --clip-variants 0
#   shipped        nothing changed (the control the deltas are taken against)
#
#   scripts/ablate-augmentation.sh [GTZAN_DIR]      (default ../shared/gtzan)
#
# Environment: GENRESCOPE_TRAIN (binary; default build-release/train/...),
# WORK (output folder; default build-ablation), CACHE (spectrogram cache; point
# it at the recipe's cache so nothing is decoded again; default
# build-recipe/cache), VARIANTS (space-separated subset of the names above),
# JOBS (runs at a time, default 2), THREADS (OpenBLAS threads per run, default
# 1), TABLE_ONLY=1 (only rebuild the table from WORK/*.json). Writes
# WORK/<variant>.json, .out, -log.fold*.csv and WORK/ablation.csv, and prints
# the table.
# The thread count changes OpenBLAS's rounding, and 12 epochs amplify that into
# a different clip or two per fold: the recipe's shipped run used 2 threads,
# these runs 1 (two runs side by side on a 2-core machine), so the deltas are
# taken against the "shipped" control run here, not against the recipe's 83.1%.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$here/../shared/gtzan}
data=$(cd "$data" && pwd)
work=${WORK:-$here/build-ablation}
cache=${CACHE:-$here/build-recipe/cache}
threads=${THREADS:-1}
jobs=${JOBS:-2}
read -r -a variants <<< "${VARIANTS:-shipped no-mixup no-masks no-gain no-clip-var}"
train=${GENRESCOPE_TRAIN:-$here/build-release/train/genrescope-train}
[ -x "$train" ] || { echo "no trainer at $train (set GENRESCOPE_TRAIN)" >&2; exit 1; }
mkdir -p "$work"

# The recipe's options for the shipped model (scripts/train-gtzan.sh defaults).
common=(--cache "$cache" --fold-layout shuffled --fold-seed 1 --seed 1 --threads "$threads" --epochs 12
        --crops-per-clip 8 --lr 2e-3 --batch 32 --gain-db 24 --log-offset 1e-10
        --clip-variants 2 --cv 5 --cv-only --arch "$here/models/arch/shortchunk-cnn.json"
        --name shortchunk-cnn)
change() {
    case $1 in
        shipped) echo "" ;;
        no-mixup) echo "--mixup 0" ;;
        no-masks) echo "--time-masks 0 --freq-masks 0" ;;
        no-gain) echo "--gain-db 0" ;;
        no-clip-var) echo "--clip-variants 0" ;;
        *) echo "unknown variant $1" >&2; exit 2 ;;
    esac
}
run() {
    local v=$1
    # Later options override earlier ones, so the one change goes last.
    # shellcheck disable=SC2046
    nice -n 5 "$train" "$data" "${common[@]}" $(change "$v") \
        --summary "$work/$v.json" --log "$work/$v-log" > "$work/$v.out" 2> "$work/$v.err"
    echo "== $v: $(head -1 "$work/$v.out")"
}
start=$(date +%s)
[ "${TABLE_ONLY:-0}" = 1 ] && variants_run=() || variants_run=("${variants[@]}")
for v in "${variants_run[@]+"${variants_run[@]}"}"; do
    change "$v" > /dev/null
    run "$v" &
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n; done
done
wait

/usr/bin/python3 - "$work" "${variants[@]}" <<'PY'
import csv, json, os, statistics, sys
w, names = sys.argv[1], sys.argv[2:]
# The recipe's shipped run (2 threads), models/README.md: 83.1% +- 9.0.
recipe = [15/18, 16/18, 13/18, 17/18, 13/17]
cv = {n: json.load(open(f'{w}/{n}.json'))['cv'] for n in names}
ctrl = cv['shipped']['per_fold'] if 'shipped' in cv else None
pts = lambda x: f'{100*x:+.1f}'.replace('-0.0', '+0.0')
rows = []
for n in names:
    c = cv[n]
    m = c['accuracy_mean']
    rows.append([n, f"{100*m:.1f}", f"{100*c['accuracy_std']:.1f}", ' '.join(f'{a:.3f}' for a in c['per_fold']),
                 pts(m - statistics.mean(recipe)),
                 pts(m - statistics.mean(ctrl)) if ctrl else '',
                 ' '.join(pts(a - b) for a, b in zip(c['per_fold'], ctrl)) if ctrl else ''])
with open(f'{w}/ablation.csv', 'w', newline='') as f:
    wr = csv.writer(f)
    wr.writerow(['variant', 'cv_mean_pct', 'cv_std_pct', 'per_fold', 'delta_vs_recipe_83.1_pts',
                 'delta_vs_control_pts', 'delta_per_fold_vs_control_pts'])
    wr.writerows(rows)
for r in rows:
    print(f'| {r[0]} | {r[1]}% ± {r[2]} | {r[3]} | {r[4]} | {r[5]} | {r[6]} |')
PY
echo "== ablation done in $(( $(date +%s) - start )) s"
