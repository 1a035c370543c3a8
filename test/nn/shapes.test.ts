/** Build-time checks: shape errors that name the layer and both shapes, config errors, parameter names and counts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, ShapeError } from '../../src/core/errors.ts';
import { Rng } from '../../src/core/rng.ts';
import { Graph } from '../../src/graph/graph.ts';
import {
  Conv2d,
  ConvTranspose2d,
  Dropout,
  Embedding,
  GroupNorm,
  InstanceNorm,
  LayerNorm,
  Linear,
  MultiHeadAttention,
  ResBlock,
  sinusoidalTimestepEmbedding,
  TimestepMLP,
  Upsample,
} from '../../src/nn/index.ts';

const rng = new Rng(0);

/** Asserts that `f` throws `kind` with a message containing every fragment. */
function throwsWith(f: () => unknown, kind: typeof ShapeError | typeof InputError, ...fragments: string[]): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof kind, `expected ${kind.name}, got ${String(e)}`);
    for (const s of fragments) assert.ok(e.message.includes(s), `message "${e.message}" lacks "${s}"`);
    return true;
  });
}

test('Linear(in 256) fed (B, T, 128) names the layer, its width and the shape it got', () => {
  const g = new Graph();
  const lin = g.scope('unet', () => new Linear(g, 'proj', { in: 256, out: 1024 }, rng));
  const x = g.input('x', [2, 7, 128]);
  throwsWith(() => lin.forward(x), ShapeError, 'Linear "unet.proj"', '(..., 256)', '[2, 7, 128]');
});

test('shape errors of the other layers name the layer and both shapes', () => {
  const g = new Graph();
  const img = g.input('img', [1, 32, 8, 8]);
  const seq = g.input('seq', [2, 5, 16]);
  throwsWith(() => new Conv2d(g, 'conv', { in: 64, out: 64, kernel: 3 }, rng).forward(img), ShapeError, 'Conv2d "conv"', '(N, 64, H, W)', '[1, 32, 8, 8]');
  throwsWith(
    () => new Conv2d(g, 'big', { in: 32, out: 8, kernel: 5, dilation: 2 }, rng).forward(img),
    ShapeError,
    'Conv2d "big"',
    'dilated kernel 9x9',
    '[1, 32, 8, 8]',
  );
  throwsWith(
    () => new ConvTranspose2d(g, 'up', { in: 16, out: 8, kernel: 2, stride: 2 }, rng).forward(img),
    ShapeError,
    'ConvTranspose2d "up"',
    '(N, 16, H, W)',
    '[1, 32, 8, 8]',
  );
  throwsWith(() => new GroupNorm(g, 'gn', { groups: 8, channels: 64 }).forward(img), ShapeError, 'GroupNorm "gn"', '(N, 64, ...)', '[1, 32, 8, 8]');
  throwsWith(() => new LayerNorm(g, 'ln', { dim: 32 }).forward(seq), ShapeError, 'LayerNorm "ln"', '(..., 32)', '[2, 5, 16]');
  throwsWith(() => new InstanceNorm(g, 'in', { channels: 3 }).forward(img), ShapeError, 'InstanceNorm "in"', '(N, 3, H, W)', '[1, 32, 8, 8]');
  throwsWith(() => new Embedding(g, 'tok', { num: 10, dim: 4 }, rng).forward(seq), ShapeError, 'Embedding "tok"', 'int64 or int32', 'float32 [2, 5, 16]');
  throwsWith(() => new Upsample().forward(seq), ShapeError, 'Upsample', '(N, C, H, W)', '[2, 5, 16]');
  throwsWith(() => sinusoidalTimestepEmbedding(seq, 8), ShapeError, 'timestep embedding', '(B)', '[2, 5, 16]');
});

