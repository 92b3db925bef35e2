#!/usr/bin/python3
"""The C network (gs_net_run) against PyTorch (scripts/gsref.py) in eval mode.

For each architecture and batch size: write a randomly initialised model
with gsref (BN statistics perturbed so folding matters), run torch and the C
tool on the same random input, and compare probabilities and embeddings.

Tolerance: probabilities lie in [0,1], so they are compared absolutely:
|p_c - p_torch| <= 1e-4. Embeddings are unbounded activations, so the bound
is absolute near zero and relative for large values:
|e_c - e_torch| <= 1e-4 * (1 + |e_torch|). Both sides compute in float32
with different summation orders (im2col + sgemm with folded BN versus
MKLDNN convolution then BN), which moves results by ~1e-6 relative.

Environment: GS_BUILD_DIR (the tool is $GS_BUILD_DIR/tests/gs_net_run,
or GS_NET_RUN to override), GS_TEST_TMP for scratch files.
Exit 77 (skip) when torch is unavailable."""

import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))

try:
    import torch
except ImportError:
    print("test_cnn_torch: torch not available, skipping")
    sys.exit(77)

import gsref  # noqa: E402

PROB_ATOL = 1e-4
EMB_TOL = 1e-4


def conv(name, cin, cout, k, s=1, p=0, bias=True):
    return {"op": "conv2d", "name": name, "in": cin, "out": cout, "kernel": k,
            "stride": s, "padding": p, "bias": bias}


def bn(name, eps=1e-5):
    return {"op": "batchnorm2d", "name": name, "eps": eps}


RELU = {"op": "relu"}


def pool(op, k, s=None):
    d = {"op": op, "kernel": k}
    if s is not None:
        d["stride"] = s
    return d


def dense(name, i, o):
    return {"op": "dense", "name": name, "in": i, "out": o}


SOFTMAX = {"op": "softmax"}

CASES = [
    # The brief's small net: conv-bn-relu-maxpool-conv-relu-avgpool-gap-dense.
    ("small", {"input": [1, 16, 20], "layers": [
        conv("conv1", 1, 4, [3, 3], 1, [1, 1]), bn("bn1"), RELU, pool("maxpool2d", [2, 2]),
        conv("conv2", 4, 6, [3, 3], 1, [1, 1]), RELU, pool("avgpool2d", [2, 2]),
        {"op": "global_avgpool"}, dense("fc", 6, 5), SOFTMAX]}),
    # Non-square kernels, stride 2, padding 0/1/2, global max, dropout,
    # dense-relu-dense head, multi-channel input.
    ("strided", {"input": [2, 19, 23], "layers": [
        conv("c1", 2, 5, [3, 5], [2, 1], [1, 2]), bn("b1", 1e-3), RELU,
        conv("c2", 5, 7, [5, 5], 2, 2, bias=False), bn("b2"), RELU,
        conv("c3", 7, 8, [2, 3], [1, 2], 0), RELU, pool("maxpool2d", [2, 2], [1, 1]),
        {"op": "global_maxpool"}, dense("h", 8, 12), RELU, {"op": "dropout", "p": 0.4},
        dense("out", 12, 4), SOFTMAX]}),
    # Pointwise conv (no im2col), pool before relu, overlapping avg pool,
    # a non-default max pool, a conv after pooling.
    ("pointwise", {"input": [3, 12, 14], "layers": [
        conv("p1", 3, 6, 1), bn("pb1"), pool("maxpool2d", [3, 2], [2, 2]), RELU,
        conv("p2", 6, 4, [1, 3], 1, [0, 1]), RELU, pool("avgpool2d", [3, 3], [2, 1]),
        {"op": "global_avgpool"}, {"op": "dropout"}, dense("o", 4, 3), SOFTMAX]}),
    # Inputs large enough that convs run in bands of rows (odd heights, so a
    # fused pool drops a trailing row), and an overlapping fused pool that
    # cannot be banded.
    ("banded", {"input": [1, 67, 301], "layers": [
        conv("b1", 1, 8, 3, 1, 1), bn("bb1"), RELU, pool("maxpool2d", 2),
        conv("b2", 8, 4, 3, 1, 1), RELU, pool("maxpool2d", [3, 2], [2, 2]),
        {"op": "global_avgpool"}, dense("o", 4, 3), SOFTMAX]}),
    ("overlap", {"input": [1, 99, 257], "layers": [
        conv("v1", 1, 3, [3, 3], 1, [0, 1]), pool("maxpool2d", 3, 2), RELU,
        {"op": "global_maxpool"}, dense("o", 3, 3), SOFTMAX]}),
]


