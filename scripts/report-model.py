#!/usr/bin/python3
"""The recipe's report: what the shipped model is worth, from one run.

usage: report-model.py tagging WORK DATA BEST OUT.json NOT_MUSIC.json
         fits the report's calibration, picks the tagging threshold and the
         not-music threshold, writes the model's "tagging" and
         "not_music_decision" metadata (before the final model is trained)
       report-model.py report WORK DATA BEST MODELS
         writes MODELS/results.md (tables), MODELS/reliability.png and
         MODELS/confusion.png, and the results section of MODELS/README.md

Inputs in WORK (written by scripts/train-gtzan.sh): BEST-pred.csv (the split
model's verdicts on valid, uncalibrated), cv-pred.csv (out-of-fold verdicts
of 5-fold cross-validation over train+valid), the designs' and the CV's
summaries, torch.json (PyTorch parity), heldout.json (the shipped model on
non-music from held-out generators).

Calibration for the report: the temperature is fitted on the out-of-fold
predictions of the clips in train.txt only, then applied to the split
model's predictions on valid: it is never fitted on what it is reported on.
(The shipped model's temperature is fitted by genrescope-train
--calibrate-from on all out-of-fold predictions, with the C implementation
that tests/test_calibration.py checks against this numpy one.)
"""
import csv
import json
import math
import os
import subprocess
import sys

import numpy as np

NOT_MUSIC = "notmusic"
TARGET_PRECISION = 0.95
MIN_TAGS = 10
# The share of music the not-music threshold may call "not music" on
# held-out predictions: below 0.5, a sound the model half-recognises as music
# (band-limited noise, a two-tone signal) is still no genre.
MUSIC_REJECTION_BUDGET = 0.01


def read_predictions(path):
    rows = list(csv.DictReader(open(path)))
    labels = [c[2:] for c in rows[0].keys() if c.startswith("p_")]
    p = np.array([[float(r["p_" + l]) for l in labels] for r in rows])
    y = np.array([labels.index(r["label"]) for r in rows])
    return [r["stem"] for r in rows], labels, p, y


def stems_of(path):
    return {os.path.splitext(os.path.basename(l.strip()))[0] for l in open(path) if l.strip()}


def calibrate(p, t):
    lp = np.log(np.maximum(p, 1e-12)) / t
    lp -= lp.max(1, keepdims=True)
    q = np.exp(lp) * (p > 0)
    return q / q.sum(1, keepdims=True)


def fit_temperature(p, y):
    """Newton on 1/T for the NLL of softmax(log p / T) (the reference the C
    bisection is tested against)."""
    l = np.log(np.maximum(p, 1e-12))
    beta = 1.0
    for _ in range(100):
        z = beta * l
        z -= z.max(1, keepdims=True)
        q = np.exp(z)
        q /= q.sum(1, keepdims=True)
        el = (q * l).sum(1)
        grad = np.mean(el - l[np.arange(len(y)), y])
        hess = np.mean((q * l * l).sum(1) - el * el)
        step = grad / max(hess, 1e-12)
        beta = min(max(beta - step, 1 / 20), 20)
        if abs(step) < 1e-12:
            break
    return 1.0 / beta


def ece(p, y, bins=15):
    conf, hit = p.max(1), (p.argmax(1) == y)
    b = np.minimum((conf * bins).astype(int), bins - 1)
    table, total = [], 0.0
    for i in range(bins):
        m = b == i
        if m.any():
            total += m.sum() / len(y) * abs(hit[m].mean() - conf[m].mean())
            table.append((i, int(m.sum()), float(conf[m].mean()), float(hit[m].mean())))
    return total, table


def verdicts(p, labels, nm_min=0.5):
    """The core's decision: not music at p >= nm_min (a number, or one per
    row), else the best genre."""
    nm = labels.index(NOT_MUSIC) if NOT_MUSIC in labels else None
    q = p.copy()
    if nm is not None:
        q[:, nm] = -1
    genre = q.argmax(1)
    conf = q.max(1)
    not_music = p[:, nm] >= nm_min if nm is not None else np.zeros(len(p), bool)
    return genre, conf, not_music