test('attention shape errors: x width, context width and batch, mask shape', () => {
  const g = new Graph();
  const attn = new MultiHeadAttention(g, 'attn', { dim: 16, heads: 2, contextDim: 12 }, rng);
  const x = g.input('x', [2, 5, 16]);
  throwsWith(
    () => attn.forward(g.input('bad', [2, 5, 8]), { context: g.input('c0', [2, 3, 12]) }),
    ShapeError,
    'MultiHeadAttention "attn"',
    '(B, T, 16)',
    '[2, 5, 8]',
  );
  throwsWith(() => attn.forward(x), ShapeError, 'expected context float32 (2, S, 12)', '[2, 5, 16]');
  throwsWith(() => attn.forward(x, { context: g.input('c1', [3, 4, 12]) }), ShapeError, 'expected context float32 (2, S, 12)', '[3, 4, 12]');
  const ctx = g.input('c2', [2, 4, 12]);
  throwsWith(
    () => attn.forward(x, { context: ctx, mask: g.constant(new Uint8Array(6), [2, 1, 1, 3], 'bool') }),
    ShapeError,
    'mask bool [2, 1, 1, 3]',
    '[2, 2, 5, 4]',
  );
});

test('ResBlock checks its input channels and its timestep embedding', () => {
  const g = new Graph();
  const block = new ResBlock(g, 'res', { in: 32, out: 64, tembDim: 128 }, rng);
  const x = g.input('x', [2, 32, 8, 8]);
  throwsWith(() => block.forward(g.input('y', [2, 16, 8, 8]), g.input('t0', [2, 128])), ShapeError, 'ResBlock "res"', '(N, 32, H, W)', '[2, 16, 8, 8]');
  throwsWith(() => block.forward(x), InputError, 'ResBlock "res"', 'needs a timestep embedding (N, 128)');
  throwsWith(() => block.forward(x, g.input('t1', [2, 64])), ShapeError, 'expected timestep embedding float32 (2, 128)', '[2, 64]');
  const plain = new ResBlock(g, 'plain', { in: 32 }, rng);
  throwsWith(() => plain.forward(x, g.input('t2', [2, 128])), InputError, 'built without tembDim');
});

test('bad configs throw InputError naming the value', () => {
  const g = new Graph();
  throwsWith(() => new Conv2d(g, 'c1', { in: 6, out: 8, kernel: 3, groups: 4 }, rng), InputError, 'Conv2d "c1"', 'groups 4');
  throwsWith(() => new Conv2d(g, 'c2', { in: 6, out: 8, kernel: 0 }, rng), InputError, 'kernel [0, 0]');
  throwsWith(() => new ConvTranspose2d(g, 'c3', { in: 4, out: 4, kernel: 3, stride: 2, outputPadding: 2 }, rng), InputError, 'outputPadding 2', 'stride 2');
  throwsWith(() => new GroupNorm(g, 'gn', { groups: 32, channels: 48 }), InputError, 'channels 48', 'groups 32');
  throwsWith(() => new LayerNorm(g, 'ln', { dim: 8, eps: 0 }), InputError, 'eps 0');
  throwsWith(() => new Linear(g, 'lin', { in: 2.5, out: 3 }, rng), InputError, 'in 2.5');
  throwsWith(() => new MultiHeadAttention(g, 'attn', { dim: 10, heads: 3 }, rng), InputError, 'dim 10', 'heads 3');
  throwsWith(() => new ResBlock(g, 'res', { in: 48, out: 64 }, rng), InputError, 'groups 32');
  throwsWith(() => new Upsample({ scale: 1.5 }), InputError, 'scale 1.5');
  throwsWith(() => new Dropout(1), InputError, 'p 1');
  throwsWith(() => new Dropout(0.1, { training: true }), InputError, 'needs a seed');
  throwsWith(() => sinusoidalTimestepEmbedding(g.input('t', [2]), 2), InputError, 'dim 2', 'downscaleFreqShift 1');
});

