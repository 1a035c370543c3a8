/** One gradient check per op: autodiff vs central finite differences (tolerance in helpers/gradcheck.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Graph, Tensor } from '../../src/graph/graph.ts';
import * as op from '../../src/graph/ops/index.ts';
import type { Rng } from '../../src/core/rng.ts';
import { gradCheck, type GradCase } from '../helpers/gradcheck.ts';
import { RULES, type GradRule } from '../../src/autodiff/rules.ts';
import { nchwcBlockSize } from '../../src/core/cpu-features.ts';
import { GroupNorm } from '../../src/nn/norm.ts';

const positive = (rng: Rng, n: number): Float32Array => rng.uniformArray(n, 0.5, 2);
const awayFromZero = (rng: Rng, n: number): Float32Array => rng.uniformArray(n, 0.3, 1.5).map((v, i) => (i % 2 ? v : -v));

/** A unary op applied to one input of shape (2, 3, 4). */
function unary(f: (x: Tensor) => Tensor, sample?: GradCase['sample']): GradCase {
  return {
    build: (g) => {
      const x = g.input('x', [2, 3, 4]);
      return { wrt: [x], out: f(x) };
    },
    ...(sample ? { sample } : {}),
  };
}

/** A binary op over shapes a and b (broadcasting). */
function binary(f: (a: Tensor, b: Tensor) => Tensor, a: number[], b: number[], sample?: GradCase['sample']): GradCase {
  return {
    build: (g) => {
      const x = g.input('a', a);
      const y = g.input('b', b);
      return { wrt: [x, y], out: f(x, y) };
    },
    ...(sample ? { sample } : {}),
  };
}

function withParams(build: (g: Graph, rng: Rng) => { wrt: Tensor[]; out: Tensor }): GradCase {
  return { build };
}

