import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { matmulModel, timeOrtMatmul } from '../../bench/lib/ort-matmul.ts';

test('the ceiling model multiplies two matrices in onnxruntime-node', async () => {
  const session = await ort.InferenceSession.create(matmulModel(2));
  try {
    const out = await session.run({
      A: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [2, 2]),
      B: new ort.Tensor('float32', Float32Array.from([5, 6, 7, 8]), [2, 2]),
    });
    assert.deepEqual(Array.from(out.C.data as Float32Array), [19, 22, 43, 50]);
  } finally {
    await session.release();
  }
});

test('timeOrtMatmul returns one time per round', async () => {
  const ms = await timeOrtMatmul({ n: 64, threads: 1, warmup: 1, rounds: 3 });
  assert.equal(ms.length, 3);
});
