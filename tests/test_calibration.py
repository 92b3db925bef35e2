#!/usr/bin/python3
"""Temperature calibration (train/calibrate.c) against an independent numpy
reference: the fitted temperature minimises the mean NLL of the true labels
under softmax(log p / T) (Newton's method in float64 here, bisection in C),
and the 15-bin expected calibration error before and after matches.

Data: softmax of random logits as the "model's" probabilities, with true
labels drawn from the same logits scaled by s, so the model is overconfident
(s < 1: the fitted T must be > 1) or underconfident (s > 1: T < 1)."""
import subprocess
import sys

import numpy as np

tool = sys.argv[1]


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def nll(p, y, t):
    lp = np.log(np.maximum(p.astype(np.float64), 1e-12)) / t
    return float(np.mean(np.log(np.exp(lp - lp.max(1, keepdims=True)).sum(1)) + lp.max(1) - lp[np.arange(len(y)), y]))


def fit_newton(p, y):
    """Newton on beta = 1/T for the convex loss -beta l_y + logsumexp(beta l)."""
    l = np.log(np.maximum(p.astype(np.float64), 1e-12))
    beta = 1.0
    for _ in range(100):
        q = softmax(beta * l)
        el = (q * l).sum(1)
        grad = np.mean(el - l[np.arange(len(y)), y])
        hess = np.mean((q * l * l).sum(1) - el * el)
        step = grad / hess
        beta -= step
        if abs(step) < 1e-14:
            break
    return 1.0 / beta


def ece(p, y, bins=15):
    conf = p.max(1)
    hit = (p.argmax(1) == y).astype(np.float64)
    b = np.minimum((conf * bins).astype(int), bins - 1)
    total = 0.0
    for i in range(bins):
        m = b == i
        if m.any():
            total += m.sum() / len(y) * abs(hit[m].mean() - conf[m].astype(np.float64).mean())
    return total


def calibrate(p, t):
    lp = np.log(np.where(p > 0, p.astype(np.float64), 1e-300)) / t
    q = softmax(lp)
    return np.where(p > 0, q, 0).astype(np.float32)


failures = 0
rng = np.random.default_rng(7)
for n, k, s, expect in [(400, 10, 0.5, "T > 1"), (300, 11, 2.0, "T < 1"), (1000, 4, 1.0, "T ~ 1")]:
    z = rng.normal(0, 2.0, (n, k))
    p = softmax(z).astype(np.float32)
    y = np.array([rng.choice(k, p=row) for row in softmax(z * s)])
    text = "\n".join(f"{y[i]}," + ",".join(f"{v:.9g}" for v in p[i]) for i in range(n)) + "\n"
    out = subprocess.run([tool], input=text, capture_output=True, text=True, check=True).stdout
    got = {line.split()[0]: float(line.split()[1]) for line in out.splitlines()}
    p32 = np.array([[float(f"{v:.9g}") for v in row] for row in p], dtype=np.float32)
    t_ref = fit_newton(p32, y)
    ok = abs(got["temperature"] - t_ref) <= 1e-6 * t_ref
    ok &= abs(got["nll_after"] - nll(p32, y, t_ref)) < 1e-9
    ok &= got["nll_after"] <= got["nll_before"] + 1e-12
    ok &= abs(got["ece_before"] - ece(p32, y)) < 1e-6
    ok &= abs(got["ece_after"] - ece(calibrate(p32, got["temperature"]), y)) < 1e-5
    shape_ok = {"T > 1": t_ref > 1.2, "T < 1": t_ref < 0.8, "T ~ 1": 0.8 < t_ref < 1.25}[expect]
    print(f"n={n} k={k} s={s}: T C {got['temperature']:.6f} numpy {t_ref:.6f} ({expect}); "
          f"NLL {got['nll_before']:.4f} -> {got['nll_after']:.4f}; ECE {got['ece_before']:.4f} -> {got['ece_after']:.4f}")
    if not (ok and shape_ok):
        print("FAIL")
        failures += 1

# Bad input is refused.
bad = subprocess.run([tool], input="12,0.5,0.5\n", capture_output=True, text=True)
if bad.returncode == 0:
    print("FAIL: a label out of range was accepted")
    failures += 1
sys.exit(1 if failures else 0)
