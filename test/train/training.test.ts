import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/core/rng.ts';
import { Graph, type Tensor } from '../../src/graph/graph.ts';
import * as op from '../../src/graph/ops/index.ts';
import { buildTrainStep } from '../../src/autodiff/train-step.ts';
import type { OptimizerConfig } from '../../src/autodiff/optimizers.ts';
import { TrainSession, TrainingDivergedError } from '../../src/train/train-session.ts';
import { trainLoop } from '../../src/train/loop.ts';
import { constantLr, warmupCosine } from '../../src/train/lr-schedule.ts';
import { trainXor } from '../../src/train/xor-demo.ts';
import type { HostTensor } from '../../src/runtime/tensor.ts';

const f32 = (dims: number[], data: Float32Array): HostTensor => ({ dtype: 'float32', dims, data });

test('an MLP learns XOR', async () => {
  const r = await trainXor({ steps: 400, quiet: true, seed: 3 });
  assert.ok(r.lastLoss < 0.01, `final loss ${r.lastLoss}`);
  const rounded = r.predictions.map((p) => Math.round(p));
  assert.deepEqual(rounded, [0, 1, 1, 0]);
});

/** A small convnet on one fixed batch: conv-relu-conv-pool-linear regression onto random targets. */
function buildSmallConvnet(seed: number) {
  const rng = new Rng(seed);
  const g = new Graph();
  const x = g.input('x', [4, 3, 8, 8]);
  const y = g.input('y', [4, 5]);
  const w1 = g.param('conv1.weight', [8, 3, 3, 3], rng.normal(8 * 27, Math.sqrt(2 / 27)));
  const b1 = g.param('conv1.bias', [8], new Float32Array(8));
  const w2 = g.param('conv2.weight', [8, 8, 3, 3], rng.normal(8 * 72, Math.sqrt(2 / 72)));
  const w3 = g.param('fc.weight', [8 * 4 * 4, 5], rng.normal(128 * 5, Math.sqrt(1 / 128)));
  let h = op.relu(op.conv(x, w1, b1, { pads: 1 })); // (4, 8, 8, 8)
  h = op.relu(op.conv(h, w2, null, { pads: 1 }));
  h = op.maxPool(h, { kernel: [2, 2] }); // (4, 8, 4, 4)
  const out = op.matmul(op.flatten(h), w3); // (4, 5)
  const diff = op.sub(out, y);
  const loss = op.reduceMean(op.mul(diff, diff));
  const batch = { x: f32([4, 3, 8, 8], rng.normal(4 * 3 * 64)), y: f32([4, 5], rng.normal(20)) };
  return { g, loss, batch };
}

test('a small convnet overfits one batch (loss falls 100x)', async () => {
  const { g, loss, batch } = buildSmallConvnet(5);
  const spec = buildTrainStep(g, { loss, optimizer: { kind: 'adam' } });
  const session = await TrainSession.create(g, spec);
  try {
    const { results } = await trainLoop({ session, batch: () => batch, steps: 300, lr: constantLr(3e-3), quiet: true });
    const first = results[0]!.loss;
    const last = results[results.length - 1]!.loss;
    assert.ok(last < first / 100, `loss ${first} -> ${last}`);
  } finally {
    await session.release();
  }
});

