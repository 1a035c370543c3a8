#!/usr/bin/env python3
"""PyTorch CPU peer of `npm run bench:engine`.

Builds the two reference workloads of bench/REFERENCE.md, times forward (no grad) and one training
step (forward + MSE + backward + Adam), and a 2048^3 float32 MatMul, then prints ONE JSON line
(the schema of bench/lib/results.ts). bench/engine.ts runs it with OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE removed from this process's environment only (DESIGN.md section 6).

  --count   only build both models and print their parameter counts and forward MACs
            (MACs counted from real output shapes by hooks, to cross-check bench/lib/workloads.ts)
  --blas-check  only time a 2048^3 torch.mm and compare a 512^3 product with float64; prints the
            OpenBLAS kernel in use (openblas_get_corename) so bench/engine.ts can pick the core type
  --autocast bf16  run the forward passes under torch.autocast("cpu", torch.bfloat16): PyTorch's
            mixed precision on CPUs with bf16 instructions (reported as peer "torch-bf16")
"""
import ctypes
import argparse
import json
import math
import os
import platform
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

THREADS = 2  # default; --threads changes it

GROUPS = 8
ADAM = dict(lr=1e-3, betas=(0.9, 0.999), eps=1e-8)


class GroupNorm(nn.GroupNorm):
    """nn.GroupNorm that takes its input in float32: PyTorch 1.13's CPU autocast has no policy for
    group_norm, so a bf16 activation would meet float32 weights and fail. A no-op in float32."""

    def forward(self, x):
        return super().forward(x.float())


class ResBlock(nn.Module):
    """out = x + Conv(SiLU(GN(Conv(SiLU(GN(x))))))."""

    def __init__(self, c):
        super().__init__()
        self.norm1 = GroupNorm(GROUPS, c, eps=1e-5, affine=True)
        self.conv1 = nn.Conv2d(c, c, 3, padding=1)
        self.norm2 = GroupNorm(GROUPS, c, eps=1e-5, affine=True)
        self.conv2 = nn.Conv2d(c, c, 3, padding=1)

    def forward(self, x):  # (B, C, H, W)
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return x + h


class ConvNet(nn.Module):
    """Reference conv net A (~0.96M parameters)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 32, 3, padding=1)
        self.res0 = ResBlock(32)
        self.down1 = nn.Conv2d(32, 64, 3, stride=2, padding=1)
        self.res1 = ResBlock(64)
        self.down2 = nn.Conv2d(64, 128, 3, stride=2, padding=1)
        self.res2a = ResBlock(128)
        self.res2b = ResBlock(128)
        self.up1 = nn.Conv2d(128, 64, 3, padding=1)
        self.res3 = ResBlock(64)
        self.up2 = nn.Conv2d(64, 32, 3, padding=1)
        self.res4 = ResBlock(32)
        self.head_norm = GroupNorm(GROUPS, 32, eps=1e-5, affine=True)
        self.head = nn.Conv2d(32, 3, 3, padding=1)

    def forward(self, x):  # (B, 3, 64, 64)
        h = self.res0(self.stem(x))  # (B, 32, 64, 64)
        h = self.res1(self.down1(h))  # (B, 64, 32, 32)
        h = self.res2b(self.res2a(self.down2(h)))  # (B, 128, 16, 16)
        h = self.res3(self.up1(F.interpolate(h, scale_factor=2, mode="nearest")))  # (B, 64, 32, 32)
        h = self.res4(self.up2(F.interpolate(h, scale_factor=2, mode="nearest")))  # (B, 32, 64, 64)
        return self.head(F.silu(self.head_norm(h)))  # (B, 3, 64, 64)


class TransformerBlock(nn.Module):
    """Reference transformer block B: pre-LayerNorm, 4 heads of 64, MLP 256 -> 1024 -> 256, exact GELU."""

    def __init__(self, width=256, heads=4, hidden=1024):
        super().__init__()
        self.heads = heads
        self.head_dim = width // heads
        self.ln1 = nn.LayerNorm(width, eps=1e-5)
        self.q = nn.Linear(width, width)
        self.k = nn.Linear(width, width)
        self.v = nn.Linear(width, width)
        self.o = nn.Linear(width, width)
        self.ln2 = nn.LayerNorm(width, eps=1e-5)
        self.w1 = nn.Linear(width, hidden)
        self.w2 = nn.Linear(hidden, width)
        self.attention_macs = 0  # set by forward, read by --count

    def forward(self, x):  # (B, S, D)
        b, s, d = x.shape
        a = self.ln1(x)

        def split(t):  # (B, S, D) -> (B, H, S, Dh)
            return t.view(b, s, self.heads, self.head_dim).transpose(1, 2)

        q, k, v = split(self.q(a)), split(self.k(a)), split(self.v(a))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)  # (B, H, S, S)
        att = torch.softmax(scores, dim=-1) @ v  # (B, H, S, Dh)
        self.attention_macs = 2 * b * self.heads * s * s * self.head_dim
        h = x + self.o(att.transpose(1, 2).reshape(b, s, d))  # (B, S, D)
        return h + self.w2(F.gelu(self.w1(self.ln2(h))))  # F.gelu default is the exact erf form


def build(name):
    """A workload's model and seeded input/target."""
    torch.manual_seed(0)
    if name == "convnet":
        model, shape = ConvNet(), (8, 3, 64, 64)
    else:
        model, shape = TransformerBlock(), (8, 256, 256)
    x = torch.randn(*shape)
    y = torch.randn(*shape)
    return model, x, y


