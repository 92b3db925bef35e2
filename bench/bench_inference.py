#!/usr/bin/python3
"""CNN inference: Genrescope core (bench_inference) against PyTorch.

For models/arch/shortchunk-cnn.json and vgg-cnn.json: writes a random-init
model with scripts/gsref.py, then for 1 and 2 threads times PyTorch (eval,
no_grad, torch.set_num_threads, warm-up, median of repeats) and the C
binary (OpenBLAS threads) on one 30 s window's batch of 10 patches (128
frames each, every 128: the shipped front-end), side by side.
Prints `name: value` lines:
    <arch>.t<threads>.torch_ms, .core_ms, .speedup_core_vs_torch
Usage: bench_inference.py --bench PATH/bench_inference [--reps N] [--tmp DIR]"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import torch  # noqa: E402

import gsref  # noqa: E402

ARCHS = ("shortchunk", "vgg")
THREADS = (1, 2)
# One 30 s window: (1292 frames - 128) / 64 + 1 patches.
BATCH = (1292 - 128) // 128 + 1


def time_torch(net, x, threads, reps):
    torch.set_num_threads(threads)
    with torch.no_grad():
        for _ in range(3):
            net.predict(x)
        times = []
        for _ in range(reps):
            t0 = time.perf_counter()
            net.predict(x)
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def time_core(bench, model, threads, reps):
    out = subprocess.run([bench, model, str(threads), str(reps), str(BATCH)],
                         check=True, capture_output=True, text=True).stdout
    m = re.search(r"^core_ms_per_window:\s*([0-9.]+)", out, re.M)
    if not m:
        raise RuntimeError(f"no core_ms_per_window in output:\n{out}")
    return float(m.group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bench", required=True, help="bench_inference binary")
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--tmp", default=None, help="directory for the generated models")
    args = ap.parse_args()
    if args.tmp:
        os.makedirs(args.tmp, exist_ok=True)
    print(f"batch: {BATCH}")
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        for arch_name in ARCHS:
            arch_path = os.path.join(ROOT, "models", "arch", f"{arch_name}-cnn.json")
            model = os.path.join(tmp, f"{arch_name}.safetensors")
            labels = ",".join(f"g{i}" for i in range(10))
            subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gsref.py"), "init-model",
                            "--arch", arch_path, "--labels", labels, "--out", model, "--seed", "7"],
                           check=True)
            net, _ = gsref.read_model(model)
            gen = torch.Generator().manual_seed(0)
            x = 3.0 * torch.randn(BATCH, *net.input_shape, generator=gen)
            for t in THREADS:
                torch_ms = time_torch(net, x, t, args.reps)
                core_ms = time_core(args.bench, model, t, args.reps)
                key = f"{arch_name}.t{t}"
                print(f"{key}.torch_ms: {torch_ms:.2f}")
                print(f"{key}.core_ms: {core_ms:.2f}")
                print(f"{key}.speedup_core_vs_torch: {torch_ms / core_ms:.2f}")
                sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
