/** What every nn layer shares: the one-input `Layer` contract and the checks that name the layer in errors. */
import { InputError, ShapeError } from '../core/errors.ts';
import type { Tensor } from '../graph/graph.ts';
import { formatShape } from '../graph/types.ts';

/** A layer with one tensor in and one out; `Sequential` chains these. */
export interface Layer {
  forward(x: Tensor): Tensor;
}

/** A layer's full dotted name, read off one of its parameters (`unet.down.0.conv.weight` -> `unet.down.0.conv`). */
export function nameOf(param: Tensor, leaf: string): string {
  const suffix = `.${leaf}`;
  return param.name.endsWith(suffix) ? param.name.slice(0, -suffix.length) : param.name;
}

/**
 * Throws a ShapeError naming the layer, the shape it expects and the shape it got, e.g.
 * `Linear "proj" (in 256): expected input (..., 256), got float32 [2, 7, 128]`.
 */
export function expectInput(ok: boolean, layer: string, expected: string, x: Tensor, what = 'input'): void {
  if (!ok) throw new ShapeError(`${layer}: expected ${what} ${expected}, got ${x.dtype} ${formatShape(x.shape)}`);
}

/** Config checks: a size that must be a positive integer. */
export function positiveInt(layer: string, key: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) throw new InputError(`${layer}: ${key} ${value} must be a positive integer`);
  return value;
}

/** Config checks: a number or a [h, w] pair of non-negative (or positive) integers. */
export function pair(layer: string, key: string, value: number | readonly [number, number], min: number): [number, number] {
  const p: [number, number] = typeof value === 'number' ? [value, value] : [value[0], value[1]];
  if (p.some((v) => !Number.isInteger(v) || v < min)) throw new InputError(`${layer}: ${key} ${formatShape(p)} must be integers >= ${min}`);
  return p;
}