def load_arch(name):
    with open(os.path.join(HERE, "..", "models", "arch", name)) as f:
        return json.load(f)


def main():
    build = os.environ.get("GS_BUILD_DIR", os.path.join(HERE, "..", "build"))
    tool = os.environ.get("GS_NET_RUN", os.path.join(build, "tests", "gs_net_run"))
    if not os.path.exists(tool):
        print(f"test_cnn_torch: {tool} not built")
        return 1
    torch.set_num_threads(1)
    cases = list(CASES)
    try:
        cases.append(("shortchunk", load_arch("shortchunk-cnn.json")))
    except OSError:
        print("test_cnn_torch: models/arch/shortchunk-cnn.json missing, not checked")
    tmp_root = os.environ.get("GS_TEST_TMP") or None
    if tmp_root:
        os.makedirs(tmp_root, exist_ok=True)
    failures = 0
    checks = 0
    rng = np.random.default_rng(1234)
    with tempfile.TemporaryDirectory(dir=tmp_root) as tmp:
        for ci, (name, arch) in enumerate(cases):
            net = gsref.init_model(arch, seed=100 + ci)
            labels = [f"l{i}" for i in range(net.num_outputs)]
            model = os.path.join(tmp, f"{name}.safetensors")
            gsref.write_model(model, net, labels)
            # The file round-trips through the reader to the same module.
            net2, meta = gsref.read_model(model)
            assert meta["format"] == gsref.MODEL_FORMAT and meta["labels"] == labels
            for batch in ((1, 5) if name != "shortchunk" else (1, 3)):
                x = (3.0 * rng.standard_normal((batch, *arch["input"]))).astype(np.float32)
                with torch.no_grad():
                    probs_t, emb_t = net2.predict(torch.from_numpy(x))
                probs_t, emb_t = probs_t.numpy(), emb_t.numpy()
                inp = os.path.join(tmp, "in.f32")
                pout = os.path.join(tmp, "p.f32")
                eout = os.path.join(tmp, "e.f32")
                x.tofile(inp)
                r = subprocess.run([tool, model, inp, str(batch), pout, eout],
                                   capture_output=True, text=True)
                checks += 1
                if r.returncode != 0:
                    print(f"FAIL {name} batch {batch}: gs_net_run exit {r.returncode}: {r.stderr.strip()}")
                    failures += 1
                    continue
                probs_c = np.fromfile(pout, dtype=np.float32).reshape(probs_t.shape)
                emb_c = np.fromfile(eout, dtype=np.float32).reshape(emb_t.shape)
                perr = float(np.max(np.abs(probs_c - probs_t)))
                eerr = float(np.max(np.abs(emb_c - emb_t) / (1.0 + np.abs(emb_t))))
                ok = perr <= PROB_ATOL and eerr <= EMB_TOL
                # A degenerate case (all probabilities equal, all embeddings
                # zero) would prove nothing: insist on informative outputs.
                informative = float(np.ptp(probs_t)) > 1e-3 and float(np.abs(emb_t).max()) > 1e-3
                checks += 1
                status = "ok" if ok and informative else "FAIL"
                print(f"{status} {name} batch {batch}: prob max abs err {perr:.2e}, "
                      f"embedding max err {eerr:.2e}" + ("" if informative else " (degenerate)"))
                if status != "ok":
                    failures += 1
    print(f"test_cnn_torch: {checks} checks, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