test('frozen parameters are held once: read in place in-process, moved to a worker with moveFrozen; the steps are the same', async () => {
  const run = async (options: { inProcess?: boolean; moveFrozen?: boolean }) => {
    const { g, loss, batch } = buildSmallConvnet(7);
    for (const name of ['conv1.weight', 'conv2.weight']) g.params.set(name, { ...g.params.get(name)!, trainable: false });
    const frozen = g.params.get('conv2.weight')!.value;
    const before = Float32Array.from(frozen);
    const spec = buildTrainStep(g, { loss, optimizer: { kind: 'adamw' } });
    const session = await TrainSession.create(g, spec, options);
    try {
      const losses: number[] = [];
      for (let i = 0; i < 5; i++) losses.push((await session.step(batch, 1e-2)).loss);
      const held = (await session.values(['conv2.weight'])).get('conv2.weight')!;
      assert.deepEqual(held, before, 'the session holds the frozen weights unchanged');
      return { losses, graphLength: frozen.length, fc: (await session.values()).get('fc.weight')! };
    } finally {
      await session.release();
    }
  };
  const copied = await run({});
  const inPlace = await run({ inProcess: true });
  const moved = await run({ moveFrozen: true });
  assert.equal(copied.graphLength, 8 * 8 * 9, 'without moveFrozen a worker gets a copy and the graph keeps its arrays');
  assert.equal(inPlace.graphLength, 8 * 8 * 9, 'in-process the graph keeps its arrays');
  assert.equal(moved.graphLength, 0, "moveFrozen moves the graph's arrays to the worker");
  assert.ok(copied.losses[4]! < copied.losses[0]!, `the trainable layer learns: ${copied.losses}`);
  for (const other of [inPlace, moved]) {
    assert.deepEqual(other.losses, copied.losses);
    assert.deepEqual(other.fc, copied.fc);
  }
});

/** y = w * x on scalars: the optimizer's arithmetic can be checked by hand. */
async function oneParamSteps(optimizer: OptimizerConfig, steps: number, lr: number): Promise<number[]> {
  const g = new Graph();
  const x = g.input('x', [1]);
  const w = g.param('w', [1], Float32Array.of(1));
  const loss = op.reduceSum(op.mul(op.mul(w, x), op.mul(w, x))); // L = (w x)^2, dL/dw = 2 w x^2
  const spec = buildTrainStep(g, { loss, optimizer });
  const session = await TrainSession.create(g, spec, { inProcess: true });
  const ws: number[] = [];
  for (let i = 0; i < steps; i++) {
    await session.step({ x: f32([1], Float32Array.of(2)) }, lr);
    ws.push((await session.values()).get('w')![0]!);
  }
  await session.release();
  return ws;
}

test('Adam, AdamW and SGD with momentum take the steps their formulas give', async () => {
  const reference = (kind: 'adam' | 'adamw' | 'sgd', steps: number, lr: number): number[] => {
    let w = 1;
    let m = 0;
    let v = 0;
    const out: number[] = [];
    for (let t = 1; t <= steps; t++) {
      let grad = 2 * w * 4;
      if (kind === 'sgd') {
        m = 0.9 * m + grad;
        w -= lr * m;
      } else {
        if (kind === 'adamw') w *= 1 - lr * 0.01;
        else grad += 0;
        m = 0.9 * m + 0.1 * grad;
        v = 0.999 * v + 0.001 * grad * grad;
        const denom = Math.sqrt(v) / Math.sqrt(1 - 0.999 ** t) + 1e-8;
        w -= (lr / (1 - 0.9 ** t)) * (m / denom);
      }
      out.push(w);
    }
    return out;
  };
  for (const kind of ['adam', 'adamw', 'sgd'] as const) {
    const config: OptimizerConfig = kind === 'sgd' ? { kind, momentum: 0.9 } : { kind };
    const got = await oneParamSteps(config, 5, 0.01);
    const want = reference(kind, 5, 0.01);
    got.forEach((w, i) => assert.ok(Math.abs(w - want[i]!) < 1e-5, `${kind} step ${i + 1}: ${w} vs ${want[i]}`));
  }
});

