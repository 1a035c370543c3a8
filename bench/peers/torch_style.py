"""PyTorch peer of `npm run bench:style`: the same networks as gesso's style transfer, timed the same way.

- the encoder: Keras MobileNetV2's layout (nsfwjs's weights are not loaded: timing needs shapes only),
  eval-mode batch norm, ReLU6, stride-2 depthwise convs padded bottom/right as Keras does;
- fast_512: the feed-forward style net (16-32-64, 3 residual blocks, instance norm, nearest resize + conv) at 512x512;
- adain_512: encoder to block_3_expand_relu (1/4) + AdaIN + decoder (96-48-24, reflect padding) at 512x512, as gesso's ADAIN_DEFAULT;
- gatys_512: one Gatys iteration at 512x512: encoder to block_13_expand_relu, Gram losses on 5 layers + pixels,
  content loss, total variation, backward to the image, Adam;
- fast_train_b4_256: one training step of the style net, batch 4 at 256x256, with the perceptual losses.
Prints one JSON object: medians in ms, the 2048^3 MatMul rate, versions.
"""
import json, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

def flag(name, default):
    """The value after `name` in argv (e.g. --threads 1), or default."""
    return sys.argv[sys.argv.index(name) + 1] if name in sys.argv else default


torch.set_num_threads(int(flag('--threads', 2)))
torch.manual_seed(0)
QUICK = '--quick' in sys.argv
ROUNDS = int(flag('--rounds', 2 if QUICK else 3))
# --only a,b: time only these workloads (bench:engine runs fast_train_b4_256 alone).
ONLY = set(flag('--only', '').split(',')) - {''}
CPU_MS = {}  # workload -> median CPU ms of this process per run (all threads)


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if len(xs) % 2 else sum(xs[len(xs) // 2 - 1:len(xs) // 2 + 1]) / 2


def timed(fn, warmup=1, rounds=ROUNDS, name=None):
    for _ in range(warmup):
        fn()
    out, cpu = [], []
    for _ in range(rounds):
        t, c = time.perf_counter(), time.process_time()
        fn()
        out.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    if name:
        CPU_MS[name] = median(cpu)
    return median(out)


def wanted(name):
    return not ONLY or name in ONLY


def bn(c):
    return nn.BatchNorm2d(c, eps=1e-3).eval()


class Block(nn.Module):
    def __init__(self, cin, t, cout, stride, name):
        super().__init__()
        mid = cin * t
        self.name, self.stride, self.res = name, stride, (stride == 1 and cin == cout)
        self.expand = nn.Sequential(nn.Conv2d(cin, mid, 1, bias=False), bn(mid), nn.ReLU6()) if t != 1 else None
        self.dw = nn.Sequential(nn.Conv2d(mid, mid, 3, stride, 1 if stride == 1 else 0, groups=mid, bias=False), bn(mid), nn.ReLU6())
        self.project = nn.Sequential(nn.Conv2d(mid, cout, 1, bias=False), bn(cout))

    def forward(self, x, feats, wanted):
        h = x
        if self.expand is not None:
            h = self.expand(h)
            if self.name + '_expand_relu' in wanted:
                feats[self.name + '_expand_relu'] = h
                if len(feats) == len(wanted):
                    return None
        if self.stride == 2:
            h = F.pad(h, (0, 1, 0, 1))
        h = self.project(self.dw(h))
        return x + h if self.res else h


class MobileNetV2Trunk(nn.Module):
    SPEC = [(1, 16, 1, 'expanded_conv'), (6, 24, 2, 'block_1'), (6, 24, 1, 'block_2'), (6, 32, 2, 'block_3'), (6, 32, 1, 'block_4'), (6, 32, 1, 'block_5'),
            (6, 64, 2, 'block_6'), (6, 64, 1, 'block_7'), (6, 64, 1, 'block_8'), (6, 64, 1, 'block_9'), (6, 96, 1, 'block_10'), (6, 96, 1, 'block_11'),
            (6, 96, 1, 'block_12'), (6, 160, 2, 'block_13')]

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 32, 3, 2, 0, bias=False), bn(32), nn.ReLU6())
        cin, blocks = 32, []
        for t, c, s, name in self.SPEC:
            blocks.append(Block(cin, t, c, s, name))
            cin = c
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x, wanted):
        feats = {}
        h = self.conv1(F.pad(x, (0, 1, 0, 1)))
        if 'Conv1_relu' in wanted:
            feats['Conv1_relu'] = h
        for b in self.blocks:
            if len(feats) == len(wanted):
                break
            h = b(h, feats, wanted)
        return feats


STYLE = ['Conv1_relu', 'block_1_expand_relu', 'block_3_expand_relu', 'block_6_expand_relu', 'block_13_expand_relu']
CONTENT = 'block_6_expand_relu'


