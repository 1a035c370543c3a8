// The Runner contract: every runner (in-process Session, WorkerSession) must pass the same tests.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../src/core/errors.ts';
import type { Runner, SessionOptions } from '../../src/runtime/runner.ts';
import { Session } from '../../src/runtime/session.ts';
import { tensor, type HostTensor } from '../../src/runtime/tensor.ts';
import { WorkerSession } from '../../src/runtime/worker-session.ts';
import { affineModel, broadcastModel, momentumModel } from './fixtures.ts';

type Open = (model: string | Uint8Array, options?: SessionOptions) => Promise<Runner>;

const RUNNERS: [string, Open][] = [
  ['Session', (m, o) => Session.create(m, o)],
  ['WorkerSession', (m, o) => WorkerSession.create(m, o)],
];

const N = 8;

function affineFeeds(): Record<string, HostTensor> {
  return {
    x: tensor('float32', [2, 3], [1, 2, 3, 4, 5, 6]),
    w: tensor('float32', [3], [1, 1, 2]),
    b: tensor('float32', [3], [0, 0, 1]),
    timestep: tensor('int64', [1], [5n]),
  };
}

function gradient(step: number): Float32Array {
  return Float32Array.from({ length: N }, (_, i) => Math.sin(i + step) * 0.5);
}

const initialW = (): Float32Array => Float32Array.from({ length: N }, (_, i) => i / N);

/** The momentum model's state after `steps` steps from (w0, m = 0), in JS with float32 rounding after every op. */
function referenceTraining(steps: number, w0: Float32Array): { w: Float32Array; m: Float32Array } {
  const f = Math.fround;
  const w = w0.slice();
  const m = new Float32Array(N);
  for (let s = 0; s < steps; s++) {
    const g = gradient(s);
    for (let i = 0; i < N; i++) {
      m[i] = f(f(m[i] * f(0.9)) + g[i]);
      w[i] = f(w[i] - f(m[i] * f(0.1)));
    }
  }
  return { w, m };
}

async function train(runner: Runner, steps: number): Promise<number[]> {
  await runner.setState({
    w: tensor('float32', [N], initialW()),
    'm.w': tensor('float32', [N]),
  });
  const losses: number[] = [];
  for (let s = 0; s < steps; s++) {
    const out = await runner.run({ g: tensor('float32', [N], gradient(s)) }, { fetch: ['loss'], carry: { 'new.w': 'w', 'new.m.w': 'm.w' } });
    assert.deepEqual(Object.keys(out), ['loss']);
    losses.push((out.loss.data as Float32Array)[0]);
  }
  return losses;
}

