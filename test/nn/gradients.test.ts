/** Gradient checks through every nn layer, w.r.t. its inputs and all its parameters (tolerance in test/helpers/gradcheck.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Rng } from '../../src/core/rng.ts';
import { Graph, type Tensor } from '../../src/graph/graph.ts';
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
  TimestepMLP,
  Upsample,
} from '../../src/nn/index.ts';
import { gradCheck, type GradCase } from '../helpers/gradcheck.ts';
import { RULES, type GradRule } from '../../src/autodiff/rules.ts';
import { mul, reduceSum } from '../../src/graph/ops/index.ts';
import { gradients } from '../../src/autodiff/grad.ts';
import { randomizeParams } from './run-graph.ts';

/** Every parameter tensor created so far, in creation order. */
const allParams = (g: Graph): Tensor[] => [...g.params.values()].map((p) => p.tensor);

/** A case that checks the inputs made by `inputs` and every parameter, after giving parameters random values. */
function layerCase(build: (g: Graph, rng: Rng) => { inputs: Tensor[]; out: Tensor }, options: { paramMean?: number } = {}): GradCase {
  return {
    build: (g, rng) => {
      const { inputs, out } = build(g, rng);
      randomizeParams(g, rng, 0.5, options.paramMean ?? 0);
      return { wrt: [...inputs, ...allParams(g)], out };
    },
  };
}

const cases: Record<string, GradCase> = {
  'Linear (B, T, in)': layerCase((g, rng) => {
    const x = g.input('x', [2, 3, 5]);
    return { inputs: [x], out: new Linear(g, 'proj', { in: 5, out: 4 }, rng).forward(x) };
  }),
  'Linear (N, in), without bias': layerCase((g, rng) => {
    const x = g.input('x', [3, 5]);
    return { inputs: [x], out: new Linear(g, 'proj', { in: 5, out: 4, bias: false }, rng).forward(x) };
  }),
  'Conv2d 3x3 padding 1': layerCase((g, rng) => {
    const x = g.input('x', [2, 3, 5, 5]);
    return { inputs: [x], out: new Conv2d(g, 'conv', { in: 3, out: 4, kernel: 3, padding: 1 }, rng).forward(x) };
  }),
  'Conv2d stride 2, dilation 2, groups 2': layerCase((g, rng) => {
    const x = g.input('x', [1, 4, 8, 7]);
    return { inputs: [x], out: new Conv2d(g, 'conv', { in: 4, out: 6, kernel: [3, 2], stride: 2, padding: 1, dilation: 2, groups: 2 }, rng).forward(x) };
  }),
  'ConvTranspose2d stride 2, padding 1, outputPadding 1': layerCase((g, rng) => {
    const x = g.input('x', [2, 4, 3, 3]);
    return { inputs: [x], out: new ConvTranspose2d(g, 'up', { in: 4, out: 3, kernel: 3, stride: 2, padding: 1, outputPadding: 1 }, rng).forward(x) };
  }),
  'ConvTranspose2d 4x4 stride 2, groups 2': layerCase((g, rng) => {
    const x = g.input('x', [1, 4, 3, 3]);
    return { inputs: [x], out: new ConvTranspose2d(g, 'up', { in: 4, out: 2, kernel: 4, stride: 2, padding: 1, groups: 2 }, rng).forward(x) };
  }),
  GroupNorm: layerCase(
    (g) => {
      const x = g.input('x', [2, 6, 3, 3]);
      return { inputs: [x], out: new GroupNorm(g, 'gn', { groups: 3, channels: 6 }).forward(x) };
    },
    { paramMean: 1 },
  ),
  LayerNorm: layerCase(
    (g) => {
      const x = g.input('x', [2, 3, 6]);
      return { inputs: [x], out: new LayerNorm(g, 'ln', { dim: 6 }).forward(x) };
    },
    { paramMean: 1 },
  ),
  'InstanceNorm (affine)': layerCase(
    (g) => {
      const x = g.input('x', [2, 3, 3, 4]);
      return { inputs: [x], out: new InstanceNorm(g, 'in', { channels: 3, affine: true }).forward(x) };
    },
    { paramMean: 1 },
  ),
  'Embedding (repeated ids)': layerCase((g, rng) => {
    const ids = g.constant(BigInt64Array.from([1n, 5n, 1n, 0n, 6n, 5n]), [2, 3], 'int64');
    return { inputs: [], out: new Embedding(g, 'tok', { num: 7, dim: 3 }, rng).forward(ids) };
  }),
  'MultiHeadAttention self, 2 heads, no mask (composite Attention)': layerCase((g, rng) => {
    const x = g.input('x', [2, 4, 6]);
    return { inputs: [x], out: new MultiHeadAttention(g, 'attn', { dim: 6, heads: 2 }, rng).forward(x) };
  }),
  'MultiHeadAttention cross, 2 heads, no mask (composite Attention)': layerCase((g, rng) => {
    const x = g.input('x', [2, 3, 4]);
    const ctx = g.input('ctx', [2, 5, 6]);
    return { inputs: [x, ctx], out: new MultiHeadAttention(g, 'xattn', { dim: 4, heads: 2, contextDim: 6 }, rng).forward(x, { context: ctx }) };
  }),
  'MultiHeadAttention self, 2 heads, causal': layerCase((g, rng) => {
    const x = g.input('x', [2, 4, 6]);
    return { inputs: [x], out: new MultiHeadAttention(g, 'attn', { dim: 6, heads: 2, qkvBias: true }, rng).forward(x, { causal: true }) };
  }),
  'MultiHeadAttention cross, 2 heads, key padding mask': layerCase((g, rng) => {
    const x = g.input('x', [2, 3, 4]);
    const ctx = g.input('ctx', [2, 5, 6]);
    const mask = g.constant(Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 0, 0, 0]), [2, 1, 1, 5], 'bool');
    return { inputs: [x, ctx], out: new MultiHeadAttention(g, 'xattn', { dim: 4, heads: 2, contextDim: 6 }, rng).forward(x, { context: ctx, mask }) };
  }),
  'ResBlock with time embedding and 1x1 shortcut': layerCase((g, rng) => {
    const x = g.input('x', [2, 4, 4, 4]);
    const temb = g.input('temb', [2, 5]);
    return { inputs: [x, temb], out: new ResBlock(g, 'res', { in: 4, out: 6, groups: 2, tembDim: 5 }, rng).forward(x, temb) };
  }),
  'SiLU, GELU (tanh), Upsample nearest in a Sequential with a Conv2d': layerCase((g, rng) => {
    const x = g.input('x', [1, 2, 3, 3]);
    const net = new Sequential(
      new SiLU(),
      new Upsample(),
      new Conv2d(g, 'conv', { in: 2, out: 2, kernel: 3, padding: 1 }, rng),
      new GELU({ approximate: 'tanh' }),
    );
    return { inputs: [x], out: net.forward(x) };
  }),
  TimestepMLP: layerCase((g, rng) => {
    const e = g.input('e', [3, 4]);
    return { inputs: [e], out: new TimestepMLP(g, 'time_embedding', { in: 4, dim: 6 }, rng).forward(e) };
  }),
};