def not_music_threshold(p, labels):
    """The lowest not-music threshold, rounded up to 4 decimals and never
    above the core's default 0.5, at which at most MUSIC_REJECTION_BUDGET of
    these (calibrated, held-out, all music) predictions are "not music"."""
    if NOT_MUSIC not in labels or len(p) == 0:
        return 0.5
    x = np.sort(p[:, labels.index(NOT_MUSIC)])[::-1]
    k = int(math.floor(MUSIC_REJECTION_BUDGET * len(x)))
    return float(min(0.5, math.floor(x[k] * 1e4 + 1) / 1e4))


def threshold_table(p, y, labels, nm_min=0.5):
    genre, conf, not_music = verdicts(p, labels, nm_min)
    rows = []
    for t in np.round(np.arange(0.30, 1.0, 0.01), 2):
        tagged = (~not_music) & (conf >= t)
        n = int(tagged.sum())
        right = int((tagged & (genre == y)).sum())
        rows.append((float(t), n, right, right / n if n else float("nan"), n / len(y)))
    return rows


def wilson_low(k, n, z=1.96):
    if n == 0:
        return float("nan")
    ph = k / n
    d = 1 + z * z / n
    return (ph + z * z / (2 * n) - z * math.sqrt(ph * (1 - ph) / n + z * z / (4 * n * n))) / d


def has_split(work, data, best):
    """True when the recipe ran on a given split: BEST-pred.csv then holds
    the split model's verdicts on valid, artists it never heard."""
    return os.path.exists(f"{data}/train.txt") and os.path.exists(f"{work}/{best}-pred.csv") and \
        os.path.exists(f"{work}/cv-pred.csv") and \
        not os.path.samefile(f"{work}/{best}-pred.csv", f"{work}/cv-pred.csv")


def shipped_temperature(work, data, best):
    """The temperature the final model gets (genrescope-train --calibrate-from
    on the same file, the C fit): with a given split, fitted on the split
    model's verdicts on valid, the only predictions made on artists the
    model never heard (the folds of the cross-validation keep runs of
    consecutive clips together, but an artist's run can still cross a fold
    boundary: out-of-fold accuracy 75% against 57% on valid); without one,
    on the out-of-fold predictions."""
    path = f"{work}/{best}-pred.csv" if has_split(work, data, best) else f"{work}/cv-pred.csv"
    _, _, p, y = read_predictions(path)
    return fit_temperature(p, y)


def held_out(work, data, best):
    """The predictions the report judges, their calibration and not-music
    threshold, never fitted on themselves. With a given split: the split
    model on valid, each clip calibrated with T fitted on the other valid
    clips (leave-one-out cross-fitting), thresholded at the not-music
    threshold of the train clips' out-of-fold predictions. Without one: the
    out-of-fold predictions themselves, each fold calibrated and thresholded
    by the other folds (cross-fitting)."""
    if has_split(work, data, best):
        _, labels, pv, yv = read_predictions(f"{work}/{best}-pred.csv")
        cs, clabels, pc, yc = read_predictions(f"{work}/cv-pred.csv")
        assert labels == clabels, (labels, clabels)
        cal = np.zeros_like(pv)
        ts = []
        for i in range(len(yv)):
            others = np.arange(len(yv)) != i
            ts.append(fit_temperature(pv[others], yv[others]))
            cal[i] = calibrate(pv[i:i + 1], ts[-1])[0]
        train = stems_of(f"{data}/train.txt")
        mask = np.array([s in train for s in cs])
        nm_min = not_music_threshold(calibrate(pc[mask], shipped_temperature(work, data, best)), labels)
        how = (f"valid ({len(yv)} clips): the split model's verdicts, each calibrated with T fitted on the other "
               f"{len(yv) - 1} (leave-one-out, T {min(ts):.3f}..{max(ts):.3f})")
        return labels, pv, yv, cal, float(np.mean(ts)), nm_min, how
    rows = list(csv.DictReader(open(f"{work}/cv-pred.csv")))
    _, labels, pv, yv = read_predictions(f"{work}/cv-pred.csv")
    folds = np.array([r["fold"] for r in rows])
    cal = np.zeros_like(pv)
    nm_min = np.zeros(len(pv))
    ts = []
    for f in sorted(set(folds)):
        m = folds == f
        t = fit_temperature(pv[~m], yv[~m])
        ts.append(t)
        cal[m] = calibrate(pv[m], t)
        nm_min[m] = not_music_threshold(calibrate(pv[~m], t), labels)
    how = (f"out-of-fold predictions ({len(yv)} clips), each fold calibrated with T fitted on the other folds "
           f"(T {min(ts):.3f}..{max(ts):.3f})")
    return labels, pv, yv, cal, float(np.mean(ts)), nm_min, how


