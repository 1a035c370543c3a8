/**
 * The quick-start demo: a 2-16-1 MLP learns XOR with gesso's engine (graph -> autodiff -> one ONNX
 * training step run by ONNX Runtime in a worker thread), then prints its predictions.
 */
import { Rng } from '../core/rng.ts';
import { Graph } from '../graph/graph.ts';
import { add, matmul, mul, reduceMean, sigmoid, sub, tanh } from '../graph/ops/index.ts';
import { buildTrainStep } from '../autodiff/train-step.ts';
import { exportOnnx } from '../graph/export.ts';
import { Session } from '../runtime/session.ts';
import { trainLoop } from './loop.ts';
import { constantLr } from './lr-schedule.ts';
import { TrainSession } from './train-session.ts';

export const XOR_INPUTS = [0, 0, 0, 1, 1, 0, 1, 1];
export const XOR_TARGETS = [0, 1, 1, 0];

function buildMlp(g: Graph, rng: Rng, x: ReturnType<Graph['input']>) {
  const hidden = 16;
  const w1 = g.param('w1', [2, hidden], rng.normal(2 * hidden, 1));
  const b1 = g.param('b1', [hidden], new Float32Array(hidden));
  const w2 = g.param('w2', [hidden, 1], rng.normal(hidden, 1 / Math.sqrt(hidden)));
  const b2 = g.param('b2', [1], new Float32Array(1));
  return sigmoid(add(matmul(tanh(add(matmul(x, w1), b1)), w2), b2)); // (4, 1)
}

export interface XorResult {
  predictions: number[];
  firstLoss: number;
  lastLoss: number;
  steps: number;
}

export async function trainXor(options: { steps?: number; seed?: number; quiet?: boolean } = {}): Promise<XorResult> {
  const rng = new Rng(options.seed ?? 0);
  const g = new Graph();
  const x = g.input('x', [4, 2]);
  const y = g.input('y', [4, 1]);
  const p = buildMlp(g, rng, x);
  const loss = reduceMean(mul(sub(p, y), sub(p, y)));
  const spec = buildTrainStep(g, { loss, optimizer: { kind: 'adam' } });
  const session = await TrainSession.create(g, spec);
  const batch = {
    x: { dtype: 'float32' as const, dims: [4, 2], data: Float32Array.from(XOR_INPUTS) },
    y: { dtype: 'float32' as const, dims: [4, 1], data: Float32Array.from(XOR_TARGETS) },
  };
  const steps = options.steps ?? 500;
  try {
    const { results } = await trainLoop({ session, batch: () => batch, steps, lr: constantLr(0.05), label: 'xor', quiet: options.quiet ?? false });
    // Inference: the same graph exported with the trained weights as initializers.
    const trained = await session.values();
    for (const [name, value] of trained) (g.params.get(name) as { value: Float32Array }).value = value;
    const model = exportOnnx(g, { outputs: { p }, params: 'initializers' });
    const infer = await Session.create(model.bytes);
    const out = await infer.run({ x: batch.x });
    await infer.release();
    return {
      predictions: Array.from(out['p']?.data as Float32Array),
      firstLoss: results[0]?.loss ?? Number.NaN,
      lastLoss: results[results.length - 1]?.loss ?? Number.NaN,
      steps,
    };
  } finally {
    await session.release();
  }
}