test('gradient clipping caps the global norm; warmup + cosine schedule has the documented shape', async () => {
  const g = new Graph();
  const x = g.input('x', [1]);
  const w = g.param('w', [1], Float32Array.of(1));
  const loss = op.reduceSum(op.mul(op.mul(w, x), 100)); // dL/dw = 100 x
  const spec = buildTrainStep(g, { loss, optimizer: { kind: 'sgd' }, clipGradNorm: 1 });
  const session = await TrainSession.create(g, spec, { inProcess: true });
  const r = await session.step({ x: f32([1], Float32Array.of(1)) }, 0.5);
  assert.equal(r.gradNorm, 100); // reported before clipping
  assert.ok(Math.abs((await session.values()).get('w')![0]! - 0.5) < 1e-6); // stepped by lr * 1, not lr * 100
  await session.release();

  const lr = warmupCosine({ lr: 1, warmupSteps: 10, totalSteps: 110, minLr: 0.1 });
  assert.equal(lr(5), 0.5);
  assert.equal(lr(10), 1);
  assert.ok(Math.abs(lr(60) - 0.55) < 1e-9);
  assert.ok(Math.abs(lr(110) - 0.1) < 1e-9);
});

test('EMA of weights follows the update rule, in both state layouts', async () => {
  for (const stateLayout of ['flat', 'per-param'] as const) {
    const g = new Graph();
    const w = g.param('w', [1], Float32Array.of(1));
    const u = g.param('u', [2], Float32Array.of(2, 3));
    const x = g.input('x', [1]);
    const loss = op.reduceSum(op.add(op.mul(w, x), op.reduceSum(u))); // dL/dw = x, dL/du = 1
    const spec = buildTrainStep(g, { loss, optimizer: { kind: 'sgd' }, emaDecay: 0.5, stateLayout });
    const session = await TrainSession.create(g, spec, { inProcess: true });
    await session.step({ x: f32([1], Float32Array.of(1)) }, 0.1); // w: 1 -> 0.9, ema: 0.5*1 + 0.5*0.9
    const ema = await session.emaValues();
    assert.ok(Math.abs(ema.get('w')![0]! - 0.95) < 1e-6, stateLayout);
    assert.ok(Math.abs(ema.get('u')![1]! - 2.95) < 1e-6, stateLayout);
    await session.release();
  }
});

test('flat and per-parameter optimizer state take identical steps', async () => {
  const run = async (stateLayout: 'flat' | 'per-param') => {
    const { g, loss, batch } = buildSmallConvnet(4);
    const spec = buildTrainStep(g, { loss, optimizer: { kind: 'adamw' }, clipGradNorm: 0.5, stateLayout });
    const session = await TrainSession.create(g, spec, { inProcess: true });
    for (let i = 0; i < 3; i++) await session.step(batch, 1e-2);
    const v = await session.values();
    await session.release();
    return v;
  };
  const flat = await run('flat');
  const per = await run('per-param');
  for (const [name, v] of flat) {
    const other = per.get(name)!;
    let worst = 0;
    for (let i = 0; i < v.length; i++) worst = Math.max(worst, Math.abs(v[i]! - other[i]!));
    assert.ok(worst < 1e-5, `${name} differs by ${worst}`);
  }
});

test('a checkpoint resumes exactly: 20 steps straight = 10 steps, save, new session, load, 10 steps', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-ckpt-'));
  const run = async (steps: number, resume: boolean, path: string) => {
    const { g, loss, batch } = buildSmallConvnet(9);
    const spec = buildTrainStep(g, { loss, optimizer: { kind: 'adamw' }, emaDecay: 0.9 });
    const session = await TrainSession.create(g, spec);
    // Batches depend only on the step number, so a resumed run sees the same data.
    const batchAt = (step: number) => ({ ...batch, y: f32([4, 5], new Rng(step).normal(20)) });
    const res = await trainLoop({
      session,
      batch: batchAt,
      steps,
      lr: warmupCosine({ lr: 1e-2, warmupSteps: 3, totalSteps: 20 }),
      quiet: true,
      resume,
      checkpoint: { path, every: 5 },
    });
    const values = await session.values([...spec.params, ...spec.state]);
    await session.release();
    return { res, values };
  };
  const straight = await run(20, false, join(dir, 'a.safetensors'));
  await run(10, false, join(dir, 'b.safetensors'));
  const resumed = await run(20, true, join(dir, 'b.safetensors'));
  assert.equal(resumed.res.resumedFrom, 10);
  assert.equal(resumed.res.results.length, 10);
  for (const [name, v] of straight.values) assert.deepEqual(resumed.values.get(name), v, `tensor ${name} differs after resume`);
});

