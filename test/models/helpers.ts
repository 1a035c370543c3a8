/** Test helpers for model architectures: run exported models in ONNX Runtime with plain arrays. */
import type { ExportedModel } from '../../src/graph/export.ts';
import { Session } from '../../src/runtime/session.ts';
import type { HostTensor } from '../../src/runtime/tensor.ts';

export function f32(dims: number[], data: Float32Array): HostTensor {
  return { dtype: 'float32', dims, data };
}

export function i64(dims: number[], values: readonly number[]): HostTensor {
  return { dtype: 'int64', dims, data: BigInt64Array.from(values, (v) => BigInt(v)) };
}

export function i32(dims: number[], values: readonly number[]): HostTensor {
  return { dtype: 'int32', dims, data: Int32Array.from(values) };
}

/** Loads `model`, runs each feed set in turn, releases the session; returns float32 outputs per run. */
export async function runModel(
  model: ExportedModel | string,
  feedSets: Record<string, HostTensor>[],
): Promise<Record<string, { dims: number[]; data: Float32Array }>[]> {
  const session = await Session.create(typeof model === 'string' ? model : model.bytes);
  try {
    const results = [];
    for (const feeds of feedSets) {
      const out = await session.run(feeds);
      results.push(Object.fromEntries(Object.entries(out).map(([k, v]) => [k, { dims: v.dims, data: v.data as Float32Array }])));
    }
    return results;
  } finally {
    await session.release();
  }
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return Number.isNaN(worst) ? Infinity : worst;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}
