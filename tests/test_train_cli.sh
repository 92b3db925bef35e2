#!/bin/bash
# genrescope-train end to end on synthetic audio generated here: a tiny net
# learns tones vs noise vs clicks and scores highly on fresh clips through
# --evaluate; resume after an interruption reproduces an uninterrupted run;
# bad input (empty label folder, single class, corrupt audio, unknown CSV
# labels, resume from another architecture, a silent clip) gives a clear
# message, no crash and no lost checkpoint; the spectrogram export carries
# the patch plan and train/reference/train_torch.py cuts the same patches.
set -u
TRAIN=$1
SYNTH=$2
PY=/usr/bin/python3
. "$(dirname "$0")/train_lib.sh" train_cli

make_set() { # make_set DIR SEED_BASE COUNT
    local kinds=(tone noise clicks) n=0
    for k in "${kinds[@]}"; do
        mkdir -p "$1/$k"
        for i in $(seq 1 "$3"); do
            n=$((n + 1))
            # levels vary so the model cannot use loudness
            "$SYNTH" "$1/$k/$k$i.wav" "$k" 3.5 $((-6 - (n * 7) % 30)) $(($2 + n)) || exit 1
        done
    done
}
make_set "$TMP/train" 1000 6
make_set "$TMP/test" 5000 4
mkdir -p "$TMP/train/empty-label"
export OPENBLAS_NUM_THREADS=1
COMMON=(--width 4 --batch 16 --crops-per-clip 4 --lr 3e-3 --cache "$TMP/cache" --threads 1)

"$TRAIN" --help > "$TMP/help.txt"; rc=$?
check "--help exits 0" test $rc -eq 0
check "--help documents evaluate and resume" contains "$TMP/help.txt" "--evaluate MODEL"
check "--help documents genre balancing" contains "$TMP/help.txt" "--balance MODE (genre)"
check "--help documents the low-pass augmentation" contains "$TMP/help.txt" "--lowpass P (0.25)"
check "--help documents pitch and tempo augmentation" contains "$TMP/help.txt" "--pitch S (0)"
for bad in "--pitch 13" "--pitch -1" "--tempo 1.5" "--tempo x"; do
    # shellcheck disable=SC2086
    "$TRAIN" "$TMP/train" $bad -o "$TMP/x.safetensors" > /dev/null 2>&1; rc=$?
    check "$bad is a usage error" test $rc -eq 2
done
"$TRAIN" "$TMP/train" --balance sometimes -o "$TMP/x.safetensors" > /dev/null 2>&1; rc=$?
check "unknown --balance is a usage error" test $rc -eq 2
for seed in -1 +3 " 7" 1x ""; do
    "$TRAIN" "$TMP/train" --seed "$seed" -o "$TMP/x.safetensors" > "$TMP/seed.err" 2>&1; rc=$?
    check "--seed '$seed' is a usage error" test $rc -eq 2
done
check "...that names the option" contains "$TMP/seed.err" "seed"
"$TRAIN" "$TMP/train" --bogus > /dev/null 2> "$TMP/bogus.err"; rc=$?
check "unknown option is a usage error" test $rc -eq 2
# Last on the line, an unknown option used to be reported as missing its value.
check "unknown option is named as unrecognized" contains "$TMP/bogus.err" "unrecognized option '--bogus'"
check "a usage error points to --help in one line" contains "$TMP/bogus.err" "Try 'genrescope-train --help'"
check "a usage error does not print the whole help" test "$(wc -l < "$TMP/bogus.err")" -eq 2
"$TRAIN" "$TMP/train" --epochs > /dev/null 2> "$TMP/novalue.err"; rc=$?
check "a known option without its value is a usage error" test $rc -eq 2
check "a known option without its value says so" contains "$TMP/novalue.err" "option '--epochs' requires a value"

# Training on separable classes reaches high accuracy on fresh clips.
"$TRAIN" "$TMP/train" -o "$TMP/m.safetensors" --epochs 12 "${COMMON[@]}" --log "$TMP/log.csv" \
    > "$TMP/train.out" 2> "$TMP/train.err"; rc=$?
