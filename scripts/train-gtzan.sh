#!/bin/bash
# The GTZAN recipe, one command, data-driven:
#   scripts/train-gtzan.sh [GTZAN_DIR]      (default ../shared/gtzan)
# 1. spectrograms with the core front-end (cached), exported for PyTorch;
# 2. the split: the given train.txt/valid.txt when both exist, else 5-fold
#    cross-validation stratified by genre with a fixed seed (same folds for
#    every design);
# 3. the classic baseline (logistic regression on band mean/std) and several
#    CNN designs on those folds, each fold scored through the deployed
#    classifier;
# 4. the design with the best mean accuracy is retrained with PyTorch on the
#    same folds and spectrograms (parity), then trained on all data and
#    written to $MODELS/genrescope-gtzan.safetensors with its provenance;
# 5. tables ($MODELS/*.csv) and plots ($MODELS/*.png, gnuplot).
# Both trainers cut patches with the core's patch plan (short clips repeated
# to one patch, silent patches skipped, the classifier's patches for
# scoring), draw each crop's clip so every genre contributes equally, and
# low-pass a share of the crops so a band-limited copy's bandwidth is no cue.
# Environment: GENRESCOPE_TRAIN (binary; default build-release/train/...,
# built if missing), WORK (scratch folder), MODELS (where the model, tables
# and plots go; default models/), EPOCHS, CROPS, LR, GAIN, LOG_OFFSET,
# CLIP_VARIANTS, PATCH_HOP, BALANCE, LOWPASS, THREADS.
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
epochs=${EPOCHS:-12}
crops=${CROPS:-8}
threads=${THREADS:-2}
folds=5
py=/usr/bin/python3
train=${GENRESCOPE_TRAIN:-}
if [ -z "$train" ]; then
    train=$here/build-release/train/genrescope-train
    if [ ! -x "$train" ]; then
        cmake -S "$here" -B "$here/build-release" -DCMAKE_BUILD_TYPE=Release > /dev/null
        cmake --build "$here/build-release" -j2 --target genrescope_train > /dev/null
    fi
fi
mkdir -p "$work" "$models"
export OPENBLAS_NUM_THREADS=$threads
start=$(date +%s)
common=(--cache "$work/cache" --fold-seed 1 --seed 1 --threads "$threads" --epochs "$epochs"
        --crops-per-clip "$crops" --lr "$lr" --batch 32 --gain-db "$gain" --log-offset "$log_offset"
        --clip-variants "$clip_variants" --patch-hop "$patch_hop" --balance "$balance" --lowpass "$lowpass")
split=(--cv $folds)
if [ -f "$data/train.txt" ] && [ -f "$data/valid.txt" ]; then
    split=(--split "$data/train.txt" "$data/valid.txt")
    echo "== using the given split ($data/train.txt, valid.txt)"
else
    echo "== no train.txt/valid.txt in $data: $folds-fold cross-validation stratified by genre"
fi

echo "== spectrograms, export for PyTorch, baseline"
"$train" "$data" "${split[@]}" "${common[@]}" --baseline --export-specs "$work/specs" \
    --summary "$work/baseline.json" -q

# Designs compared: name and architecture (file, or built-in options).
designs=(shortchunk-cnn tinychunk-cnn shortchunk-max)
arch_args() {
    case $1 in
        shortchunk-cnn) echo "--arch $here/models/arch/shortchunk-cnn.json" ;;
        tinychunk-cnn) echo "--arch $here/models/arch/tinychunk-cnn.json" ;;
        shortchunk-max) echo "--arch $here/models/arch/shortchunk-max.json" ;;
    esac
}
for d in "${designs[@]}"; do
    echo "== design $d"
    # shellcheck disable=SC2046
    nice "$train" "$data" "${split[@]}" "${common[@]}" $(arch_args "$d") --name "$d" --cv-only \
        --summary "$work/$d.json" --confusion-dat "$work/$d.conf" --log "$work/$d-log"
done

best=$($py - "$work" "${designs[@]}" <<'PY'
import json, sys
w, names = sys.argv[1], sys.argv[2:]
print(max(names, key=lambda n: json.load(open(f'{w}/{n}.json'))['cv']['accuracy_mean']))
PY
)
echo "== shipped design: $best (best mean accuracy)"
arch_file=$(arch_args "$best" | awk '{print $2}')

