/** Convolutions and pooling over NCHW tensors (2-D; the spatial rank follows the weight). */
import { ShapeError } from '../../core/errors.ts';
import type { Tensor } from '../graph.ts';
import type { Attr } from '../types.ts';
import { formatShape } from '../types.ts';

export interface ConvOptions {
  strides?: readonly number[];
  /** ONNX layout: [top, left, bottom, right] for 2-D; a single number pads every side. */
  pads?: readonly number[] | number;
  dilations?: readonly number[];
  group?: number;
}

export interface ConvTransposeOptions extends ConvOptions {
  outputPadding?: readonly number[];
}

/** Fills in defaults for a spatial rank. */
export function convGeometry(spatial: number, o: ConvOptions): { strides: number[]; pads: number[]; dilations: number[]; group: number } {
  const pads = typeof o.pads === 'number' ? new Array<number>(2 * spatial).fill(o.pads) : [...(o.pads ?? new Array<number>(2 * spatial).fill(0))];
  return {
    strides: [...(o.strides ?? new Array<number>(spatial).fill(1))],
    pads,
    dilations: [...(o.dilations ?? new Array<number>(spatial).fill(1))],
    group: o.group ?? 1,
  };
}

function geometryAttrs(geo: { strides: number[]; pads: number[]; dilations: number[]; group: number }) {
  return { strides: { ints: geo.strides }, pads: { ints: geo.pads }, dilations: { ints: geo.dilations }, group: { i: geo.group } };
}

/** Conv: x (N, C, H, W), w (O, C/group, kH, kW), b (O) -> (N, O, H', W'). */
export function conv(x: Tensor, w: Tensor, b: Tensor | null, options: ConvOptions = {}): Tensor {
  const spatial = w.rank - 2;
  if (x.rank !== w.rank || spatial < 1) throw new ShapeError(`Conv: input ${formatShape(x.shape)} and weight ${formatShape(w.shape)} ranks do not fit`);
  const geo = convGeometry(spatial, options);
  const [n, c] = x.shape as [number, number];
  const [o, cg] = w.shape as [number, number];
  if (c !== cg * geo.group || o % geo.group !== 0) {
    throw new ShapeError(
      `Conv: input ${formatShape(x.shape)} has ${c} channels, weight ${formatShape(w.shape)} with group ${geo.group} expects ${cg * geo.group}`,
    );
  }
  if (b && (b.rank !== 1 || b.shape[0] !== o)) throw new ShapeError(`Conv: bias ${formatShape(b.shape)} does not match ${o} output channels`);
  const out = [n, o];
  for (let i = 0; i < spatial; i++) {
    const size = x.shape[2 + i];
    const k = w.shape[2 + i];
    const span = geo.dilations[i] * (k - 1) + 1;
    const padded = size + geo.pads[i] + geo.pads[i + spatial];
    if (padded < span) throw new ShapeError(`Conv: kernel ${formatShape(w.shape)} is larger than the padded input ${formatShape(x.shape)}`);
    out.push(Math.floor((padded - span) / geo.strides[i]) + 1);
  }
  const inputs = b ? [x, w, b] : [x, w];
  return x.graph.addNode('Conv', inputs, geometryAttrs(geo), [{ shape: out, dtype: x.dtype }])[0] as Tensor;
}

/** ConvTranspose: x (N, C, H, W), w (C, O/group, kH, kW) -> (N, O, H', W'). */
export function convTranspose(x: Tensor, w: Tensor, b: Tensor | null, options: ConvTransposeOptions = {}): Tensor {
  const spatial = w.rank - 2;
  if (x.rank !== w.rank || spatial < 1)
    throw new ShapeError(`ConvTranspose: input ${formatShape(x.shape)} and weight ${formatShape(w.shape)} ranks do not fit`);
  const geo = convGeometry(spatial, options);
  const outputPadding = [...(options.outputPadding ?? new Array<number>(spatial).fill(0))];
  const [n, c] = x.shape as [number, number];
  if (w.shape[0] !== c)
    throw new ShapeError(`ConvTranspose: input ${formatShape(x.shape)} has ${c} channels, weight ${formatShape(w.shape)} expects ${w.shape[0]}`);
  const o = w.shape[1] * geo.group;
  if (b && (b.rank !== 1 || b.shape[0] !== o)) throw new ShapeError(`ConvTranspose: bias ${formatShape(b.shape)} does not match ${o} output channels`);
  const out = [n, o];
  for (let i = 0; i < spatial; i++) {
    const size = x.shape[2 + i];
    const k = w.shape[2 + i];
    const d = geo.strides[i] * (size - 1) + outputPadding[i] + geo.dilations[i] * (k - 1) + 1 - geo.pads[i] - geo.pads[i + spatial];
    if (d <= 0) throw new ShapeError(`ConvTranspose: output size ${d} from input ${formatShape(x.shape)}`);
    out.push(d);
  }
  const attrs = { ...geometryAttrs(geo), output_padding: { ints: outputPadding } };
  return x.graph.addNode('ConvTranspose', b ? [x, w, b] : [x, w], attrs, [{ shape: out, dtype: x.dtype }])[0] as Tensor;
}