for (const [kind, open] of RUNNERS) {
  describe(`${kind} keeps the Runner contract`, () => {
    let affine: Runner;
    before(async () => {
      affine = await open(affineModel());
    });
    after(() => affine.release());

    test('reports inputs and outputs with dtypes and symbolic dims', () => {
      assert.deepEqual(affine.inputs, [
        { name: 'x', dtype: 'float32', shape: ['batch', 3] },
        { name: 'w', dtype: 'float32', shape: [3] },
        { name: 'b', dtype: 'float32', shape: [3] },
        { name: 'timestep', dtype: 'int64', shape: [1] },
      ]);
      assert.deepEqual(affine.outputs, [
        { name: 'y', dtype: 'float32', shape: ['batch', 3] },
        { name: 't_next', dtype: 'int64', shape: [1] },
      ]);
    });

    test('runs the model, any batch size, float and int64', async () => {
      const out = await affine.run(affineFeeds());
      assert.deepEqual(out.y, { dtype: 'float32', dims: [2, 3], data: Float32Array.from([1, 2, 7, 4, 5, 13]) });
      assert.deepEqual(out.t_next, { dtype: 'int64', dims: [1], data: BigInt64Array.from([6n]) });
      const one = await affine.run({ ...affineFeeds(), x: tensor('float32', [1, 3], [1, 1, 1]) }, ['y']);
      assert.deepEqual([...(one.y.data as Float32Array)], [1, 1, 3]);
    });

    test('returns only the fetched outputs', async () => {
      const out = await affine.run(affineFeeds(), ['t_next']);
      assert.deepEqual(Object.keys(out), ['t_next']);
    });

    test('names the input, the expected and the actual type for every mismatch', async () => {
      const feeds = affineFeeds();
      const cases: [Record<string, HostTensor>, RegExp][] = [
        [{ ...feeds, timestep: tensor('float32', [1], [5]) }, /input "timestep": expected int64 \[1\], got float32 \[1\] \(wrong dtype\)/],
        [{ ...feeds, x: tensor('float32', [3], [1, 2, 3]) }, /input "x": expected float32 \[batch, 3\], got float32 \[3\] \(rank 1, expected rank 2\)/],
        [{ ...feeds, x: tensor('float32', [2, 4]) }, /input "x": expected float32 \[batch, 3\], got float32 \[2, 4\] \(dim 1 must be 3\)/],
        [{ x: feeds.x, w: feeds.w, timestep: feeds.timestep }, /missing input "b" \(float32 \[3\]\)/],
        [{ x: feeds.x, timestep: feeds.timestep }, /missing inputs "w" \(float32 \[3\]\), "b" \(float32 \[3\]\)/],
        [{ ...feeds, bias: feeds.b }, /unknown input "bias"; the model's inputs are x, w, b, timestep/],
        [{ ...feeds, w: { dtype: 'float32', dims: [3], data: new Float32Array(2) } }, /input "w": float32 \[3\] needs 3 values, got 2/],
        [{ ...feeds, w: { dtype: 'float32', dims: [3], data: new Float64Array(3) } }, /input "w": float32 data must be a Float32Array, got a Float64Array/],
      ];
      for (const [bad, message] of cases) {
        await assert.rejects(affine.run(bad), (e: Error) => e instanceof InputError && message.test(e.message), String(message));
      }
      await assert.rejects(affine.run(feeds, ['y', 'z']), /unknown output "z"; the model's outputs are y, t_next/);
      // The runner still works after refusing bad calls.
      assert.equal((await affine.run(feeds, ['t_next'])).t_next.data[0], 6n);
    });

    test('an error inside ONNX Runtime reaches the caller with its message', async () => {
      const runner = await open(broadcastModel());
      try {
        await assert.rejects(
          runner.run({ a: tensor('float32', [2]), b: tensor('float32', [3]) }),
          (e: Error) => e instanceof Error && /ONNX Runtime failed: .*Add node.*broadcast/.test(e.message),
        );
      } finally {
        await runner.release();
      }
    });

    test('held state fills missing inputs; fed inputs win over it', async () => {
      await affine.setState({ w: tensor('float32', [3], [2, 2, 2]), b: tensor('float32', [3], [1, 1, 1]) });
      const { x, timestep } = affineFeeds();
      assert.deepEqual([...(await affine.run({ x, timestep }, ['y'])).y.data], [3, 5, 7, 9, 11, 13]);
      const fedW = await affine.run({ x, timestep, w: tensor('float32', [3], [0, 0, 0]) }, ['y']);
      assert.deepEqual([...fedW.y.data], [1, 1, 1, 1, 1, 1]);
      assert.deepEqual(await affine.getState(['w']), { w: tensor('float32', [3], [2, 2, 2]) });
    });

    test('refuses bad state with the same kind of message', async () => {
      await assert.rejects(affine.setState({ bias: tensor('float32', [3]) }), /unknown input "bias"; the model's inputs are x, w, b, timestep/);
      await assert.rejects(affine.setState({ w: tensor('float32', [4]) }), /state "w": expected float32 \[3\], got float32 \[4\] \(dim 0 must be 3\)/);
      await assert.rejects(affine.getState(['x']), /no state held for "x"/);
      await assert.rejects(affine.run({}, { carry: { nope: 'w' } }), /carry from unknown output "nope"/);
      await assert.rejects(affine.run({}, { carry: { y: 'nope' } }), /carry into unknown input "nope"/);
      await assert.rejects(affine.run({}, { carry: { t_next: 'w' } }), /carry "t_next" -> "w": output is int64 \[1\], input expects float32 \[3\]/);
    });

    test('carries outputs into state over 100 steps, matching float32 arithmetic', async () => {
      const runner = await open(momentumModel(N));
      try {
        const losses = await train(runner, 100);
        const expected = referenceTraining(100, initialW());
        const state = await runner.getState();
        assert.deepEqual(Object.keys(state).sort(), ['m.w', 'w']);
        assert.deepEqual(state.w.data, expected.w);
        assert.deepEqual(state['m.w'].data, expected.m);
        assert.equal(losses.length, 100);
        assert.ok(losses.every(Number.isFinite));
        // getState returns copies: changing them does not change the runner's state.
        (state.w.data as Float32Array).fill(0);
        assert.deepEqual((await runner.getState(['w'])).w.data, expected.w);
      } finally {
        await runner.release();
      }
    });

    test('queues calls in order and drops a queued run whose signal aborted', async () => {
      const runner = await open(momentumModel(N));
      try {
        await runner.setState({ w: tensor('float32', [N]), 'm.w': tensor('float32', [N]) });
        const step = (s: number, signal?: AbortSignal): Promise<Record<string, HostTensor>> =>
          runner.run({ g: tensor('float32', [N], gradient(s)) }, { fetch: [], carry: { 'new.w': 'w', 'new.m.w': 'm.w' }, signal });
        const controller = new AbortController();
        const calls = [step(0), step(1), step(99, controller.signal), runner.getState(['w']), step(2)];
        controller.abort();
        const settled = await Promise.allSettled(calls);
        assert.deepEqual(
          settled.map((s) => s.status),
          ['fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled'],
        );
        assert.deepEqual((settled[3] as PromiseFulfilledResult<Record<string, HostTensor>>).value.w.data, referenceTraining(2, new Float32Array(N)).w);
        assert.deepEqual((await runner.getState(['w'])).w.data, referenceTraining(3, new Float32Array(N)).w);
      } finally {
        await runner.release();
      }
    });

    test('refuses calls after release', async () => {
      const runner = await open(affineModel());
      await runner.release();
      await assert.rejects(runner.run(affineFeeds()), /released/);
    });

    test('a broken or missing model file gives an error naming the file', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'gesso-runtime-'));
      const broken = join(dir, 'broken.onnx');
      writeFileSync(broken, 'this is not protobuf at all \x00\xff\xfe');
      await assert.rejects(open(broken), (e: Error) => e.message.includes(`could not load ONNX model "${broken}"`) && /protobuf/i.test(e.message));
      const missing = join(dir, 'missing.onnx');
      await assert.rejects(open(missing), (e: Error) => e.message === `ONNX model file "${missing}" does not exist`);
      await assert.rejects(open(new Uint8Array([1, 2, 3]), { name: 'bytes-model' }), /could not load ONNX model bytes-model/);
    });
  });
}

test('Session and WorkerSession train to bit-identical numbers', async () => {
  const runners = [await Session.create(momentumModel(N)), await WorkerSession.create(momentumModel(N))];
  try {
    const [lossesA, lossesB] = await Promise.all(runners.map((r) => train(r, 100)));
    assert.deepEqual(lossesA, lossesB);
    const [a, b] = await Promise.all(runners.map((r) => r.getState()));
    assert.deepEqual(a, b);
  } finally {
    await Promise.all(runners.map((r) => r.release()));
  }
});
