/**
 * The gradient rules: one entry per op, each written with the same standard ONNX ops as the
 * forward graph (tinygrad-style: all gradients in one table). A rule gets the forward node and the
 * gradients of its outputs (null where an output has none) and returns one gradient per input
 * (null where an input is not differentiable or not needed).
 */
import { ShapeError } from '../core/errors.ts';
import type { Node, Tensor } from '../graph/graph.ts';
import {
  add,
  reciprocal,
  reduceMean,
  sqrt,
  cast,
  concat,
  convGeometry,
  convTranspose,
  cos,
  depthToSpace,
  div,
  equal,
  exp,
  expand,
  greater,
  less,
  log,
  matmul,
  maxPoolWithIndices,
  mul,
  neg,
  pad,
  pow,
  reduceSum,
  reshape,
  scatterAdd,
  sign,
  sin,
  slice,
  spaceToDepth,
  sub,
  transpose,
  transposeLast,
  where,
} from '../graph/ops/index.ts';
import { isFloat, sizeOf } from '../graph/types.ts';
import { convInputGrad, convTransposeInputGrad, convWeightGrad } from './conv-grads.ts';
import { constInts, sumTo, zeros } from './helpers.ts';
import { attentionGrad, groupNormGrad, siluGrad } from './fused-grads.ts';

export type GradRule = (node: Node, gys: readonly (Tensor | null)[]) => (Tensor | null)[];

const input = (n: Node, i: number): Tensor => {
  const t = n.inputs[i];
  if (!t) throw new ShapeError(`autodiff: ${n.op} node ${n.name} has no input ${i}`);
  return t;
};
const output = (n: Node, i = 0): Tensor => n.outputs[i] as Tensor;
const intAttr = (n: Node, key: string, fallback: number): number => {
  const a = n.attrs[key];
  return a && 'i' in a ? a.i : fallback;
};
const intsAttr = (n: Node, key: string): number[] => {
  const a = n.attrs[key];
  return a && 'ints' in a ? [...a.ints] : [];
};
const floatAttr = (n: Node, key: string, fallback: number): number => {
  const a = n.attrs[key];
  return a && 'f' in a ? a.f : fallback;
};

/** Re-expands a reduced gradient to the input's shape. */
function unreduce(n: Node, gy: Tensor): Tensor {
  const x = input(n, 0);
  const axes = new Set(constInts(n.inputs[1], `${n.op} axes`));
  const kept = x.shape.map((d, i) => (axes.has(i) ? 1 : d));
  return expand(reshape(gy, kept), [...x.shape]);
}

/**
 * Adjoint of reflect/edge padding along one axis: `gy` has length before + d + after on `axis`; returns
 * length d. Reflect maps padded index j < before to x[before - j] and before + d + k to x[d - 2 - k]
 * (mirrored without repeating the edge); edge maps every padded index to x[0] or x[d - 1].
 */
function foldPadAxis(gy: Tensor, axis: number, d: number, before: number, after: number, mode: 'reflect' | 'edge'): Tensor {
  const rank = gy.rank;
  const along = (lo: number, hi: number): number[] => {
    const p = new Array<number>(2 * rank).fill(0);
    p[axis] = lo;
    p[axis + rank] = hi;
    return p;
  };
  let g = slice(gy, [before], [before + d], [axis]);
  const end = before + d + after;
  if (mode === 'edge') {
    if (before) g = add(g, pad(reduceSum(slice(gy, [0], [before], [axis]), [axis], true), along(0, d - 1)));
    if (after) g = add(g, pad(reduceSum(slice(gy, [before + d], [end], [axis]), [axis], true), along(d - 1, 0)));
    return g;
  }
  if (before >= d || after >= d) throw new ShapeError(`autodiff: reflect Pad of ${before},${after} on an axis of ${d} (must be below ${d})`);
  // The padded borders reversed, so element k lands on x[k + 1] (before) or x[d - 1 - after + k] (after).
  if (before) g = add(g, pad(slice(gy, [before - 1], [-end - 1], [axis], [-1]), along(1, d - 1 - before)));
  if (after) g = add(g, pad(slice(gy, [end - 1], [before + d - 1], [axis], [-1]), along(d - 1 - after, 1)));
  return g;
}

