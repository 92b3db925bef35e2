#!/usr/bin/python3
"""Training step cost, PyTorch against the C trainer, side by side.

Runs forward + cross-entropy + backward + AdamW step on the shipped design
(models/arch/shortchunk-cnn.json, batch 32) in torch on the same cores,
then runs bench_train_step (path in argv[1], optional) and prints both and
the ratio c/torch (<= 1.0 means the C trainer is at least as fast).

usage: train_step.py [BENCH_TRAIN_STEP] [--threads N] [--steps N] [--batch N]
"""

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.environ.get("GS_SOURCE_DIR", os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(SRC, "scripts"))
import gsref  # noqa: E402


def torch_step_ms(arch, batch, steps, threads):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    net = gsref.GsNet(arch)
    net.train()
    c, h, w = net.input_shape
    x = torch.from_numpy(np.random.default_rng(1).random((batch, c, h, w), dtype=np.float32) - 0.5)
    y = torch.arange(batch) % net.num_outputs
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)
    times = []
    for i in range(steps + 2):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        t1 = time.perf_counter()
        if i >= 2:
            times.append((t1 - t0) * 1e3)
    return float(np.median(times))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("bench", nargs="?")
    ap.add_argument("--arch", default=os.path.join(SRC, "models", "arch", "shortchunk-cnn.json"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--batch", type=int, default=32)
    a = ap.parse_args()
    with open(a.arch) as f:
        arch = json.load(f)
    c_ms = None
    if a.bench:
        out = subprocess.run([a.bench, a.arch, str(a.batch), str(a.steps)], check=True,
                             capture_output=True, text=True).stdout
        sys.stdout.write(out)
        for line in out.splitlines():
            if line.startswith("c_train_step_ms:"):
                c_ms = float(line.split(":")[1])
    t_ms = torch_step_ms(arch, a.batch, a.steps, a.threads)
    print(f"torch_threads: {a.threads}")
    print(f"torch_train_step_ms: {t_ms:.2f}")
    if c_ms is not None:
        print(f"c_over_torch: {c_ms / t_ms:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