echo "== PyTorch parity: $best on the same folds and spectrograms"
# The export carries the front-end, the patch plan's inputs (unpadded
# spectrograms, frame RMS) and the filterbank; the recipe options follow.
nice $py "$here/train/reference/train_torch.py" "$work/specs" "$arch_file" --epochs "$epochs" \
    --crops-per-clip "$crops" --lr "$lr" --batch 32 --threads "$threads" --gain-db "$gain" \
    --balance "$balance" --lowpass "$lowpass" --summary "$work/torch.json" --verbose

# Everything the model's provenance should carry about how it was chosen.
$py - "$work" "$best" "${designs[@]}" > "$work/provenance-extra.json" <<'PY'
import json, sys
w, best, names = sys.argv[1], sys.argv[2], sys.argv[3:]
s = {n: json.load(open(f'{w}/{n}.json')) for n in names}
out = {'validation': s[best]['cv'], 'baseline': json.load(open(f'{w}/baseline.json'))['baseline'],
       'designs_compared': {n: {'accuracy_mean': s[n]['cv']['accuracy_mean'], 'accuracy_std': s[n]['cv']['accuracy_std'],
                                'seconds_per_epoch': s[n]['cv']['seconds_per_epoch']} for n in names},
       'pytorch_parity': {k: v for k, v in json.load(open(f'{w}/torch.json')).items() if k != 'confusion'}}
print(json.dumps(out))
PY

echo "== final model: $best on all data"
nice "$train" "$data" "${split[@]}" --final-only "${common[@]}" $(arch_args "$best") --name "$best" \
    --provenance-extra "$work/provenance-extra.json" --log "$models/training-log.csv" \
    -o "$models/genrescope-gtzan.safetensors" --checkpoint "$work/final.ckpt"

echo "== tables and plots"
$py - "$work" "$best" "$models" "${designs[@]}" <<'PY'
import csv, json, sys
w, best, models, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
rows = []
b = json.load(open(f'{w}/baseline.json'))['baseline']
rows.append(['baseline-logreg', 'C', b['accuracy_mean'], b['accuracy_std'], '', ' '.join(f'{a:.3f}' for a in b['per_fold'])])
for n in names:
    c = json.load(open(f'{w}/{n}.json'))['cv']
    rows.append([n, 'C', c['accuracy_mean'], c['accuracy_std'], c['seconds_per_epoch'], ' '.join(f'{a:.3f}' for a in c['per_fold'])])
t = json.load(open(f'{w}/torch.json'))
rows.append([best, 'PyTorch', t['accuracy_mean'], t['accuracy_std'], t['seconds_per_epoch'], ' '.join(f'{a:.3f}' for a in t['per_fold'])])
with open(f'{models}/cv-results.csv', 'w', newline='') as f:
    wr = csv.writer(f)
    wr.writerow(['design', 'trainer', 'accuracy_mean', 'accuracy_std', 'seconds_per_epoch', 'per_fold'])
    for r in rows:
        wr.writerow([r[0], r[1], f'{r[2]:.4f}', f'{r[3]:.4f}', f'{r[4]:.2f}' if r[4] != '' else '', r[5]])
conf = json.load(open(f'{w}/{best}.json'))['cv']['confusion']
labels = list(json.load(open(f'{w}/{best}.json'))['data']['clips_per_label'].keys())
with open(f'{models}/confusion.csv', 'w', newline='') as f:
    wr = csv.writer(f)
    wr.writerow(['true\\predicted'] + labels)
    for l, r in zip(labels, conf):
        wr.writerow([l] + r)
PY
cp "$work/$best.conf" "$work/shipped.conf"
bash "$here/scripts/plot-training.sh" "$work" "$best" "$models"
for k in $(seq 1 $folds); do [ -f "$work/$best-log.fold$k.csv" ] && cp "$work/$best-log.fold$k.csv" "$models/cv-fold$k-log.csv"; done
cat "$models/cv-results.csv"
$py - "$work" "$best" <<'PY'
import json, sys
w, best = sys.argv[1], sys.argv[2]
c, t = json.load(open(f'{w}/{best}.json'))['cv']['accuracy_mean'], json.load(open(f'{w}/torch.json'))['accuracy_mean']
print(f'== parity ({best}): C {100 * c:.1f}%, PyTorch {100 * t:.1f}%, gap {100 * (t - c):+.1f} points')
PY
echo "== recipe done in $(( $(date +%s) - start )) s"
