/**
 * How fast could the conv net's training step of `bench:engine` get if its weight gradients (dW) ran
 * in oneDNN (option A of docs/engine-dnnl.md)? An optimistic bound, measured rather than estimated:
 *   full       the training step as gesso runs it;
 *   no-conv-dw the same step with every convolution's weight and bias frozen, so the graph computes no conv
 *              dW or bias gradient and no Adam update for them (everything else, GroupNorm's gradients included);
 *   oneDNN dW  the 18 convolutions' dW (with bias gradients) in oneDNN at the same thread count, on
 *              preallocated arrays, one after another.
 * bound = no-conv-dw + oneDNN dW: what option A would cost if moving each conv's input and output
 * gradient out of ORT and the weight gradients back in were free (they are not: ≈ 92 MB each way).
 * The PyTorch peer's step is timed in the same run, whole and with its conv weights and biases frozen too (torch-no-conv-dw),
 * so the part of the step that is not conv dW can be compared on its own.
 *   node --import tsx bench/engine_dw_bound.ts [--rounds 5] [--blocks 3] [--threads 2] [--openblas-coretype NAME]
 */
import { parseArgs } from 'node:util';
import { Rng } from '../src/core/rng.ts';
import { Graph } from '../src/graph/graph.ts';
import { mul, reduceMean, sub } from '../src/graph/ops/index.ts';
import { buildTrainStep } from '../src/autodiff/train-step.ts';
import { buildReferenceConvNet } from '../src/models/fixtures/reference-convnet.ts';
import type { HostTensor } from '../src/runtime/tensor.ts';
import { dnnlConv2d, dnnlStatus, setDnnlThreads } from '../src/runtime/dnnl/backend.ts';
import { TrainSession } from '../src/train/train-session.ts';
import { freezeConvolutions } from './lib/freeze-convs.ts';
import { currentLoad } from './lib/machine.ts';
import { runTorchPeer } from './lib/peers.ts';
import { isTimed } from './lib/results.ts';
import { median, timeRoundsWithCpu } from './lib/rounds.ts';
import { ADAM, CONVNET, convNetLayers, inputShape } from './lib/workloads.ts';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    blocks: { type: 'string', default: '3' },
    threads: { type: 'string', default: '2' },
    'openblas-coretype': { type: 'string' },
  },
});
const rounds = Number(values.rounds);
const blocks = Number(values.blocks);
const threads = Number(values.threads);
/** OPENBLAS_CORETYPE for the PyTorch children; unset by default (OpenBLAS detects the CPU; bench:engine's BLAS table says which is fastest). */
const coretype = values['openblas-coretype'];

const status = dnnlStatus();
if (!status.available) throw new Error(`oneDNN is not available: ${status.reason}`);

function seeded(shape: number[], rng: Rng): HostTensor {
  return { dtype: 'float32', dims: shape, data: rng.normal(shape.reduce((a, b) => a * b, 1)) };
}
const rng = new Rng(1);
const x = seeded(inputShape('convnet'), rng);
const y = seeded(inputShape('convnet'), rng);

async function stepRunner(freezeConvWeights: boolean): Promise<{ run: () => Promise<unknown>; release: () => Promise<void> }> {
  const g = new Graph();
  const input = g.input('x', inputShape('convnet')); // (8, 3, 64, 64)
  const target = g.input('y', inputShape('convnet'));
  const diff = sub(buildReferenceConvNet(g, new Rng(0)).forward(input), target);
  // 18 convolutions, each with a weight and a bias (bench/REFERENCE.md)
  if (freezeConvWeights && freezeConvolutions(g) !== 2 * convNetLayers().length)
    throw new Error('freezeConvolutions: expected every conv weight and bias of the reference net');
  const spec = buildTrainStep(g, { loss: reduceMean(mul(diff, diff)), optimizer: { kind: 'adam', beta1: ADAM.beta1, beta2: ADAM.beta2, eps: ADAM.eps } });
  const s = await TrainSession.create(g, spec, { inProcess: true, session: { intraOpThreads: threads } });
  return { run: () => s.step({ x, y }, ADAM.lr), release: () => s.release() };
}

