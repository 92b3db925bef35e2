#!/bin/bash
# Compares architectures in the PyTorch reference trainer before the C side
# learns an op they need (e.g. shortchunk-res.json's "save"/"add"): each
# ARCH trained with the recipe's options on the given split for each seed,
# 2 runs at a time with 1 thread each, scored on valid through the core's
# patch plan (train_torch.py). The C and PyTorch trainers agree on this
# split (models/README.md, parity), so a design that does not pay here does
# not pay in C.
#   train/reference/experiments/compare-torch.sh EXPORT_DIR OUT_DIR "SEEDS" ARCH.json...
# EXPORT_DIR: `genrescope-train ... --export-specs DIR` of the recipe's split
# (the recipe's WORK/specs). Prints a table of valid accuracy per seed and
# the mean; per-run summaries and logs stay in OUT_DIR.
set -euo pipefail
[ $# -ge 4 ] || { sed -n 2,13p "$0" >&2; exit 2; }
here=$(cd "$(dirname "$0")/../../.." && pwd)
export_dir=$1 out=$2 seeds=$3; shift 3
mkdir -p "$out"
run_one() {  # arch seed
    local name; name=$(basename "$1" .json)-s$2
    [ -f "$out/$name.json" ] && return 0
    OMP_NUM_THREADS=1 nice -n 10 /usr/bin/python3 "$here/train/reference/train_torch.py" "$export_dir" "$1" \
        --epochs 12 --crops-per-clip 8 --lr 2e-3 --batch 32 --threads 1 --gain-db 24 --balance genre \
        --lowpass 0.25 --seed "$2" --summary "$out/$name.json" > "$out/$name.log" 2>&1 ||
        { echo "== $name FAILED (see $out/$name.log)"; return 1; }
    echo "== $name: done"
}
export -f run_one
export here export_dir out
for s in $seeds; do for a in "$@"; do echo "$a $s"; done; done | xargs -P 2 -L 1 bash -c 'run_one "$@"' _
/usr/bin/python3 - "$out" "$seeds" "$@" <<'PY'
import json, os, sys
out, seeds, archs = sys.argv[1], sys.argv[2].split(), sys.argv[3:]
print('| design | ' + ' | '.join(f'seed {s}' for s in seeds) + ' | mean |')
print('|---' * (len(seeds) + 2) + '|')
for a in archs:
    n = os.path.basename(a)[:-5]
    acc = [100 * json.load(open(f'{out}/{n}-s{s}.json'))['accuracy_mean'] for s in seeds]
    print(f'| {n} | ' + ' | '.join(f'{x:.1f}' for x in acc) + f' | {sum(acc) / len(acc):.1f} |')
PY
