/** Ops that move data without arithmetic: reshape, transpose, concat, slice, split, gather, pad, expand. */
import { ShapeError } from '../../core/errors.ts';
import type { Tensor } from '../graph.ts';
import { formatShape, sizeOf } from '../types.ts';
import { broadcastShapes, normAxis } from './util.ts';

/** Reshape to `shape`; one dim may be -1 (inferred). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1);
  const free = shape.length - known.length;
  if (free > 1) throw new ShapeError(`Reshape: at most one -1 dim, got ${formatShape(shape)}`);
  const out = [...shape];
  if (free === 1) {
    const rest = sizeOf(known);
    if (rest === 0 || x.size % rest !== 0) throw new ShapeError(`Reshape: cannot reshape ${formatShape(x.shape)} to ${formatShape(shape)}`);
    out[out.indexOf(-1)] = x.size / rest;
  }
  if (sizeOf(out) !== x.size) throw new ShapeError(`Reshape: ${formatShape(x.shape)} has ${x.size} elements, ${formatShape(shape)} needs ${sizeOf(out)}`);
  // Emit 0 ("copy the input's dim") for leading dims that stay the same, and keep the caller's -1, so a
  // model exported with a dynamic batch (or spatial) dim still reshapes right at other sizes.
  const emitted = [...shape];
  for (let i = 0; i < emitted.length && i < x.rank; i++) {
    if (emitted[i] === x.shape[i]) emitted[i] = 0;
    else break;
  }
  const g = x.graph;
  return g.addNode('Reshape', [x, g.int64s(emitted)], {}, [{ shape: out, dtype: x.dtype }])[0] as Tensor;
}

/** Reshape `x` to the runtime shape of `like` (stays right when `like`'s dims are dynamic). */
export function reshapeLike(x: Tensor, like: Tensor): Tensor {
  if (x.size !== like.size) throw new ShapeError(`Reshape: ${formatShape(x.shape)} has ${x.size} elements, ${formatShape(like.shape)} needs ${like.size}`);
  const g = x.graph;
  const target = g.addNode('Shape', [like], {}, [{ shape: [like.rank], dtype: 'int64' }])[0] as Tensor;
  return g.addNode('Reshape', [x, target], {}, [{ shape: like.shape, dtype: x.dtype }])[0] as Tensor;
}

export function transpose(x: Tensor, perm: readonly number[]): Tensor {
  const sorted = [...perm].sort((a, b) => a - b);
  if (perm.length !== x.rank || sorted.some((p, i) => p !== i)) {
    throw new ShapeError(`Transpose: perm ${formatShape(perm)} is not a permutation of ${x.rank} axes (input ${formatShape(x.shape)})`);
  }
  const shape = perm.map((p) => x.shape[p]);
  return x.graph.addNode('Transpose', [x], { perm: { ints: perm } }, [{ shape, dtype: x.dtype }])[0] as Tensor;
}

/** Swaps the last two axes. */
export function transposeLast(x: Tensor): Tensor {
  const perm = x.shape.map((_, i) => i);
  perm[x.rank - 1] = x.rank - 2;
  perm[x.rank - 2] = x.rank - 1;
  return transpose(x, perm);
}

export function concat(xs: readonly Tensor[], axis: number): Tensor {
  const first = xs[0];
  if (!first) throw new ShapeError('Concat: needs at least one input');
  const a = normAxis('Concat', axis, first.rank);
  let total = 0;
  for (const x of xs) {
    if (x.rank !== first.rank || x.dtype !== first.dtype || x.shape.some((d, i) => i !== a && d !== first.shape[i])) {
      throw new ShapeError(`Concat on axis ${a}: ${formatShape(first.shape)} ${first.dtype} and ${formatShape(x.shape)} ${x.dtype} do not fit`);
    }
    total += x.shape[a];
  }
  const shape = [...first.shape];
  shape[a] = total;
  return first.graph.addNode('Concat', xs, { axis: { i: a } }, [{ shape, dtype: first.dtype }])[0] as Tensor;
}