check "training succeeds" test $rc -eq 0
check "empty label folder is reported" contains "$TMP/train.err" "empty-label' has no audio files"
check "CSV log has one line per epoch" test "$(wc -l < "$TMP/log.csv")" -eq 13
check "checkpoint written" test -s "$TMP/m.safetensors.ckpt"
"$TRAIN" --evaluate "$TMP/m.safetensors" "$TMP/test" --json > "$TMP/eval.json" 2> "$TMP/eval.err"; rc=$?
check "evaluate succeeds" test $rc -eq 0
acc=$($PY -c "import json,sys; d=json.load(open(sys.argv[1])); print(d['accuracy'])" "$TMP/eval.json" 2>/dev/null)
echo "held-out accuracy: $acc"
check "held-out accuracy >= 0.9" $PY -c "import sys; sys.exit(0 if float(sys.argv[1]) >= 0.9 else 1)" "${acc:-0}"
check "model metadata has provenance" $PY - "$TMP/m.safetensors" <<'PYEOF'
import json, struct, sys
b = open(sys.argv[1], 'rb').read()
n = struct.unpack('<Q', b[:8])[0]
meta = json.loads(b[8:8 + n])['__metadata__']
labels = json.loads(meta['labels']); prov = json.loads(meta['provenance'])
arch = json.loads(meta['architecture']); fe = json.loads(meta['frontend'])
assert labels == ['clicks', 'noise', 'tone'], labels
assert prov['data']['clips'] == 18 and prov["recipe"]["epochs"] == 12, prov
assert prov['recipe']['balance'].startswith('genre:') and prov['recipe']['augmentation']['lowpass_p'] == 0.25, prov
assert fe['patch_normalize'] == 'mean' and arch['input'] == [1, fe['n_mels'], fe['patch_frames']]
PYEOF
"$TRAIN" --evaluate "$TMP/m.safetensors" "$TMP/test" > "$TMP/eval.txt" 2>&1
check "text evaluation has a confusion matrix" contains "$TMP/eval.txt" "confusion (rows: true"
check "held-out data gives no training-data warning" lacks "$TMP/eval.txt" "trained on"
(cd "$TMP" && "$TRAIN" --evaluate m.safetensors ./train/../train --json > eval-train.json 2> eval-train.err)
check "evaluating on the training folder warns" contains "$TMP/eval-train.err" "model was trained on ./train/../train"

# Resume: 3 epochs interrupted after 2 then resumed == 3 epochs straight.
"$TRAIN" "$TMP/train" -o "$TMP/a.safetensors" --epochs 3 "${COMMON[@]}" -q > /dev/null 2>&1
"$TRAIN" "$TMP/train" -o "$TMP/b.safetensors" --epochs 3 "${COMMON[@]}" -q --stop-after-epochs 2 > "$TMP/stop.out" 2>&1
check "interrupted run leaves no model" test ! -e "$TMP/b.safetensors"
check "interrupted run says how to resume" contains "$TMP/stop.out" "resume"
"$TRAIN" "$TMP/train" -o "$TMP/b.safetensors" --epochs 3 "${COMMON[@]}" --resume > "$TMP/resume.out" 2>&1; rc=$?
check "resume succeeds" test $rc -eq 0
check "resume reports where it continues" contains "$TMP/resume.out" "after epoch 2/3"
check "resumed weights equal uninterrupted ones" $PY - "$TMP/a.safetensors" "$TMP/b.safetensors" <<'PYEOF'
import json, struct, sys
def tensors(p):
    b = open(p, 'rb').read(); n = struct.unpack('<Q', b[:8])[0]
    h = json.loads(b[8:8 + n]); h.pop('__metadata__')
    return {k: b[8 + n + v['data_offsets'][0]: 8 + n + v['data_offsets'][1]] for k, v in h.items()}
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
assert a.keys() == b.keys() and all(a[k] == b[k] for k in a), [k for k in a if a[k] != b.get(k)]
PYEOF

# Resume from a checkpoint of another architecture: refused, checkpoint kept.
sum_before=$(md5sum < "$TMP/m.safetensors.ckpt")
"$TRAIN" "$TMP/train" -o "$TMP/m.safetensors" --epochs 12 --width 6 --batch 16 --cache "$TMP/cache" --resume \
    > "$TMP/arch.out" 2>&1; rc=$?
check "other-architecture resume fails cleanly" test $rc -eq 1
check "other-architecture resume explains" contains "$TMP/arch.out" "different architecture"
check "checkpoint untouched" test "$(md5sum < "$TMP/m.safetensors.ckpt")" = "$sum_before"

