#!/usr/bin/python3
"""The C trainer's forward, backward and optimiser steps against PyTorch.

For several small random nets (BN in training and eval mode, max/avg and
global pools, dense heads, strided/padded/rectangular convs) and the shipped
design itself, the weights are written with scripts/gsref.py, the C side
(tests/tools/tnet_run.c, path in argv[1]) runs one forward + backward and
two SGD and two AdamW steps, and torch autograd + torch.optim do the same.
Dropout is compared with p = 0 in training mode (same identity mask on both
sides) and with p > 0 in eval mode.

Tolerance: per tensor, max |c - torch| <= RTOL * max(max |torch|, FLOOR).
RTOL = 1e-4 covers float32 summation-order differences (sgemm blocking,
BN's double-accumulated statistics vs torch's); FLOOR = 1e-3 keeps
small tensors from being compared relative to their round-off. A gradient
that is zero in exact arithmetic (a conv bias before a training BN; torch's
max below ZERO_GRAD = 1e-6) must be below 1e-5 in C too. The optimiser
steps run in torch on the C gradients, so they test the update rules alone.
"""

import json
import os
import subprocess
import sys
import tempfile

RTOL = 1e-4
FLOOR = 1e-3
ZERO_GRAD = 1e-6

try:
    import numpy as np
    import torch
except ImportError as e:
    print(f"skip: {e}")
    sys.exit(77)

SRC = os.environ.get("GS_SOURCE_DIR", os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(SRC, "scripts"))
import gsref  # noqa: E402

failures = []


def compare(what, c, ref):
    c = np.asarray(c, dtype=np.float64).ravel()
    ref = np.asarray(ref, dtype=np.float64).ravel()
    if c.shape != ref.shape:
        failures.append(f"{what}: size {c.size} vs {ref.size}")
        return
    scale = max(float(np.abs(ref).max()) if ref.size else 0.0, FLOOR)
    err = float(np.abs(c - ref).max()) if ref.size else 0.0
    if not err <= RTOL * scale:
        failures.append(f"{what}: max diff {err:.3g} > {RTOL * scale:.3g}")


def conv(name, i, o, k, s=1, p=0, bias=True):
    return {"op": "conv2d", "name": name, "in": i, "out": o, "kernel": k, "stride": s,
            "padding": p, "bias": bias}


def small_archs():
    a = {"input": [1, 16, 20], "layers": [
        conv("conv1", 1, 4, [3, 3], 1, 1), {"op": "batchnorm2d", "name": "bn1", "eps": 1e-5},
        {"op": "relu"}, {"op": "maxpool2d", "kernel": [2, 2]},
        conv("conv2", 4, 8, [3, 3], 1, 1), {"op": "batchnorm2d", "name": "bn2", "eps": 1e-3},
        {"op": "relu"}, {"op": "maxpool2d", "kernel": [2, 2]},
        {"op": "global_avgpool"}, {"op": "dropout", "p": 0.0},
        {"op": "dense", "name": "fc", "in": 8, "out": 5}, {"op": "softmax"}]}
    b = json.loads(json.dumps(a))
    b["layers"][9]["p"] = 0.5
    c = {"input": [2, 12, 10], "layers": [
        conv("c1", 2, 3, [3, 2], [2, 1], [1, 0], bias=False),
        {"op": "batchnorm2d", "name": "b1"}, {"op": "relu"},
        {"op": "avgpool2d", "kernel": [2, 2], "stride": [1, 2]},
        conv("c2", 3, 6, [1, 1]), {"op": "relu"},
        {"op": "global_maxpool"},
        {"op": "dense", "name": "head", "in": 6, "out": 4}, {"op": "softmax"}]}
    d = {"input": [1, 9, 9], "layers": [
        conv("c1", 1, 5, [5, 5], 2, 2), {"op": "relu"},
        {"op": "maxpool2d", "kernel": [3, 3], "stride": [2, 2]},
        conv("c2", 5, 4, [3, 3], 1, 1), {"op": "batchnorm2d", "name": "bn"},
        {"op": "global_avgpool"},
        {"op": "dense", "name": "fc", "in": 4, "out": 3}, {"op": "softmax"}]}
    return [("bn-maxpool train", a, 1, 6), ("bn-maxpool eval", b, 0, 5),
            ("rect-avgpool-gmax train", c, 1, 4), ("strided-overlap train", d, 1, 3)]