export interface PoolOptions {
  kernel: readonly number[];
  strides?: readonly number[];
  pads?: readonly number[] | number;
}

function poolShape(op: string, x: Tensor, o: PoolOptions): { shape: number[]; strides: number[]; pads: number[] } {
  const spatial = o.kernel.length;
  if (x.rank !== spatial + 2) throw new ShapeError(`${op}: input ${formatShape(x.shape)} does not fit a ${spatial}-D kernel`);
  const geo = convGeometry(spatial, { strides: o.strides ?? o.kernel, pads: o.pads ?? 0 });
  const shape = [x.shape[0], x.shape[1]];
  for (let i = 0; i < spatial; i++) {
    const padded = x.shape[2 + i] + geo.pads[i] + geo.pads[i + spatial];
    const k = o.kernel[i];
    if (padded < k) throw new ShapeError(`${op}: kernel ${formatShape(o.kernel)} is larger than input ${formatShape(x.shape)}`);
    shape.push(Math.floor((padded - k) / geo.strides[i]) + 1);
  }
  return { shape, strides: geo.strides, pads: geo.pads };
}

/** Average pooling; padded cells count in the divisor (count_include_pad = 1). */
export function avgPool(x: Tensor, o: PoolOptions): Tensor {
  const { shape, strides, pads } = poolShape('AveragePool', x, o);
  const attrs = { kernel_shape: { ints: o.kernel }, strides: { ints: strides }, pads: { ints: pads }, count_include_pad: { i: 1 } };
  return x.graph.addNode('AveragePool', [x], attrs, [{ shape, dtype: x.dtype }])[0] as Tensor;
}

/** Max pooling. */
export function maxPool(x: Tensor, o: PoolOptions): Tensor {
  const { shape, strides, pads } = poolShape('MaxPool', x, o);
  const attrs = { kernel_shape: { ints: o.kernel }, strides: { ints: strides }, pads: { ints: pads } };
  return x.graph.addNode('MaxPool', [x], attrs, [{ shape, dtype: x.dtype }])[0] as Tensor;
}

/** Max pooling that also returns the flat (N*C*H*W) index of each maximum, for its gradient. */
export function maxPoolWithIndices(x: Tensor, o: PoolOptions): [Tensor, Tensor] {
  const { shape, strides, pads } = poolShape('MaxPool', x, o);
  const attrs = { kernel_shape: { ints: o.kernel }, strides: { ints: strides }, pads: { ints: pads } };
  const [y, idx] = x.graph.addNode('MaxPool', [x], attrs, [
    { shape, dtype: x.dtype },
    { shape, dtype: 'int64' },
  ]);
  return [y as Tensor, idx as Tensor];
}

/** Scatters `updates` into `data` at `indices` along `axis`, adding where indices repeat. */
export function scatterAdd(data: Tensor, indices: Tensor, updates: Tensor, axis = 0): Tensor {
  if (indices.shape.join() !== updates.shape.join())
    throw new ShapeError(`ScatterElements: indices ${formatShape(indices.shape)} and updates ${formatShape(updates.shape)} differ`);
  const attrs = { axis: { i: axis }, reduction: { s: 'add' } };
  return data.graph.addNode('ScatterElements', [data, indices, updates], attrs, [{ shape: data.shape, dtype: data.dtype }])[0] as Tensor;
}

/**
 * Resize of the spatial dims by integer or fractional `scale`. Nearest uses PyTorch's rule
 * (asymmetric coordinates, floor); bilinear uses half-pixel centres (PyTorch align_corners=False).
 */
export function resize(x: Tensor, scale: number, mode: 'nearest' | 'bilinear' = 'nearest'): Tensor {
  if (x.rank !== 4) throw new ShapeError(`Resize: needs (N, C, H, W), got ${formatShape(x.shape)}`);
  if (!(scale > 0)) throw new ShapeError(`Resize: scale ${scale} must be > 0`);
  const g = x.graph;
  const shape = [x.shape[0], x.shape[1], Math.floor(x.shape[2] * scale), Math.floor(x.shape[3] * scale)];
  const scales = g.constant(Float32Array.from([1, 1, scale, scale]), [4], 'float32', 'scales');
  const attrs: Record<string, Attr> =
    mode === 'nearest'
      ? { mode: { s: 'nearest' }, coordinate_transformation_mode: { s: 'asymmetric' }, nearest_mode: { s: 'floor' } }
      : { mode: { s: 'linear' }, coordinate_transformation_mode: { s: 'half_pixel' } };
  return g.addNode('Resize', [x, null, scales], attrs, [{ shape, dtype: x.dtype }])[0] as Tensor;
}