def tagging(work, data, best, out, not_music_out):
    labels, pv, yv, cal, t_report, nm_report, how = held_out(work, data, best)
    table = threshold_table(cal, yv, labels, nm_report)
    ok = [r for r in table if r[1] >= MIN_TAGS and r[3] >= TARGET_PRECISION]
    enough = [r for r in table if r[1] >= MIN_TAGS]
    # Without a threshold that reaches the target, the most precise one (and
    # the report says the target was missed); with too few tags, the highest.
    chosen = ok[0] if ok else max(enough, key=lambda r: r[3]) if enough else table[-1]
    t, n, right, prec, cov = chosen
    if math.isnan(prec):
        prec = 0.0
    json.dump({"min_confidence": t, "precision": round(prec, 4), "coverage": round(cov, 4), "tags": n,
               "right": right, "precision_target": TARGET_PRECISION, "target_met": bool(ok),
               "measured_on": how}, open(out, "w"))
    print(f"tagging threshold {t:.2f}: {right}/{n} right ({100 * prec:.1f}%), coverage {100 * cov:.1f}% of valid")

    # The shipped model's not-music threshold: on all out-of-fold
    # predictions, calibrated as the final model will be.
    _, labels_cv, pc, yc = read_predictions(f"{work}/cv-pred.csv")
    pc = calibrate(pc, shipped_temperature(work, data, best))
    nm_min = not_music_threshold(pc, labels_cv)
    rejected = int(verdicts(pc, labels_cv, nm_min)[2].sum())
    json.dump({"min_probability": nm_min, "music_rejection_budget": MUSIC_REJECTION_BUDGET,
               "music_rejected": rejected, "music_clips": len(pc),
               "measured_on": "out-of-fold predictions of 5-fold cross-validation, calibrated"},
              open(not_music_out, "w"))
    print(f"not-music threshold {nm_min:.4f}: {rejected}/{len(pc)} out-of-fold music clips called not music")


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def pct(x):
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{100 * x:.1f}%"


