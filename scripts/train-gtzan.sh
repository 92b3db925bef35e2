#!/bin/bash
# The GTZAN recipe, one command, data-driven:
#   scripts/train-gtzan.sh [GTZAN_DIR]      (default ../shared/gtzan)
# 1. not-music examples from generators (scripts/nonmusic.py --set train:
#    noise, tones, sweeps, clicks, hum, speech of three voices), training
#    only: the model learns a "notmusic" label;
# 2. spectrograms with the core front-end (cached), exported for PyTorch;
# 3. the split: the given train.txt/valid.txt when both exist, else 5-fold
#    cross-validation stratified by genre (same folds for every design);
# 4. the classic baseline (logistic regression on band mean/std) and the CNN
#    designs on that split, each scored through the deployed classifier;
# 5. the design with the best accuracy is retrained with PyTorch on the same
#    split and spectrograms (parity), and cross-validated over all clips
#    (5 folds: the spread, and out-of-fold predictions for the not-music
#    threshold). Folds are contiguous runs of each genre's clips in path
#    order: GTZAN holds runs of one artist's clips, and shuffled folds put
#    an artist on both sides, which overstated accuracy (82% against 57% on
#    the artist-disjoint valid; contiguous folds say 75%);
# 6. scripts/report-model.py picks the tagging threshold (written tags right
#    >= 95% of the time on valid, calibration never fitted on what it is
#    judged on) and the not-music threshold (the lowest that calls at most 1%
#    of the out-of-fold music "not music");
# 7. the final model: trained on all clips, calibrated on the split model's
#    verdicts on valid (artists it never heard, on which the model is
#    overconfident; out-of-fold predictions, whose folds still share some
#    artists, hide that; without a split, on the out-of-fold predictions),
#    with the thresholds, written to
#    $MODELS/genrescope-gtzan.safetensors with its provenance;
# 8. it is judged on non-music from held-out generators and, when the
#    folder $OUTSIDE exists (default /usr/share/hyperrogue/music, from
#    `apt-get install hyperrogue-music`), on music outside the ten genres;
#    the report writes $MODELS/results.md, the plots and the results section
#    of $MODELS/README.md: every number there comes from this one run.
# Both trainers cut patches with the core's patch plan (short clips repeated
# to one patch, silent patches skipped, the classifier's patches for
# scoring), draw each crop's clip so every genre contributes equally, and
# low-pass a share of the crops so a band-limited copy's bandwidth is no cue.
# Environment: GENRESCOPE_TRAIN (binary; default build-release/train/...,
# built if missing), WORK (scratch folder), MODELS (where the model, tables
# and plots go; default models/), EPOCHS, CROPS, LR, GAIN, LOG_OFFSET,
# CLIP_VARIANTS, PATCH_HOP, BALANCE, LOWPASS, PITCH and TEMPO (pitch/tempo
# augmentation, 0 = off: models/design-search.md, fourth round), THREADS,
# DESIGNS (space-separated),
# NONMUSIC_PER_FAMILY, PARITY (0 skips the PyTorch run), GENRESCOPE (the CLI),
# OUTSIDE (music outside the ten genres, judged only; empty skips it),
# FROM (cv: reuse WORK's designs and parity from an earlier run of this
# recipe and redo the cross-validation and steps 6-8; final: reuse the
# cross-validation too and redo only steps 6-8; the trainer is
# deterministic, so the model's weights are those of a full run).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
data=${1:-$here/../shared/gtzan}
data=$(cd "$data" && pwd)
work=${WORK:-$here/build-recipe}
models=${MODELS:-$here/models}
lr=${LR:-2e-3}
# +-24 dB gain augmentation and a 1e-10 log floor: with the front-end's 1e-6
# floor and +-12 dB, 4 of the 89 clips changed genre at -20 dB or +6 dB
# clipped; with these, 1 (a clipped one). See models/README.md.
gain=${GAIN:-24}
log_offset=${LOG_OFFSET:-1e-10}
# 2 training-only copies of every clip scaled by +3..+12 dB and hard-clipped
# to [-1,1]: clipping distortion (a hot master) is what the spectrogram-domain
# gain cannot imitate; without them metal.00009 read as pop at +6 dB clipped.
clip_variants=${CLIP_VARIANTS:-2}
# Patches scored every 128 frames (no overlap): half-overlapping ones (64)
# scored no better on the same fold models and cost twice the inference.
patch_hop=${PATCH_HOP:-128}
# Crops per epoch drawn genre first (then a clip of it, uniformly): the GTZAN
# part has 4-7 times more blues/jazz audio than reggae/pop (and the clip
# counts differ too), which a clip-uniform draw would teach as a prior.
balance=${BALANCE:-genre}
# A quarter of the crops low-passed at a random 4-11 kHz: 24 of the 444
# clips are 16 kHz copies (nothing above 8 kHz), which must not become a
# genre cue; the same holds for low-bitrate files in use.
lowpass=${LOWPASS:-0.25}
pitch=${PITCH:-0}
tempo=${TEMPO:-0}
epochs=${EPOCHS:-12}
crops=${CROPS:-8}
threads=${THREADS:-2}
folds=5
nonmusic_per_family=${NONMUSIC_PER_FAMILY:-12}
read -r -a designs <<< "${DESIGNS:-shortchunk-cnn shortchunk-max}"
parity=${PARITY:-1}
outside=${OUTSIDE-/usr/share/hyperrogue/music}
py=/usr/bin/python3
# Without GENRESCOPE_TRAIN / GENRESCOPE, the trainer and the CLI are brought
# up to date in build-release (a no-op when they are): a binary older than
# the source would make a model the source does not describe.
train=${GENRESCOPE_TRAIN:-}
if [ -z "$train" ]; then
    train=$here/build-release/train/genrescope-train
    [ -f "$here/build-release/CMakeCache.txt" ] ||
        cmake -S "$here" -B "$here/build-release" -DCMAKE_BUILD_TYPE=Release > /dev/null
    cmake --build "$here/build-release" -j2 --target genrescope_train > /dev/null