# A single class.
mkdir -p "$TMP/single/only"; cp "$TMP/train/tone/tone1.wav" "$TMP/train/tone/tone2.wav" "$TMP/single/only/"
"$TRAIN" "$TMP/single" -o "$TMP/s.safetensors" > "$TMP/single.out" 2>&1; rc=$?
check "single class fails cleanly" test $rc -eq 1
check "single class explains" contains "$TMP/single.out" "at least 2 labels"

# Corrupt audio is skipped with a warning and a count.
cp -r "$TMP/train" "$TMP/corrupt"; head -c 3000 /dev/urandom > "$TMP/corrupt/noise/garbage.wav"
printf 'RIFF\x24\x00\x00\x00WAVEfmt ' > "$TMP/corrupt/tone/truncated.wav"
"$TRAIN" "$TMP/corrupt" -o "$TMP/c.safetensors" --epochs 1 "${COMMON[@]}" > "$TMP/corrupt.out" 2>&1; rc=$?
check "corrupt audio does not stop training" test $rc -eq 0
check "corrupt audio is named" contains "$TMP/corrupt.out" "skipping .*garbage.wav"
check "corrupt audio is counted" contains "$TMP/corrupt.out" "2 unreadable skipped"

# A silent clip and a clip shorter than one patch: the silent one is never
# trained on (and said so), the short one is. The export carries the plan,
# and the PyTorch reference finds the same patches and crops in it.
cp -r "$TMP/train" "$TMP/plan"; rm -rf "$TMP/plan/empty-label"
"$SYNTH" "$TMP/plan/tone/silent.wav" tone 3.5 -200 7 && "$SYNTH" "$TMP/plan/noise/short.wav" noise 1.2 -12 8
"$TRAIN" "$TMP/plan" -o "$TMP/p.safetensors" --epochs 1 "${COMMON[@]}" > "$TMP/plan.out" 2>&1; rc=$?
check "training with a silent clip succeeds" test $rc -eq 0
check "the silent clip is not trained on" contains "$TMP/plan.out" "1 of 20 training clips are silent throughout"
"$TRAIN" "$TMP/plan" --cv 2 --cv-only --epochs 1 --export-specs "$TMP/export" --predictions "$TMP/pred.csv" \
    --summary "$TMP/cv.json" "${COMMON[@]}" -q > "$TMP/export.out" 2>&1; rc=$?
check "export and cross-validation succeed" test $rc -eq 0
check "every clip's held-out verdict is listed" test "$(wc -l < "$TMP/pred.csv")" -eq 21
check "the silent clip's verdict is silence" contains "$TMP/pred.csv" "^silent,[12],tone,(silent),0,0,0$"
check "fold models are removed once scored" test -z "$(ls "$TMP" | grep 'cv.json.fold')"
# Folds are contiguous runs of each label's files in path order by default
# (neighbours, such as an artist's tracks, stay together): along path order
# each label changes fold once with 2 folds. Shuffled folds take a seed.
check "folds are contiguous runs of path order" $PY - "$TMP/pred.csv" "$TMP/cv.json" <<'PYEOF'
import csv, json, sys
rows = sorted(csv.DictReader(open(sys.argv[1])), key=lambda r: (r['label'], r['stem']))
for label in {r['label'] for r in rows}:
    folds = [r['fold'] for r in rows if r['label'] == label]
    changes = sum(a != b for a, b in zip(folds, folds[1:]))
    assert changes == 1, (label, folds)
assert 'contiguous' in json.load(open(sys.argv[2]))['cv']['split']
PYEOF
"$TRAIN" "$TMP/plan" --cv 2 --cv-only --fold-seed 3 "${COMMON[@]}" > "$TMP/foldseed.err" 2>&1; rc=$?
check "--fold-seed without shuffled folds is a usage error" test $rc -eq 2
check "...that says why" contains "$TMP/foldseed.err" "fold-seed only applies to --fold-layout shuffled"
"$TRAIN" "$TMP/plan" --cv 2 --cv-only --fold-layout sometimes "${COMMON[@]}" > /dev/null 2>&1; rc=$?
check "unknown --fold-layout is a usage error" test $rc -eq 2
"$TRAIN" "$TMP/plan" --cv 2 --cv-only --epochs 1 --fold-layout shuffled --fold-seed 3 --predictions "$TMP/pred-shuffled.csv" \
    --summary "$TMP/cv-shuffled.json" "${COMMON[@]}" -q > /dev/null 2>&1; rc=$?
