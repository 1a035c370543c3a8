/**
 * A/B of onnxruntime session options on the conv net of `bench:engine` (bench/REFERENCE.md): its
 * training step and its inference, every variant loaded at once and timed in alternating blocks
 * (wall and process CPU ms per run, medians over all blocks), with the load average beside them.
 *   node --import tsx bench/engine_session_ab.ts [--rounds 4] [--blocks 3] [--only train|infer] [--variants seq,par-2x2]
 * Issue 9's measurements of these variants (execution mode, spinning, thread count, dynamic blocks,
 * batch split) are in src/runtime/session.ts.
 */
import { parseArgs } from 'node:util';
import { InputError } from '../src/core/errors.ts';
import { Rng } from '../src/core/rng.ts';
import { Graph, type Tensor } from '../src/graph/graph.ts';
import { exportOnnx } from '../src/graph/export.ts';
import { add, mul, reduceMean, slice, sub } from '../src/graph/ops/index.ts';
import { buildTrainStep } from '../src/autodiff/train-step.ts';
import { buildReferenceConvNet } from '../src/models/fixtures/reference-convnet.ts';
import type { SessionOptions } from '../src/runtime/runner.ts';
import { Session } from '../src/runtime/session.ts';
import type { HostTensor } from '../src/runtime/tensor.ts';
import { TrainSession } from '../src/train/train-session.ts';
import { currentLoad } from './lib/machine.ts';
import { median, timeRoundsWithCpu } from './lib/rounds.ts';
import { ADAM, inputShape } from './lib/workloads.ts';

/** Session options, and `split`: the training batch as that many independent slices in one graph. */
type Variant = SessionOptions & { split?: number };

const VARIANTS: Record<string, Variant> = {
  seq: { intraOpThreads: 2 },
  'seq-spin': { intraOpThreads: 2, allowSpinning: true },
  'seq-1t': { intraOpThreads: 1 },
  'seq-t3': { intraOpThreads: 3 },
  'seq-t4': { intraOpThreads: 4 },
  'seq-dyn1': { intraOpThreads: 2, dynamicBlockBase: 1 },
  'seq-dyn2': { intraOpThreads: 2, dynamicBlockBase: 2 },
  'seq-dyn4': { intraOpThreads: 2, dynamicBlockBase: 4 },
  'par-2x2': { intraOpThreads: 2, interOpThreads: 2, executionMode: 'parallel' },
  'par-2x2-spin': { intraOpThreads: 2, interOpThreads: 2, executionMode: 'parallel', allowSpinning: true },
  'par-1x2': { intraOpThreads: 1, interOpThreads: 2, executionMode: 'parallel' },
  'par-1x2-spin': { intraOpThreads: 1, interOpThreads: 2, executionMode: 'parallel', allowSpinning: true },
  'split2-seq': { intraOpThreads: 2, split: 2 },
  'split2-par-1x2': { intraOpThreads: 1, interOpThreads: 2, executionMode: 'parallel', split: 2 },
};

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '4' },
    blocks: { type: 'string', default: '3' },
    only: { type: 'string' },
    variants: { type: 'string', default: 'seq,seq-spin,par-2x2,par-1x2' },
  },
});
const rounds = Number(values.rounds);
const blocks = Number(values.blocks);
const names = (values.variants ?? '').split(',');
for (const n of names) if (!(n in VARIANTS)) throw new InputError(`--variants: unknown variant "${n}"; expected some of ${Object.keys(VARIANTS).join(',')}`);
if (values.only !== undefined && values.only !== 'train' && values.only !== 'infer') throw new InputError(`--only "${values.only}": expected train or infer`);

function seeded(shape: number[], rng: Rng): HostTensor {
  return { dtype: 'float32', dims: shape, data: rng.normal(shape.reduce((a, b) => a * b, 1)) };
}
const rng = new Rng(1);
const x = seeded(inputShape('convnet'), rng);
const y = seeded(inputShape('convnet'), rng);

interface Timed {
  run: () => Promise<unknown>;
  release: () => Promise<void>;
}

async function trainRunner({ split = 1, ...opts }: Variant): Promise<Timed> {
  const g = new Graph();
  const input = g.input('x', inputShape('convnet')); // (B, 3, 64, 64)
  const target = g.input('y', inputShape('convnet'));
  const net = buildReferenceConvNet(g, new Rng(0));
  // The loss is the mean of the slices' MSEs, which equals the whole batch's MSE.
  const per = (inputShape('convnet')[0] as number) / split;
  let loss: Tensor | null = null;
  for (let k = 0; k < split; k++) {
    const part = (t: Tensor): Tensor => (split === 1 ? t : slice(t, [k * per], [(k + 1) * per], [0])); // (B/split, 3, 64, 64)
    const diff = sub(net.forward(part(input)), part(target));
    const l = reduceMean(mul(diff, diff));
    loss = loss === null ? l : add(loss, l);
  }
  const total = split > 1 ? mul(loss as Tensor, 1 / split) : (loss as Tensor);
  const spec = buildTrainStep(g, { loss: total, optimizer: { kind: 'adam', beta1: ADAM.beta1, beta2: ADAM.beta2, eps: ADAM.eps } });
  const s = await TrainSession.create(g, spec, { inProcess: true, session: opts });
  return { run: () => s.step({ x, y }, ADAM.lr), release: () => s.release() };
}

async function inferRunner({ split: _split, ...opts }: Variant): Promise<Timed> {
  const g = new Graph();
  const out = buildReferenceConvNet(g, new Rng(0)).forward(g.input('x', inputShape('convnet')));
  const model = exportOnnx(g, { outputs: { y: out }, params: 'initializers', name: 'convnet_forward' });
  const s = await Session.create(model.bytes, { name: 'convnet forward', ...opts });
  return { run: () => s.run({ x }), release: () => s.release() };
}

for (const kind of ['train', 'infer'] as const) {
  if (values.only !== undefined && values.only !== kind) continue;
  const make = kind === 'train' ? trainRunner : inferRunner;
  const runners: { name: string; timed: Timed }[] = [];
  for (const name of names) runners.push({ name, timed: await make(VARIANTS[name] as Variant) });
  const wall = new Map<string, number[]>(names.map((n) => [n, []]));
  const cpu = new Map<string, number[]>(names.map((n) => [n, []]));
  const loadBefore = currentLoad();
  for (let b = 0; b < blocks; b++) {
    for (const { name, timed } of runners) {
      // Two warm-up runs: the first two of a training session allocate and are ~3x slower.
      const t = await timeRoundsWithCpu(timed.run, { warmup: 2, rounds });
      wall.get(name)?.push(...t.ms);
      cpu.get(name)?.push(...t.cpuMs);
    }
  }
  for (const { timed } of runners) await timed.release();
  console.log(`${kind}: ${blocks} blocks x ${rounds} rounds, 1-minute load ${loadBefore} -> ${currentLoad()}`);
  for (const n of names) {
    const w = median(wall.get(n) ?? []).toFixed(1);
    const c = median(cpu.get(n) ?? []).toFixed(1);
    console.log(`  ${n.padEnd(16)} wall ${w.padStart(7)} ms   CPU ${c.padStart(7)} ms`);
  }
}
