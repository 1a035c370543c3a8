/**
 * Where a training step spends its time, per ONNX op type, from onnxruntime's own profiler
 * (`enableProfiling`) with gesso's session options. Kernel times are wall time per node, so a preempted
 * node is charged the wait: read them beside the load average. Used by bench/engine_profile.ts and
 * bench/style.ts.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { Rng } from '../../src/core/rng.ts';
import type { Graph } from '../../src/graph/graph.ts';
import { LR_INPUT, STEP_INPUT, type TrainStep } from '../../src/autodiff/train-step.ts';
import { ortSessionOptions } from '../../src/runtime/ort-values.ts';
import type { HostTensor } from '../../src/runtime/tensor.ts';

/** Runs of a fresh training session before profiled ones: the first two allocate and run ~3x slower. */
const UNPROFILED_WARMUP = 2;

interface ProfileEvent {
  cat?: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; input_type_shape?: unknown; output_type_shape?: unknown };
}

export interface OpTypeProfile {
  /** model_run wall ms of each profiled step. */
  stepMs: number[];
  /** Per op type: kernel ms per step and node count. */
  byOp: Map<string, { ms: number; nodes: number }>;
  /** Per node: its op type, kernel ms per step, and its input and output shapes as ORT recorded them. */
  byNode: Map<string, { op: string; ms: number; shapes: string }>;
}

/** Feeds as TrainSession would give them: the graph's parameters, zero optimizer state; `batch` or random normal for the rest. */
function stepFeeds(g: Graph, spec: TrainStep, lr: number, batch: Record<string, HostTensor>): Record<string, ort.Tensor> {
  const rng = new Rng(1);
  const out: Record<string, ort.Tensor> = {};
  const flat = Float32Array.from(spec.params.flatMap((p) => [...(g.params.get(p)?.value ?? [])]));
  for (const i of spec.model.inputs) {
    const size = i.shape.reduce((a, b) => a * b, 1);
    const given = batch[i.name];
    let data: Float32Array;
    if (given) data = given.data as Float32Array;
    else if (i.name === STEP_INPUT) data = Float32Array.of(1);
    else if (i.name === LR_INPUT) data = Float32Array.of(lr);
    else if (g.params.has(i.name)) data = Float32Array.from(g.params.get(i.name)?.value ?? []);
    else if (spec.stateInit[i.name] === 'zeros') data = new Float32Array(size);
    else if (spec.stateInit[i.name] !== undefined) data = flat;
    else data = rng.normal(size);
    out[i.name] = new ort.Tensor('float32', data, [...i.shape]);
  }
  return out;
}

/** Profiles `steps` training steps of `spec` at `threads` intra-op threads, after two unprofiled ones. */
export async function profileTrainStep(
  g: Graph,
  spec: TrainStep,
  o: { threads: number; steps: number; lr?: number; batch?: Record<string, HostTensor> },
): Promise<OpTypeProfile> {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-profile-'));
  try {
    const session = await ort.InferenceSession.create(spec.model.bytes, {
      ...ortSessionOptions({ intraOpThreads: o.threads }),
      enableProfiling: true,
      profileFilePrefix: join(dir, 'step'),
    });
    const f = stepFeeds(g, spec, o.lr ?? 1e-3, o.batch ?? {});
    for (let i = 0; i < UNPROFILED_WARMUP + o.steps; i++) await session.run(f);
    session.endProfiling();
    await session.release();
    const file = join(dir, readdirSync(dir).find((n) => n.startsWith('step')) ?? '');
    const events = JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[];
    const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
    const first = runs[UNPROFILED_WARMUP]?.ts ?? 0;
    const byOp = new Map<string, { ms: number; nodes: number }>();
    const byNode = new Map<string, { op: string; ms: number; shapes: string }>();
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < first) continue;
      const op = e.args?.op_name ?? '?';
      const row = byOp.get(op) ?? { ms: 0, nodes: 0 };
      row.ms += e.dur / 1000 / o.steps;
      row.nodes += 1 / o.steps;
      byOp.set(op, row);
      const name = e.name.replace(/_kernel_time$/, '');
      const node = byNode.get(name) ?? { op, ms: 0, shapes: `${JSON.stringify(e.args?.input_type_shape)} -> ${JSON.stringify(e.args?.output_type_shape)}` };
      node.ms += e.dur / 1000 / o.steps;
      byNode.set(name, node);
    }
    return { stepMs: runs.slice(UNPROFILED_WARMUP).map((r) => r.dur / 1000), byOp, byNode };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
