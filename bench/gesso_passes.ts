/**
 * gesso's side of the per-pass table of `npm run bench:engine`: each case of bench/lib/pass-cases.ts
 * as its own small ONNX model built by gesso's graph builder and gradient rules, weights as graph
 * inputs (as in a training step), run by onnxruntime-node in this thread.
 *
 * Conv passes are timed in every variant gesso has, so the table shows why the training step uses the
 * one it does: forward and dX as standard Conv and as the NCHWc lowering (src/graph/nchwc.ts); dX at
 * stride 2 as ConvTranspose; dW per kernel tap, by unfold and by factored unfolds (src/autodiff/conv-grads.ts).
 */
import { nchwcBlockSize } from '../src/core/cpu-features.ts';
import { Rng } from '../src/core/rng.ts';
import { convInputGrad, convWeightGradFactored, convWeightGradPerTap, convWeightGradUnfold, weightGradMethod } from '../src/autodiff/conv-grads.ts';
import { gradients } from '../src/autodiff/grad.ts';
import { exportOnnx } from '../src/graph/export.ts';
import { Graph, type Tensor } from '../src/graph/graph.ts';
import { fitsNchwc } from '../src/graph/nchwc.ts';
import { conv, convGeometry, mul, reduceSum } from '../src/graph/ops/index.ts';
import { ConvTranspose2d } from '../src/nn/conv.ts';
import { MultiHeadAttention } from '../src/nn/attention.ts';
import { GroupNorm, InstanceNorm } from '../src/nn/norm.ts';
import { Session } from '../src/runtime/session.ts';
import type { HostTensor } from '../src/runtime/tensor.ts';
import { median } from './lib/rounds.ts';
import { NORM_EPS, type ConvPass, type ConvPassCase, type LayerCase, type PassCase } from './lib/pass-cases.ts';

/** One timed model: a case, a pass (or 'fwd+bwd'), and which of gesso's variants. */
export interface PassVariant {
  caseId: string;
  pass: ConvPass | 'fwd+bwd';
  variant: string;
  /** True for the variant gesso's training step uses. */
  used: boolean;
  session: Session;
  feeds: Record<string, HostTensor>;
}

function randomFeeds(g: Graph, rng: Rng): Record<string, HostTensor> {
  const feeds: Record<string, HostTensor> = {};
  for (const t of g.inputs) feeds[t.name] = { dtype: 'float32', dims: [...t.shape], data: rng.normal(t.size).map((v) => v * 0.1) };
  return feeds;
}

/** Outputs with more elements than this are returned as their sum (see load). */
const SUM_OUTPUTS_ABOVE = 65536;

async function load(
  g: Graph,
  outputs: Record<string, Tensor>,
  block: number,
  threads: number,
  rng: Rng,
): Promise<{ session: Session; feeds: Record<string, HostTensor> }> {
  // Each big result is summed to a scalar inside the graph: handing a multi-MB tensor back to
  // JavaScript (a fresh buffer and a copy per run) cost more CPU than some of the passes themselves,
  // and the training step keeps its activations inside ORT. The sum is one extra read.
  const reduced = Object.fromEntries(
    Object.entries(outputs).map(([name, t]) => [
      name,
      t.size > SUM_OUTPUTS_ABOVE
        ? reduceSum(
            t,
            t.shape.map((_, i) => i),
            false,
          )
        : t,
    ]),
  );
  const model = exportOnnx(g, { outputs: reduced, params: 'inputs', nchwcBlock: block });
  const session = await Session.create(model.bytes, { name: 'pass', intraOpThreads: threads });
  const used = new Set(model.inputs.map((i) => i.name));
  const feeds = Object.fromEntries(Object.entries(randomFeeds(g, rng)).filter(([name]) => used.has(name)));
  return { session, feeds };
}

