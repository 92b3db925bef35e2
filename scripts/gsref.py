#!/usr/bin/python3
"""Genrescope's Python reference: model files and the network, in numpy/PyTorch.

Independent of the C code on purpose: tests compare the C implementation
against this module, and the trainer's parity script imports it.
Runs under Debian's /usr/bin/python3 (numpy 1.24, torch 1.13); no pip.

Model files are safetensors (8-byte little-endian header length, JSON
header, raw little-endian tensors) with Genrescope "__metadata__" (see
core/include/genrescope/model.h). The architecture vocabulary and tensor
names are those of core/include/genrescope/cnn.h, with the same defaults:
conv stride 1, padding 0, bias true; pool stride = kernel; batchnorm eps
1e-5; dropout p 0.5.

Library use:
    tensors, meta = read_safetensors(path)          # numpy float32 arrays, str metadata
    write_safetensors(path, tensors, meta)
    net = GsNet(arch)                               # arch: dict or JSON text
    net.load_gs_tensors(tensors)                    # by PyTorch names ("conv1.weight")
    tensors = net.gs_tensors()
    logits = net(x)                                 # x: [N,C,H,W]; train or eval mode
    probs, embedding = net.predict(x)               # softmax and penultimate activations
    net, model_meta = read_model(path)              # model_meta: parsed JSON values
    write_model(path, net, labels, frontend=None, provenance=None)

CLI:
    gsref.py init-model --arch ARCH.json --labels a,b,c --out M.safetensors [--seed N]
"""

import argparse
import json
import os
import struct
import sys

import numpy as np

try:
    import torch
    from torch import nn
except ImportError:  # callers decide whether that is a skip or an error
    torch = None
    nn = None

MODEL_FORMAT = "genrescope-model-1"


# ---- safetensors ----------------------------------------------------------