fi
cli=${GENRESCOPE:-}
if [ -z "$cli" ]; then
    cli=$(dirname "$train")/../tagger/genrescope
    cmake --build "$(dirname "$train")/.." -j2 --target genrescope_cli > /dev/null
fi
mkdir -p "$work" "$models"
export OPENBLAS_NUM_THREADS=$threads
start=$(date +%s)
from=${FROM:-all}
case "$from" in
    all) ;;
    cv) [ -f "$work/designs.txt" ] ||
            { echo "FROM=cv needs a WORK folder with an earlier run's design results ($work)" >&2; exit 2; } ;;
    final) [ -f "$work/cv-pred.csv" ] && [ -f "$work/designs.txt" ] ||
               { echo "FROM=final needs a WORK folder with an earlier run's results ($work)" >&2; exit 2; } ;;
    *) echo "FROM must be all, cv or final" >&2; exit 2 ;;
esac
if [ "$from" = all ]; then
echo "== not-music examples ($nonmusic_per_family per generator family)"
$py "$here/scripts/nonmusic.py" --set train --out "$work/nonmusic" --per-family "$nonmusic_per_family" --seed 1 > /dev/null
fi
common=(--not-music "$work/nonmusic" --cache "$work/cache" --seed 1 --threads "$threads" --epochs "$epochs"
        --crops-per-clip "$crops" --lr "$lr" --batch 32 --gain-db "$gain" --log-offset "$log_offset"
        --clip-variants "$clip_variants" --patch-hop "$patch_hop" --balance "$balance" --lowpass "$lowpass"
        --pitch "$pitch" --tempo "$tempo")
split=(--cv $folds)
if [ -f "$data/train.txt" ] && [ -f "$data/valid.txt" ]; then
    split=(--split "$data/train.txt" "$data/valid.txt")
    echo "== using the given split ($data/train.txt, valid.txt)"
else
    echo "== no train.txt/valid.txt in $data: $folds-fold cross-validation stratified by genre"
fi

arch_file() { echo "$here/models/arch/$1.json"; }
if [ "$from" = all ]; then
echo "== spectrograms, export for PyTorch, baseline"
"$train" "$data" "${split[@]}" "${common[@]}" --baseline --export-specs "$work/specs" \
    --summary "$work/baseline.json" -q

printf '%s\n' "${designs[@]}" > "$work/designs.txt"
for d in "${designs[@]}"; do
    echo "== design $d"
    nice "$train" "$data" "${split[@]}" "${common[@]}" --arch "$(arch_file "$d")" --name "$d" --cv-only \
        --summary "$work/$d.json" --confusion-dat "$work/$d.conf" --log "$work/$d-log" --predictions "$work/$d-pred.csv"
done

fi
mapfile -t designs < "$work/designs.txt"
best=$($py - "$work" "${designs[@]}" <<'PY'
import json, sys
w, names = sys.argv[1], sys.argv[2:]
print(max(names, key=lambda n: json.load(open(f'{w}/{n}.json'))['cv']['accuracy_mean']))
PY
)
echo "== shipped design: $best (best accuracy)"
if [ "$from" = all ]; then

