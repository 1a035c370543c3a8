/**
 * Gradient checking: compares autodiff gradients with central finite differences.
 * The checked function is reduced to a scalar loss L = sum(f(x) * r) with a fixed random r, so every
 * output element matters. Tolerance (float32 throughout): |analytic - numeric| <= ATOL + RTOL * |numeric|
 * with eps = 3e-3, ATOL = 1e-2, RTOL = 3e-2, on a random sample of elements of each input.
 */
import { gradients } from '../../src/autodiff/grad.ts';
import { exportOnnx } from '../../src/graph/export.ts';
import { Graph, type Tensor } from '../../src/graph/graph.ts';
import { mul, reduceSum } from '../../src/graph/ops/index.ts';
import { Rng } from '../../src/core/rng.ts';
import { Session } from '../../src/runtime/session.ts';
import type { HostTensor } from '../../src/runtime/tensor.ts';

export const EPS = 3e-3;
export const ATOL = 1e-2;
export const RTOL = 3e-2;

export interface GradCase {
  /** Builds the function; returns the tensors to differentiate against (graph inputs or params) and the output. */
  build(g: Graph, rng: Rng): { wrt: Tensor[]; out: Tensor };
  /** How to draw input values (default normal(0, 1)); e.g. positive values for Log. */
  sample?: (rng: Rng, n: number, name: string) => Float32Array;
  /** Elements checked per input (default 12). */
  points?: number;
  /** Export with convolutions lowered to ORT's NCHWc kernels of this block (src/graph/nchwc.ts). */
  nchwcBlock?: number;
}

export interface GradCheckResult {
  worst: number;
  failures: string[];
}

export async function gradCheck(c: GradCase, seed = 1): Promise<GradCheckResult> {
  const rng = new Rng(seed);
  const g = new Graph();
  const { wrt, out } = c.build(g, rng);
  const r = g.constant(rng.normal(out.size), out.shape, 'float32', 'probe');
  const loss = reduceSum(mul(out, r));
  const grads = gradients(loss, wrt);
  const outputs: Record<string, Tensor> = { loss };
  grads.forEach((gr, i) => {
    if (!gr) throw new Error(`no gradient for ${wrt[i]?.name}`);
    outputs[`grad_${i}`] = gr;
  });
  const model = exportOnnx(g, { outputs, params: 'inputs', nchwcBlock: c.nchwcBlock ?? 0 });
  const session = await Session.create(model.bytes);
  try {
    const feeds: Record<string, HostTensor> = {};
    for (const inp of model.inputs) {
      const param = g.params.get(inp.name);
      const data = param
        ? param.value
        : (c.sample ?? ((rr, n) => rr.normal(n)))(
            rng,
            inp.shape.reduce((a, b) => a * b, 1),
            inp.name,
          );
      feeds[inp.name] = { dtype: 'float32', dims: [...inp.shape], data: Float32Array.from(data) };
    }
    const base = await session.run(feeds);
    const lossAt = async (name: string, index: number, delta: number): Promise<number> => {
      const feed = feeds[name] as HostTensor;
      const data = Float32Array.from(feed.data as Float32Array);
      data[index] = data[index] + delta;
      const res = await session.run({ ...feeds, [name]: { ...feed, data } }, ['loss']);
      return (res['loss']!.data as Float32Array)[0] as number;
    };
    const failures: string[] = [];
    let worst = 0;
    for (let i = 0; i < wrt.length; i++) {
      const t = wrt[i] as Tensor;
      const analytic = base[`grad_${i}`]?.data as Float32Array;
      const points = Math.min(c.points ?? 12, t.size);
      const picks = rng.shuffle([...Array(t.size).keys()]).slice(0, points);
      for (const k of picks) {
        const numeric = ((await lossAt(t.name, k, EPS)) - (await lossAt(t.name, k, -EPS))) / (2 * EPS);
        const a = analytic[k];
        const err = Math.abs(a - numeric);
        const allowed = ATOL + RTOL * Math.abs(numeric);
        worst = Math.max(worst, err / allowed);
        if (!(err <= allowed)) failures.push(`${t.name}[${k}]: autodiff ${a.toPrecision(5)}, finite difference ${numeric.toPrecision(5)}`);
      }
    }
    return { worst, failures };
  } finally {
    await session.release();
  }
}
