/**
 * gesso's side of `npm run bench:engine`: the one function that plugs gesso's engine (graph builder
 * → ONNX → onnxruntime-node, training by gesso's own autodiff) into the benchmark. Everything else
 * in bench/ — peers, ceiling, FLOPs, table, BENCHMARKS.md — is already wired to this interface.
 * Until the engine can build and train the reference workloads it returns `{ skipped }`, and the
 * report says "skipped": no number is ever made up here.
 */
import type { WorkloadName } from './lib/workloads.ts';

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
      /** One training step: forward + MSE loss + backward + Adam update, ms per timed round. */
      trainMs: number[];
      /** Parameter count of gesso's model, checked against bench/REFERENCE.md. */
      params?: number;
      notes?: string[];
    }
  | { skipped: string };

/**
 * Times gesso on one reference workload of bench/REFERENCE.md.
 *
 * TODO(engine): wire the engine in here once it exists; nothing in src/models/ or src/autodiff/ can
 * build or train these workloads yet. The expected shape, with names to adapt to the real API:
 *
 *   const model = name === 'convnet' ? buildReferenceConvNet() : buildReferenceTransformerBlock(); // src/models/
 *   const infer = await createInferenceSession(model.forwardOnnx(), { threads: opts.threads });  // src/runtime/
 *   const train = await createTrainingStep(model, { loss: 'mse', optimizer: adam(ADAM), threads: opts.threads });
 *       // one ONNX graph: forward + loss + backward + Adam, weights and moments carried between runs
 *   const rng = new Rng(opts.seed);
 *   const x = rng.normal(size(inputShape(name))), y = rng.normal(size(inputShape(name)));
 *   const forwardMs = await timeRounds(() => infer.run({ x }), opts);        // bench/lib/rounds.ts
 *   const trainMs = await timeRounds(() => train.step({ x, y }), opts);
 *   return { forwardMs, trainMs, params: model.parameterCount() };
 *
 * Use ADAM and inputShape() from bench/lib/workloads.ts so gesso runs exactly the peers' workload.
 */
export async function gessoWorkload(_name: WorkloadName, _opts: GessoRunOptions): Promise<GessoWorkloadResult> {
  return { skipped: 'engine not built yet' };
}
