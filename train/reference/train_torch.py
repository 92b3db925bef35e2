#!/usr/bin/python3
"""PyTorch reference for genrescope-train's recipe (parity check).

Trains the same architecture JSON with the same recipe (random non-silent
patch crops with clips drawn so every genre contributes equally, gain and a
random low-pass in the mel-power domain, mean patch normalisation,
time/frequency masks, mixup with the clip's own label dominant, AdamW with
decoupled weight decay on conv/dense weights only, linear warm-up then cosine
to 1% of the peak) on the same folds from the same spectrograms, exported by
the C front-end with `genrescope-train DATA --cv K --export-specs DIR`.

Patches follow the core's patch plan (genrescope/classify.h), read from the
export (unpadded spectrograms, frame RMS, plan.json): a clip shorter than a
patch is repeated to fill one, a patch whose peak frame RMS is below the
silence threshold is never trained on nor scored, and each fold's model is
scored on whole held-out clips the way gs_classifier does (regular patches
every patch_hop_frames plus the tail patch, silent ones skipped,
probabilities averaged; a clip with no patch counts wrong). The script checks
at load that its plan cuts the same patches and crops as the C export says.

usage: train_torch.py EXPORT_DIR ARCH.json [--epochs N] [--batch N]
       [--crops-per-clip N] [--balance genre|genre-length|none] [--lr X]
       [--weight-decay X] [--warmup-epochs X] [--lowpass P] [--lowpass-hz LO HI]
       [--pitch S] [--tempo T]
       [--seed N] [--threads N] [--summary OUT.json] [--verbose]
Prints per-fold accuracy, mean +- std and seconds per epoch (with --verbose
also each epoch's loss and validation accuracy).
"""
import argparse
import csv
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load_export(d):
    """Spectrograms [mel][time] and frame RMS of every clip, labels, folds,
    label names and the plan (front-end parameters, silence threshold,
    filterbank) as genrescope-train --export-specs wrote them."""
    plan = json.load(open(os.path.join(d, 'plan.json')))
    n_mels = plan['n_mels']
    rows = list(csv.DictReader(open(os.path.join(d, 'index.csv'))))
    data = np.fromfile(os.path.join(d, 'specs.f32'), dtype='<f4')
    rms_all = np.fromfile(os.path.join(d, 'rms.f32'), dtype='<f4')
    specs, rms = [], []
    for r in rows:
        off, frames, roff = int(r['offset_floats']), int(r['frames']), int(r['rms_offset'])
        specs.append(data[off:off + frames * n_mels].reshape(frames, n_mels).T.copy())  # [mel][time]
        rms.append(rms_all[roff:roff + frames].copy())
    labels = np.array([int(r['label']) for r in rows])
    folds = np.array([int(r['fold']) for r in rows])
    names = {}
    for r in rows:
        names[int(r['label'])] = r['label_name']
    plan['filterbank'] = np.fromfile(os.path.join(d, 'filterbank.f32'), dtype='<f4').reshape(n_mels, -1)
    check = [([int(s) for s in r['patches'].split()], int(r['usable_crops'])) for r in rows]
    return specs, rms, labels, folds, [names[i] for i in sorted(names)], plan, check, [r['stem'] for r in rows]