def count(name):
    """Parameters and forward MACs (conv/linear from hooks on real output shapes, plus attention)."""
    model, x, _ = build(name)
    macs = [0]

    def hook(module, _inputs, output):
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            macs[0] += output.numel() * (module.in_channels // module.groups) * kh * kw
        elif isinstance(module, nn.Linear):
            macs[0] += output.numel() * module.in_features

    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.register_forward_hook(hook)
    with torch.no_grad():
        model(x)
    if isinstance(model, TransformerBlock):
        macs[0] += model.attention_macs
    return {"params": sum(p.numel() for p in model.parameters()), "macs": macs[0]}


def time_rounds(fn, warmup, rounds, cpu=None):
    """Wall ms per timed round; with a list `cpu`, also appends each round's process CPU ms to it."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(rounds):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        out.append((time.perf_counter() - start) * 1000.0)
        if cpu is not None:
            cpu.append((time.process_time() - start_cpu) * 1000.0)
    return out


def timed_step(fn, warmup, rounds, bf16):
    cpu = []
    ms = time_rounds(fn, warmup, rounds, cpu)
    return {"ms": ms, "cpu_ms": cpu, "backend": "cpu bf16 autocast" if bf16 else "cpu"}


def time_workload(name, warmup, rounds, bf16=False, freeze_conv_weights=False):
    model, x, y = build(name)
    if freeze_conv_weights:
        # No weight or bias gradient for any convolution (bench/engine_dw_bound.ts: the step without conv dW;
        # a trainable bias alone would still run oneDNN's backward-weights pass, which gives both)
        for m in model.modules():
            if isinstance(m, torch.nn.Conv2d):
                for p in m.parameters():
                    p.requires_grad_(False)
    opt = torch.optim.Adam(model.parameters(), **ADAM)

    def forward():
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            model(x)

    def train_step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(x)
        loss = F.mse_loss(out.float(), y)
        loss.backward()
        opt.step()

    return {
        "params": sum(p.numel() for p in model.parameters()),
        "forward": timed_step(forward, warmup, rounds, bf16),
        "train": timed_step(train_step, warmup, rounds, bf16),
    }


def time_matmul(n, warmup, rounds):
    g = torch.Generator().manual_seed(1)
    a = torch.randn(n, n, generator=g)
    b = torch.randn(n, n, generator=g)
    return {"n": n, "ms": time_rounds(lambda: torch.mm(a, b), warmup, rounds)}


def openblas_corename():
    """The kernel family OpenBLAS chose (e.g. SkylakeX, Haswell, Prescott), or None without OpenBLAS."""
    for lib in loaded_blas(full_path=True):
        if "openblas" not in os.path.basename(lib):
            continue
        try:
            handle = ctypes.CDLL(lib)
            handle.openblas_get_corename.restype = ctypes.c_char_p
            return handle.openblas_get_corename().decode()
        except (OSError, AttributeError):
            return None
    return None


def blas_check(warmup, rounds):
    """MatMul rate and correctness of the BLAS torch calls, under this process's OPENBLAS_CORETYPE."""
    g = torch.Generator().manual_seed(3)
    a = torch.randn(512, 512, generator=g)
    b = torch.randn(512, 512, generator=g)
    exact = a.double() @ b.double()
    err = ((a @ b).double() - exact).abs().max().item() / exact.abs().max().item()
    ms = time_matmul(2048, warmup, rounds)["ms"]
    return {
        "peer": "torch-blas-check",
        "coretype": os.environ.get("OPENBLAS_CORETYPE"),
        "corename": openblas_corename(),
        "blas": ",".join(loaded_blas()) or "unknown",
        "matmul_ms": ms,
        "max_rel_err": err,
    }


def loaded_blas(full_path=False):
    """The BLAS shared libraries this process has mapped (which one torch really calls)."""
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "/" in line}
        libs = {p if full_path else os.path.basename(p) for p in paths}
        # libblas.so.3 is Debian's alternatives name; the library behind it is the informative one
        def named(lib):
            return os.path.basename(lib)
        return sorted(lib for lib in libs if any(k in named(lib) for k in ("openblas", "mkl_rt", "blis"))) or sorted(lib for lib in libs if "blas" in named(lib))
    except OSError:
        return []


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="fewer rounds")
    p.add_argument("--warmup", type=int, default=None)
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--count", action="store_true", help="print parameter counts and MACs only")
    p.add_argument("--matmul-only", action="store_true", help="time only the 2048^3 MatMul (the ceiling, for other benchmarks)")
    p.add_argument("--blas-check", action="store_true", help="MatMul rate and error against float64 only")
    p.add_argument("--autocast", choices=["bf16"], default=None, help="forward passes under bf16 autocast")
    p.add_argument("--threads", type=int, default=THREADS, help="torch.set_num_threads (default 2)")
    p.add_argument("--convnet-only", action="store_true", help="time the conv net only (no transformer)")
    p.add_argument("--freeze-conv-weights", action="store_true", help="conv weights and biases get no gradient (the step without conv dW)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    if args.count:
        print(json.dumps({"peer": "torch", "count": {n: count(n) for n in ("convnet", "transformer")}}))
        return

    warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    rounds = args.rounds if args.rounds is not None else (3 if args.quick else 10)
    if warmup < 0 or rounds < 1:
        sys.exit(f"--warmup {warmup} must be >= 0 and --rounds {rounds} >= 1")

    if args.blas_check:
        print(json.dumps(blas_check(warmup, rounds)))
        return

    bf16 = args.autocast == "bf16"
    notes = []
    if "OPENBLAS_CORETYPE" in os.environ:
        notes.append(f"OPENBLAS_CORETYPE={os.environ['OPENBLAS_CORETYPE']} (OpenBLAS kernel {openblas_corename()})")
    elif openblas_corename() is not None:
        notes.append(f"OPENBLAS_CORETYPE unset (OpenBLAS kernel {openblas_corename()})")
    report = {"peer": "torch-bf16" if bf16 else "torch", "threads": torch.get_num_threads()}
    print(f"torch: matmul {warmup}+{rounds} rounds", file=sys.stderr)
    report["matmul"] = time_matmul(2048, warmup, rounds)
    workloads = {}
    names = () if args.matmul_only else ("convnet",) if args.convnet_only else ("convnet", "transformer")
    for name in names:
        print(f"torch: {name} forward/train {warmup}+{rounds} rounds", file=sys.stderr)
        workloads[name] = time_workload(name, warmup, rounds, bf16, args.freeze_conv_weights)
    report["workloads"] = workloads
    report["versions"] = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "blas": ",".join(loaded_blas()) or "unknown",
        "onednn": "available" if torch.backends.mkldnn.is_available() else "not available",
    }
    report["notes"] = notes
    print(json.dumps(report))


if __name__ == "__main__":
    main()