for (const [name, c] of Object.entries(cases)) {
  test(`gradient through ${name} matches finite differences`, async () => {
    const { failures } = await gradCheck(c, 21);
    assert.deepEqual(failures, []);
  });
}

test('the layer gradient check can fail: a wrong Gemm rule breaks the rank-2 Linear check', async () => {
  const right = RULES['Gemm'] as GradRule;
  RULES['Gemm'] = (n, gys) => right(n, gys).map((gx) => (gx ? mul(gx, 1.2) : null));
  try {
    const { failures } = await gradCheck(cases['Linear (N, in), without bias'] as GradCase, 21);
    assert.ok(failures.length > 0);
  } finally {
    RULES['Gemm'] = right;
  }
});

test('sinusoidal timestep embedding: shapes for even and odd dims, float32 and int64 timesteps; no parameters', () => {
  const g = new Graph();
  const t = g.input('t', [5]);
  const ti = g.input('ti', [5], 'int64');
  assert.deepEqual(sinusoidalTimestepEmbedding(t, 32).shape, [5, 32]);
  assert.deepEqual(sinusoidalTimestepEmbedding(ti, 33, { flipSinToCos: true, downscaleFreqShift: 0 }).shape, [5, 33]);
  assert.equal(sinusoidalTimestepEmbedding(ti, 8).dtype, 'float32');
  assert.equal(g.params.size, 0);
});

test('bilinear Upsample is forward only: autodiff refuses it with a clear error', () => {
  const g = new Graph();
  const x = g.input('x', [1, 2, 3, 3]);
  const y = new Upsample({ mode: 'bilinear' }).forward(x);
  assert.throws(() => gradients(reduceSum(y), [x]), /Resize .* nearest integer upsampling only/);
});