class Plan:
    """The core's patch plan (core/src/patch_plan.c), for spectrograms
    [mel][time] with their frame RMS."""

    def __init__(self, plan):
        self.nf, self.hop = plan['patch_frames'], plan['patch_hop_frames']
        self.silence = np.float32(plan['silence_rms'])
        self.mean = plan['patch_normalize'] == 'mean'
        self.log_offset = plan['log_offset']
        self.sample_rate, self.n_fft = plan['sample_rate'], plan['n_fft']
        self.filterbank = plan['filterbank']

    def starts(self, n):
        """Start frames of the classifier's patches of an n-frame clip."""
        nf, hop = self.nf, self.hop
        if n <= 0:
            return []
        if n < nf:
            return [0]  # the repeated patch
        s = list(range(0, n - nf + 1, hop))
        if 2 * ((n - nf) % hop) >= hop:
            s.append(n - nf)  # the tail patch
        return s

    def silent(self, rms, start):
        """Peak frame RMS over the patch's frames below the threshold."""
        return rms[start:start + self.nf].max() < self.silence

    def crops(self, rms):
        """Non-silent start frames a training crop may take."""
        if len(rms) < self.nf:
            return np.array([0] if rms.max() >= self.silence else [], dtype=np.int64)
        peaks = np.lib.stride_tricks.sliding_window_view(rms, self.nf).max(axis=1)
        return np.nonzero(peaks >= self.silence)[0].astype(np.int64)

    def cut(self, spec, start, frames=None):
        """frames (default patch_frames) frames from start, repeated
        cyclically when the clip has fewer (gs_patch_from_frames); not
        normalised."""
        n = self.nf if frames is None else frames
        have = spec.shape[1] - start
        idx = start + np.arange(n) % have if have < n else start + np.arange(n)
        return spec[:, idx]

    def normalize(self, x):
        return x - x.mean() if self.mean else x


