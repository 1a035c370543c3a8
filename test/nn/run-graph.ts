/** Test helpers: run a built graph in ONNX Runtime, and give parameters random values. */
import type { Rng } from '../../src/core/rng.ts';
import { exportOnnx } from '../../src/graph/export.ts';
import type { Graph, Tensor } from '../../src/graph/graph.ts';
import { Session } from '../../src/runtime/session.ts';
import type { HostTensor } from '../../src/runtime/tensor.ts';

/** Runs `outputs` with parameters baked in as initializers; feeds are float32 unless given as HostTensor. */
export async function runGraph(
  g: Graph,
  outputs: Record<string, Tensor>,
  feeds: Record<string, Float32Array | HostTensor>,
): Promise<Record<string, Float32Array>> {
  const model = exportOnnx(g, { outputs, params: 'initializers' });
  const session = await Session.create(model.bytes);
  try {
    const host: Record<string, HostTensor> = {};
    for (const inp of model.inputs) {
      const f = feeds[inp.name];
      if (!f) throw new Error(`no feed for ${inp.name}`);
      host[inp.name] = f instanceof Float32Array ? { dtype: 'float32', dims: [...inp.shape], data: f } : f;
    }
    const out = await session.run(host);
    const result: Record<string, Float32Array> = {};
    for (const [k, v] of Object.entries(out)) result[k] = v.data as Float32Array;
    return result;
  } finally {
    await session.release();
  }
}

/** Replaces every parameter's initial value with normal(mean, std) samples, so affine parts are tested too. */
export function randomizeParams(g: Graph, rng: Rng, std = 0.5, mean = 0): void {
  for (const p of g.params.values()) p.value = rng.normal(p.value.length, std, mean);
}

/** The current value of a parameter by full name. */
export function paramValue(g: Graph, name: string): Float32Array {
  const p = g.params.get(name);
  if (!p) throw new Error(`no parameter ${name}; have ${[...g.params.keys()].join(', ')}`);
  return p.value;
}

/** Largest absolute difference, after checking lengths. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return Number.isNaN(worst) ? Infinity : worst;
}