def shipped_arch():
    path = os.path.join(SRC, "models", "arch", "shortchunk-cnn.json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        arch = json.load(f)
    for layer in arch["layers"]:
        if layer["op"] == "dropout":
            layer["p"] = 0.0
    return [("shortchunk-cnn train", arch, 1, 3)]


def run_case(tool, tmp, name, arch, training, batch, seed):
    net = gsref.init_model(arch, seed)
    k = net.num_outputs
    labels = [f"l{i}" for i in range(k)]
    model = os.path.join(tmp, "model.safetensors")
    gsref.write_model(model, net, labels)
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch,) + net.input_shape).astype(np.float32)
    t = rng.random((batch, k)).astype(np.float32)
    t /= t.sum(axis=1, keepdims=True)  # soft targets (mixup)
    x.tofile(os.path.join(tmp, "x.f32"))
    t.tofile(os.path.join(tmp, "t.f32"))
    out = os.path.join(tmp, "out")
    os.makedirs(out, exist_ok=True)
    r = subprocess.run([tool, model, os.path.join(tmp, "x.f32"), os.path.join(tmp, "t.f32"),
                        str(training), out], capture_output=True, text=True)
    if r.returncode != 0:
        failures.append(f"{name}: tnet_run failed: {r.stderr.strip()}")
        return

    net.train(bool(training))
    start = {kk: v.copy() for kk, v in net.gs_tensors().items()}
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)
    logits, emb = net.forward_all(xt)
    probs = torch.softmax(logits, dim=1)
    loss = -(tt * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
    loss.backward()

    res = np.fromfile(os.path.join(out, "result.f32"), dtype=np.float32)
    e = net.embedding_size
    compare(f"{name} loss", res[:1], [loss.item()])
    compare(f"{name} probs", res[1:1 + batch * k], probs.detach().numpy())
    compare(f"{name} embeddings", res[1 + batch * k:], emb.detach().numpy())

    grads, _ = gsref.read_safetensors(os.path.join(out, "grads.safetensors"))
    params = {}
    for lname, mod in net.named.items():
        for attr in ("weight", "bias"):
            p = getattr(mod, attr)
            if p is None:
                continue
            key = f"{lname}.{attr}"
            params[key] = p
            if key not in grads:
                failures.append(f"{name}: C has no gradient for {key}")
                continue
            ref = p.grad.numpy()
            if float(np.abs(ref).max()) < ZERO_GRAD:
                # Zero in exact arithmetic (conv bias before a training BN):
                # both sides hold round-off; C's must be as small.
                if not float(np.abs(grads[key]).max()) < 10 * ZERO_GRAD:
                    failures.append(f"{name} grad {key}: expected ~0, max {np.abs(grads[key]).max():.3g}")
                continue
            compare(f"{name} grad {key}", grads[key], ref)
    if set(grads) != set(params):
        failures.append(f"{name}: gradient names {sorted(grads)} vs {sorted(params)}")

    after_fwd, _ = gsref.read_safetensors(os.path.join(out, "forward.safetensors"))
    for key, ref in net.gs_tensors().items():
        compare(f"{name} forward export {key}", after_fwd.get(key, []), ref)

    decay = [p for key, p in params.items() if key.endswith(".weight") and
             not isinstance(net.named[key.rsplit(".", 1)[0]], torch.nn.BatchNorm2d)]
    no_decay = [p for p in params.values() if all(p is not q for q in decay)]
    for opt_name, make in (
            ("sgd", lambda wd: torch.optim.SGD([{"params": decay, "weight_decay": wd},
                                                {"params": no_decay, "weight_decay": 0.0}],
                                               lr=0.1, momentum=0.9)),
            ("adamw", lambda wd: torch.optim.AdamW([{"params": decay, "weight_decay": wd},
                                                    {"params": no_decay, "weight_decay": 0.0}],
                                                   lr=0.01, betas=(0.9, 0.999), eps=1e-8))):
        # The optimisers step on the C gradients, so their comparison does
        # not depend on gradient round-off (Adam's normalisation would
        # amplify it for near-zero gradients).
        with torch.no_grad():
            for key, p in params.items():
                p.copy_(torch.from_numpy(start[key]))
                p.grad.copy_(torch.from_numpy(grads[key].reshape(p.shape).copy()))
        opt = make(0.01 if opt_name == "sgd" else 0.1)
        opt.step()
        opt.step()
        got, _ = gsref.read_safetensors(os.path.join(out, f"{opt_name}.safetensors"))
        for key, p in params.items():
            compare(f"{name} {opt_name} {key}", got[key], p.detach().numpy())


def main():
    if len(sys.argv) != 2:
        print("usage: test_train_grad_torch.py PATH/TO/gs_tnet_run")
        return 2
    tool = sys.argv[1]
    torch.manual_seed(0)
    torch.set_num_threads(1)
    cases = small_archs() + shipped_arch()
    with tempfile.TemporaryDirectory(dir=os.environ.get("GS_TEST_TMP")) as tmp:
        for i, (name, arch, training, batch) in enumerate(cases):
            run_case(tool, tmp, name, arch, training, batch, seed=10 + i)
    for f in failures:
        print("FAIL", f)
    print(f"test_train_grad_torch: {len(cases)} nets, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