class GlobalPool(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind

    def forward(self, x):
        x = x.flatten(2)
        return x.mean(2) if self.kind == 'avg' else x.max(2).values


class SaveSkip(nn.Module):
    """"save": passes x on and keeps it for the "add" with the same slot."""
    def __init__(self, slots, slot):
        super().__init__()
        self.slots, self.slot = slots, slot

    def forward(self, x):
        self.slots[self.slot] = x
        return x


class AddSkip(SaveSkip):
    """"add": x plus what "save" kept (a residual connection)."""
    def forward(self, x):
        return x + self.slots[self.slot]


def build(arch, num_labels):
    """The network of an architecture JSON. Besides the core's ops, "save"
    and "add" (a residual connection; key "slot", default "skip") are known
    here only, to measure whether a residual design pays before the C side
    gets the op: train/reference/experiments/."""
    layers, last_c = [], arch['input'][0]
    slots = {}
    dense_idx = [i for i, l in enumerate(arch['layers']) if l['op'] == 'dense'][-1]
    for i, l in enumerate(arch['layers']):
        op = l['op']
        if op == 'conv2d':
            layers.append(nn.Conv2d(l['in'], l['out'], tuple(l['kernel']), tuple(l.get('stride', [1, 1])),
                                    tuple(l.get('padding', [0, 0])), bias=l.get('bias', True)))
            last_c = l['out']
        elif op == 'batchnorm2d':
            layers.append(nn.BatchNorm2d(last_c, eps=l.get('eps', 1e-5), momentum=0.1))
        elif op == 'relu':
            layers.append(nn.ReLU())
        elif op == 'maxpool2d':
            layers.append(nn.MaxPool2d(tuple(l['kernel']), tuple(l['stride'])))
        elif op == 'avgpool2d':
            layers.append(nn.AvgPool2d(tuple(l['kernel']), tuple(l['stride'])))
        elif op == 'global_avgpool':
            layers.append(GlobalPool('avg'))
        elif op == 'global_maxpool':
            layers.append(GlobalPool('max'))
        elif op == 'dropout':
            layers.append(nn.Dropout(l['p']))
        elif op == 'dense':
            layers.append(nn.Linear(l['in'], num_labels if i == dense_idx else l['out']))
        elif op == 'softmax':
            pass  # the loss takes logits
        elif op == 'save':
            layers.append(SaveSkip(slots, l.get('slot', 'skip')))
        elif op == 'add':
            layers.append(AddSkip(slots, l.get('slot', 'skip')))
        else:
            raise ValueError('unknown op ' + op)
    return nn.Sequential(*layers)


class Augment:
    def __init__(self, a, plan, rng):
        self.a, self.plan, self.rng = a, plan, rng
        self.off = np.float32(plan.log_offset)
        # Low-pass: per band, the cumulative filter weight over FFT bins.
        fb = plan.filterbank.astype(np.float64)
        self.cdf = np.concatenate([np.zeros((fb.shape[0], 1)), np.cumsum(fb, axis=1)], axis=1)
        self.bin_hz = plan.sample_rate / plan.n_fft
        # Pitch: each band's centre, where half its filter weight lies below
        # (gs_band_table_init's centre_hz).
        half = 0.5 * self.cdf[:, -1]
        centres = []
        for c, h in zip(self.cdf, half):
            k = min(int(np.searchsorted(c[1:], h, side='left')), len(c) - 2)
            w = (h - c[k]) / (c[k + 1] - c[k]) if c[k + 1] > c[k] else 0.0
            centres.append((k + w) * self.bin_hz)
        self.centre_hz = np.array(centres)

    def pitch(self, x, semitones):
        """Band m takes the value, interpolated between bands, of the place
        whose frequency is its centre / 2^(semitones/12) (gs_apply_pitch)."""
        c, n = self.centre_hz, len(self.centre_hz)
        pos = np.interp(c * 2.0 ** (-semitones / 12.0), c, np.arange(n))
        i = np.minimum(pos.astype(int), n - 2)
        w = (pos - i).astype(np.float32)[:, None]
        return x[i] + w * (x[i + 1] - x[i])

    def tempo(self, spec, start, factor):
        """A crop played factor times as fast: frames read at factor's rate,
        interpolated (gs_apply_tempo), further into the clip when faster."""
        nf = self.plan.nf
        need = int(math.ceil((nf - 1) * factor - 1e-9)) + 1
        if start + need > spec.shape[1] >= need:
            start = spec.shape[1] - need
        src = self.plan.cut(spec, start, need)
        pos = np.arange(nf) * factor
        i = np.minimum(pos.astype(int), need - 2)
        w = (pos - i).astype(np.float32)
        return src[:, i] + w * (src[:, i + 1] - src[:, i])

    def lowpass(self, x, fc):
        """Each band keeps the share of its filter weight below fc (bins
        k with k * bin_hz < fc), in the mel-power domain (gs_apply_lowpass)."""
        kc = int(min(max(math.ceil(fc / self.bin_hz), 0), self.cdf.shape[1] - 1))
        total = self.cdf[:, -1]
        frac = np.where(total > 0, self.cdf[:, kc] / np.where(total > 0, total, 1), 1.0)
        rows = frac < 1.0
        p = np.maximum(np.exp(x[rows]) - self.off, 0)
        x[rows] = np.log(frac[rows, None].astype(np.float32) * p + self.off)
        return x

    def __call__(self, specs, crops, clips, labels, num_labels):
        a, rng = self.a, self.rng
        xs, ts = [], []
        for c, y in zip(clips, labels):
            start = crops[c][rng.integers(0, len(crops[c]))]
            if a['tempo'] > 0:
                factor = min(math.exp(rng.uniform(-1, 1) * math.log1p(a['tempo'])), 2.0)
                x = self.tempo(specs[c], start, factor).astype(np.float32)
            else:
                x = self.plan.cut(specs[c], start).astype(np.float32)
            if a['pitch_semitones'] > 0:
                x = self.pitch(x, rng.uniform(-a['pitch_semitones'], a['pitch_semitones'])).astype(np.float32)
            if a['gain_db'] > 0:
                g2 = np.float32(10 ** (rng.uniform(-a['gain_db'], a['gain_db']) / 10))
                x = np.log(g2 * np.maximum(np.exp(x) - self.off, 0) + self.off)
            if a['lowpass_p'] > 0:
                u, f = rng.uniform(), rng.uniform()
                if u < a['lowpass_p']:
                    x = self.lowpass(x, a['lowpass_min_hz'] + f * (a['lowpass_max_hz'] - a['lowpass_min_hz']))
            x = self.plan.normalize(x)
            fill = x.mean()
            for _ in range(a['time_masks']):
                w = min(rng.integers(0, a['time_mask_max'] + 1), x.shape[1])
                t0 = rng.integers(0, x.shape[1] - w + 1)
                x[:, t0:t0 + w] = fill
            for _ in range(a['freq_masks']):
                w = min(rng.integers(0, a['freq_mask_max'] + 1), x.shape[0])
                m0 = rng.integers(0, x.shape[0] - w + 1)
                x[m0:m0 + w, :] = fill
            t = np.full(num_labels, a['label_smoothing'] / num_labels, dtype=np.float32)
            t[y] += 1 - a['label_smoothing']
            xs.append(x.astype(np.float32))
            ts.append(t)
        xs, ts = np.stack(xs), np.stack(ts)
        if a['mixup_alpha'] > 0 and len(xs) > 1:
            x0, t0 = xs.copy(), ts.copy()
            for b in range(len(xs)):
                o = rng.integers(0, len(xs) - 1)
                o += o >= b
                lam = rng.beta(a['mixup_alpha'], a['mixup_alpha'])
                lam = max(lam, 1 - lam)
                xs[b] = lam * x0[b] + (1 - lam) * x0[o]
                ts[b] = lam * t0[b] + (1 - lam) * t0[o]
        return torch.from_numpy(xs[:, None]), torch.from_numpy(ts)


class Sampler:
    """The clips of an epoch's crops (train/sampler.c): only clips with a
    non-silent crop; genre = a label uniformly then a clip uniformly,
    genre-length = then a clip by usable length, none = every clip
    crops_per_clip times."""

    def __init__(self, mode, train_idx, labels, crops, specs, nf, rng):
        self.mode, self.rng = mode, rng
        self.items = np.array([i for i in train_idx if len(crops[i]) > 0], dtype=np.int64)
        self.by_label = {}
        for i in self.items:
            self.by_label.setdefault(int(labels[i]), []).append(i)
        self.labels = sorted(self.by_label)
        self.weights = {}
        for l, items in self.by_label.items():
            w = np.array([specs[i].shape[1] if specs[i].shape[1] < nf else len(crops[i]) + nf - 1
                          for i in items], dtype=np.float64)
            self.weights[l] = w / w.sum()

    def epoch(self, crops_per_clip, k):
        rng = self.rng
        if self.mode == 'none':
            order = np.tile(self.items, crops_per_clip)
            rng.shuffle(order)
            return order
        out = np.empty(k, dtype=np.int64)
        for j in range(k):
            l = self.labels[rng.integers(0, len(self.labels))]
            items = self.by_label[l]
            if self.mode == 'genre':
                out[j] = items[rng.integers(0, len(items))]
            else:
                out[j] = items[rng.choice(len(items), p=self.weights[l])]
        return out


def lr_at(step, base, warmup, total, min_lr):
    if warmup > 0 and step < warmup:
        return base * step / warmup
    t, span = step - warmup, total - warmup
    if span <= 0 or t >= span:
        return min_lr
    return min_lr + (base - min_lr) * 0.5 * (1 + math.cos(math.pi * t / span))


def predict_clip(net, plan, spec, rms):
    """The classifier's verdict: mean over the plan's non-silent patches;
    None when every patch is silent."""
    starts = [s for s in plan.starts(spec.shape[1]) if not plan.silent(rms, s)]
    if not starts:
        return None
    x = np.stack([plan.normalize(plan.cut(spec, s)) for s in starts]).astype(np.float32)
    with torch.no_grad():
        p = F.softmax(net(torch.from_numpy(x[:, None])), dim=1).mean(0)
    return p.numpy()


def answer(p, not_music):
    """The core's verdict (genrescope/verdict.h): "not music" when its label
    has probability >= 0.5, else the most probable genre."""
    if not_music is not None and p[not_music] >= 0.5:
        return not_music
    if not_music is None:
        return int(np.argmax(p))
    q = p.copy()
    q[not_music] = -1
    return int(np.argmax(q))


def score(net, plan, specs, rms, labels, valid_idx, conf=None, preds=None, not_music=None):
    net.eval()
    correct = 0
    for i in valid_idx:
        p = predict_clip(net, plan, specs[i], rms[i])
        pred = -1 if p is None else answer(p, not_music)  # all silent: no verdict, wrong
        if conf is not None and pred >= 0:
            conf[labels[i], pred] += 1
        if preds is not None:
            preds[i] = pred
        correct += pred == labels[i]
    return correct


def train_fold(args, arch, aug_cfg, plan, specs, rms, crops, labels, train_idx, valid_idx, num_labels, seed):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = build(arch, num_labels)
    decay, no_decay = [], []
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            decay.append(m.weight)
            if m.bias is not None:
                no_decay.append(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            no_decay += [m.weight, m.bias]
    opt = torch.optim.AdamW([{'params': decay, 'weight_decay': args.weight_decay},
                             {'params': no_decay, 'weight_decay': 0.0}], lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    aug = Augment(aug_cfg, plan, rng)
    sampler = Sampler(args.balance, train_idx, labels, crops, specs, plan.nf, rng)
    if len(sampler.items) < len(train_idx):
        print(f'note: {len(train_idx) - len(sampler.items)} training clips are silent throughout', file=sys.stderr)
    per_epoch = len(sampler.items) * args.crops_per_clip
    steps = max(per_epoch // args.batch, 1)
    warmup, total = int(args.warmup_epochs * steps), steps * args.epochs
    step, times, curve = 0, [], []
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        net.train()
        order = sampler.epoch(args.crops_per_clip, per_epoch)
        loss_sum = 0.0
        for b in range(steps):
            clips = [order[(b * args.batch + j) % len(order)] for j in range(args.batch)]
            x, t = aug(specs, crops, clips, labels[clips], num_labels)
            loss = -(t * F.log_softmax(net(x), dim=1)).sum(1).mean()
            opt.zero_grad()
            loss.backward()
            for g in opt.param_groups:
                g['lr'] = lr_at(step, args.lr, warmup, total, args.lr * 0.01)
            opt.step()
            step += 1
            loss_sum += loss.item()
        times.append(time.perf_counter() - t0)
        if args.verbose:
            # Per-epoch validation, as the C trainer logs it (--log).
            acc = score(net, plan, specs, rms, labels, valid_idx) / len(valid_idx) if len(valid_idx) else float('nan')
            curve.append({'epoch': epoch + 1, 'train_loss': loss_sum / steps, 'valid_acc': acc})
            print(f'  epoch {epoch + 1}/{args.epochs} loss {loss_sum / steps:.3f} valid acc {100 * acc:.1f}% '
                  f'{times[-1]:.2f}s', file=sys.stderr)
    return net, times, curve


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('export_dir')
    ap.add_argument('arch')
    ap.add_argument('--epochs', type=int, default=30)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--crops-per-clip', type=int, default=8)
    ap.add_argument('--balance', choices=['genre', 'genre-length', 'none'], default='genre')
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--weight-decay', type=float, default=1e-2)
    ap.add_argument('--warmup-epochs', type=float, default=2.0)
    ap.add_argument('--gain-db', type=float, default=12.0)
    ap.add_argument('--lowpass', type=float, default=0.25)
    ap.add_argument('--lowpass-hz', type=float, nargs=2, default=[4000.0, 11000.0])
    ap.add_argument('--pitch', type=float, default=0.0, help='pitch shift of each crop, +-semitones (0: off)')
    ap.add_argument('--tempo', type=float, default=0.0, help='tempo factor of each crop in [1/(1+T), 1+T] (0: off)')
    ap.add_argument('--time-masks', type=int, default=2)
    ap.add_argument('--time-mask-max', type=int, default=16)
    ap.add_argument('--freq-masks', type=int, default=2)
    ap.add_argument('--freq-mask-max', type=int, default=12)
    ap.add_argument('--mixup', type=float, default=0.2)
    ap.add_argument('--label-smoothing', type=float, default=0.0)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--summary')
    ap.add_argument('--predictions', help='CSV of every held-out clip: stem, fold, label, predicted (-1: silent)')
    ap.add_argument('--verbose', action='store_true')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    specs, rms, labels, folds, label_names, plan_cfg, check, stems = load_export(args.export_dir)
    plan = Plan(plan_cfg)
    crops = [plan.crops(r) for r in rms]
    # The same patches as the C plan: the classifier's non-silent patches
    # and the number of non-silent crops of every clip, as exported.
    for i, (patches, usable) in enumerate(check):
        mine = [s for s in plan.starts(specs[i].shape[1]) if not plan.silent(rms[i], s)]
        if mine != patches or len(crops[i]) != usable:
            sys.exit(f'train_torch.py: clip {i}: plan differs from the export (patches {mine} vs {patches}, '
                     f'crops {len(crops[i])} vs {usable})')
    arch = json.load(open(args.arch))
    aug_cfg = dict(gain_db=args.gain_db, time_masks=args.time_masks, time_mask_max=args.time_mask_max,
                   freq_masks=args.freq_masks, freq_mask_max=args.freq_mask_max, mixup_alpha=args.mixup,
                   label_smoothing=args.label_smoothing, lowpass_p=args.lowpass,
                   lowpass_min_hz=args.lowpass_hz[0], lowpass_max_hz=args.lowpass_hz[1],
                   pitch_semitones=args.pitch, tempo=args.tempo)
    L = len(label_names)
    # split.txt: "kfold K" (fold column 0..K-1) or "given 1" (0 train, 1 valid)
    kind = open(os.path.join(args.export_dir, 'split.txt')).read().split()[0]
    # Fold -2: training-only examples (genrescope-train --not-music), in every fold.
    fold_ids = [1] if kind == 'given' else sorted(set(folds.tolist()) - {-1, -2})
    not_music = label_names.index('notmusic') if 'notmusic' in label_names else None
    accs, epoch_times, curves = [], [], []
    conf = np.zeros((L, L), dtype=int)
    preds = {}
    t_all = time.perf_counter()
    for k in fold_ids:
        train_idx = (np.where((folds == 0) | (folds == -2))[0] if kind == 'given'
                     else np.where(((folds != k) & (folds >= 0)) | (folds == -2))[0])
        valid_idx = np.where(folds == k)[0]
        net, times, curve = train_fold(args, arch, aug_cfg, plan, specs, rms, crops, labels, train_idx, valid_idx, L,
                                       args.seed * 1000 + k)
        correct = score(net, plan, specs, rms, labels, valid_idx, conf, preds, not_music)
        accs.append(correct / len(valid_idx))
        epoch_times += times
        curves.append(curve)
        print(f'torch fold {k + 1}: {100 * accs[-1]:.1f}% ({correct}/{len(valid_idx)}), '
              f'{np.mean(times):.2f} s/epoch', file=sys.stderr)
    mean, std = float(np.mean(accs)), float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0
    print(f'torch {os.path.basename(args.arch)}: {100 * mean:.1f}% +- {100 * std:.1f} accuracy, '
          f'{np.mean(epoch_times):.2f} s/epoch, {time.perf_counter() - t_all:.0f} s total')
    if args.summary:
        json.dump({'framework': f'torch {torch.__version__}', 'accuracy_mean': mean, 'accuracy_std': std,
                   'per_fold': accs, 'seconds_per_epoch': float(np.mean(epoch_times)),
                   'threads': args.threads, 'balance': args.balance, 'lowpass_p': args.lowpass,
                   'patch_plan': 'the core patch plan from the export: short clips repeated, silent patches skipped',
                   'per_epoch': curves, 'confusion': conf.tolist(), 'labels': label_names},
                  open(args.summary, 'w'), indent=1)
    if args.predictions:
        with open(args.predictions, 'w', newline='') as f:
            w = csv.writer(f)
            w.writerow(['stem', 'fold', 'label', 'predicted'])
            for i in sorted(preds):
                w.writerow([stems[i], folds[i], label_names[labels[i]], label_names[preds[i]] if preds[i] >= 0 else ''])


if __name__ == '__main__':
    main()