# gesso's FAST_NET_DEFAULT pads by reflection (as Johnson et al.'s own code does).
def conv_norm_relu(cin, cout, k, s):
    return nn.Sequential(nn.Conv2d(cin, cout, k, s, k // 2, padding_mode='reflect'), nn.InstanceNorm2d(cout, affine=True), nn.ReLU())


class FastNet(nn.Module):
    def __init__(self, a=16, b=32, c=64, blocks=3):
        super().__init__()
        self.enc = nn.Sequential(conv_norm_relu(3, a, 9, 1), conv_norm_relu(a, b, 3, 2), conv_norm_relu(b, c, 3, 2))
        self.res = nn.ModuleList([nn.Sequential(conv_norm_relu(c, c, 3, 1), nn.Conv2d(c, c, 3, 1, 1, padding_mode='reflect'), nn.InstanceNorm2d(c, affine=True)) for _ in range(blocks)])
        self.dec1, self.dec2 = conv_norm_relu(c, b, 3, 1), conv_norm_relu(b, a, 3, 1)
        self.out = nn.Conv2d(a, 3, 9, 1, 4, padding_mode='reflect')

    def forward(self, x):
        h = self.enc(x / 255)
        for r in self.res:
            h = h + r(h)
        h = self.dec1(F.interpolate(h, scale_factor=2, mode='nearest'))
        h = self.dec2(F.interpolate(h, scale_factor=2, mode='nearest'))
        return torch.sigmoid(self.out(h)) * 255


ADAIN_LAYER, ADAIN_CHANNELS = 'block_3_expand_relu', 144


class Decoder(nn.Module):
    def __init__(self, cin=ADAIN_CHANNELS, widths=(96, 48, 24)):
        super().__init__()
        layers = []
        for i, w in enumerate(widths):
            layers += [nn.Conv2d(cin, w, 3, 1, 1, padding_mode='reflect'), nn.ReLU()]
            if i > 0:
                layers += [nn.Conv2d(w, w, 3, 1, 1, padding_mode='reflect'), nn.ReLU()]
            if i < len(widths) - 1:
                layers += [nn.Upsample(scale_factor=2, mode='nearest')]
            cin = w
        layers += [nn.Conv2d(cin, 3, 3, 1, 1, padding_mode='reflect'), nn.Sigmoid()]
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x)


def gram(f):
    b, c, h, w = f.shape
    flat = f.reshape(b, c, h * w)
    return flat @ flat.transpose(1, 2) / (h * w)


def rel(a, b):
    return ((a - b) ** 2).mean() / (b ** 2).mean().clamp_min(1e-8)


def tv(x):
    return ((x[:, :, 1:] - x[:, :, :-1]) ** 2).mean() + ((x[:, :, :, 1:] - x[:, :, :, :-1]) ** 2).mean()


def main():
    results = {}
    a, b = torch.randn(2048, 2048), torch.randn(2048, 2048)
    mm = timed(lambda: a @ b, warmup=1, rounds=5)
    enc = MobileNetV2Trunk()
    for p in enc.parameters():
        p.requires_grad_(False)

    net = FastNet().eval()
    x512 = torch.rand(1, 3, 512, 512) * 255
    if wanted('fast_512'):
        with torch.no_grad():
            results['fast_512'] = timed(lambda: net(x512), name='fast_512')

    dec = Decoder().eval()
    c512 = torch.rand(1, 3, 512, 512)
    mean, std = torch.rand(1, ADAIN_CHANNELS, 1, 1), torch.rand(1, ADAIN_CHANNELS, 1, 1) + 0.5

    def adain():
        f = enc(c512, [ADAIN_LAYER])[ADAIN_LAYER]
        m, s = f.mean((2, 3), keepdim=True), (f.var((2, 3), keepdim=True, unbiased=False) + 1e-5).sqrt()
        return dec((f - m) / s * std + mean)
    if wanted('adain_512'):
        with torch.no_grad():
            results['adain_512'] = timed(adain, name='adain_512')

    img = torch.rand(1, 3, 512, 512, requires_grad=True)
    with torch.no_grad():
        f0 = enc(img, STYLE)
        targets = {k: gram(v) for k, v in f0.items()}
        targets['pixels'] = gram(img)
        content = f0[CONTENT].clone()
    opt = torch.optim.Adam([img], lr=0.05)

    def gatys():
        opt.zero_grad()
        x = img.clamp(0, 1)
        f = enc(x, STYLE)
        f['pixels'] = x
        style = sum(rel(gram(f[k]), targets[k]) for k in targets) / len(targets)
        loss = rel(f[CONTENT], content) + 30 * style + 50 * tv(img)
        loss.backward()
        opt.step()
    if wanted('gatys_512'):
        results['gatys_512'] = timed(gatys, name='gatys_512')

    net.train()
    opt2 = torch.optim.Adam(net.parameters(), lr=1e-3)
    batch = torch.rand(4, 3, 256, 256)
    with torch.no_grad():
        t = enc(torch.rand(1, 3, 256, 256), STYLE)
        style_t = {k: gram(v) for k, v in t.items()}

    def fast_train():
        opt2.zero_grad()
        y = net(batch * 255) / 255
        fy = enc(y, STYLE)
        fx = enc(batch, [CONTENT])[CONTENT]
        style = sum(rel(gram(fy[k]), style_t[k]) for k in style_t) / len(style_t)
        loss = rel(fy[CONTENT], fx) + 30 * style + 50 * tv(y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 10)
        opt2.step()
    if wanted('fast_train_b4_256'):
        results['fast_train_b4_256'] = timed(fast_train, name='fast_train_b4_256')
    print(json.dumps({'peer': 'torch', 'version': torch.__version__, 'threads': torch.get_num_threads(), 'matmul_gflops': 2 * 2048 ** 3 / (mm * 1e6), 'ms': results, 'cpu_ms': CPU_MS}))


main()
