/**
 * gesso's side of `npm run bench:engine`: the one function that plugs gesso's engine (graph builder
 * → ONNX → onnxruntime-node, training by gesso's own autodiff) into the benchmark; peers, ceiling,
 * FLOPs, table and BENCHMARKS.md are all wired to this interface.
 * Inference exports the forward graph with weights as initializers (ORT prepacks them); training
 * runs the one-graph training step (forward + MSE + backward + Adam) with weights and Adam moments
 * held in the session between steps. Both run in this thread, as each peer does in its process.
 */
import { Rng } from '../src/core/rng.ts';
import { Graph, type Tensor } from '../src/graph/graph.ts';
import { exportOnnx } from '../src/graph/export.ts';
import { mul, reduceMean, sub } from '../src/graph/ops/index.ts';
import { buildTrainStep } from '../src/autodiff/train-step.ts';
import { buildReferenceConvNet } from '../src/models/fixtures/reference-convnet.ts';
import { buildReferenceTransformerBlock } from '../src/models/fixtures/reference-transformer.ts';
import { Session } from '../src/runtime/session.ts';
import type { HostTensor } from '../src/runtime/tensor.ts';
import { TrainSession } from '../src/train/train-session.ts';
import { timeRoundsWithCpu } from './lib/rounds.ts';
import { ADAM, inputShape, type WorkloadName } from './lib/workloads.ts';

export interface GessoRunOptions {
  /** Untimed runs before timing (session creation is never timed). */
  warmup: number;
  /** Timed runs; the report takes their median. */
  rounds: number;
  /** ORT intra-op threads, the same count the PyTorch peer uses. */
  threads: number;
  /** Seed for inputs and targets (`new Rng(seed)`); weights use gesso's default initialisation. */
  seed: number;
}

export type GessoWorkloadResult =
  | {
      /** Forward only (inference), ms per timed round. */
      forwardMs: number[];
      forwardCpuMs: number[];
      /** One training step: forward + MSE loss + backward + Adam update, ms per timed round. */
      trainMs: number[];
      trainCpuMs: number[];
      /** Parameter count of gesso's model, checked against bench/REFERENCE.md. */
      params?: number;
      notes?: string[];
    }
  | { skipped: string };

/** Seed of the weights' initialisation, the same for the inference and the training graph. */
const WEIGHT_SEED = 0;

/** A fresh graph holding the workload's model applied to an input `x`. */
function buildGraph(name: WorkloadName): { g: Graph; x: Tensor; out: Tensor } {
  const g = new Graph();
  const rng = new Rng(WEIGHT_SEED);
  const x = g.input('x', inputShape(name));
  const model = name === 'convnet' ? buildReferenceConvNet(g, rng) : buildReferenceTransformerBlock(g, rng);
  return { g, x, out: model.forward(x) };
}

function seeded(shape: number[], rng: Rng): HostTensor {
  return { dtype: 'float32', dims: shape, data: rng.normal(shape.reduce((a, b) => a * b, 1)) };
}

async function timeForward(name: WorkloadName, x: HostTensor, opts: GessoRunOptions): Promise<{ ms: number[]; cpuMs: number[]; params: number }> {
  const { g, out } = buildGraph(name);
  const model = exportOnnx(g, { outputs: { y: out }, params: 'initializers', name: `${name}_forward` });
  const session = await Session.create(model.bytes, { name: `${name} forward`, intraOpThreads: opts.threads });
  try {
    return { ...(await timeRoundsWithCpu(() => session.run({ x }), opts)), params: g.paramCount() };
  } finally {
    await session.release();
  }
}

async function timeTrain(name: WorkloadName, x: HostTensor, y: HostTensor, opts: GessoRunOptions): Promise<{ ms: number[]; cpuMs: number[] }> {
  const { g, out } = buildGraph(name);
  const target = g.input('y', inputShape(name));
  const diff = sub(out, target);
  const loss = reduceMean(mul(diff, diff)); // MSE over every element
  const spec = buildTrainStep(g, { loss, optimizer: { kind: 'adam', beta1: ADAM.beta1, beta2: ADAM.beta2, eps: ADAM.eps } });
  const session = await TrainSession.create(g, spec, { inProcess: true, threads: opts.threads });
  try {
    return await timeRoundsWithCpu(() => session.step({ x, y }, ADAM.lr), opts);
  } finally {
    await session.release();
  }
}

/** Times gesso on one reference workload of bench/REFERENCE.md. */
export async function gessoWorkload(name: WorkloadName, opts: GessoRunOptions): Promise<GessoWorkloadResult> {
  const rng = new Rng(opts.seed);
  const x = seeded(inputShape(name), rng);
  const y = seeded(inputShape(name), rng);
  const forward = await timeForward(name, x, opts);
  const train = await timeTrain(name, x, y, opts);
  return { forwardMs: forward.ms, forwardCpuMs: forward.cpuMs, trainMs: train.ms, trainCpuMs: train.cpuMs, params: forward.params };
}
