/**
 * Where the conv net's training step spends its time, per ONNX op type: onnxruntime's own profiler
 * (`enableProfiling`), the step run at 1 and at N intra-op threads with gesso's session options.
 * The ratio column shows which op types the second thread speeds up; ORT's Slice, Concat, Pad and
 * most Transposes run on one thread. Kernel times are wall time per node, so a preempted node is
 * charged the wait: read them beside the load average.
 *   node --import tsx bench/engine_profile.ts [--threads 2] [--steps 4]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import ort from 'onnxruntime-node';
import { Rng } from '../src/core/rng.ts';
import { Graph } from '../src/graph/graph.ts';
import { mul, reduceMean, sub } from '../src/graph/ops/index.ts';
import { buildTrainStep, LR_INPUT, STEP_INPUT } from '../src/autodiff/train-step.ts';
import { buildReferenceConvNet } from '../src/models/fixtures/reference-convnet.ts';
import { ortSessionOptions } from '../src/runtime/ort-values.ts';
import { currentLoad } from './lib/machine.ts';
import { ADAM, inputShape } from './lib/workloads.ts';

/** Runs of a fresh training session before profiled ones: the first two allocate and run ~3x slower. */
const UNPROFILED_WARMUP = 2;

interface ProfileEvent {
  cat?: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

const { values } = parseArgs({ options: { threads: { type: 'string', default: '2' }, steps: { type: 'string', default: '4' } } });
const threads = Number(values.threads);
const steps = Number(values.steps);

const g = new Graph();
const input = g.input('x', inputShape('convnet')); // (8, 3, 64, 64)
const target = g.input('y', inputShape('convnet'));
const diff = sub(buildReferenceConvNet(g, new Rng(0)).forward(input), target);
const spec = buildTrainStep(g, { loss: reduceMean(mul(diff, diff)), optimizer: { kind: 'adam', beta1: ADAM.beta1, beta2: ADAM.beta2, eps: ADAM.eps } });

/** Feeds as TrainSession would give them: the graph's parameters, zero optimizer state, a random batch. */
function feeds(): Record<string, ort.Tensor> {
  const rng = new Rng(1);
  const out: Record<string, ort.Tensor> = {};
  const flat = Float32Array.from(spec.params.flatMap((p) => [...(g.params.get(p)?.value ?? [])]));
  for (const i of spec.model.inputs) {
    const size = i.shape.reduce((a, b) => a * b, 1);
    let data: Float32Array;
    if (i.name === STEP_INPUT) data = Float32Array.of(1);
    else if (i.name === LR_INPUT) data = Float32Array.of(ADAM.lr);
    else if (g.params.has(i.name)) data = Float32Array.from(g.params.get(i.name)?.value ?? []);
    else if (spec.stateInit[i.name] === 'zeros') data = new Float32Array(size);
    else if (spec.stateInit[i.name] !== undefined) data = flat;
    else data = rng.normal(size);
    out[i.name] = new ort.Tensor('float32', data, [...i.shape]);
  }
  return out;
}

/** Per op type: kernel ms per step, and node count. */
async function profile(intraOp: number, dir: string): Promise<{ stepMs: number[]; byOp: Map<string, { ms: number; nodes: number }> }> {
  const session = await ort.InferenceSession.create(spec.model.bytes, {
    ...ortSessionOptions({ intraOpThreads: intraOp }),
    enableProfiling: true,
    profileFilePrefix: join(dir, `t${intraOp}`),
  });
  const f = feeds();
  for (let i = 0; i < UNPROFILED_WARMUP + steps; i++) await session.run(f);
  session.endProfiling();
  await session.release();
  const file = join(dir, readdirSync(dir).find((n) => n.startsWith(`t${intraOp}`)) ?? '');
  const events = JSON.parse(readFileSync(file, 'utf8')) as ProfileEvent[];
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const first = runs[UNPROFILED_WARMUP]?.ts ?? 0;
  const byOp = new Map<string, { ms: number; nodes: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < first) continue;
    const op = e.args?.op_name ?? '?';
    const row = byOp.get(op) ?? { ms: 0, nodes: 0 };
    row.ms += e.dur / 1000 / steps;
    row.nodes += 1 / steps;
    byOp.set(op, row);
  }
  return { stepMs: runs.slice(UNPROFILED_WARMUP).map((r) => r.dur / 1000), byOp };
}

const dir = mkdtempSync(join(tmpdir(), 'gesso-profile-'));
try {
  const loadBefore = currentLoad();
  const one = await profile(1, dir);
  const many = await profile(threads, dir);
  const total = (m: Map<string, { ms: number }>): number => [...m.values()].reduce((a, r) => a + r.ms, 0);
  console.log(`conv-net training step, ${steps} profiled steps each; 1-minute load ${loadBefore} -> ${currentLoad()}`);
  console.log(
    `model_run ms: 1 thread ${one.stepMs.map((v) => v.toFixed(0)).join(', ')}; ${threads} threads ${many.stepMs.map((v) => v.toFixed(0)).join(', ')}`,
  );
  console.log(`${'op type'.padEnd(22)} ${'nodes'.padStart(5)} ${'1T ms'.padStart(8)} ${`${threads}T ms`.padStart(8)} ${'speed-up'.padStart(8)}`);
  const ops = [...one.byOp.entries()].sort((a, b) => b[1].ms - a[1].ms);
  for (const [op, r] of ops) {
    const m = many.byOp.get(op)?.ms ?? 0;
    console.log(
      `${op.padEnd(22)} ${Math.round(r.nodes).toString().padStart(5)} ${r.ms.toFixed(1).padStart(8)} ${m.toFixed(1).padStart(8)} ${(m > 0 ? r.ms / m : 0).toFixed(2).padStart(8)}`,
    );
  }
  console.log(`${'all kernels'.padEnd(22)} ${''.padStart(5)} ${total(one.byOp).toFixed(1).padStart(8)} ${total(many.byOp).toFixed(1).padStart(8)}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