test('parameter names and shapes follow PyTorch / diffusers', () => {
  const g = new Graph();
  g.scope('unet', () => {
    new Linear(g, 'proj', { in: 256, out: 1024 }, rng);
    new ConvTranspose2d(g, 'up', { in: 8, out: 4, kernel: 4, groups: 2 }, rng);
    new MultiHeadAttention(g, 'attn', { dim: 8, heads: 2, contextDim: 6 }, rng);
    new ResBlock(g, 'res', { in: 32, out: 64, tembDim: 16 }, rng);
  });
  const shapes = Object.fromEntries([...g.params.values()].map((p) => [p.name, p.tensor.shape]));
  assert.deepEqual(shapes, {
    'unet.proj.weight': [1024, 256],
    'unet.proj.bias': [1024],
    'unet.up.weight': [8, 2, 4, 4],
    'unet.up.bias': [4],
    'unet.attn.to_q.weight': [8, 8],
    'unet.attn.to_k.weight': [8, 6],
    'unet.attn.to_v.weight': [8, 6],
    'unet.attn.to_out.weight': [8, 8],
    'unet.attn.to_out.bias': [8],
    'unet.res.norm1.weight': [32],
    'unet.res.norm1.bias': [32],
    'unet.res.conv1.weight': [64, 32, 3, 3],
    'unet.res.conv1.bias': [64],
    'unet.res.time_emb_proj.weight': [64, 16],
    'unet.res.time_emb_proj.bias': [64],
    'unet.res.norm2.weight': [64],
    'unet.res.norm2.bias': [64],
    'unet.res.conv2.weight': [64, 64, 3, 3],
    'unet.res.conv2.bias': [64],
    'unet.res.conv_shortcut.weight': [64, 32, 1, 1],
    'unet.res.conv_shortcut.bias': [64],
  });
});

/** Trainable values a layer built by `build` adds to a fresh graph. */
function count(build: (g: Graph) => unknown): number {
  const g = new Graph();
  build(g);
  return g.paramCount();
}

