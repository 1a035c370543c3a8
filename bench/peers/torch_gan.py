#!/usr/bin/env python3
"""PyTorch CPU peer of `npm run bench:gan`: the GAN training step of src/train/gan/train-gan.ts.

Same architecture as src/models/gan.ts (mapping z -> w, Linear stem to 4x4, per doubling nearest
resize + 3x3 conv + pixel norm + LeakyReLU(0.2), 3x3 conv to RGB + tanh; discriminator 3x3 conv from
RGB, 4x4 stride-2 convs, a minibatch standard deviation channel, Linear head, every weight divided by
||W v|| with v from one power iteration per step), the same DiffAugment arithmetic (colour ops, 0/1
shift matrices as batched matmuls, cutout mask, all drawn on the host), hinge losses, simultaneous
updates (each network's gradient of its own loss), Adam (beta 0, 0.99; lr G 1e-4, D 4e-4), EMA of
the weights. Times whole steps (wall clock, and CPU time of all threads: the fairer number on a shared machine) and
prints ONE JSON line: {"ms_per_step": [...round medians...], "cpu_ms_per_step": [...], "threads": 2,
"torch": version, "params_g": n, "params_d": n}

  --batch B --size S --rounds R --steps K
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

THREADS = 2
torch.set_num_threads(THREADS)
SLOPE = 0.2


def channels_at(size, res, base=16, cap=128):
    return min(cap, base * size // res)


def pixel_norm(x):
    return x / torch.sqrt((x * x).mean(dim=1, keepdim=True) + 1e-8)


class Generator(nn.Module):
    def __init__(self, size, z_dim=128, w_dim=128):
        super().__init__()
        self.size = size
        self.mapping = nn.ModuleList([nn.Linear(z_dim, w_dim), nn.Linear(w_dim, w_dim)])
        self.c4 = channels_at(size, 4)
        self.stem = nn.Linear(w_dim, self.c4 * 16)
        res = [2 ** k for k in range(3, size.bit_length()) if 2 ** k <= size]
        self.blocks = nn.ModuleList([nn.Conv2d(channels_at(size, r // 2), channels_at(size, r), 3, padding=1) for r in res])
        self.to_rgb = nn.Conv2d(channels_at(size, size), 3, 3, padding=1)

    def forward(self, z):
        w = pixel_norm(z)
        for layer in self.mapping:
            w = F.leaky_relu(layer(w), SLOPE)
        x = pixel_norm(F.leaky_relu(self.stem(w).view(-1, self.c4, 4, 4), SLOPE))
        for block in self.blocks:
            x = pixel_norm(F.leaky_relu(block(F.interpolate(x, scale_factor=2, mode="nearest")), SLOPE))
        return torch.tanh(self.to_rgb(x))


class Discriminator(nn.Module):
    def __init__(self, size):
        super().__init__()
        res = [2 ** k for k in range(3, size.bit_length()) if 2 ** k <= size]
        self.convs = nn.ModuleList([nn.Conv2d(3, channels_at(size, size), 3, padding=1)])
        self.strides = [1]
        for r in reversed(res):
            self.convs.append(nn.Conv2d(channels_at(size, r), channels_at(size, r // 2), 4, stride=2, padding=1))
            self.strides.append(2)
        self.head = nn.Linear((channels_at(size, 4) + 1) * 16, 1)  # + the minibatch std channel
        self.vs = []
        for m in [*self.convs, self.head]:
            k = m.weight[0].numel()
            v = torch.randn(k, 1)
            self.vs.append(v / v.norm())

    def normalized(self, i, weight):
        w2 = weight.reshape(weight.shape[0], -1)
        v = self.vs[i]
        wv = w2 @ v
        sigma = torch.sqrt((wv * wv).sum() + 1e-12)
        with torch.no_grad():  # the power iteration: the buffer's next value, no gradient
            u = wv / sigma
            wtu = w2.t() @ u
            self.vs[i] = wtu / torch.sqrt((wtu * wtu).sum() + 1e-12)
        return weight / sigma

    def forward(self, x):
        h = x
        for i, (conv, stride) in enumerate(zip(self.convs, self.strides)):
            h = F.leaky_relu(F.conv2d(h, self.normalized(i, conv.weight), conv.bias, stride=stride, padding=1), SLOPE)
        std = torch.sqrt(((h - h.mean(0, keepdim=True)) ** 2).mean(0, keepdim=True) + 1e-8).mean()
        h = torch.cat([h, std.expand(h.shape[0], 1, h.shape[2], h.shape[3])], 1)
        flat = h.reshape(h.shape[0], -1)
        return flat @ self.normalized(len(self.convs), self.head.weight).t() + self.head.bias


def diff_augment(x, a):
    y = x + a["brightness"]
    m = y.mean(dim=1, keepdim=True)
    y = (y - m) * a["saturation"] + m
    m = y.mean(dim=(1, 2, 3), keepdim=True)
    y = (y - m) * a["contrast"] + m
    y = a["rows"] @ y @ a["cols"]
    return y * a["cutout"]


def sample_augment(b, s):
    """Host-drawn parameters with the shapes and ranges of src/train/gan/diff-augment.ts."""
    rows = torch.zeros(b, 1, s, s)
    cols = torch.zeros(b, 1, s, s)
    cutout = torch.ones(b, 1, s, s)
    shift = s // 8
    for i in range(b):
        dy, dx = [int(t) for t in torch.randint(-shift, shift + 1, (2,))]
        for r in range(s):
            if 0 <= r - dy < s:
                rows[i, 0, r, r - dy] = 1
            if 0 <= r - dx < s:
                cols[i, 0, r - dx, r] = 1
        cy, cx = [int(t) for t in torch.randint(0, s, (2,))]
        cutout[i, 0, max(0, cy - s // 4):min(s, cy + s // 4), max(0, cx - s // 4):min(s, cx + s // 4)] = 0
    return dict(brightness=torch.rand(b, 1, 1, 1) - 0.5, saturation=torch.rand(b, 1, 1, 1) * 2,
                contrast=torch.rand(b, 1, 1, 1) + 0.5, rows=rows, cols=cols, cutout=cutout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=THREADS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    b, s = args.batch, args.size
    G, D = Generator(s), Discriminator(s)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.0, 0.99), eps=1e-8)
    opt_d = torch.optim.Adam(D.parameters(), lr=4e-4, betas=(0.0, 0.99), eps=1e-8)
    ema = [p.detach().clone() for p in [*G.parameters(), *D.parameters()]]
    # Inputs drawn once: gesso's step also gets its batch from the host, outside the timed run.
    feeds = [(torch.rand(b, 3, s, s) * 2 - 1, torch.randn(b, 128), sample_augment(b, s), sample_augment(b, s)) for _ in range(2)]

    def step(k):
        real, z, aug_r, aug_f = feeds[k % 2]
        fake = G(z)
        d_real = D(diff_augment(real, aug_r))
        d_fake = D(diff_augment(fake, aug_f))
        d_loss = F.relu(1 - d_real).mean() + F.relu(1 + d_fake).mean()
        g_loss = -d_fake.mean()
        gd = torch.autograd.grad(d_loss, list(D.parameters()), retain_graph=True)
        gg = torch.autograd.grad(g_loss, list(G.parameters()))
        for p, g in zip(D.parameters(), gd):
            p.grad = g
        for p, g in zip(G.parameters(), gg):
            p.grad = g
        opt_d.step()
        opt_g.step()
        with torch.no_grad():
            for e, p in zip(ema, [*G.parameters(), *D.parameters()]):
                e.mul_(0.995).add_(p, alpha=0.005)

    step(0)  # warm-up
    rounds = []
    cpu_rounds = []
    for r in range(args.rounds):
        times = []
        cpu = []
        for k in range(args.steps):
            t = time.perf_counter()
            c = time.process_time()
            step(k)
            times.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        times.sort()
        cpu.sort()
        rounds.append(times[len(times) // 2])
        cpu_rounds.append(cpu[len(cpu) // 2])
    print(json.dumps({"ms_per_step": rounds, "cpu_ms_per_step": cpu_rounds, "threads": torch.get_num_threads(), "torch": torch.__version__,
                      "params_g": sum(p.numel() for p in G.parameters()), "params_d": sum(p.numel() for p in D.parameters())}))


if __name__ == "__main__":
    main()
