#!/usr/bin/python3
"""Averages the predictions of several runs into one, as an ensemble of their
models would predict (mean of the members' probabilities), so that
design-table.py can score it like any run.

usage: ensemble-preds.py DIR ENSEMBLE_NAME NAME [NAME...]
Reads DIR/NAME-pred.csv (the trainer's --predictions: stem, fold, label,
predicted, p_<label>...) for every NAME, all over the same clips, and writes
DIR/ENSEMBLE_NAME-pred.csv (predicted as the classifier decides with the
core's default not-music threshold: "notmusic" when its mean probability is
>= 0.5, else the genre of the highest mean probability) and DIR/ENSEMBLE_NAME.json (the first member's summary, whose
timings and parameters are per member).
"""
import csv
import shutil
import sys


def read(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return rows


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    d, out, names = sys.argv[1], sys.argv[2], sys.argv[3:]
    runs = [read(f'{d}/{n}-pred.csv') for n in names]
    cols = [c for c in runs[0][0] if c.startswith('p_')]
    for n, rows in zip(names, runs):
        if [r['stem'] for r in rows] != [r['stem'] for r in runs[0]]:
            sys.exit(f'{n}: not the same clips, in the same order, as {names[0]}')
    with open(f'{d}/{out}-pred.csv', 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['stem', 'fold', 'label', 'predicted'] + cols)
        for i, first in enumerate(runs[0]):
            mean = [sum(float(rows[i][c]) for rows in runs) / len(runs) for c in cols]
            genres = [k for k, c in enumerate(cols) if c != 'p_notmusic']
            best = cols[max(genres, key=mean.__getitem__)][2:]
            if 'p_notmusic' in cols and mean[cols.index('p_notmusic')] >= 0.5:
                best = 'notmusic'
            w.writerow([first['stem'], first['fold'], first['label'], best] + [f'{p:.9g}' for p in mean])
    shutil.copyfile(f'{d}/{names[0]}.json', f'{d}/{out}.json')
    shutil.copyfile(f'{d}/{names[0]}.arch', f'{d}/{out}.arch')


if __name__ == '__main__':
    main()