def read_safetensors(path):
    """Returns ({name: float32 ndarray}, {metadata key: str}). F32 only."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: too short for a safetensors header")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > len(blob) - 8:
        raise ValueError(f"{path}: header length {n} exceeds the file")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    data = memoryview(blob)[8 + n:]
    meta = header.pop("__metadata__", {}) or {}
    tensors = {}
    for name, info in header.items():
        if info.get("dtype") != "F32":
            raise ValueError(f"{path}: tensor {name!r} has dtype {info.get('dtype')}, only F32")
        begin, end = info["data_offsets"]
        shape = tuple(int(d) for d in info["shape"])
        count = int(np.prod(shape)) if shape else 1
        if not (0 <= begin <= end <= len(data)) or end - begin != 4 * count:
            raise ValueError(f"{path}: tensor {name!r} has bad data_offsets")
        arr = np.frombuffer(data[begin:end], dtype="<f4").reshape(shape)
        tensors[name] = arr.astype(np.float32)  # copy: independent of blob
    return tensors, dict(meta)


def write_safetensors(path, tensors, metadata=None):
    """Writes F32 tensors sorted by name; metadata values must be strings.
    The header is space-padded to 8 bytes so tensor data is aligned."""
    header = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(v, str):
                raise TypeError(f"metadata {k!r} must be a string (safetensors rule)")
        header["__metadata__"] = dict(metadata)
    chunks = []
    offset = 0
    for name in sorted(tensors):
        arr = np.ascontiguousarray(np.asarray(tensors[name], dtype="<f4"))
        raw = arr.tobytes()
        header[name] = {"dtype": "F32", "shape": list(arr.shape),
                        "data_offsets": [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for raw in chunks:
            f.write(raw)
    os.replace(tmp, path)


# ---- metadata ------------------------------------------------------------

def default_frontend(n_mels=96, patch_frames=128):
    """core/src/frontend_params.c defaults, with the input size of the net."""
    return {"sample_rate": 22050, "n_fft": 1024, "hop_length": 512,
            "n_mels": int(n_mels), "fmin": 0.0, "fmax": 11025.0, "log_offset": 1e-6,
            "patch_frames": int(patch_frames),
            "patch_hop_frames": int(patch_frames),
            "window_seconds": 30.0, "patch_normalize": "mean"}


# ---- network ---------------------------------------------------------------

def _pair(layer, key, default):
    v = layer.get(key, default)
    if isinstance(v, int):
        return (v, v)
    if isinstance(v, (list, tuple)) and len(v) == 2:
        return (int(v[0]), int(v[1]))
    raise ValueError(f"layer {layer}: {key!r} must be an int or [a,b]")


if nn is not None:
    class GsNet(nn.Module):
        """The architecture JSON as a torch module. forward() returns the
        logits (input of the final softmax); predict() returns
        (probabilities, embedding) where the embedding is the input of the
        last dense layer. Dropout follows train()/eval() as usual."""

        def __init__(self, arch):
            super().__init__()
            if isinstance(arch, str):
                arch = json.loads(arch)
            self.arch = arch
            c, h, w = (int(d) for d in arch["input"])
            self.input_shape = (c, h, w)
            self.ops = []           # (op, module or None, layer dict)
            self.named = {}         # layer name -> module
            self.layer_list = nn.ModuleList()
            layers = arch["layers"]
            if len(layers) < 2 or layers[-1]["op"] != "softmax" or layers[-2]["op"] != "dense":
                raise ValueError("the last layers must be dense then softmax")
            flat = False
            prev = None
            for i, layer in enumerate(layers):
                op = layer["op"]
                mod = None
                if op == "conv2d":
                    if int(layer["in"]) != c or flat:
                        raise ValueError(f"layer {i}: channel mismatch ({layer['in']} vs {c})")
                    k = _pair(layer, "kernel", None)
                    s = _pair(layer, "stride", 1)
                    p = _pair(layer, "padding", 0)
                    mod = nn.Conv2d(c, int(layer["out"]), k, s, p, bias=bool(layer.get("bias", True)))
                    c = int(layer["out"])
                    h = (h + 2 * p[0] - k[0]) // s[0] + 1
                    w = (w + 2 * p[1] - k[1]) // s[1] + 1
                elif op == "batchnorm2d":
                    if prev != "conv2d":
                        raise ValueError(f"layer {i}: batchnorm2d must directly follow a conv2d")
                    mod = nn.BatchNorm2d(c, eps=float(layer.get("eps", 1e-5)))
                elif op == "relu":
                    mod = nn.ReLU()
                elif op in ("maxpool2d", "avgpool2d"):
                    k = _pair(layer, "kernel", None)
                    s = _pair(layer, "stride", k)
                    mod = (nn.MaxPool2d if op == "maxpool2d" else nn.AvgPool2d)(k, s)
                    h = (h - k[0]) // s[0] + 1
                    w = (w - k[1]) // s[1] + 1
                elif op in ("global_avgpool", "global_maxpool"):
                    flat = True
                elif op == "dropout":
                    mod = nn.Dropout(float(layer.get("p", 0.5)))
                elif op == "dense":
                    if not flat or int(layer["in"]) != c:
                        raise ValueError(f"layer {i}: dense input mismatch ({layer['in']} vs {c})")
                    mod = nn.Linear(c, int(layer["out"]))
                    c = int(layer["out"])
                elif op == "softmax":
                    if i != len(layers) - 1:
                        raise ValueError("softmax must be the last layer")
                else:
                    raise ValueError(f"layer {i}: unknown op {op!r}")
                if h < 1 or w < 1:
                    raise ValueError(f"layer {i}: spatial size collapses to {h}x{w}")
                if mod is not None:
                    self.layer_list.append(mod)
                if op in ("conv2d", "batchnorm2d", "dense"):
                    name = layer["name"]
                    if name in self.named:
                        raise ValueError(f"duplicate layer name {name!r}")
                    self.named[name] = mod
                self.ops.append((op, mod, layer))
                prev = op
            self.num_outputs = c
            self.embedding_size = int(layers[-2]["in"])

        def forward_all(self, x):
            """Returns (logits, embedding)."""
            last_dense = len(self.ops) - 2
            emb = None
            for i, (op, mod, _) in enumerate(self.ops):
                if i == last_dense:
                    emb = x
                if op == "global_avgpool":
                    x = x.mean(dim=(2, 3))
                elif op == "global_maxpool":
                    x = x.amax(dim=(2, 3))
                elif op == "softmax":
                    break
                else:
                    x = mod(x)
            return x, emb

        def forward(self, x):
            return self.forward_all(x)[0]

        def predict(self, x):
            logits, emb = self.forward_all(x)
            return torch.softmax(logits, dim=1), emb

        def gs_tensors(self):
            """{PyTorch name: float32 ndarray} of every parameter and BN buffer."""
            out = {}
            for name, mod in self.named.items():
                keys = ["weight", "bias"]
                if isinstance(mod, nn.BatchNorm2d):
                    keys += ["running_mean", "running_var"]
                for k in keys:
                    t = getattr(mod, k)
                    if t is not None:
                        out[f"{name}.{k}"] = t.detach().cpu().numpy().astype(np.float32)
            return out

        def load_gs_tensors(self, tensors):
            """Copies tensors in by name; every expected tensor must be present
            with the right shape (extra tensors, e.g. a filterbank, are ignored)."""
            want = self.gs_tensors()
            for key, ref in want.items():
                if key not in tensors:
                    raise KeyError(f"missing tensor {key!r}")
                arr = np.asarray(tensors[key], dtype=np.float32)
                if arr.shape != ref.shape:
                    raise ValueError(f"tensor {key!r} has shape {list(arr.shape)}, expected {list(ref.shape)}")
                name, attr = key.rsplit(".", 1)
                with torch.no_grad():
                    getattr(self.named[name], attr).copy_(torch.from_numpy(arr.copy()))
else:
    GsNet = None


def read_model(path):
    """Returns (GsNet in eval mode with the file's weights, metadata) where
    metadata maps each key to its parsed JSON value (strings that are not
    JSON are kept as is)."""
    tensors, raw = read_safetensors(path)
    meta = {}
    for k, v in raw.items():
        try:
            meta[k] = json.loads(v)
        except ValueError:
            meta[k] = v
    net = GsNet(meta["architecture"])
    net.load_gs_tensors(tensors)
    net.eval()
    return net, meta


def write_model(path, net, labels, frontend=None, provenance=None, extra_tensors=None):
    if len(labels) != net.num_outputs:
        raise ValueError(f"{len(labels)} labels for a net with {net.num_outputs} outputs")
    _, h, w = net.input_shape
    frontend = frontend or default_frontend(n_mels=h, patch_frames=w)
    meta = {
        "format": MODEL_FORMAT,
        "labels": json.dumps(list(labels)),
        "frontend": json.dumps(frontend),
        "architecture": json.dumps(net.arch, separators=(",", ":")),
        "provenance": json.dumps(provenance or {}),
    }
    tensors = net.gs_tensors()
    if extra_tensors:
        tensors.update(extra_tensors)
    write_safetensors(path, tensors, meta)


def init_model(arch, seed=0):
    """PyTorch default initialisation; BN affine parameters and running
    statistics are perturbed so that BN folding is actually exercised."""
    torch.manual_seed(seed)
    net = GsNet(arch)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for mod in net.named.values():
            if isinstance(mod, nn.BatchNorm2d):
                n = mod.num_features
                mod.weight.copy_(1.0 + 0.2 * torch.randn(n, generator=g))
                mod.bias.copy_(0.1 * torch.randn(n, generator=g))
                mod.running_mean.copy_(0.2 * torch.randn(n, generator=g))
                mod.running_var.copy_(0.5 + torch.rand(n, generator=g))
    net.eval()
    return net


def _cmd_init_model(args):
    with open(args.arch) as f:
        arch = json.load(f)
    labels = [s for s in args.labels.split(",") if s]
    net = init_model(arch, args.seed)
    write_model(args.out, net, labels,
                provenance={"generator": "gsref.py init-model", "seed": args.seed,
                            "trained": False})
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("init-model", help="write a randomly initialised model")
    p.add_argument("--arch", required=True)
    p.add_argument("--labels", required=True, help="comma-separated labels")
    p.add_argument("--out", required=True)
    p.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if torch is None:
        print("gsref.py: PyTorch is not available (apt-get install python3-torch)", file=sys.stderr)
        return 2
    if args.cmd == "init-model":
        return _cmd_init_model(args)
    return 1


if __name__ == "__main__":
    sys.exit(main())
