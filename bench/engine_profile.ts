/**
 * Where the conv net's training step spends its time, per ONNX op type: onnxruntime's own profiler
 * (`enableProfiling`), the step run at 1 and at N intra-op threads with gesso's session options.
 * The ratio column shows which op types the second thread speeds up; ORT's Slice, Concat, Pad and
 * most Transposes run on one thread. Kernel times are wall time per node, so a preempted node is
 * charged the wait: read them beside the load average.
 * `--nodes N` also lists the N slowest nodes at N threads, with their shapes. `--freeze-convs` profiles the
 * step without conv weight and bias gradients (bench/engine_dw_bound.ts).
 *   node --import tsx bench/engine_profile.ts [--threads 2] [--steps 4] [--nodes 20] [--freeze-convs]
 */
import { parseArgs } from 'node:util';
import { Rng } from '../src/core/rng.ts';
import { Graph } from '../src/graph/graph.ts';
import { mul, reduceMean, sub } from '../src/graph/ops/index.ts';
import { buildTrainStep } from '../src/autodiff/train-step.ts';
import { buildReferenceConvNet } from '../src/models/fixtures/reference-convnet.ts';
import { freezeConvolutions } from './lib/freeze-convs.ts';
import { currentLoad } from './lib/machine.ts';
import { profileTrainStep } from './lib/ort-profile.ts';
import { ADAM, inputShape } from './lib/workloads.ts';

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '2' },
    steps: { type: 'string', default: '4' },
    nodes: { type: 'string', default: '0' },
    'freeze-convs': { type: 'boolean', default: false },
  },
});
const threads = Number(values.threads);
const steps = Number(values.steps);

const g = new Graph();
const input = g.input('x', inputShape('convnet')); // (8, 3, 64, 64)
const target = g.input('y', inputShape('convnet'));
const diff = sub(buildReferenceConvNet(g, new Rng(0)).forward(input), target);
if (values['freeze-convs']) freezeConvolutions(g);
const spec = buildTrainStep(g, { loss: reduceMean(mul(diff, diff)), optimizer: { kind: 'adam', beta1: ADAM.beta1, beta2: ADAM.beta2, eps: ADAM.eps } });

const profile = (intraOp: number) => profileTrainStep(g, spec, { threads: intraOp, steps, lr: ADAM.lr });

{
  const loadBefore = currentLoad();
  const one = await profile(1);
  const many = await profile(threads);
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
  const slowest = [...many.byNode].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(values.nodes));
  if (slowest.length > 0) console.log(`\nslowest nodes at ${threads} threads (kernel ms per step):`);
  for (const [name, n] of slowest) console.log(`${n.ms.toFixed(2).padStart(7)}  ${n.op.padEnd(18)} ${name.slice(0, 50).padEnd(50)} ${n.shapes}`);
}
