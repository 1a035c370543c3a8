#!/usr/bin/env python3
"""PyTorch CPU peer of the per-pass table of `npm run bench:engine`.

Usage: torch_passes.py CASES_JSON [REPS] [THREADS] [CONFIGS]. CONFIGS is a comma list of fp32, bf16
(default both). Reads the cases of bench/lib/pass-cases.ts as
JSON and times, for each conv case, the
forward (F.conv2d), dX and dW (aten.convolution_backward with one output mask each: the kernels
autograd calls), and for each layer case forward + backward of the layer given the output gradient.
Each case runs in fp32 and with bf16 autocast (conv passes: bf16 operands, as autocast would give them).
Prints ONE JSON line: {"peer": "torch", "threads": N, "mkldnn": bool, "rows": [{"case", "pass", "config", "wallMs", "cpuMs"}]}
(medians; CPU time is the steadier measure on a shared machine).
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

THREADS = int(sys.argv[3]) if len(sys.argv) > 3 else 1
CONFIGS = sys.argv[4].split(",") if len(sys.argv) > 4 else ["fp32", "bf16"]
torch.set_num_threads(THREADS)
EPS = 1e-5


def median(values):
    values = sorted(values)
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def timed(fn, reps):
    """Median wall ms and median CPU ms (this process, all threads) of `reps` runs after one warm-up."""
    fn()
    wall, cpu = [], []
    for _ in range(reps):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        cpu.append((time.process_time() - start_cpu) * 1000.0)
        wall.append((time.perf_counter() - start) * 1000.0)
    return {"wallMs": median(wall), "cpuMs": median(cpu)}


def conv_fns(c, dtype):
    g = torch.Generator().manual_seed(7)
    x = (torch.randn(c["batch"], c["cin"], c["size"], c["size"], generator=g) * 0.1).to(dtype)
    w = (torch.randn(c["cout"], c["cin"], c["kernel"], c["kernel"], generator=g) * 0.1).to(dtype)
    stride, pad = [c["stride"]] * 2, [c["pad"]] * 2
    with torch.no_grad():
        y = F.conv2d(x, w, None, stride, pad)
    gy = torch.randn(y.shape, generator=g).to(dtype)

    def backward(mask):
        def run():
            with torch.no_grad():
                torch.ops.aten.convolution_backward(gy, x, w, None, stride, pad, [1, 1], False, [0, 0], 1, mask)
        return run

    def forward():
        with torch.no_grad():
            F.conv2d(x, w, None, stride, pad)

    return {"forward": forward, "dX": backward([True, False, False]), "dW": backward([False, True, False])}


class Attention(nn.Module):
    """Self-attention as gesso's MultiHeadAttention: q/k/v/out projections with bias, softmax(QKᵀ/√d)V."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.head_dim = heads, dim // heads
        self.q, self.k, self.v, self.o = (nn.Linear(dim, dim) for _ in range(4))

    def forward(self, x):  # (B, S, D)
        b, s, d = x.shape

        def split(t):
            return t.view(b, s, self.heads, self.head_dim).transpose(1, 2)  # (B, H, S, dh)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        att = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(self.head_dim), dim=-1) @ v
        return self.o(att.transpose(1, 2).reshape(b, s, d))


def layer(c):
    p, shape = c["params"], c["shape"]
    if c["kind"] == "convtranspose":
        return nn.ConvTranspose2d(shape[1], p["cout"], p["kernel"], p["stride"], p["pad"])
    if c["kind"] == "groupnorm":
        return nn.GroupNorm(p["groups"], shape[1], eps=EPS)
    if c["kind"] == "instancenorm":
        return nn.InstanceNorm2d(shape[1], eps=EPS, affine=True)
    if c["kind"] == "attention":
        return Attention(shape[2], p["heads"])
    raise ValueError(f"unknown case kind {c['kind']}")


def layer_fn(c, bf16):
    torch.manual_seed(7)
    module = layer(c)
    x = (torch.randn(*c["shape"]) * 0.1).requires_grad_(True)
    with torch.no_grad():
        gy = torch.randn(module(x).shape)

    def run():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            y = module(x)
        y.backward(gy.to(y.dtype))
        x.grad = None
        module.zero_grad(set_to_none=True)

    return run


def main():
    cases = json.loads(sys.argv[1])
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    rows = []
    for c in cases:
        print(f"torch: {c['id']}", file=sys.stderr)
        for config, dtype in (("fp32", torch.float32), ("bf16", torch.bfloat16)):
            if config not in CONFIGS:
                continue
            if c["kind"] == "conv":
                for name, fn in conv_fns(c, dtype).items():
                    rows.append({"case": c["id"], "pass": name, "config": config, **timed(fn, reps)})
            else:
                rows.append({"case": c["id"], "pass": "fwd+bwd", "config": config, **timed(layer_fn(c, dtype == torch.bfloat16), reps)})
    print(json.dumps({"peer": "torch", "threads": torch.get_num_threads(), "mkldnn": torch.backends.mkldnn.is_available(), "torch": torch.__version__, "rows": rows}))


if __name__ == "__main__":
    main()