/** Ops whose outputs carry no gradient (comparisons, integer and shape plumbing). */
const NO_GRADIENT = new Set(['Shape', 'Equal', 'Greater', 'Less', 'Not', 'Sign', 'ScatterElements', 'RandomUniformLike', 'RandomNormalLike', 'ArgMax']);

export const RULES: Record<string, GradRule> = {
  Add: (n, [gy]) => [sumTo(gy!, input(n, 0).shape), sumTo(gy!, input(n, 1).shape)],
  Sub: (n, [gy]) => [sumTo(gy!, input(n, 0).shape), sumTo(neg(gy!), input(n, 1).shape)],
  Mul: (n, [gy]) => [sumTo(mul(gy!, input(n, 1)), input(n, 0).shape), sumTo(mul(gy!, input(n, 0)), input(n, 1).shape)],
  Div: (n, [gy]) => {
    const b = input(n, 1);
    return [sumTo(div(gy!, b), input(n, 0).shape), sumTo(neg(div(mul(gy!, output(n)), b)), b.shape)];
  },
  Pow: (n, [gy]) => {
    const a = input(n, 0);
    const b = input(n, 1);
    const da = mul(gy!, mul(b, pow(a, sub(b, 1))));
    const isConst = b.graph.constants.has(b.name);
    return [sumTo(da, a.shape), isConst ? null : sumTo(mul(gy!, mul(output(n), log(a))), b.shape)];
  },
  Max: (n, [gy]) => {
    const [a, b] = [input(n, 0), input(n, 1)];
    const bWins = less(a, b);
    return [sumTo(where(bWins, 0, gy!), a.shape), sumTo(where(bWins, gy!, 0), b.shape)];
  },
  Min: (n, [gy]) => {
    const [a, b] = [input(n, 0), input(n, 1)];
    const bWins = greater(a, b);
    return [sumTo(where(bWins, 0, gy!), a.shape), sumTo(where(bWins, gy!, 0), b.shape)];
  },
  Neg: (_n, [gy]) => [neg(gy!)],
  Identity: (_n, [gy]) => [gy!],
  Abs: (n, [gy]) => [mul(gy!, sign(input(n, 0)))],
  Exp: (n, [gy]) => [mul(gy!, output(n))],
  Log: (n, [gy]) => [div(gy!, input(n, 0))],
  Sqrt: (n, [gy]) => [div(mul(gy!, 0.5), output(n))],
  Reciprocal: (n, [gy]) => [neg(mul(gy!, mul(output(n), output(n))))],
  Erf: (n, [gy]) => {
    const x = input(n, 0);
    return [mul(gy!, mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI)))];
  },
  Tanh: (n, [gy]) => [mul(gy!, sub(1, mul(output(n), output(n))))],
  Sigmoid: (n, [gy]) => [mul(gy!, mul(output(n), sub(1, output(n))))],
  Relu: (n, [gy]) => [where(greater(input(n, 0), 0), gy!, 0)],
  LeakyRelu: (n, [gy]) => [where(greater(input(n, 0), 0), gy!, mul(gy!, floatAttr(n, 'alpha', 0.01)))],
  Sin: (n, [gy]) => [mul(gy!, cos(input(n, 0)))],
  Cos: (n, [gy]) => [neg(mul(gy!, sin(input(n, 0))))],
  Clip: (n, [gy]) => {
    const x = input(n, 0);
    let g = gy!;
    const lo = n.inputs[1];
    const hi = n.inputs[2];
    if (lo) g = where(less(x, lo), 0, g);
    if (hi) g = where(greater(x, hi), 0, g);
    return [g, null, null];
  },
  Where: (n, [gy]) => [null, sumTo(where(input(n, 0), gy!, 0), input(n, 1).shape), sumTo(where(input(n, 0), 0, gy!), input(n, 2).shape)],
  Cast: (n, [gy]) => [isFloat(input(n, 0).dtype) ? cast(gy!, input(n, 0).dtype) : null],

  MatMul: (n, [gy]) => {
    const [a, b] = [input(n, 0), input(n, 1)];
    let db: Tensor;
    if (b.rank === 2 && a.rank > 2) {
      // (..., K) x (K, N): fold the batch dims so dB is one MatMul, not a batched one plus a sum.
      const k = a.shape[a.rank - 1];
      const m = gy!.shape[gy!.rank - 1];
      db = matmul(transposeLast(reshape(a, [-1, k])), reshape(gy!, [-1, m]));
    } else {
      db = sumTo(matmul(transposeLast(a), gy!), b.shape);
    }
    return [sumTo(matmul(gy!, transposeLast(b)), a.shape), db];
  },
  Gemm: (n, [gy]) => {
    const [a, b] = [input(n, 0), input(n, 1)];
    const transA = intAttr(n, 'transA', 0) === 1;
    const transB = intAttr(n, 'transB', 0) === 1;
    const alpha = floatAttr(n, 'alpha', 1);
    const beta = floatAttr(n, 'beta', 1);
    const opA = transA ? transposeLast(a) : a;
    const opB = transB ? transposeLast(b) : b;
    const dOpA = mul(matmul(gy!, transposeLast(opB)), alpha);
    const dOpB = mul(matmul(transposeLast(opA), gy!), alpha);
    const c = n.inputs[2];
    return [transA ? transposeLast(dOpA) : dOpA, transB ? transposeLast(dOpB) : dOpB, c ? sumTo(mul(gy!, beta), c.shape) : null];
  },

  ReduceSum: (n, [gy]) => [unreduce(n, gy!), null],
  ReduceMean: (n, [gy]) => {
    const x = input(n, 0);
    const count = x.size / output(n).size;
    return [div(unreduce(n, gy!), count), null];
  },
  ReduceMax: (n, [gy]) => {
    const x = input(n, 0);
    const axes = new Set(constInts(n.inputs[1], 'ReduceMax axes'));
    const kept = x.shape.map((d, i) => (axes.has(i) ? 1 : d));
    // Ties share nothing: every maximal element gets the full gradient (as ONNX Runtime's training kernel).
    const isMax = cast(equal(x, reshape(output(n), kept)), 'float32');
    return [mul(unreduce(n, gy!), isMax), null];
  },
  Softmax: (n, [gy]) => {
    const y = output(n);
    const axis = intAttr(n, 'axis', -1);
    return [mul(y, sub(gy!, reduceSum(mul(gy!, y), [axis], true)))];
  },

  Reshape: (n, [gy]) => [reshape(gy!, [...input(n, 0).shape]), null],
  Expand: (n, [gy]) => [sumTo(gy!, input(n, 0).shape), null],
  Transpose: (n, [gy]) => {
    const perm = intsAttr(n, 'perm');
    const inverse = perm.map((_, i) => perm.indexOf(i));
    return [transpose(gy!, inverse)];
  },
  Concat: (n, [gy]) => {
    const axis = intAttr(n, 'axis', 0);
    let offset = 0;
    return n.inputs.map((t) => {
      const len = t!.shape[axis];
      const piece = slice(gy!, [offset], [offset + len], [axis]);
      offset += len;
      return piece;
    });
  },
  Split: (n, gys) => {
    const axis = intAttr(n, 'axis', 0);
    const parts = n.outputs.map((o, i) => gys[i] ?? zeros(o));
    return [concat(parts, axis), null];
  },
  Slice: (n, [gy]) => {
    const x = input(n, 0);
    const starts = constInts(n.inputs[1], 'Slice starts');
    const axes = n.inputs[3] ? constInts(n.inputs[3], 'Slice axes') : starts.map((_, i) => i);
    const steps = n.inputs[4] ? constInts(n.inputs[4], 'Slice steps') : starts.map(() => 1);
    if (steps.some((s) => s !== 1)) throw new ShapeError(`autodiff: Slice ${n.name} with steps ${steps.join(',')} has no gradient rule (only step 1)`);
    const pads = new Array<number>(2 * x.rank).fill(0);
    axes.forEach((axis, i) => {
      const dim = x.shape[axis];
      const s = Math.min(Math.max(starts[i] < 0 ? starts[i] + dim : starts[i], 0), dim);
      pads[axis] = s;
      pads[axis + x.rank] = dim - s - gy!.shape[axis];
    });
    return [pad(gy!, pads), null, null, null, null];
  },
  Pad: (n, [gy]) => {
    const x = input(n, 0);
    const a = n.attrs['mode'];
    const mode = a && 's' in a ? String(a.s) : 'constant';
    const pads = constInts(n.inputs[1], 'Pad pads');
    if (mode === 'constant') {
      const starts = x.shape.map((_, i) => pads[i]);
      const ends = x.shape.map((d, i) => pads[i] + d);
      return [slice(gy!, starts, ends), null, null];
    }
    if (mode !== 'reflect' && mode !== 'edge') throw new ShapeError(`autodiff: Pad mode "${mode}" has no gradient rule (constant, reflect, edge)`);
    // Reflect/edge padding copies border values outwards, axis by axis; the adjoint folds each padded
    // border back onto the values it copied (summed), one axis at a time.
    let g = gy!;
    x.shape.forEach((d, axis) => {
      const [before, after] = [pads[axis], pads[axis + x.rank]];
      if (before || after) g = foldPadAxis(g, axis, d, before, after, mode);
    });
    return [g, null, null];
  },
  Gather: (n, [gy]) => {
    const data = input(n, 0);
    const idx = input(n, 1);
    if (intAttr(n, 'axis', 0) !== 0) throw new ShapeError(`autodiff: Gather ${n.name} on axis ${intAttr(n, 'axis', 0)} has no gradient rule (only axis 0)`);
    const vocab = data.shape[0];
    const rest = data.shape.slice(1);
    const m = idx.size;
    // One-hot (M, V) from the indices, then dData = onehotᵀ @ dY: no scatter kernel needed.
    const ids = data.graph.constant(
      BigInt64Array.from({ length: vocab }, (_, i) => BigInt(i)),
      [1, vocab],
      'int64',
      'vocab_ids',
    );
    const onehot = cast(equal(reshape(cast(idx, 'int64'), [m, 1]), ids), 'float32');
    const dData = matmul(transposeLast(onehot), reshape(gy!, [m, sizeOf(rest)]));
    return [reshape(dData, [...data.shape]), null];
  },

  Conv: (n, [gy]) => {
    const [x, w] = [input(n, 0), input(n, 1)];
    const geo = convGeometry(w.rank - 2, {
      strides: intsAttr(n, 'strides'),
      pads: intsAttr(n, 'pads'),
      dilations: intsAttr(n, 'dilations'),
      group: intAttr(n, 'group', 1),
    });
    const kernel = [w.shape[2], w.shape[3]] as [number, number];
    return [convInputGrad(x, w, gy!, geo), convWeightGrad(x, gy!, kernel, geo), n.inputs[2] ? reduceSum(gy!, [0, 2, 3]) : null];
  },
  ConvTranspose: (n, [gy]) => {
    const w = input(n, 1);
    const options = { strides: intsAttr(n, 'strides'), pads: intsAttr(n, 'pads'), dilations: intsAttr(n, 'dilations'), group: intAttr(n, 'group', 1) };
    const geo = convGeometry(w.rank - 2, options);
    const kernel = [w.shape[2], w.shape[3]] as [number, number];
    return [convTransposeInputGrad(w, gy!, options), convWeightGrad(gy!, input(n, 0), kernel, geo), n.inputs[2] ? reduceSum(gy!, [0, 2, 3]) : null];
  },
  AveragePool: (n, [gy]) => {
    const x = input(n, 0);
    const kernel = intsAttr(n, 'kernel_shape');
    const strides = intsAttr(n, 'strides');
    const pads = intsAttr(n, 'pads');
    const c = x.shape[1];
    const area = kernel.reduce((p, k) => p * k, 1);
    // Each input cell receives 1/area of every window it is in: a depthwise transposed conv with a flat kernel.
    const w = x.graph.constant(new Float32Array(c * area).fill(1 / area), [c, 1, ...kernel], 'float32', 'avgpool_grad_kernel');
    const gyShape = gy!.shape;
    const outputPadding = kernel.map((k, i) => x.shape[2 + i] - (strides[i] * (gyShape[2 + i] - 1) + k - pads[i] - pads[i + kernel.length]));
    return [convTranspose(gy!, w, null, { strides, pads, group: c, outputPadding })];
  },
  MaxPool: (n, [gy]) => {
    const x = input(n, 0);
    const [, idx] = maxPoolWithIndices(x, { kernel: intsAttr(n, 'kernel_shape'), strides: intsAttr(n, 'strides'), pads: intsAttr(n, 'pads') });
    const flat = scatterAdd(zeros(x, [x.size]), reshape(idx, [-1]), reshape(gy!, [-1]));
    return [reshape(flat, [...x.shape])];
  },
  InstanceNormalization: (n, [gy]) => {
    // Statistics are recomputed from x (cheaper to store nothing); dx is the standard normalisation
    // backward: inv · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)) over the normalised axes.
    const [x, scale] = [input(n, 0), input(n, 1)];
    const axes = x.shape.map((_, i) => i).slice(2);
    const eps = floatAttr(n, 'epsilon', 1e-5);
    const centred = sub(x, reduceMean(x, axes, true));
    const inv = reciprocal(sqrt(add(reduceMean(mul(centred, centred), axes, true), eps)));
    const xhat = mul(centred, inv);
    const perChannel = [x.shape[1], ...axes.map(() => 1)];
    const dxhat = mul(gy!, reshape(scale, perChannel));
    const dx = mul(inv, sub(sub(dxhat, reduceMean(dxhat, axes, true)), mul(xhat, reduceMean(mul(dxhat, xhat), axes, true))));
    const outer = [0, ...axes];
    return [dx, reduceSum(mul(gy!, xhat), outer), reduceSum(gy!, outer)];
  },
  Resize: (n, [gy]) => {
    const x = input(n, 0);
    const mode = n.attrs['mode'];
    const [, , h, w] = x.shape as [number, number, number, number];
    const [nb, c, ho, wo] = gy!.shape as [number, number, number, number];
    if (!mode || !('s' in mode) || mode.s !== 'nearest' || ho % h !== 0 || wo % w !== 0) {
      throw new ShapeError(`autodiff: Resize ${n.name} has a gradient rule for nearest integer upsampling only`);
    }
    // Nearest upsampling by (sh, sw) copies each cell into an sh×sw block: sum the block.
    const blocks = reshape(gy!, [nb, c, h, ho / h, w, wo / w]);
    return [reduceSum(blocks, [3, 5]), null, null];
  },
  // DCR DepthToSpace and SpaceToDepth are each other's inverse, and both only permute elements.
  DepthToSpace: (n, [gy]) => {
    const mode = n.attrs['mode'];
    if (mode && 's' in mode && mode.s !== 'DCR') throw new ShapeError(`autodiff: DepthToSpace ${n.name} has a gradient rule for DCR mode only, got ${mode.s}`);
    return [spaceToDepth(gy!, intAttr(n, 'blocksize', 1))];
  },
  SpaceToDepth: (n, [gy]) => [depthToSpace(gy!, intAttr(n, 'blocksize', 1))],
  // Composite ops (domain ai.gesso, src/graph/ops/fused.ts).
  Silu: siluGrad,
  GroupNorm: groupNormGrad,
  Attention: attentionGrad,
};

/** Whether an op has a gradient rule, or is known to pass none. */
export function hasRule(op: string): boolean {
  return op in RULES || NO_GRADIENT.has(op);
}

export function isNonDifferentiable(op: string): boolean {
  return NO_GRADIENT.has(op);
}