test("parameter counts of standard configs equal PyTorch's (by formula)", () => {
  const conv = (cin: number, cout: number, k: number, groups = 1, bias = true): number => cout * (cin / groups) * k * k + (bias ? cout : 0);
  const linear = (i: number, o: number, bias = true): number => o * i + (bias ? o : 0);
  // nn.Linear(256, 1024); nn.Linear(768, 320, bias=False)
  assert.equal(
    count((g) => new Linear(g, 'l', { in: 256, out: 1024 }, rng)),
    linear(256, 1024),
  );
  assert.equal(
    count((g) => new Linear(g, 'l', { in: 768, out: 320, bias: false }, rng)),
    245760,
  );
  // nn.Conv2d(64, 128, 3, padding=1); nn.Conv2d(64, 128, 3, groups=4); nn.Conv2d(4, 320, 3, bias=False)
  assert.equal(
    count((g) => new Conv2d(g, 'c', { in: 64, out: 128, kernel: 3, padding: 1 }, rng)),
    73856,
  );
  assert.equal(
    count((g) => new Conv2d(g, 'c', { in: 64, out: 128, kernel: 3, groups: 4 }, rng)),
    conv(64, 128, 3, 4),
  );
  assert.equal(
    count((g) => new Conv2d(g, 'c', { in: 4, out: 320, kernel: 3, bias: false }, rng)),
    conv(4, 320, 3, 1, false),
  );
  // nn.ConvTranspose2d(128, 64, 4, stride=2, padding=1, groups=2): weight (128, 32, 4, 4) + bias 64
  assert.equal(
    count((g) => new ConvTranspose2d(g, 'c', { in: 128, out: 64, kernel: 4, stride: 2, padding: 1, groups: 2 }, rng)),
    128 * 32 * 16 + 64,
  );
  // nn.GroupNorm(32, 128); nn.LayerNorm(768); nn.LayerNorm(768, bias=False); nn.InstanceNorm2d(64) / (64, affine=True)
  assert.equal(
    count((g) => new GroupNorm(g, 'n', { groups: 32, channels: 128 })),
    256,
  );
  assert.equal(
    count((g) => new LayerNorm(g, 'n', { dim: 768 })),
    1536,
  );
  assert.equal(
    count((g) => new LayerNorm(g, 'n', { dim: 768, bias: false })),
    768,
  );
  assert.equal(
    count((g) => new InstanceNorm(g, 'n', { channels: 64 })),
    0,
  );
  assert.equal(
    count((g) => new InstanceNorm(g, 'n', { channels: 64, affine: true })),
    128,
  );
  // nn.Embedding(49408, 768): CLIP's token table
  assert.equal(
    count((g) => new Embedding(g, 'e', { num: 49408, dim: 768 }, rng)),
    37945344,
  );
  // nn.MultiheadAttention(512, 8): in_proj 3·512² + 3·512, out_proj 512² + 512 = 1,050,624
  assert.equal(
    count((g) => new MultiHeadAttention(g, 'a', { dim: 512, heads: 8, qkvBias: true }, rng)),
    1050624,
  );
  // nn.MultiheadAttention(320, 8, kdim=768, vdim=768): q 320², k, v 320·768 each, in_proj_bias 3·320, out_proj 320² + 320
  assert.equal(
    count((g) => new MultiHeadAttention(g, 'a', { dim: 320, heads: 8, contextDim: 768, qkvBias: true }, rng)),
    2 * 320 * 320 + 2 * 320 * 768 + 4 * 320,
  );
  // diffusers Attention(320, cross_attention_dim=768, heads=8, dim_head=40): q/k/v without bias, to_out with bias
  assert.equal(
    count((g) => new MultiHeadAttention(g, 'a', { dim: 320, heads: 8, headDim: 40, contextDim: 768 }, rng)),
    320 * 320 + 2 * 768 * 320 + linear(320, 320),
  );
  // diffusers ResnetBlock2D(in 128, out 256, temb 512, groups 32)
  const resnet = (cin: number, cout: number, temb: number): number =>
    2 * cin + conv(cin, cout, 3) + linear(temb, cout) + 2 * cout + conv(cout, cout, 3) + (cin === cout ? 0 : conv(cin, cout, 1));
  assert.equal(
    count((g) => new ResBlock(g, 'r', { in: 128, out: 256, tembDim: 512 }, rng)),
    resnet(128, 256, 512),
  );
  assert.equal(
    count((g) => new ResBlock(g, 'r', { in: 320, tembDim: 1280 }, rng)),
    resnet(320, 320, 1280),
  );
  // Written out for SD 1.x's first block (320 -> 320, temb 1280): 2·320 + (320·320·9 + 320) + (1280·320 + 320) + 2·320 + (320·320·9 + 320)
  assert.equal(resnet(320, 320, 1280), 2255040);
  // diffusers TimestepEmbedding(320, 1280): linear_1 + linear_2
  assert.equal(
    count((g) => new TimestepMLP(g, 't', { in: 320, dim: 1280 }, rng)),
    linear(320, 1280) + linear(1280, 1280),
  );
});

test("conv output sizes follow PyTorch's formulas", () => {
  const g = new Graph();
  const x = g.input('x', [1, 4, 17, 12]);
  const c = new Conv2d(g, 'c', { in: 4, out: 2, kernel: [3, 5], stride: [2, 3], padding: [1, 2], dilation: [2, 1] }, rng).forward(x);
  // H: floor((17 + 2 - 2*2 - 1) / 2) + 1 = 8; W: floor((12 + 4 - 4 - 1) / 3) + 1 = 4
  assert.deepEqual(c.shape, [1, 2, 8, 4]);
  const t = new ConvTranspose2d(g, 't', { in: 4, out: 6, kernel: 3, stride: 3, padding: 1, dilation: 2, outputPadding: [2, 0] }, rng).forward(x);
  // H: (17-1)*3 - 2 + 2*2 + 2 + 1 = 53; W: (12-1)*3 - 2 + 4 + 0 + 1 = 36
  assert.deepEqual(t.shape, [1, 6, 53, 36]);
});
