// ORT's run() blocks the thread that calls it: in-process the event loop stops for the whole run,
// with a WorkerSession it keeps ticking. Counted with a 10 ms interval during one heavy run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Runner } from '../../src/runtime/runner.ts';
import { Session } from '../../src/runtime/session.ts';
import { tensor } from '../../src/runtime/tensor.ts';
import { WorkerSession } from '../../src/runtime/worker-session.ts';
import { matmulChainModel } from './fixtures.ts';

const SIZE = 1024;
// ~2 GFLOP per MatMul: about a second of work in all on the 2-core dev machine.
const heavy = matmulChainModel(SIZE, 45);

async function ticksDuringRun(runner: Runner): Promise<{ ticks: number; ms: number }> {
  const feeds = { x: tensor('float32', [SIZE, SIZE]), w: tensor('float32', [SIZE, SIZE]) };
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  const start = performance.now();
  try {
    await runner.run(feeds, ['y']);
  } finally {
    clearInterval(timer);
  }
  return { ticks, ms: performance.now() - start };
}

test('in-process, the event loop does not tick while the model runs', async () => {
  const session = await Session.create(heavy);
  try {
    const { ticks, ms } = await ticksDuringRun(session);
    console.log(`in-process: ${ticks} ticks in ${ms.toFixed(0)} ms`);
    // At most one: libuv caches the loop's clock, so the first tick can fall due just before the
    // run starts. During the run itself (100+ intervals long) none fire.
    assert.ok(ticks <= 1, `${ticks} ticks during an in-process run`);
  } finally {
    await session.release();
  }
});

test('with a WorkerSession, the event loop keeps ticking while the model runs', async () => {
  const session = await WorkerSession.create(heavy);
  try {
    const { ticks, ms } = await ticksDuringRun(session);
    console.log(`worker: ${ticks} ticks in ${ms.toFixed(0)} ms`);
    assert.ok(ticks >= 5, `only ${ticks} ticks during the run`);
  } finally {
    await session.release();
  }
});