async function convVariants(c: ConvPassCase, threads: number, rng: Rng): Promise<PassVariant[]> {
  const block = nchwcBlockSize();
  const geo = convGeometry(2, { strides: [c.stride, c.stride], pads: c.pad });
  const kernel: [number, number] = [c.kernel, c.kernel];
  const build = (f: (x: Tensor, w: Tensor, gy: Tensor) => Tensor) => {
    const g = new Graph();
    const x = g.input('x', [c.batch, c.cin, c.size, c.size]);
    const w = g.input('w', [c.cout, c.cin, c.kernel, c.kernel]);
    const probe = conv(x, w, null, geo); // only for the output shape
    const gy = g.input('gy', probe.shape);
    return { g, out: f(x, w, gy) };
  };
  const blocked = block > 0 && fitsNchwc(c.cout, c.cin, 1, block);
  const blockedDx = block > 0 && fitsNchwc(c.cin, c.cout, 1, block);
  const method = weightGradMethod(geo);
  const specs: { pass: ConvPass; variant: string; block: number; used: boolean; f: (x: Tensor, w: Tensor, gy: Tensor) => Tensor }[] = [
    { pass: 'forward', variant: 'Conv', block: 0, used: !blocked, f: (x, w) => conv(x, w, null, geo) },
    {
      pass: 'dX',
      variant: c.stride === 1 ? 'Conv, flipped weight' : 'ConvTranspose',
      block: 0,
      used: c.stride !== 1 || !blockedDx,
      f: (x, w, gy) => convInputGrad(x, w, gy, geo),
    },
    { pass: 'dW', variant: 'per-tap Slice + MatMul', block: 0, used: method === 'per-tap', f: (x, _w, gy) => convWeightGradPerTap(x, gy, kernel, geo) },
    { pass: 'dW', variant: 'unfold + MatMul', block: 0, used: method === 'unfold', f: (x, _w, gy) => convWeightGradUnfold(x, gy, kernel, geo) },
  ];
  if (c.stride === 1)
    specs.push({
      pass: 'dW',
      variant: 'factored unfolds + MatMul',
      block: 0,
      used: method === 'factored',
      f: (x, _w, gy) => convWeightGradFactored(x, gy, kernel, geo),
    });
  if (blocked) specs.push({ pass: 'forward', variant: `NCHWc ${block}`, block, used: true, f: (x, w) => conv(x, w, null, geo) });
  if (blockedDx && c.stride === 1)
    specs.push({ pass: 'dX', variant: `Conv, flipped weight, NCHWc ${block}`, block, used: true, f: (x, w, gy) => convInputGrad(x, w, gy, geo) });
  const out: PassVariant[] = [];
  for (const s of specs) {
    const { g, out: y } = build(s.f);
    out.push({ caseId: c.id, pass: s.pass, variant: s.variant, used: s.used, ...(await load(g, { y }, s.block, threads, rng)) });
  }
  return out;
}

/** The layer's output for x, built into g (weights as inputs via params: 'inputs'). */
function layerForward(g: Graph, c: LayerCase, x: Tensor, rng: Rng): Tensor {
  const [, ch] = c.shape as [number, number];
  const p = c.params;
  switch (c.kind) {
    case 'convtranspose':
      return new ConvTranspose2d(
        g,
        'up',
        { in: ch, out: p['cout'] as number, kernel: p['kernel'] as number, stride: p['stride'] as number, padding: p['pad'] as number },
        rng,
      ).forward(x);
    case 'groupnorm':
      return new GroupNorm(g, 'norm', { groups: p['groups'] as number, channels: ch, eps: NORM_EPS }).forward(x);
    case 'instancenorm':
      return new InstanceNorm(g, 'norm', { channels: ch, eps: NORM_EPS, affine: true }).forward(x);
    case 'attention':
      return new MultiHeadAttention(g, 'attn', { dim: c.shape[2] as number, heads: p['heads'] as number, qkvBias: true }, rng).forward(x);
  }
}

async function layerVariant(c: LayerCase, threads: number, rng: Rng): Promise<PassVariant> {
  const g = new Graph();
  const x = g.input('x', c.shape);
  const y = layerForward(g, c, x, rng);
  const gy = g.input('gy', y.shape);
  const wrt = [x, ...g.trainableParams().map((p) => p.tensor)];
  const grads = gradients(reduceSum(mul(y, gy)), wrt); // seeding dL/dy = gy
  const outputs: Record<string, Tensor> = {};
  grads.forEach((gr, i) => {
    if (gr) outputs[`grad${i}`] = gr;
  });
  const loaded = await load(g, outputs, nchwcBlockSize(), threads, rng);
  const inputs = new Set(loaded.session.inputs.map((i) => i.name));
  for (const p of g.trainableParams()) if (inputs.has(p.name)) loaded.feeds[p.name] = { dtype: 'float32', dims: [...p.tensor.shape], data: p.value };
  return { caseId: c.id, pass: 'fwd+bwd', variant: 'autodiff', used: true, ...loaded };
}

/** Sessions for every case and variant; `used` marks the variant gesso's training step runs. */
export async function buildPassVariants(cases: readonly PassCase[], threads: number): Promise<PassVariant[]> {
  const rng = new Rng(7);
  const all: PassVariant[] = [];
  for (const c of cases) all.push(...(c.kind === 'conv' ? await convVariants(c, threads, rng) : [await layerVariant(c, threads, rng)]));
  return all;
}

/** Median wall and CPU (this process, all threads) ms of one variant. */
export interface PassTime {
  wallMs: number;
  cpuMs: number;
}

/**
 * One timed round over every variant, in turn (variants interleave within the round): `reps` runs
 * each after one warm-up, median wall time and median CPU time. CPU time is the steadier measure on
 * a shared machine: other jobs stretch wall time but not the work a run does.
 */
export async function timePassRound(variants: readonly PassVariant[], reps: number): Promise<PassTime[]> {
  const out: PassTime[] = [];
  for (const v of variants) {
    await v.session.run(v.feeds); // warm
    const wall: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < reps; i++) {
      const start = performance.now();
      const usage = process.cpuUsage();
      await v.session.run(v.feeds);
      const used = process.cpuUsage(usage);
      wall.push(performance.now() - start);
      cpu.push((used.user + used.system) / 1000);
    }
    out.push({ wallMs: median(wall), cpuMs: median(cpu) });
  }
  return out;
}
