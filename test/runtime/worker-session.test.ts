// What only the worker runner does: moving buffers, loading TypeScript in the worker under both
// entry paths, stopping a run on release, and failing clearly when the worker dies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { tensor } from '../../src/runtime/tensor.ts';
import { WorkerSession } from '../../src/runtime/worker-session.ts';
import { affineModel, matmulChainModel, momentumModel } from './fixtures.ts';

function feeds() {
  return {
    x: tensor('float32', [2, 3], [1, 2, 3, 4, 5, 6]),
    w: tensor('float32', [3], [1, 1, 2]),
    b: tensor('float32', [3], [0, 0, 1]),
    timestep: tensor('int64', [1], [5n]),
  };
}

test('feeds are copied by default and moved with transfer: true', async () => {
  const session = await WorkerSession.create(affineModel());
  try {
    const kept = feeds();
    await session.run(kept);
    assert.equal(kept.x.data.length, 6);

    const moved = feeds();
    const out = await session.run(moved, { transfer: true });
    assert.deepEqual([...out.y.data], [1, 2, 7, 4, 5, 13]);
    assert.equal(moved.x.data.length, 0, 'x was transferred, so its array is detached');
    assert.equal(moved.timestep.data.length, 0);

    // A view into a larger buffer is copied even with transfer: true (moving it would take the rest too).
    const big = new Float32Array(100);
    big.set([1, 1, 2], 10);
    const view = feeds();
    view.w = tensor('float32', [3], big.subarray(10, 13));
    await session.run(view, { transfer: true });
    assert.equal(big.length, 100);
  } finally {
    await session.release();
  }
});

test('setState with transfer: true moves the buffers; state stays in the worker', async () => {
  const session = await WorkerSession.create(momentumModel(4));
  try {
    const w = tensor('float32', [4], [1, 2, 3, 4]);
    const m = tensor('float32', [4]);
    await session.setState({ w, 'm.w': m }, { transfer: true });
    assert.equal(w.data.length, 0);
    await session.run({ g: tensor('float32', [4], [1, 1, 1, 1]) }, { fetch: ['loss'], carry: { 'new.w': 'w', 'new.m.w': 'm.w' } });
    const state = await session.getState(['w']);
    assert.deepEqual(
      [...state.w.data],
      [1, 2, 3, 4].map((v) => Math.fround(v - Math.fround(0.1))),
    );
  } finally {
    await session.release();
  }
});

test('loads TypeScript in the worker when tsx is registered in code, and exits without release()', () => {
  const script = fileURLToPath(new URL('./worker-entry.mjs', import.meta.url));
  // No --import tsx here: the same start-up as bin/gesso.js.
  const child = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(child.status, 0, child.stderr);
  const result = JSON.parse(child.stdout.trim()) as { execArgv: string[]; y: number[]; t: string };
  assert.deepEqual(result.execArgv, []);
  assert.deepEqual(result.y, [3, 5, 7]);
  assert.equal(result.t, '42');
});

test('loads TypeScript in the worker under node --import tsx (this process)', async () => {
  assert.ok(process.execArgv.join(' ').includes('tsx'), `execArgv: ${process.execArgv.join(' ')}`);
  const session = await WorkerSession.create(affineModel());
  try {
    assert.equal((await session.run(feeds(), ['t_next'])).t_next.data[0], 6n);
  } finally {
    await session.release();
  }
});

test('release() rejects a run in progress and queued runs at once, and ends the worker after the run', async () => {
  const size = 512;
  const session = await WorkerSession.create(matmulChainModel(size, 100));
  const running = session.run({ x: tensor('float32', [size, size]), w: tensor('float32', [size, size]) });
  const queued = session.run({ x: tensor('float32', [size, size]), w: tensor('float32', [size, size]) });
  await new Promise((resolve) => setTimeout(resolve, 50));
  const released = session.release();
  await assert.rejects(running, /the session was released/);
  await assert.rejects(queued, /the session was released/);
  await released;
  await assert.rejects(session.getState(), /the session was released/);
});

test('a worker that dies rejects pending and later calls with a clear error', async () => {
  const session = await WorkerSession.create(affineModel());
  // Simulate a crash (an out-of-memory kill, a native abort) by ending the thread from outside.
  // (Only while idle: terminating a worker inside a native ORT run aborts the process.)
  const worker = (session as unknown as { worker: Worker }).worker;
  await worker.terminate();
  await assert.rejects(session.run(feeds()), /the session worker exited \(code 1\)/);
  await session.release();
});
