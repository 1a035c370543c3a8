// Every SessionOptions field reaches ORT (a wrong value is refused by ORT, with the model named).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SessionOptions } from '../../src/runtime/runner.ts';
import { Session } from '../../src/runtime/session.ts';
import { tensor } from '../../src/runtime/tensor.ts';
import { WorkerSession } from '../../src/runtime/worker-session.ts';
import { affineModel } from './fixtures.ts';

const allOptions: SessionOptions = {
  name: 'affine',
  intraOpThreads: 1,
  interOpThreads: 1,
  allowSpinning: true,
  graphOptimizationLevel: 'disabled',
  enableCpuMemArena: false,
  enableMemPattern: false,
  executionMode: 'parallel',
  logSeverityLevel: 3,
};

const feeds = {
  x: tensor('float32', [1, 3], [1, 2, 3]),
  w: tensor('float32', [3], [1, 1, 1]),
  b: tensor('float32', [3], [0, 0, 0]),
  timestep: tensor('int64', [1], [1n]),
};

for (const [kind, open] of [
  ['Session', Session.create],
  ['WorkerSession', WorkerSession.create],
] as const) {
  test(`${kind} accepts every option and uses the given name in errors`, async () => {
    const runner = await open(affineModel(), allOptions);
    try {
      assert.equal(runner.name, 'affine');
      assert.deepEqual([...(await runner.run(feeds, ['y'])).y.data], [1, 2, 3]);
      await assert.rejects(runner.run({ ...feeds, w: tensor('float32', [2]) }), /^InputError: affine: input "w"/);
    } finally {
      await runner.release();
    }
  });

  test(`${kind} passes bad option values to ORT, which refuses them`, async () => {
    await assert.rejects(
      open(affineModel(), { name: 'affine', graphOptimizationLevel: 'sometimes' as 'all' }),
      /could not load ONNX model affine: .*graphOptimizationLevel.*sometimes/,
    );
  });

  test(`${kind} refuses a bad GESSO_THREADS`, async () => {
    const saved = process.env.GESSO_THREADS;
    process.env.GESSO_THREADS = 'lots';
    try {
      await assert.rejects(open(affineModel()), /GESSO_THREADS="lots"/);
    } finally {
      if (saved === undefined) delete process.env.GESSO_THREADS;
      else process.env.GESSO_THREADS = saved;
    }
  });
}