const cases: Record<string, GradCase> = {
  'Add (broadcast)': binary(op.add, [2, 3, 4], [3, 1]),
  'Sub (broadcast)': binary(op.sub, [2, 3, 4], [4]),
  'Mul (broadcast)': binary(op.mul, [2, 1, 4], [3, 1]),
  Div: binary(op.div, [2, 3], [2, 3], awayFromZero),
  'Pow (tensor exponent)': binary(op.pow, [2, 3], [2, 3], positive),
  'Pow (constant exponent)': unary((x) => op.pow(x, 3), positive),
  Max: binary(op.maximum, [2, 3], [2, 3]),
  Min: binary(op.minimum, [2, 3], [3]),
  Neg: unary(op.neg),
  Abs: unary(op.abs, awayFromZero),
  Exp: unary(op.exp),
  Log: unary(op.log, positive),
  Sqrt: unary(op.sqrt, positive),
  Reciprocal: unary(op.reciprocal, awayFromZero),
  Erf: unary(op.erf),
  Tanh: unary(op.tanh),
  Sigmoid: unary(op.sigmoid),
  Relu: unary(op.relu, awayFromZero),
  LeakyRelu: unary((x) => op.leakyRelu(x, 0.2), awayFromZero),
  Sin: unary(op.sin),
  Cos: unary(op.cos),
  'Clip (both bounds)': unary((x) => op.clip(x, -0.5, 0.7)),
  'SiLU (composite)': unary(op.silu),
  'SiLU, sigmoid first': unary((x) => op.mul(op.sigmoid(x), x)),
  'SiLU with its sigmoid used again': unary((x) => {
    const s = op.sigmoid(x);
    return op.add(op.mul(x, s), op.mul(s, s));
  }),
  'GroupNorm (fused composite, affine)': withParams((g, rng) => {
    const x = g.input('x', [2, 4, 3, 3]);
    const norm = new GroupNorm(g, 'gn', { groups: 2, channels: 4 });
    // Non-trivial scale and bias, so a rule that ignored γ would fail.
    (g.params.get('gn.weight') as { value: Float32Array }).value = rng.uniformArray(4, 0.5, 1.5);
    (g.params.get('gn.bias') as { value: Float32Array }).value = rng.normal(4);
    return { wrt: [x, norm.weight as Tensor, norm.bias as Tensor], out: norm.forward(x) };
  }),
  'GroupNorm (fused composite, no affine, rank 3)': unary((x) => op.groupNorm(op.reshape(x, [2, 4, 3]), null, null, 2, 1e-5)),
  'GroupNorm then SiLU, both fused': withParams((g) => {
    const x = g.input('x', [2, 6, 2, 2]);
    const scale = g.input('scale', [6]);
    const bias = g.input('bias', [6]);
    return { wrt: [x, scale, bias], out: op.silu(op.groupNorm(x, scale, bias, 3, 1e-5)) };
  }),
  'GELU (composite)': unary(op.gelu),
  'Attention (composite: probabilities recomputed in the backward pass)': {
    build: (g) => {
      const q = g.input('q', [2, 2, 3, 4]);
      const k = g.input('k', [2, 2, 5, 4]);
      const v = g.input('v', [2, 2, 5, 3]);
      return { wrt: [q, k, v], out: op.attention(q, k, v) };
    },
  },
  Where: {
    build: (g, rng) => {
      const cond = op.greater(g.constant(rng.normal(12), [3, 4], 'float32'), 0);
      const a = g.input('a', [3, 4]);
      const b = g.input('b', [4]);
      return { wrt: [a, b], out: op.where(cond, a, b) };
    },
  },
  'Cast (float32 -> float64 -> float32)': unary((x) => op.cast(op.mul(op.cast(x, 'float64'), 2), 'float32')),
  'MatMul (2-D)': binary(op.matmul, [3, 4], [4, 5]),
  'MatMul (batched x matrix)': binary(op.matmul, [2, 3, 4], [4, 5]),
  'MatMul (batched, broadcast)': binary(op.matmul, [2, 3, 4], [1, 4, 5]),
  'Gemm (transA, transB, C)': {
    build: (g) => {
      const a = g.input('a', [4, 3]);
      const b = g.input('b', [5, 4]);
      const c = g.input('c', [5]);
      return { wrt: [a, b, c], out: op.gemm(a, b, c, { transA: true, transB: true, alpha: 0.7, beta: 1.3 }) };
    },
  },
  ReduceSum: unary((x) => op.reduceSum(x, [0, 2])),
  'ReduceMean (keepdims)': unary((x) => op.reduceMean(x, [1], true)),
  ReduceMax: unary((x) => op.reduceMax(x, [2])),
  Softmax: unary((x) => op.softmax(x, -1)),
  'Softmax (axis 1)': unary((x) => op.softmax(x, 1)),
  Reshape: unary((x) => op.mul(op.reshape(x, [6, -1]), op.reshape(x, [6, 4]))),
  Transpose: unary((x) => op.transpose(x, [2, 0, 1])),
  Concat: binary((a, b) => op.concat([a, b, a], 1), [2, 3], [2, 2]),
  Slice: unary((x) => op.slice(x, [1, -3], [3, 4], [1, 2])),
  Split: unary((x) => {
    const [a, b] = op.split(x, [1, 3], 2) as [Tensor, Tensor];
    return op.add(op.mul(a, 2), op.reduceSum(b, [2], true));
  }),
  'Split (one output unused)': unary((x) => op.split(x, [2, 2], 2)[1] as Tensor),
  Pad: unary((x) => op.pad(x, [0, 1, 0, 1, 0, 2], 0.5)),
  // Every element checked: the mirrored borders fold back onto particular elements only.
  'Pad (reflect, 2-D)': { ...unary((x) => op.pad(x, [0, 1, 2, 0, 2, 3], 0, 'reflect')), points: 24 },
  'Pad (reflect, NCHW as a conv uses it)': {
    build: (g) => {
      const x = g.input('x', [1, 2, 4, 5]);
      return { wrt: [x], out: op.pad(x, [0, 0, 1, 1, 0, 0, 1, 1], 0, 'reflect') };
    },
    points: 40,
  },
  'Pad (edge)': { ...unary((x) => op.pad(x, [0, 2, 1, 0, 1, 2], 0, 'edge')), points: 24 },
  Expand: unary((x) => op.expand(op.reshape(x, [2, 3, 4, 1]), [2, 3, 4, 5])),
  'Gather (embedding)': withParams((g) => {
    const table = g.input('table', [7, 3]);
    const ids = g.constant(BigInt64Array.from([1n, 5n, 1n, 0n, 6n, 5n]), [2, 3], 'int64');
    return { wrt: [table], out: op.gather(table, ids) };
  }),
  'Conv (3x3, pad 1, bias)': {
    build: (g) => {
      const x = g.input('x', [2, 3, 6, 6]);
      const w = g.input('w', [4, 3, 3, 3]);
      const b = g.input('b', [4]);
      return { wrt: [x, w, b], out: op.conv(x, w, b, { pads: 1 }) };
    },
  },
  'Conv (stride 2, no bias)': {
    build: (g) => {
      const x = g.input('x', [2, 3, 7, 7]);
      const w = g.input('w', [4, 3, 3, 3]);
      return { wrt: [x, w], out: op.conv(x, w, null, { strides: [2, 2], pads: 1 }) };
    },
  },
  'Conv (dilation 2, asymmetric pads)': {
    build: (g) => {
      const x = g.input('x', [1, 2, 8, 7]);
      const w = g.input('w', [3, 2, 3, 2]);
      return { wrt: [x, w], out: op.conv(x, w, null, { dilations: [2, 2], pads: [1, 0, 2, 1] }) };
    },
  },
  'Conv (groups 2)': {
    build: (g) => {
      const x = g.input('x', [2, 4, 5, 5]);
      const w = g.input('w', [6, 2, 3, 3]);
      const b = g.input('b', [6]);
      return { wrt: [x, w, b], out: op.conv(x, w, b, { group: 2, pads: 1 }) };
    },
  },
  // dW by factored unfolds (stride 1): a depthwise conv, a 1-row kernel (no row unfold), a 1-column kernel.
  'Conv (depthwise 3x3)': {
    build: (g) => {
      const x = g.input('x', [2, 3, 5, 6]);
      const w = g.input('w', [3, 1, 3, 3]);
      return { wrt: [x, w], out: op.conv(x, w, null, { group: 3, pads: 1 }) };
    },
  },
  'Conv (1x3, pads 1 on every side)': {
    build: (g) => {
      const x = g.input('x', [2, 2, 4, 5]);
      const w = g.input('w', [3, 2, 1, 3]);
      return { wrt: [x, w], out: op.conv(x, w, null, { pads: 1 }) };
    },
  },
  'Conv (3x1, no padding)': {
    build: (g) => {
      const x = g.input('x', [2, 2, 5, 4]);
      const w = g.input('w', [3, 2, 3, 1]);
      return { wrt: [x, w], out: op.conv(x, w, null) };
    },
  },
  // dW by per-tap slices: the unfold takes no groups.
  'Conv (groups 2, stride 2)': {
    build: (g) => {
      const x = g.input('x', [2, 4, 7, 6]);
      const w = g.input('w', [4, 2, 3, 3]);
      return { wrt: [x, w], out: op.conv(x, w, null, { group: 2, strides: [2, 2], pads: 1 }) };
    },
  },
  'Conv (1x1)': {
    build: (g) => {
      const x = g.input('x', [2, 3, 4, 4]);
      const w = g.input('w', [5, 3, 1, 1]);
      return { wrt: [x, w], out: op.conv(x, w, null) };
    },
  },
  // Training steps lower these to ORT's blocked NCHWc kernels (forward and dX; dW by factored unfolds at stride 1, by unfold at stride 2).
  'Conv NCHWc (16->16, 3x3, bias)': {
    nchwcBlock: nchwcBlockSize(),
    build: (g) => {
      const x = g.input('x', [2, 16, 5, 5]);
      const w = g.input('w', [16, 16, 3, 3]);
      const b = g.input('b', [16]);
      return { wrt: [x, w, b], out: op.conv(x, w, b, { pads: 1 }) };
    },
  },
  'Conv NCHWc (RGB stem 3->16, stride 2)': {
    nchwcBlock: nchwcBlockSize(),
    build: (g) => {
      const x = g.input('x', [2, 3, 7, 7]);
      const w = g.input('w', [16, 3, 3, 3]);
      return { wrt: [x, w], out: op.conv(x, w, null, { strides: [2, 2], pads: 1 }) };
    },
  },
  'Conv NCHWc (16->32, stride 2, asymmetric pads)': {
    nchwcBlock: nchwcBlockSize(),
    build: (g) => {
      const x = g.input('x', [1, 16, 6, 7]);
      const w = g.input('w', [32, 16, 3, 3]);
      return { wrt: [x, w], out: op.conv(x, w, null, { strides: [2, 2], pads: [1, 0, 1, 1] }) };
    },
  },
  // The downsampling conv (3x3, stride 2, pad 1) on an even size, where dX is exactly twice gy's size.
  'Conv (3x3 stride 2 pad 1, even size)': {
    build: (g) => {
      const x = g.input('x', [2, 3, 6, 8]);
      const w = g.input('w', [4, 3, 3, 3]);
      const b = g.input('b', [4]);
      return { wrt: [x, w, b], out: op.conv(x, w, b, { strides: [2, 2], pads: 1 }) };
    },
  },
  'Conv NCHWc (16->32, 3x3 stride 2 pad 1, even size)': {
    nchwcBlock: nchwcBlockSize(),
    build: (g) => {
      const x = g.input('x', [2, 16, 6, 6]);
      const w = g.input('w', [32, 16, 3, 3]);
      return { wrt: [x, w], out: op.conv(x, w, null, { strides: [2, 2], pads: 1 }) };
    },
  },
  'ConvTranspose (stride 2, output padding, bias)': {
    build: (g) => {
      const x = g.input('x', [2, 3, 4, 4]);
      const w = g.input('w', [3, 2, 3, 3]);
      const b = g.input('b', [2]);
      return { wrt: [x, w, b], out: op.convTranspose(x, w, b, { strides: [2, 2], pads: 1, outputPadding: [1, 1] }) };
    },
  },
  'ConvTranspose (stride 1, pad 1)': {
    build: (g) => {
      const x = g.input('x', [2, 3, 4, 5]);
      const w = g.input('w', [3, 2, 3, 3]);
      return { wrt: [x, w], out: op.convTranspose(x, w, null, { pads: 1 }) };
    },
  },
  'ConvTranspose (groups 2)': {
    build: (g) => {
      const x = g.input('x', [1, 4, 3, 3]);
      const w = g.input('w', [4, 3, 2, 2]);
      return { wrt: [x, w], out: op.convTranspose(x, w, null, { strides: [2, 2], group: 2 }) };
    },
  },
  'AveragePool (2x2)': unary((x) => op.avgPool(op.reshape(x, [1, 2, 3, 4]), { kernel: [2, 2], strides: [1, 2] })),
  'AveragePool (3x3, stride 2, pad 1)': {
    build: (g) => {
      const x = g.input('x', [1, 2, 5, 6]);
      return { wrt: [x], out: op.avgPool(x, { kernel: [3, 3], strides: [2, 2], pads: 1 }) };
    },
  },
  'MaxPool (2x2)': {
    build: (g) => {
      const x = g.input('x', [2, 2, 4, 4]);
      return { wrt: [x], out: op.maxPool(x, { kernel: [2, 2] }) };
    },
  },
  'MaxPool (3x3, stride 2, pad 1, overlapping)': {
    build: (g) => {
      const x = g.input('x', [1, 2, 5, 5]);
      return { wrt: [x], out: op.maxPool(x, { kernel: [3, 3], strides: [2, 2], pads: 1 }) };
    },
  },
  'InstanceNormalization (x, scale, bias)': {
    build: (g) => {
      const x = g.input('x', [2, 3, 4, 5]);
      const scale = g.input('scale', [3]);
      const bias = g.input('bias', [3]);
      return { wrt: [x, scale, bias], out: op.instanceNormalization(x, scale, bias, 1e-5) };
    },
  },
  'InstanceNormalization (rank 3)': {
    build: (g) => {
      const x = g.input('x', [2, 4, 6]);
      const scale = g.input('scale', [4]);
      const bias = g.input('bias', [4]);
      return { wrt: [x, scale, bias], out: op.instanceNormalization(x, scale, bias, 1e-3) };
    },
  },
  'Resize (nearest 2x)': {
    build: (g) => {
      const x = g.input('x', [1, 2, 3, 4]);
      return { wrt: [x], out: op.resize(x, 2, 'nearest') };
    },
  },
};

for (const [name, c] of Object.entries(cases)) {
  test(`gradient of ${name} matches finite differences`, async () => {
    const { failures } = await gradCheck(c, 11);
    assert.deepEqual(failures, []);
  });
}

test('the gradient check catches a wrong rule', async () => {
  // Swap in a wrong rule for Sin (cos scaled by 1.5) and expect the check to report it.
  const right = RULES['Sin'] as GradRule;
  RULES['Sin'] = (n, [gy]) => [op.mul(op.mul(gy as Tensor, op.cos(n.inputs[0] as Tensor)), 1.5)];
  try {
    const { failures } = await gradCheck(unary(op.sin), 11);
    assert.ok(failures.length > 0);
  } finally {
    RULES['Sin'] = right;
  }
});
