#!/usr/bin/python3
"""Table of design-search runs from the trainer's --predictions CSVs and --summary JSONs.

usage: design-table.py DIR NAME [NAME...]
For each NAME reads DIR/NAME-pred.csv (stem, fold, label, predicted, p_<label>...) and DIR/NAME.json.
Accuracy = right / clips; balanced accuracy = mean per-genre recall over the genres present in valid.
"""
import csv, json, os, sys
from collections import defaultdict

def score(path):
    right, n = defaultdict(int), defaultdict(int)
    with open(path) as f:
        for r in csv.DictReader(f):
            n[r['label']] += 1
            right[r['label']] += r['label'] == r['predicted']
    acc = sum(right.values()) / sum(n.values())
    rec = {g: right[g] / n[g] for g in n}
    big = [g for g in n if n[g] >= 5]
    bal5 = sum(rec[g] for g in big) / len(big)
    return acc, sum(rec.values()) / len(rec), rec, right, n, sum(right.values()), sum(n.values()), bal5

def correct(path):
    with open(path) as f:
        return {r['stem']: r['label'] == r['predicted'] for r in csv.DictReader(f)}

def params(arch_file, n_out):
    """Trainable parameters of an arch JSON (conv/batchnorm/dense; the last dense adapted to n_out)."""
    layers = json.load(open(arch_file))['layers']
    dense = [i for i, l in enumerate(layers) if l['op'] == 'dense']
    n, ch = 0, None
    for i, l in enumerate(layers):
        if l['op'] == 'conv2d':
            k = l['kernel'][0] * l['kernel'][1]
            n += l['in'] * l['out'] * k + (l['out'] if l.get('bias', True) else 0)
            ch = l['out']
        elif l['op'] == 'batchnorm2d':
            n += 2 * ch
        elif l['op'] == 'dense':
            out = n_out if i == dense[-1] else l['out']
            n += l['in'] * out + out
    return n

d, names = sys.argv[1], sys.argv[2:]
rows = []
print('| run | accuracy | balanced acc. | bal. acc. (genres with >= 5 clips) | worst genres (right/clips) | s total | s/epoch | params | MB (4 bytes a parameter) |')
print('|---|---|---|---|---|---|---|---|---|')
for name in names:
    try:
        acc, bal, rec, right, n, r, t, bal5 = score(f'{d}/{name}-pred.csv')
    except FileNotFoundError:
        print(f'| {name} | (not run) | | | | | | | |')
        continue
    summ = json.load(open(f'{d}/{name}.json'))
    s = summ['cv']
    n_out = len(summ['data']['clips_per_label'])
    pc = params(open(f'{d}/{name}.arch').read().strip(), n_out) if os.path.exists(f'{d}/{name}.arch') else None
    mb = f'{pc * 4 / 1e6:.2f}' if pc else ''
    worst = sorted(rec, key=lambda g: (rec[g], -n[g]))[:3]
    w = ', '.join(f'{g} {right[g]}/{n[g]}' for g in worst)
    print(f'| {name} | {100*acc:.1f}% ({r}/{t}) | {100*bal:.1f}% | {100*bal5:.1f}% | {w} | {s["seconds_total"]:.0f} | {s["seconds_per_epoch"]:.1f} | {pc or ""} | {mb} |')
    rows.append((name, rec, n))
if rows:
    genres = sorted(rows[0][2])
    print()
    print('Per-genre recall (right/clips):')
    print()
    print('| run | ' + ' | '.join(f'{g} ({rows[0][2][g]})' for g in genres) + ' |')
    print('|---|' + '---|' * len(genres))
    for name, rec, n in rows:
        print(f'| {name} | ' + ' | '.join(f'{round(rec[g]*n[g])}' for g in genres) + ' |')
    ref = correct(f'{d}/{rows[0][0]}-pred.csv')
    print()
    print(f'Clip by clip against {rows[0][0]} (clips it got wrong that the run gets right / right that the run gets wrong):')
    print()
    print('| run | gained | lost | net |')
    print('|---|---|---|---|')
    for name, _, _ in rows[1:]:
        c = correct(f'{d}/{name}-pred.csv')
        gained = sum(c[k] and not ref[k] for k in ref)
        lost = sum(ref[k] and not c[k] for k in ref)
        print(f'| {name} | {gained} | {lost} | {gained - lost:+d} |')
