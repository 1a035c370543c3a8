/** Each layer's forward pass in ONNX Runtime against a plain-loop reference (test/nn/reference.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.ts';
import { Graph } from '../../src/graph/graph.ts';
import {
  Conv2d,
  ConvTranspose2d,
  Embedding,
  GELU,
  GroupNorm,
  InstanceNorm,
  LayerNorm,
  Linear,
  MultiHeadAttention,
  ResBlock,
  Sequential,
  SiLU,
  sinusoidalTimestepEmbedding,
  Upsample,
} from '../../src/nn/index.ts';
import {
  attentionRef,
  bilinearRef,
  conv2dRef,
  convTranspose2dRef,
  groupNormRef,
  layerNormRef,
  linearRef,
  siluRef,
  timestepRef,
  type ConvGeo,
} from './reference.ts';
import { maxAbsDiff, paramValue, randomizeParams, runGraph } from './run-graph.ts';

const TOL = 1e-4;

function close(actual: ArrayLike<number>, expected: ArrayLike<number>, tol = TOL): void {
  const d = maxAbsDiff(actual, expected);
  assert.ok(d <= tol, `max abs difference ${d} > ${tol}`);
}

test('Linear on (B, T, in) matches x Wᵀ + b', async () => {
  const rng = new Rng(1);
  const g = new Graph();
  const x = g.input('x', [2, 3, 5]);
  const lin = new Linear(g, 'proj', { in: 5, out: 4 }, rng);
  const y = lin.forward(x);
  assert.deepEqual(y.shape, [2, 3, 4]);
  const xv = rng.normal(30);
  const out = await runGraph(g, { y }, { x: xv });
  close(out['y']!, linearRef(xv, 6, 5, paramValue(g, 'proj.weight'), paramValue(g, 'proj.bias'), 4));
});

test('Linear without bias on (N, in)', async () => {
  const rng = new Rng(2);
  const g = new Graph();
  const x = g.input('x', [3, 4]);
  const lin = new Linear(g, 'proj', { in: 4, out: 2, bias: false }, rng);
  assert.equal(lin.bias, null);
  const xv = rng.normal(12);
  const out = await runGraph(g, { y: lin.forward(x) }, { x: xv });
  close(out['y']!, linearRef(xv, 3, 4, paramValue(g, 'proj.weight'), null, 2));
});

const convCases: { name: string; x: number[]; cfg: ConstructorParameters<typeof Conv2d>[2]; geo: ConvGeo }[] = [
  { name: '3x3, padding 1', x: [2, 3, 5, 5], cfg: { in: 3, out: 4, kernel: 3, padding: 1 }, geo: { stride: [1, 1], pad: [1, 1], dil: [1, 1], groups: 1 } },
  {
    name: 'stride 2, dilation 2, groups 2, 3x2 kernel, no bias',
    x: [1, 4, 9, 8],
    cfg: { in: 4, out: 6, kernel: [3, 2], stride: 2, padding: [2, 1], dilation: 2, groups: 2, bias: false },
    geo: { stride: [2, 2], pad: [2, 1], dil: [2, 2], groups: 2 },
  },
];
for (const c of convCases) {
  test(`Conv2d ${c.name} matches a naive loop`, async () => {
    const rng = new Rng(3);
    const g = new Graph();
    const x = g.input('x', c.x);
    const conv = new Conv2d(g, 'conv', c.cfg, rng);
    const y = conv.forward(x);
    const xv = rng.normal(x.size);
    const ref = conv2dRef(xv, c.x, paramValue(g, 'conv.weight'), conv.weight.shape as number[], conv.bias ? paramValue(g, 'conv.bias') : null, c.geo);
    assert.deepEqual(y.shape, ref.shape);
    const out = await runGraph(g, { y }, { x: xv });
    close(out['y']!, ref.y);
  });
}

test('ConvTranspose2d stride 2, padding 1, outputPadding 1, groups 2 matches a scatter loop', async () => {
  const rng = new Rng(4);
  const g = new Graph();
  const x = g.input('x', [2, 4, 3, 3]);
  const up = new ConvTranspose2d(g, 'up', { in: 4, out: 6, kernel: 3, stride: 2, padding: 1, outputPadding: 1, groups: 2 }, rng);
  assert.deepEqual(up.weight.shape, [4, 3, 3, 3]);
  const y = up.forward(x);
  const xv = rng.normal(x.size);
  const geo: ConvGeo = { stride: [2, 2], pad: [1, 1], dil: [1, 1], groups: 2 };
  const ref = convTranspose2dRef(xv, [2, 4, 3, 3], paramValue(g, 'up.weight'), [4, 3, 3, 3], paramValue(g, 'up.bias'), geo, [1, 1]);
  assert.deepEqual(y.shape, ref.shape);
  assert.deepEqual(y.shape, [2, 6, 6, 6]);
  const out = await runGraph(g, { y }, { x: xv });
  close(out['y']!, ref.y);
});

test('GroupNorm (3 groups of 2 channels) matches per-group statistics, with affine', async () => {
  const rng = new Rng(5);
  const g = new Graph();
  const x = g.input('x', [2, 6, 3, 4]);
  const norm = new GroupNorm(g, 'gn', { groups: 3, channels: 6, eps: 1e-5 });
  const y = norm.forward(x);
  randomizeParams(g, rng, 0.5, 1);
  const xv = rng.normal(x.size, 2, 0.7);
  const out = await runGraph(g, { y }, { x: xv });
  close(out['y']!, groupNormRef(xv, 2, 6, 12, 3, 1e-5, paramValue(g, 'gn.weight'), paramValue(g, 'gn.bias')));
});

test('LayerNorm normalises over the last dim, with and without affine', async () => {
  const rng = new Rng(6);
  const g = new Graph();
  const x = g.input('x', [2, 3, 8]);
  const ln = new LayerNorm(g, 'ln', { dim: 8, eps: 1e-5 });
  const plain = new LayerNorm(g, 'plain', { dim: 8, affine: false });
  randomizeParams(g, rng, 0.5, 1);
  const xv = rng.normal(x.size, 1.5, -0.3);
  const out = await runGraph(g, { y: ln.forward(x), z: plain.forward(x) }, { x: xv });
  close(out['y']!, layerNormRef(xv, 6, 8, 1e-5, paramValue(g, 'ln.weight'), paramValue(g, 'ln.bias')));
  close(out['z']!, layerNormRef(xv, 6, 8, 1e-5, null, null));
});

test('InstanceNorm normalises each (sample, channel) over positions, with and without affine', async () => {
  const rng = new Rng(7);
  const g = new Graph();
  const x = g.input('x', [2, 3, 4, 5]);
  const affine = new InstanceNorm(g, 'in_a', { channels: 3, affine: true });
  const plain = new InstanceNorm(g, 'in_p', { channels: 3 });
  assert.equal(plain.weight, null);
  randomizeParams(g, rng, 0.5, 1);
  const xv = rng.normal(x.size, 2, 1);
  const out = await runGraph(g, { a: affine.forward(x), p: plain.forward(x) }, { x: xv });
  close(out['a']!, groupNormRef(xv, 2, 3, 20, 3, 1e-5, paramValue(g, 'in_a.weight'), paramValue(g, 'in_a.bias')));
  close(out['p']!, groupNormRef(xv, 2, 3, 20, 3, 1e-5, null, null));
});

test('Embedding looks up rows by int64 and int32 ids', async () => {
  const rng = new Rng(8);
  const g = new Graph();
  const ids = g.input('ids', [2, 3], 'int64');
  const ids32 = g.input('ids32', [4], 'int32');
  const emb = new Embedding(g, 'tok', { num: 7, dim: 3 }, rng);
  const y = emb.forward(ids);
  assert.deepEqual(y.shape, [2, 3, 3]);
  const idList = [6, 0, 3, 3, 1, 5];
  const id32List = [2, 4, 6, 0];
  const out = await runGraph(
    g,
    { y, z: emb.forward(ids32) },
    {
      ids: { dtype: 'int64', dims: [2, 3], data: BigInt64Array.from(idList.map(BigInt)) },
      ids32: { dtype: 'int32', dims: [4], data: Int32Array.from(id32List) },
    },
  );
  const table = paramValue(g, 'tok.weight');
  close(
    out['y']!,
    idList.flatMap((i) => Array.from(table.subarray(i * 3, i * 3 + 3))),
  );
  close(
    out['z']!,
    id32List.flatMap((i) => Array.from(table.subarray(i * 3, i * 3 + 3))),
  );
});

function attnWeights(g: Graph, name: string) {
  return {
    wq: paramValue(g, `${name}.to_q.weight`),
    wk: paramValue(g, `${name}.to_k.weight`),
    wv: paramValue(g, `${name}.to_v.weight`),
    wo: paramValue(g, `${name}.to_out.weight`),
    bo: paramValue(g, `${name}.to_out.bias`),
  };
}

test('MultiHeadAttention, 2 heads, self-attention and causal self-attention', async () => {
  const rng = new Rng(9);
  const g = new Graph();
  const x = g.input('x', [2, 4, 6]);
  const attn = new MultiHeadAttention(g, 'attn', { dim: 6, heads: 2 }, rng);
  const xv = rng.normal(x.size);
  const out = await runGraph(g, { y: attn.forward(x), c: attn.forward(x, { causal: true }) }, { x: xv });
  const w = attnWeights(g, 'attn');
  close(out['y']!, attentionRef(xv, xv, [2, 4, 6], [4, 6], 2, 3, w));
  close(
    out['c']!,
    attentionRef(xv, xv, [2, 4, 6], [4, 6], 2, 3, w, (_b, _h, t, s) => s <= t),
  );
});

test('MultiHeadAttention, 2 heads, cross-attention to a wider context with bool and float masks', async () => {
  const rng = new Rng(10);
  const g = new Graph();
  const x = g.input('x', [2, 3, 4]);
  const ctx = g.input('ctx', [2, 5, 7]);
  const attn = new MultiHeadAttention(g, 'xattn', { dim: 4, heads: 2, contextDim: 7, headDim: 3 }, rng);
  // Key padding: sample 0 sees all 5 keys, sample 1 only the first 3.
  const keep = [1, 1, 1, 1, 1, 1, 1, 1, 0, 0];
  const boolMask = g.constant(Uint8Array.from(keep), [2, 1, 1, 5], 'bool');
  const floatMask = g.constant(Float32Array.from(keep.map((k) => (k ? 0 : -1e9))), [2, 1, 1, 5], 'float32');
  const y = attn.forward(x, { context: ctx });
  assert.deepEqual(y.shape, [2, 3, 4]);
  const xv = rng.normal(x.size);
  const cv = rng.normal(ctx.size);
  const out = await runGraph(
    g,
    { y, m: attn.forward(x, { context: ctx, mask: boolMask }), f: attn.forward(x, { context: ctx, mask: floatMask }) },
    { x: xv, ctx: cv },
  );
  const w = attnWeights(g, 'xattn');
  close(out['y']!, attentionRef(xv, cv, [2, 3, 4], [5, 7], 2, 3, w));
  const masked = attentionRef(xv, cv, [2, 3, 4], [5, 7], 2, 3, w, (b, _h, _t, s) => keep[b * 5 + s] === 1);
  close(out['m']!, masked);
  close(out['f']!, masked);
  assert.ok(maxAbsDiff(masked, out['y']!) > 1e-3, 'the mask changes the output');
});

test('SiLU and GELU (exact and tanh) match their formulas', async () => {
  const g = new Graph();
  const x = g.input('x', [9]);
  const xs = Float32Array.from([-4, -2, -1, -0.5, 0, 0.3, 1, 2.5, 5]);
  const out = await runGraph(g, { s: new SiLU().forward(x), e: new GELU().forward(x), t: new GELU({ approximate: 'tanh' }).forward(x) }, { x: xs });
  const erf = (v: number): number => {
    // Abramowitz & Stegun 7.1.26 is only 1.5e-7 accurate: enough for a 1e-4 check.
    const s = Math.sign(v);
    const a = Math.abs(v);
    const t = 1 / (1 + 0.3275911 * a);
    return s * (1 - ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.exp(-a * a));
  };
  const xsArr = Array.from(xs);
  close(out['s']!, xsArr.map(siluRef));
  close(
    out['e']!,
    xsArr.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))),
  );
  close(
    out['t']!,
    xsArr.map((v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))),
  );
});

test('Upsample nearest x2 copies pixels; bilinear x2 matches align_corners=False', async () => {
  const rng = new Rng(11);
  const g = new Graph();
  const x = g.input('x', [1, 2, 3, 4]);
  const near = new Upsample().forward(x);
  const bil = new Upsample({ mode: 'bilinear' }).forward(x);
  assert.deepEqual(near.shape, [1, 2, 6, 8]);
  const xv = rng.normal(x.size);
  const out = await runGraph(g, { near, bil }, { x: xv });
  const expected = Array.from({ length: 2 * 6 * 8 }, (_, i) => {
    const c = Math.floor(i / 48);
    const oy = Math.floor((i % 48) / 8);
    const ox = i % 8;
    return xv[(c * 3 + Math.floor(oy / 2)) * 4 + Math.floor(ox / 2)];
  });
  close(out['near']!, expected, 0);
  close(out['bil']!, bilinearRef(xv, [1, 2, 3, 4], 2));
});

test('timestep embedding values: DDPM default, SD convention (flip, shift 0), odd dim, int64 input', async () => {
  const g = new Graph();
  const t = g.input('t', [3]);
  const ti = g.input('ti', [3], 'int64');
  const ts = [0, 1, 999];
  const outs = {
    ddpm: sinusoidalTimestepEmbedding(t, 8),
    sd: sinusoidalTimestepEmbedding(t, 8, { flipSinToCos: true, downscaleFreqShift: 0 }),
    odd: sinusoidalTimestepEmbedding(t, 7, { scale: 2, maxPeriod: 100 }),
    int: sinusoidalTimestepEmbedding(ti, 8, { flipSinToCos: true, downscaleFreqShift: 0 }),
  };
  assert.deepEqual(outs.odd.shape, [3, 7]);
  const out = await runGraph(g, outs, { t: Float32Array.from(ts), ti: { dtype: 'int64', dims: [3], data: BigInt64Array.from(ts.map(BigInt)) } });
  // float32 arguments up to 999 rad: sin/cos are good to ~1e-4 absolute there.
  close(out['ddpm']!, timestepRef(ts, 8, false, 1), 2e-4);
  close(out['sd']!, timestepRef(ts, 8, true, 0), 2e-4);
  close(out['int']!, timestepRef(ts, 8, true, 0), 2e-4);
  const odd = timestepRef(ts, 6, false, 1, 2, 100);
  const oddPadded = ts.flatMap((_, b) => [...Array.from(odd.subarray(b * 6, b * 6 + 6)), 0]);
  close(out['odd']!, oddPadded, 2e-4);
  // Spot values written down by hand: t = 1, dim 8, DDPM: freqs exp(-ln(1e4) i / 3) = 1, 0.046416, 0.0021544, 0.0001.
  const row1 = Array.from(out['ddpm']!.subarray(8, 16));
  close(
    row1,
    [Math.sin(1), Math.sin(0.046416), Math.sin(0.0021544), Math.sin(0.0001), Math.cos(1), Math.cos(0.046416), Math.cos(0.0021544), Math.cos(0.0001)],
    1e-5,
  );
});

test('ResBlock with time embedding and a 1x1 shortcut matches the composed reference', async () => {
  const rng = new Rng(12);
  const g = new Graph();
  const [n, cin, cout, h, w, td] = [2, 4, 6, 5, 5, 3];
  const x = g.input('x', [n, cin, h, w]);
  const temb = g.input('temb', [n, td]);
  const block = g.scope('unet', () => new ResBlock(g, 'res', { in: cin, out: cout, groups: 2, tembDim: td }, rng));
  assert.equal(block.name, 'unet.res');
  const y = block.forward(x, temb);
  assert.deepEqual(y.shape, [n, cout, h, w]);
  randomizeParams(g, rng, 0.4, 0.1);
  const xv = rng.normal(x.size);
  const tv = rng.normal(temb.size);
  const out = await runGraph(g, { y }, { x: xv, temb: tv });

  const p = (k: string): Float32Array => paramValue(g, `unet.res.${k}`);
  const geo3: ConvGeo = { stride: [1, 1], pad: [1, 1], dil: [1, 1], groups: 1 };
  const geo1: ConvGeo = { stride: [1, 1], pad: [0, 0], dil: [1, 1], groups: 1 };
  const s = h * w;
  let hv: Float64Array = groupNormRef(xv, n, cin, s, 2, 1e-6, p('norm1.weight'), p('norm1.bias')).map(siluRef);
  hv = conv2dRef(hv, [n, cin, h, w], p('conv1.weight'), [cout, cin, 3, 3], p('conv1.bias'), geo3).y;
  const proj = linearRef(Array.from(tv, siluRef), n, td, p('time_emb_proj.weight'), p('time_emb_proj.bias'), cout);
  hv = hv.map((v, i) => v + proj[Math.floor(i / s)]);
  hv = groupNormRef(hv, n, cout, s, 2, 1e-6, p('norm2.weight'), p('norm2.bias')).map(siluRef);
  hv = conv2dRef(hv, [n, cout, h, w], p('conv2.weight'), [cout, cout, 3, 3], p('conv2.bias'), geo3).y;
  const skip = conv2dRef(xv, [n, cin, h, w], p('conv_shortcut.weight'), [cout, cin, 1, 1], p('conv_shortcut.bias'), geo1).y;
  close(
    out['y']!,
    hv.map((v, i) => v + skip[i]),
  );
});

test('ResBlock without channel change adds x itself; zeroInitLast starts as the identity', async () => {
  const rng = new Rng(13);
  const g = new Graph();
  const x = g.input('x', [1, 4, 3, 3]);
  const block = new ResBlock(g, 'res', { in: 4, groups: 2, zeroInitLast: true }, rng);
  assert.equal(block.convShortcut, null);
  const xv = rng.normal(x.size);
  const out = await runGraph(g, { y: block.forward(x) }, { x: xv });
  close(out['y']!, xv, 1e-6);
});

test('Sequential chains Linear -> SiLU -> Linear', async () => {
  const rng = new Rng(14);
  const g = new Graph();
  const x = g.input('x', [3, 4]);
  const mlp = g.scope('mlp', () => new Sequential(new Linear(g, '0', { in: 4, out: 5 }, rng), new SiLU(), new Linear(g, '2', { in: 5, out: 2 }, rng)));
  const xv = rng.normal(x.size);
  const out = await runGraph(g, { y: mlp.forward(x) }, { x: xv });
  const hidden = linearRef(xv, 3, 4, paramValue(g, 'mlp.0.weight'), paramValue(g, 'mlp.0.bias'), 5).map(siluRef);
  close(out['y']!, linearRef(hidden, 3, 5, paramValue(g, 'mlp.2.weight'), paramValue(g, 'mlp.2.bias'), 2));
});