function dnnlDwRunner(): () => Promise<unknown> {
  setDnnlThreads(threads);
  const layers = convNetLayers().map(({ cin, cout, outSize, stride }) => {
    const size = outSize * stride; // (B, cin, size, size) -> (B, cout, outSize, outSize)
    const conv = dnnlConv2d({
      batch: CONVNET.batch,
      inChannels: cin,
      height: size,
      width: size,
      outChannels: cout,
      kernel: [3, 3],
      stride: [stride, stride],
      padding: [1, 1, 1, 1],
      bias: true,
    });
    return {
      conv,
      x: rng.normal(CONVNET.batch * cin * size * size),
      dy: rng.normal(CONVNET.batch * cout * outSize * outSize),
      dw: new Float32Array(cout * cin * 9),
      db: new Float32Array(cout),
    };
  });
  return async () => {
    for (const l of layers) l.conv.backwardWeights(l.x, l.dy, { dw: l.dw, db: l.db });
  };
}

/** The PyTorch peer's conv-net training step (bench/peers/torch_engine.py), every timed round. */
async function torchStep(freezeConvWeights: boolean): Promise<{ ms: number[]; cpuMs: number[] }> {
  const report = await runTorchPeer({
    quick: false,
    timeoutMs: 600_000,
    threads,
    warmup: 3,
    rounds,
    convnetOnly: true,
    freezeConvWeights,
    ...(coretype === undefined ? {} : { openblasCoretype: coretype }),
  });
  const step = report.workloads.convnet?.train;
  if (!step || !isTimed(step) || !step.cpuMs) throw new Error('torch peer: no timed conv-net training step in its report');
  return { ms: step.ms, cpuMs: step.cpuMs };
}

const runners = { full: await stepRunner(false), 'no-conv-dw': await stepRunner(true) };
const dw = dnnlDwRunner();
const times: Record<string, { ms: number[]; cpu: number[] }> = {
  full: { ms: [], cpu: [] },
  'no-conv-dw': { ms: [], cpu: [] },
  'oneDNN dW': { ms: [], cpu: [] },
  torch: { ms: [], cpu: [] },
  'torch-no-conv-dw': { ms: [], cpu: [] },
};
const loadBefore = currentLoad();
for (let b = 0; b < blocks; b++) {
  for (const [name, r] of Object.entries(runners)) {
    const t = await timeRoundsWithCpu(r.run, { warmup: 2, rounds });
    times[name]?.ms.push(...t.ms);
    times[name]?.cpu.push(...t.cpuMs);
  }
  const t = await timeRoundsWithCpu(dw, { warmup: 2, rounds });
  times['oneDNN dW']?.ms.push(...t.ms);
  times['oneDNN dW']?.cpu.push(...t.cpuMs);
  for (const [name, freeze] of [
    ['torch', false],
    ['torch-no-conv-dw', true],
  ] as const) {
    const p = await torchStep(freeze);
    times[name]?.ms.push(...p.ms);
    times[name]?.cpu.push(...p.cpuMs);
  }
}
for (const r of Object.values(runners)) await r.release();
const med = (name: string, k: 'ms' | 'cpu'): number => median(times[name]?.[k] ?? []);
console.log(`${threads} thread(s), ${blocks} blocks x ${rounds} rounds, 1-minute load ${loadBefore} -> ${currentLoad()}`);
for (const name of Object.keys(times))
  console.log(`  ${name.padEnd(16)} wall ${med(name, 'ms').toFixed(1).padStart(7)} ms   CPU ${med(name, 'cpu').toFixed(1).padStart(7)} ms`);
const bound = med('no-conv-dw', 'ms') + med('oneDNN dW', 'ms');
const boundCpu = med('no-conv-dw', 'cpu') + med('oneDNN dW', 'cpu');
console.log(`  ${'bound'.padEnd(16)} wall ${bound.toFixed(1).padStart(7)} ms   CPU ${boundCpu.toFixed(1).padStart(7)} ms`);
console.log(
  JSON.stringify({
    threads,
    full_ms: med('full', 'ms'),
    no_conv_dw_ms: med('no-conv-dw', 'ms'),
    dnnl_dw_ms: med('oneDNN dW', 'ms'),
    bound_ms: bound,
    torch_ms: med('torch', 'ms'),
    torch_no_conv_dw_ms: med('torch-no-conv-dw', 'ms'),
    speedup_now: med('torch', 'ms') / med('full', 'ms'),
    speedup_bound: med('torch', 'ms') / bound,
    speedup_without_conv_dw: med('torch-no-conv-dw', 'ms') / med('no-conv-dw', 'ms'),
    speedup_conv_dw_alone: (med('torch', 'ms') - med('torch-no-conv-dw', 'ms')) / (med('full', 'ms') - med('no-conv-dw', 'ms')),
  }),
);