def gnuplot(script):
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def report(work, data, best, models):
    labels, pv, yv, calv, t_report, nm_report, how = held_out(work, data, best)
    _, _, pc, yc = read_predictions(f"{work}/cv-pred.csv")
    genres = [l for l in labels if l != NOT_MUSIC]
    tag = json.load(open(f"{work}/tagging.json"))
    meta = model_metadata(f"{models}/genrescope-gtzan.safetensors")
    cal_ship = json.loads(meta["calibration"])
    nm_ship = json.loads(meta.get("not_music_decision", '{"min_probability": 0.5}'))

    # Valid: accuracy, balanced accuracy, per-genre recall, confusion.
    genre, conf, nm = verdicts(calv, labels, nm_report)
    answer = np.where(nm, labels.index(NOT_MUSIC) if NOT_MUSIC in labels else -1, genre)
    acc = float(np.mean(answer == yv))
    recalls = []
    per_genre = []
    for g in genres:
        i = labels.index(g)
        m = yv == i
        r = float(np.mean(answer[m] == i)) if m.any() else float("nan")
        if m.any():
            recalls.append(r)
        per_genre.append((g, int(m.sum()), int((answer[m] == i).sum()), pct(r)))
    bal = float(np.mean(recalls))
    cols = genres + ([NOT_MUSIC] if NOT_MUSIC in labels else [])
    conf_rows = []
    for g in genres:
        i = labels.index(g)
        if not (yv == i).any():
            continue
        conf_rows.append([g] + [int(((yv == i) & (answer == labels.index(c))).sum()) for c in cols])
    false_rejection = float(np.mean(nm))

    # Calibration on valid (report temperature) and the reliability diagram.
    ece_before, bins_before = ece(pv, yv)
    ece_after, bins_after = ece(calv, yv)
    with open(f"{work}/reliability.dat", "w") as f:
        for name, bins in (("before", bins_before), ("after", bins_after)):
            f.write(f"# {name}: bin count confidence accuracy\n")
            for b in bins:
                f.write(f"{(b[0] + 0.5) / 15:.4f} {b[1]} {b[2]:.4f} {b[3]:.4f}\n")
            f.write("\n\n")
    gnuplot(f"""set terminal pngcairo size 640,560
set output '{models}/reliability.png'
set title 'Reliability on valid ({len(yv)} clips): ECE {ece_before:.3f} before, {ece_after:.3f} after (T = {t_report:.2f})'
set xlabel 'confidence (top label)'; set ylabel 'accuracy'
set xrange [0:1]; set yrange [0:1]; set key left top; set grid
plot x title 'perfect' lc rgb '#999999', \\
     '{work}/reliability.dat' index 0 using 3:4:(sqrt($2)/120) with circles fill solid 0.3 title 'uncalibrated' lc rgb '#d95f02', \\
     '{work}/reliability.dat' index 1 using 3:4:(sqrt($2)/120) with circles fill solid 0.3 title 'calibrated' lc rgb '#1b9e77'
""")

    # Confusion heat map (rows true, columns answered).
    with open(f"{work}/confusion-valid.dat", "w") as f:
        for r, row in enumerate(conf_rows):
            for c, v in enumerate(row[1:]):
                f.write(f"{c} {r} {v}\n")
            f.write("\n")
    ylab = ", ".join(f"'{row[0]}' {r}" for r, row in enumerate(conf_rows))
    xlab = ", ".join(f"'{c}' {i}" for i, c in enumerate(cols))
    gnuplot(f"""set terminal pngcairo size 760,560
set output '{models}/confusion.png'
set title 'Valid ({len(yv)} clips): rows true genre, columns the answer'
set xtics ({xlab}) rotate by 45 right; set ytics ({ylab}); set yrange [] reverse
set palette defined (0 'white', 1 '#1b9e77'); unset key
plot '{work}/confusion-valid.dat' using 1:2:3 with image, '' using 1:2:(sprintf('%d', $3)) with labels
""")

    # Threshold table on calibrated valid predictions, and on CV.
    table = threshold_table(calv, yv, labels)
    cv_table = {r[0]: r for r in threshold_table(calibrate(pc, cal_ship["temperature"]), yc, labels,
                                                 nm_ship["min_probability"])}
    shown = [r for r in table if abs(r[0] * 20 - round(r[0] * 20)) < 1e-9 or abs(r[0] - tag["min_confidence"]) < 1e-9]
    thr_rows = [(f"**{r[0]:.2f}**" if abs(r[0] - tag["min_confidence"]) < 1e-9 else f"{r[0]:.2f}", f"{r[2]}/{r[1]}",
                 pct(r[3]), f"{pct(wilson_low(r[2], r[1]))}", pct(r[4]),
                 pct(cv_table[r[0]][3]), pct(cv_table[r[0]][4])) for r in shown]

    # Cross-validation, designs, parity, baseline.
    cv = json.load(open(f"{work}/cv.json"))["cv"]
    designs = [l.strip() for l in open(f"{work}/designs.txt")]
    design_rows = []
    for d in designs:
        s = json.load(open(f"{work}/{d}.json"))
        design_rows.append((("**" + d + "**") if d == best else d, pct(s["cv"]["accuracy_mean"]),
                            f"{s['cv']['seconds_per_epoch']:.1f}"))
    base = json.load(open(f"{work}/baseline.json"))["baseline"]
    torch_s = json.load(open(f"{work}/torch.json")) if os.path.exists(f"{work}/torch.json") else None

    # Non-music from held-out generators, through the shipped model.
    held = [json.loads(l) for l in open(f"{work}/heldout.json")]
    fam = {}
    for r in held:
        f = os.path.basename(r["path"]).rsplit("-", 1)[0]
        d = fam.setdefault(f, [0, 0, 0, 0])
        d[0] += 1
        d[1] += r["verdict"] != "genre"
        d[2] += r["verdict"] == "genre" and r["confidence"] >= tag["min_confidence"]
    held_rows = [(f, n, no_genre, tagged) for f, (n, no_genre, tagged, _) in sorted(fam.items())]
    held_tagged = sum(r[3] for r in held_rows)
    held_no_genre = sum(r[2] for r in held_rows)

    # Music outside the ten genres (optional: the recipe's OUTSIDE folder).
    outside_md = ""
    if os.path.exists(f"{work}/outside.json"):
        out = [json.loads(l) for l in open(f"{work}/outside.json")]
        failed = [r for r in out if r.get("status") == "failed"]
        out = [r for r in out if r.get("status") != "failed"]
        music = [r for r in out if r["verdict"] == "genre"]
        tagged = [r for r in music if r["confidence"] >= tag["min_confidence"]]
        rows = [(os.path.basename(r["path"]), f"{r['not_music']:.3f}",
                 r["genre"] if r["verdict"] == "genre" else r["verdict"],
                 f"{r['confidence']:.2f}" if r["verdict"] == "genre" else "") for r in out]
        src = open(f"{work}/outside.txt").read().strip() if os.path.exists(f"{work}/outside.txt") else "?"
        outside_md = f"""
### Music outside the ten genres

{len(out)} pieces of music outside GTZAN's ten genres (`{src}`), through the shipped model: {len(music)} are taken for music, **{len(tagged)} reach the tagging threshold**
({tag['min_confidence']:.2f}); `scan` indexes the others without writing a tag.{f" {len(failed)} could not be decoded." if failed else ""}

{md_table(["file", "not-music probability", "answer", "confidence"], rows)}
"""
    conf_md = md_table(["true \\ answer"] + cols, conf_rows)
    per_genre_md = md_table(["genre", "clips", "right", "recall"], per_genre)
    designs_md = md_table(["design", "valid accuracy", "s/epoch"], design_rows)
    thr_md = md_table(["threshold", "right/tags", "precision", "lower bound", "coverage", "CV precision",
                       "CV coverage"], thr_rows)
    held_md = md_table(["family", "files", "no genre", "would be tagged"], held_rows)
    if tag.get("target_met", True):
        target_text = (f"The default, **{tag['min_confidence']:.2f}**, is the lowest threshold whose written tags are "
                       f"right at least {int(100 * TARGET_PRECISION)}% of the time on valid ({tag['right']}/"
                       f"{tag['tags']}, {pct(tag['precision'])}); it costs coverage: {pct(tag['coverage'])} of valid "
                       f"clips get a tag.")
    else:
        target_text = (f"**No threshold reaches {int(100 * TARGET_PRECISION)}% on valid** with at least {MIN_TAGS} "
                       f"tags; the default, {tag['min_confidence']:.2f}, is the most precise one "
                       f"({tag['right']}/{tag['tags']}, {pct(tag['precision'])}).")
    per_fold = " ".join(f"{100 * a:.1f}" for a in cv["per_fold"])
    split_acc = json.load(open(f"{work}/{best}.json"))["cv"]["accuracy_mean"]
    parity = (f"| PyTorch parity (same design, split, spectrograms) | PyTorch {pct(torch_s['accuracy_mean'])} "
              f"vs C {pct(split_acc)} |\n") if torch_s else ""
    prov = json.loads(meta["provenance"])
    fit_on_text = ("verdicts of the split model on valid, artists it never heard"
                   if os.path.basename(cal_ship.get("fit_on", "")) == f"{best}-pred.csv"
                   else "out-of-fold predictions of 5-fold CV over train + valid")
    size = os.path.getsize(f"{models}/genrescope-gtzan.safetensors")
    text = f"""<!-- results:begin (written by scripts/report-model.py from one run of scripts/train-gtzan.sh) -->
## Results of the last recipe run ({prov.get('date', '?')})

**Shipped model:** `{best}` trained on train + valid ({prov.get('trained_on_clips', '?')} clips: music and the
generated not-music examples), {prov.get('parameters', '?')} parameters, {size / 1e6:.2f} MB; calibration
temperature {cal_ship['temperature']:.3f} (fitted on {cal_ship['clips']} {fit_on_text}: NLL {cal_ship['nll_before']:.3f} -> {cal_ship['nll_after']:.3f}); tagging threshold
**{tag['min_confidence']:.2f}**; "not music" from a not-music probability of **{nm_ship['min_probability']:.4f}**
(the lowest that calls at most {pct(MUSIC_REJECTION_BUDGET)} of music "not music" in the out-of-fold
predictions of 5-fold CV over train + valid, calibrated with that temperature:
{nm_ship.get('music_rejected', '?')}/{nm_ship.get('music_clips', '?')}).

### On valid ({len(yv)} clips; the split model, trained on train only)

| | |
|---|---|
| accuracy | **{pct(acc)}** ({int(np.sum(answer == yv))}/{len(yv)}) |
| balanced accuracy (mean per-genre recall) | **{pct(bal)}** |
| baseline (logistic regression on band mean/std) | {pct(base['accuracy_mean'])} |
| valid music called "not music" (false rejection; threshold {float(np.mean(nm_report)):.4f} from the train clips) | {pct(false_rejection)} ({int(nm.sum())}/{len(yv)}) |
| 5-fold CV over train + valid (spread) | {pct(cv['accuracy_mean'])} ± {100 * cv['accuracy_std']:.1f} (per fold {per_fold}) |
{parity}
Per genre (recall, with the number of valid clips; the valid list is unbalanced):

{per_genre_md}

Confusion on valid (rows: true genre; columns: the answer, `notmusic` = no genre):

{conf_md}

![confusion](confusion.png)

Designs compared on the same split (accuracy on valid; the best is shipped):

{designs_md}

### Calibration

Judged on {how}: the temperature is never fitted on the predictions it is reported on. Expected
calibration error (15 bins): **{ece_before:.3f} before, {ece_after:.3f} after**.

![reliability diagram](reliability.png)

### Tagging threshold

A tag is written when the verdict is a genre with calibrated confidence at least the threshold. On valid
(precision: share of written tags that are right, with the 95% Wilson lower bound; coverage: share of
clips tagged), and the same on the 5-fold out-of-fold predictions (calibrated with the shipped temperature):

{thr_md}

{target_text} It travels in the model (`tagging` metadata)
and is `genrescope scan`'s default `--min-confidence`.

### Not music

Non-music from generators and voices never used in training (`scripts/nonmusic.py --set heldout`), through
the shipped model: **{held_no_genre} of {len(held)} get no genre; {held_tagged} would be tagged** at the default
threshold.

{held_md}
{outside_md}<!-- results:end -->
"""
    open(f"{models}/results.md", "w").write(text)
    readme = f"{models}/README.md"
    old = open(readme).read() if os.path.exists(readme) else ""
    a, b = old.find("<!-- results:begin"), old.find("<!-- results:end -->")
    if a >= 0 and b > a:
        new = old[:a] + text.strip() + "\n" + old[b + len("<!-- results:end -->") + 1:]
    else:
        new = old.rstrip() + "\n\n" + text
    open(readme, "w").write(new)
    print(f"valid accuracy {pct(acc)}, balanced {pct(bal)}, ECE {ece_before:.3f} -> {ece_after:.3f}, "
          f"threshold {tag['min_confidence']:.2f}, held-out non-music with a genre {len(held) - held_no_genre}/{len(held)}")


def model_metadata(path):
    import struct
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        return json.loads(f.read(n))["__metadata__"]


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "tagging":
        tagging(*sys.argv[2:7])
    elif len(sys.argv) == 6 and sys.argv[1] == "report":
        report(*sys.argv[2:6])
    else:
        sys.exit(__doc__)
