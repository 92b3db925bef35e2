#!/bin/bash
# genrescope-train checks the architecture with the core's rules before it
# reads any data: a net the core could not load (here batch norm after a
# ReLU, which the trainer once trained) fails at once with the core's
# message and the file's name, before a spectrogram is computed or a file
# written; a design from models/arch and the built-in one get past that
# check on the same data.
#   test_train_arch.sh GENRESCOPE_TRAIN TEST_TRAIN_SYNTH
set -u
TRAIN=$1
SYNTH=$2
. "$(dirname "$0")/train_lib.sh" train_arch
export OPENBLAS_NUM_THREADS=1 HOME="$TMP/home" XDG_CACHE_HOME="$TMP/home/cache"

for k in tone noise; do
    mkdir -p "$TMP/data/$k"
    for i in 1 2 3; do
        "$SYNTH" "$TMP/data/$k/$k$i.wav" "$k" 3.5 -12 "$i" || exit 1
    done
done
# shortchunk-cnn.json with a ReLU moved in front of the first batch norm.
cat > "$TMP/bad.json" <<'JSON'
{"input": [1, 96, 128], "layers": [
  {"op": "conv2d", "name": "conv1", "in": 1, "out": 8, "kernel": [3, 3], "padding": [1, 1]},
  {"op": "relu"},
  {"op": "batchnorm2d", "name": "bn1"},
  {"op": "global_avgpool"},
  {"op": "dense", "name": "fc", "in": 8, "out": 2},
  {"op": "softmax"}]}
JSON
"$TRAIN" "$TMP/data" --arch "$TMP/bad.json" -o "$TMP/bad.safetensors" --epochs 1 \
    --cache "$TMP/cache" --threads 1 > "$TMP/bad.out" 2> "$TMP/bad.err"; rc=$?
check "a net the core cannot load is refused" test $rc -eq 1
check "...with the core's message, naming the file" contains "$TMP/bad.err" \
    "genrescope-train: $TMP/bad.json: architecture layer 2 (batchnorm2d): batchnorm2d must directly follow a conv2d (it is folded into it)"
check "...before any data is read" lacks "$TMP/bad.err" "^data:"
check "...or a spectrogram cached" test ! -e "$TMP/cache"
check "...or a model written" test ! -e "$TMP/bad.safetensors" -a ! -e "$TMP/bad.safetensors.ckpt"

# The same data with designs the core loads: past the check, into the data.
src=${GS_SOURCE_DIR:-$(dirname "$0")/..}
"$TRAIN" "$TMP/data" --arch "$src/models/arch/tinychunk-cnn.json" -o "$TMP/good.safetensors" \
    --epochs 1 --batch 4 --crops-per-clip 1 --cache "$TMP/cache" --threads 1 \
    > "$TMP/good.out" 2> "$TMP/good.err"; rc=$?
check "a design from models/arch trains" test $rc -eq 0
check "...after reading the data" contains "$TMP/good.err" "^data:"
check "...and writes its model" test -s "$TMP/good.safetensors"

finish test_train_arch