check "shuffled folds with a seed succeed" test $rc -eq 0
check "...and say so in the summary" contains "$TMP/cv-shuffled.json" "shuffled with fold seed 3"
# --keep-fold-models keeps them (named after --summary here), as loadable models.
"$TRAIN" "$TMP/plan" --cv 2 --cv-only --epochs 1 --keep-fold-models --summary "$TMP/kept.json" "${COMMON[@]}" -q \
    > "$TMP/kept.out" 2>&1; rc=$?
check "--keep-fold-models succeeds" test $rc -eq 0
check "...and keeps both fold models" test -s "$TMP/kept.json.fold1.safetensors" -a -s "$TMP/kept.json.fold2.safetensors"
check "...which load and classify" "$TRAIN" --evaluate "$TMP/kept.json.fold2.safetensors" "$TMP/plan" --threads 1
"$TRAIN" "$TMP/plan" --cv 2 --cv-only --keep-fold-models "${COMMON[@]}" > "$TMP/kept2.out" 2>&1; rc=$?
check "--keep-fold-models without -o or --summary is a usage error" test $rc -eq 2
check "...that says what is missing" contains "$TMP/kept2.out" "keep-fold-models needs -o or --summary"
check "export is unpadded with RMS and the plan" $PY - "$TMP/export" <<'PYEOF'
import csv, json, os, sys
d = sys.argv[1]
rows = {r['stem']: r for r in csv.DictReader(open(os.path.join(d, 'index.csv')))}
plan = json.load(open(os.path.join(d, 'plan.json')))
assert int(rows['short']['frames']) < plan['patch_frames'] and rows['short']['patches'] == '0', rows['short']
assert rows['silent']['patches'] == '' and rows['silent']['usable_crops'] == '0', rows['silent']
assert os.path.getsize(os.path.join(d, 'rms.f32')) == 4 * sum(int(r['frames']) for r in rows.values())
assert plan['silence_rms'] > 0 and os.path.getsize(os.path.join(d, 'filterbank.f32')) == 4 * plan['n_mels'] * (plan['n_fft'] // 2 + 1)
PYEOF
GS_SRC=${GS_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
$PY "$GS_SRC/train/reference/train_torch.py" "$TMP/export" "$GS_SRC/models/arch/tinychunk-cnn.json" --epochs 1 \
    --crops-per-clip 1 --batch 8 --threads 1 > "$TMP/torch.out" 2> "$TMP/torch.err"; rc=$?
check "train_torch.py follows the exported plan" test $rc -eq 0
check "train_torch.py reports the silent clip" contains "$TMP/torch.err" "training clips are silent throughout"
$PY "$GS_SRC/train/reference/train_torch.py" "$TMP/export" "$GS_SRC/models/arch/tinychunk-cnn.json" --epochs 1 \
    --crops-per-clip 1 --batch 8 --threads 1 --pitch 2 --tempo 1 > "$TMP/torchpt.out" 2>&1; rc=$?
check "train_torch.py trains with pitch and tempo augmentation" test $rc -eq 0

# Not-music examples and calibration: tones and clicks are the "genres",
# noise is given with --not-music. Cross-validation writes held-out
# probabilities (music clips only: not-music examples always train); the
# final model records its not-music label and the temperature fitted on them.
make_set "$TMP/nmset" 7000 4
mv "$TMP/nmset/noise" "$TMP/nmnoise"
"$TRAIN" "$TMP/nmset" --cv 2 --cv-only --not-music "$TMP/nmnoise" --predictions "$TMP/pred.csv" --epochs 4 \
    "${COMMON[@]}" > "$TMP/nmcv.out" 2> "$TMP/nmcv.err"; rc=$?
check "cross-validation with --not-music succeeds" test $rc -eq 0
check "not-music examples are announced" contains "$TMP/nmcv.err" "not music: 4 training-only examples"
check "predictions: probabilities of every label, music clips only" $PY - "$TMP/pred.csv" <<'PYEOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 8, len(rows)
assert all(r['label'] in ('tone', 'clicks') for r in rows), rows
for r in rows:
    total = float(r['p_clicks']) + float(r['p_tone']) + float(r['p_notmusic'])
    assert abs(total - 1) < 1e-4, r
PYEOF
"$TRAIN" "$TMP/nmset" --not-music "$TMP/nmnoise" --calibrate-from "$TMP/pred.csv" --epochs 4 "${COMMON[@]}" \
    -o "$TMP/nm.safetensors" > "$TMP/nm.out" 2> "$TMP/nm.err"; rc=$?
check "final model with --not-music and --calibrate-from" test $rc -eq 0
check "model: not-music label last, calibration stored" $PY - "$TMP/nm.safetensors" <<'PYEOF'
import json, struct, sys
with open(sys.argv[1], 'rb') as f:
    n = struct.unpack('<Q', f.read(8))[0]
    meta = json.loads(f.read(n))['__metadata__']
labels = json.loads(meta['labels'])
assert labels == ['clicks', 'tone', 'notmusic'], labels
assert meta['not_music_label'] == 'notmusic', meta['not_music_label']
cal = json.loads(meta['calibration'])
assert cal['method'] == 'temperature' and 0.05 <= cal['temperature'] <= 20 and cal['clips'] == 8, cal
assert cal['fit_on'] == 'pred.csv' and cal['nll_after'] <= cal['nll_before'] + 1e-9, cal
PYEOF
printf 'stem,fold,label,predicted,p_clicks\nx,1,tone,tone,0.5\n' > "$TMP/badpred.csv"
"$TRAIN" "$TMP/nmset" --calibrate-from "$TMP/badpred.csv" --epochs 1 "${COMMON[@]}" -o "$TMP/bad.safetensors" \
    > "$TMP/badpred.out" 2>&1; rc=$?
check "predictions without every label's column are refused" test $rc -ne 0
check "...naming the missing column" contains "$TMP/badpred.out" "no column p_tone"

# CSV with a label outside the allowed set.
printf 'path,label\ntrain/tone/tone1.wav,tone\ntrain/noise/noise1.wav,polka\n' > "$TMP/list.csv"
"$TRAIN" --csv "$TMP/list.csv" --labels tone,noise,clicks -o "$TMP/l.safetensors" > "$TMP/csv.out" 2>&1; rc=$?
check "unknown CSV label fails cleanly" test $rc -eq 1
check "unknown CSV label is named with its line" contains "$TMP/csv.out" "list.csv:3: unknown label 'polka'"

# Fine-tuning with a new head on a different label set.
"$TRAIN" "$TMP/train" -o "$TMP/ft.safetensors" --init-from "$TMP/m.safetensors" --replace-head \
    --labels tone,noise --epochs 1 "${COMMON[@]}" -q > "$TMP/ft.out" 2>&1; rc=$?
check "fine-tune with --replace-head succeeds" test $rc -eq 0

# Runs sharing one cache (two designs trained at once, as a design search
# does) compute the same entries: the one that stores an entry second uses
# the first one's instead of failing ("appeared while we wrote"). Several
# rounds on a fresh cache each, with clip variants for more entries.
# Without -o or --summary a --cv-only run keeps its fold files in a scratch
# folder of its own (they used to be "(null).fold1.ckpt" in the working
# directory, shared by every such run).
shared_ok=1
mkdir -p "$TMP/cwd"
# A file of the user's under the name the old code gave a fold model (then
# replaced and deleted): it must survive untouched.
echo "not the trainer's" > "$TMP/cwd/(null).fold1.safetensors"
for round in 1 2 3; do
    rm -rf "$TMP/shared-cache"
    pids=()
    for run in a b; do
        (cd "$TMP/cwd" && TMPDIR="$TMP" exec "$TRAIN" "$TMP/train" --cv 2 --cv-only --epochs 1 --width 4 --batch 16 \
            --crops-per-clip 1 --threads 1 --clip-variants 2 --cache "$TMP/shared-cache" -q) \
            > "$TMP/shared-$run.out" 2>&1 &
        pids+=($!)
    done
    for k in 0 1; do
        wait "${pids[$k]}" || { shared_ok=0; cat "$TMP/shared-a.out" "$TMP/shared-b.out"; }
    done
done
check "two runs on one fresh cache both succeed" test $shared_ok -eq 1
check "...leaving no temporary files in the cache" test -z "$(find "$TMP/shared-cache" -name '.*' -type f)"
check "...and nothing written in the working directory" \
    test "$(ls -A "$TMP/cwd")" = "(null).fold1.safetensors" -a "$(cat "$TMP/cwd/(null).fold1.safetensors")" = "not the trainer's"

finish test_train_cli