/** Slice along `axes` from `starts` to `ends` (exclusive) with optional `steps`, clamped as ONNX does. */
export function slice(x: Tensor, starts: readonly number[], ends: readonly number[], axes?: readonly number[], steps?: readonly number[]): Tensor {
  const ax = (axes ?? starts.map((_, i) => i)).map((a) => normAxis('Slice', a, x.rank));
  const st = steps ?? ax.map(() => 1);
  if (starts.length !== ax.length || ends.length !== ax.length || st.length !== ax.length) {
    throw new ShapeError('Slice: starts, ends, axes and steps must have the same length');
  }
  const shape = [...x.shape];
  ax.forEach((axis, i) => {
    const dim = x.shape[axis];
    const step = st[i];
    if (step === 0) throw new ShapeError('Slice: step 0');
    const clampIdx = (v: number, lo: number, hi: number): number => Math.min(Math.max(v < 0 ? v + dim : v, lo), hi);
    let len: number;
    if (step > 0) {
      const s = clampIdx(starts[i], 0, dim);
      const e = clampIdx(ends[i], 0, dim);
      len = Math.max(0, Math.ceil((e - s) / step));
    } else {
      const s = clampIdx(starts[i], -1, dim - 1);
      const e = clampIdx(ends[i], -1, dim - 1);
      len = Math.max(0, Math.ceil((s - e) / -step));
    }
    shape[axis] = len;
  });
  const g = x.graph;
  const inputs = [x, g.int64s(starts), g.int64s(ends), g.int64s(ax), g.int64s(st)];
  return g.addNode('Slice', inputs, {}, [{ shape, dtype: x.dtype }])[0] as Tensor;
}

/** Splits along `axis` into pieces of the given sizes. */
export function split(x: Tensor, sizes: readonly number[], axis: number): Tensor[] {
  const a = normAxis('Split', axis, x.rank);
  const total = sizes.reduce((s, v) => s + v, 0);
  if (total !== x.shape[a])
    throw new ShapeError(`Split: sizes ${formatShape(sizes)} add up to ${total}, axis ${a} of ${formatShape(x.shape)} is ${x.shape[a]}`);
  const g = x.graph;
  const outs = sizes.map((s) => {
    const shape = [...x.shape];
    shape[a] = s;
    return { shape, dtype: x.dtype };
  });
  return g.addNode('Split', [x, g.int64s(sizes)], { axis: { i: a } }, outs);
}

/** Gathers rows of `data` along `axis` by int64/int32 `indices` (Embedding lookups). */
export function gather(data: Tensor, indices: Tensor, axis = 0): Tensor {
  const a = normAxis('Gather', axis, data.rank);
  if (indices.dtype !== 'int64' && indices.dtype !== 'int32') throw new ShapeError(`Gather: indices must be int64 or int32, got ${indices.dtype}`);
  const shape = [...data.shape.slice(0, a), ...indices.shape, ...data.shape.slice(a + 1)];
  return data.graph.addNode('Gather', [data, indices], { axis: { i: a } }, [{ shape, dtype: data.dtype }])[0] as Tensor;
}

/** Pads with a constant; `pads` lists [begin_0, ..., begin_n, end_0, ..., end_n] as ONNX does. */
export function pad(x: Tensor, pads: readonly number[], value = 0, mode: 'constant' | 'reflect' | 'edge' = 'constant'): Tensor {
  if (pads.length !== 2 * x.rank) throw new ShapeError(`Pad: ${pads.length} pad values for rank ${x.rank} (need ${2 * x.rank})`);
  const shape = x.shape.map((d, i) => d + pads[i] + pads[i + x.rank]);
  if (shape.some((d) => d < 0)) throw new ShapeError(`Pad: pads ${formatShape(pads)} make a negative dim from ${formatShape(x.shape)}`);
  const g = x.graph;
  return g.addNode('Pad', [x, g.int64s(pads), g.scalar(value, x.dtype)], { mode: { s: mode } }, [{ shape, dtype: x.dtype }])[0] as Tensor;
}

/** Broadcasts to `shape` (ONNX Expand). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  const out = broadcastShapes('Expand', x.shape, shape);
  const g = x.graph;
  return g.addNode('Expand', [x, g.int64s(shape)], {}, [{ shape: out, dtype: x.dtype }])[0] as Tensor;
}

/** Inserts a size-1 axis (as a Reshape, which needs no opset-specific axes input). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normAxis('Unsqueeze', axis, x.rank + 1);
  const shape = [...x.shape];
  shape.splice(a, 0, 1);
  return reshape(x, shape);
}

/** Flattens all dims from `axis` on into one. */
export function flatten(x: Tensor, axis = 1): Tensor {
  return reshape(x, [...x.shape.slice(0, axis), sizeOf(x.shape.slice(axis))]);
}