test('a NaN step stops training with a clear error and keeps the last good checkpoint', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-nan-'));
  const path = join(dir, 'ckpt.safetensors');
  const g = new Graph();
  const x = g.input('x', [1]);
  const w = g.param('w', [1], Float32Array.of(1));
  const loss = op.reduceSum(op.log(op.mul(w, x))); // log of a negative number is NaN
  const spec = buildTrainStep(g, { loss, optimizer: { kind: 'sgd' } });
  const session = await TrainSession.create(g, spec);
  const batch = (step: number) => ({ x: f32([1], Float32Array.of(step <= 4 ? 1 : -1)) });
  await assert.rejects(
    trainLoop({ session, batch, steps: 10, lr: constantLr(0.01), quiet: true, checkpoint: { path, every: 2 } }),
    (e: unknown) => e instanceof TrainingDivergedError && /step 5/.test(e.message) && /step 4/.test(e.message) && e.message.includes(path),
  );
  await session.release();
  // The checkpoint on disk is the one from step 4 and loads cleanly.
  const fresh = await TrainSession.create(g, spec, { inProcess: true });
  const meta = await fresh.load(path);
  assert.equal(meta['step'], '4');
  assert.ok(Number.isFinite((await fresh.values()).get('w')![0]!));
  await fresh.release();
});

test('a corrupt or truncated checkpoint gives a clear error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-bad-'));
  const { g, loss } = buildSmallConvnet(2);
  const spec = buildTrainStep(g, { loss, optimizer: { kind: 'adam' } });
  const session = await TrainSession.create(g, spec, { inProcess: true });
  const good = join(dir, 'good.safetensors');
  await session.save(good);
  const bytes = readFileSync(good);
  const truncated = join(dir, 'truncated.safetensors');
  writeFileSync(truncated, bytes.subarray(0, bytes.length - 100));
  await assert.rejects(session.load(truncated), /truncated\.safetensors/);
  const garbage = join(dir, 'garbage.safetensors');
  writeFileSync(garbage, Buffer.from('this is not a checkpoint at all, just text'));
  await assert.rejects(session.load(garbage), /garbage\.safetensors/);
  await assert.rejects(session.load(join(dir, 'missing.safetensors')), /missing\.safetensors/);
  // A checkpoint of another model names the tensor it lacks.
  const other = new Graph();
  const ox = other.input('x', [1]);
  const ow = other.param('other.w', [1], Float32Array.of(1));
  const ospec = buildTrainStep(other, { loss: op.reduceSum(op.mul(ow, ox)), optimizer: { kind: 'adam' } });
  const os = await TrainSession.create(other, ospec, { inProcess: true });
  await assert.rejects(os.load(good), /no tensor "other\.w"/);
  await os.release();
  await session.release();
  assert.ok(existsSync(good));
});

test('a shape mismatch is reported when the graph is built, naming the op and both shapes', () => {
  const g = new Graph();
  const a = g.input('a', [2, 3]);
  const b = g.input('b', [4, 5]);
  assert.throws(() => op.matmul(a, b), /MatMul: inner dims differ: \[2, 3\] @ \[4, 5\]/);
  assert.throws(() => op.add(a, g.input('c', [4])), /Add: shapes \[2, 3\] and \[4\] do not broadcast/);
  const x = g.input('x', [1, 3, 8, 8]);
  const w = g.input('w', [4, 2, 3, 3]);
  assert.throws(() => op.conv(x, w, null), /Conv: input \[1, 3, 8, 8\] has 3 channels, weight \[4, 2, 3, 3\]/);
  assert.throws(() => op.reshape(a, [4, 2]), /Reshape: \[2, 3\] has 6 elements/);
  const t: Tensor = a;
  assert.throws(() => op.transpose(t, [0, 0]), /Transpose/);
});
