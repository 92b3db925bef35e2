#!/usr/bin/python3
"""PyTorch reference for genrescope-train's recipe (parity check).

Trains the same architecture JSON with the same recipe (random patch crops,
gain in the mel-power domain, mean patch normalisation, time/frequency masks,
mixup with the clip's own label dominant, AdamW with decoupled weight decay on
conv/dense weights only, linear warm-up then cosine to 1% of the peak) on the
same folds from the same spectrograms, exported by the C front-end with
`genrescope-train DATA --cv K --export-specs DIR`. Each fold's model is scored
on whole held-out clips the way gs_classifier does (patches every
patch_hop_frames, probabilities averaged).

usage: train_torch.py EXPORT_DIR ARCH.json [--epochs N] [--batch N]
       [--crops-per-clip N] [--lr X] [--weight-decay X] [--warmup-epochs X]
       [--seed N] [--threads N] [--summary OUT.json]
Prints per-fold accuracy, mean +- std and seconds per epoch.
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
    rows = list(csv.DictReader(open(os.path.join(d, 'index.csv'))))
    data = np.fromfile(os.path.join(d, 'specs.f32'), dtype='<f4')
    n_mels = None
    specs = []
    for r in rows:
        off, frames = int(r['offset_floats']), int(r['frames'])
        if n_mels is None:
            n_mels = (data.size - off) // frames if len(rows) == 1 else None
        specs.append((off, frames))
    # n_mels from consecutive offsets (all clips share it)
    if len(rows) > 1:
        n_mels = (specs[1][0] - specs[0][0]) // specs[0][1]
    out = [data[o:o + f * n_mels].reshape(f, n_mels).T.copy() for o, f in specs]  # [mel][time]
    labels = np.array([int(r['label']) for r in rows])
    folds = np.array([int(r['fold']) for r in rows])
    names = {}
    for r in rows:
        names[int(r['label'])] = r['label_name']
    return out, labels, folds, [names[i] for i in sorted(names)], n_mels


class GlobalPool(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind

    def forward(self, x):
        x = x.flatten(2)
        return x.mean(2) if self.kind == 'avg' else x.max(2).values


def build(arch, num_labels):
    layers, last_c = [], arch['input'][0]
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
        else:
            raise ValueError('unknown op ' + op)
    return nn.Sequential(*layers)


class Augment:
    def __init__(self, a, log_offset, patch, rng):
        self.a, self.off, self.patch, self.rng = a, log_offset, patch, rng

    def crop(self, spec):
        start = self.rng.integers(0, spec.shape[1] - self.patch + 1)
        return spec[:, start:start + self.patch].copy()

    def __call__(self, specs, clips, labels, num_labels):
        a, rng = self.a, self.rng
        xs, ts = [], []
        for c, y in zip(clips, labels):
            x = self.crop(specs[c])
            if a['gain_db'] > 0:
                g2 = 10 ** (rng.uniform(-a['gain_db'], a['gain_db']) / 10)
                x = np.log(g2 * np.maximum(np.exp(x) - self.off, 0) + self.off)
            x -= x.mean()
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


def lr_at(step, base, warmup, total, min_lr):
    if warmup > 0 and step < warmup:
        return base * step / warmup
    t, span = step - warmup, total - warmup
    if span <= 0 or t >= span:
        return min_lr
    return min_lr + (base - min_lr) * 0.5 * (1 + math.cos(math.pi * t / span))


def predict_clip(net, spec, patch, hop):
    # The deployed classifier's patches (gs_patch_tail_start): every hop,
    # plus one aligned to the end when the regular ones leave half a hop.
    n = spec.shape[1]
    starts = list(range(0, n - patch + 1, hop))
    if n >= patch and 2 * ((n - patch) % hop) >= hop:
        starts.append(n - patch)
    x = np.stack([spec[:, s:s + patch] - spec[:, s:s + patch].mean() for s in starts]).astype(np.float32)
    with torch.no_grad():
        p = F.softmax(net(torch.from_numpy(x[:, None])), dim=1).mean(0)
    return p.numpy()


def train_fold(args, arch, aug_cfg, specs, labels, train_idx, num_labels, seed):
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
    aug = Augment(aug_cfg, args.log_offset, args.patch_frames, rng)
    per_epoch = len(train_idx) * args.crops_per_clip
    steps = max(per_epoch // args.batch, 1)
    warmup, total = int(args.warmup_epochs * steps), steps * args.epochs
    step, times = 0, []
    for epoch in range(args.epochs):
        t0 = time.perf_counter()
        net.train()
        order = np.tile(train_idx, args.crops_per_clip)
        rng.shuffle(order)
        loss_sum = 0.0
        for b in range(steps):
            clips = [order[(b * args.batch + j) % len(order)] for j in range(args.batch)]
            x, t = aug(specs, clips, labels[clips], num_labels)
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
            print(f'  epoch {epoch + 1}/{args.epochs} loss {loss_sum / steps:.3f} {times[-1]:.2f}s', file=sys.stderr)
    return net, times


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('export_dir')
    ap.add_argument('arch')
    ap.add_argument('--epochs', type=int, default=30)
    ap.add_argument('--batch', type=int, default=32)
    ap.add_argument('--crops-per-clip', type=int, default=8)
    ap.add_argument('--lr', type=float, default=1e-3)
    ap.add_argument('--weight-decay', type=float, default=1e-2)
    ap.add_argument('--warmup-epochs', type=float, default=2.0)
    ap.add_argument('--patch-frames', type=int, default=128)
    ap.add_argument('--patch-hop-frames', type=int, default=128)
    ap.add_argument('--log-offset', type=float, default=1e-6)
    ap.add_argument('--gain-db', type=float, default=12.0)
    ap.add_argument('--time-masks', type=int, default=2)
    ap.add_argument('--time-mask-max', type=int, default=16)
    ap.add_argument('--freq-masks', type=int, default=2)
    ap.add_argument('--freq-mask-max', type=int, default=12)
    ap.add_argument('--mixup', type=float, default=0.2)
    ap.add_argument('--label-smoothing', type=float, default=0.0)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--summary')
    ap.add_argument('--verbose', action='store_true')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    specs, labels, folds, label_names, n_mels = load_export(args.export_dir)
    arch = json.load(open(args.arch))
    aug_cfg = dict(gain_db=args.gain_db, time_masks=args.time_masks, time_mask_max=args.time_mask_max,
                   freq_masks=args.freq_masks, freq_mask_max=args.freq_mask_max, mixup_alpha=args.mixup,
                   label_smoothing=args.label_smoothing)
    L = len(label_names)
    # split.txt: "kfold K" (fold column 0..K-1) or "given 1" (0 train, 1 valid)
    kind = open(os.path.join(args.export_dir, 'split.txt')).read().split()[0]
    fold_ids = [1] if kind == 'given' else sorted(set(folds.tolist()) - {-1})
    accs, epoch_times = [], []
    conf = np.zeros((L, L), dtype=int)
    t_all = time.perf_counter()
    for k in fold_ids:
        train_idx = np.where(folds == 0)[0] if kind == 'given' else np.where((folds != k) & (folds >= 0))[0]
        valid_idx = np.where(folds == k)[0]
        net, times = train_fold(args, arch, aug_cfg, specs, labels, train_idx, L, args.seed * 1000 + k)
        net.eval()
        correct = 0
        for i in valid_idx:
            p = int(np.argmax(predict_clip(net, specs[i], args.patch_frames, args.patch_hop_frames)))
            conf[labels[i], p] += 1
            correct += p == labels[i]
        accs.append(correct / len(valid_idx))
        epoch_times += times
        print(f'torch fold {k + 1}: {100 * accs[-1]:.1f}% ({correct}/{len(valid_idx)}), '
              f'{np.mean(times):.2f} s/epoch', file=sys.stderr)
    mean, std = float(np.mean(accs)), float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0
    print(f'torch {os.path.basename(args.arch)}: {100 * mean:.1f}% +- {100 * std:.1f} accuracy, '
          f'{np.mean(epoch_times):.2f} s/epoch, {time.perf_counter() - t_all:.0f} s total')
    if args.summary:
        json.dump({'framework': f'torch {torch.__version__}', 'accuracy_mean': mean, 'accuracy_std': std,
                   'per_fold': accs, 'seconds_per_epoch': float(np.mean(epoch_times)),
                   'threads': args.threads, 'confusion': conf.tolist(), 'labels': label_names},
                  open(args.summary, 'w'), indent=1)


if __name__ == '__main__':
    main()