if [ "$parity" = 1 ]; then
    echo "== PyTorch parity: $best on the same split and spectrograms"
    # The export carries the front-end, the patch plan's inputs (unpadded
    # spectrograms, frame RMS), the filterbank and the not-music examples.
    nice $py "$here/train/reference/train_torch.py" "$work/specs" "$(arch_file "$best")" --epochs "$epochs" \
        --crops-per-clip "$crops" --lr "$lr" --batch 32 --threads "$threads" --gain-db "$gain" \
        --balance "$balance" --lowpass "$lowpass" --pitch "$pitch" --tempo "$tempo" --summary "$work/torch.json"
fi

fi
if [ "$from" != final ]; then
if [ "${split[0]}" = --split ]; then
    echo "== $folds-fold cross-validation of $best over train + valid"
    nice "$train" "$data" --cv $folds "${common[@]}" --arch "$(arch_file "$best")" --name "$best" --cv-only \
        --summary "$work/cv.json" --predictions "$work/cv-pred.csv" --log "$work/$best-cvlog"
else
    cp "$work/$best.json" "$work/cv.json"
    cp "$work/$best-pred.csv" "$work/cv-pred.csv"
fi

fi

echo "== tagging and not-music thresholds"
$py "$here/scripts/report-model.py" tagging "$work" "$data" "$best" "$work/tagging.json" "$work/not-music.json"

# Everything the model's provenance should carry about how it was chosen.
$py - "$work" "$best" "${designs[@]}" > "$work/provenance-extra.json" <<'PY'
import json, os, sys
w, best, names = sys.argv[1], sys.argv[2], sys.argv[3:]
s = {n: json.load(open(f'{w}/{n}.json')) for n in names}
out = {'validation': s[best]['cv'], 'cross_validation': json.load(open(f'{w}/cv.json'))['cv'],
       'baseline': json.load(open(f'{w}/baseline.json'))['baseline'],
       'designs_compared': {n: {'accuracy_mean': s[n]['cv']['accuracy_mean'],
                                'seconds_per_epoch': s[n]['cv']['seconds_per_epoch']} for n in names},
       'tagging': json.load(open(f'{w}/tagging.json'))}
if os.path.exists(f'{w}/torch.json'):
    out['pytorch_parity'] = {k: v for k, v in json.load(open(f'{w}/torch.json')).items()
                             if k not in ('confusion', 'per_epoch')}
for k in ('confusion',):
    out['cross_validation'].pop(k, None)
print(json.dumps(out))
PY

echo "== final model: $best on all clips, calibrated on $best's held-out verdicts"
nice "$train" "$data" "${split[@]}" --final-only "${common[@]}" --arch "$(arch_file "$best")" --name "$best" \
    --calibrate-from "$work/$best-pred.csv" --tagging "$work/tagging.json" --not-music-decision "$work/not-music.json" \
    --provenance-extra "$work/provenance-extra.json" --log "$models/training-log.csv" \
    -o "$models/genrescope-gtzan.safetensors" --checkpoint "$work/final.ckpt"

echo "== the shipped model on non-music from held-out generators"
$py "$here/scripts/nonmusic.py" --set heldout --out "$work/heldout" --per-family 10 --seed 2 > /dev/null
"$cli" classify --json --model "$models/genrescope-gtzan.safetensors" "$work"/heldout/*.wav > "$work/heldout.json"

rm -f "$work/outside.json" "$work/outside.txt"
if [ -n "$outside" ] && [ -d "$outside" ]; then
    echo "== the shipped model on music outside the ten genres ($outside)"
    # classify walks the folder as scan would; a file it cannot decode is a
    # failed row (and said on stderr), not the end of the recipe.
    "$cli" classify --json --model "$models/genrescope-gtzan.safetensors" "$outside" > "$work/outside.json" ||
        echo "note: some files under $outside could not be classified (see above)"
    if [ -s "$work/outside.json" ]; then echo "$outside" > "$work/outside.txt"; else rm -f "$work/outside.json"; fi
fi

echo "== report"
cp "$work/$best.conf" "$work/shipped.conf"
bash "$here/scripts/plot-training.sh" "$work" "$best" "$models"
$py "$here/scripts/report-model.py" report "$work" "$data" "$best" "$models"
for k in $(seq 1 $folds); do [ -f "$work/$best-cvlog.fold$k.csv" ] && cp "$work/$best-cvlog.fold$k.csv" "$models/cv-fold$k-log.csv"; done
if [ -f "$work/torch.json" ]; then
    $py - "$work" "$best" <<'PY'
import json, sys
w, best = sys.argv[1], sys.argv[2]
c, t = json.load(open(f'{w}/{best}.json'))['cv']['accuracy_mean'], json.load(open(f'{w}/torch.json'))['accuracy_mean']
print(f'== parity ({best}): C {100 * c:.1f}%, PyTorch {100 * t:.1f}%, gap {100 * (t - c):+.1f} points')
PY
fi
echo "== recipe done in $(( $(date +%s) - start )) s"
