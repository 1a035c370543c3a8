import assert from 'node:assert/strict';
import test from 'node:test';
import { gradients } from '../../src/autodiff/grad.ts';
import { hasRule, isNonDifferentiable } from '../../src/autodiff/rules.ts';
import { exportOnnx } from '../../src/graph/export.ts';
import { Graph } from '../../src/graph/graph.ts';
import { argmax, cast, mul, reduceSum } from '../../src/graph/ops/index.ts';
import { Session } from '../../src/runtime/session.ts';

test('ArgMax: int64 indices along an axis, first index on ties, for float, int32 and int64 inputs', async () => {
  const g = new Graph();
  const f = g.input('f', [2, 4]);
  const i = g.input('i', [2, 4], 'int32');
  const l = g.input('l', [2, 4], 'int64');
  const outs = { af: argmax(f, -1), ai: argmax(i, 1), al: argmax(l, 0, true) };
  assert.deepEqual(outs.af.shape, [2]);
  assert.deepEqual(outs.al.shape, [1, 4]);
  assert.equal(outs.af.dtype, 'int64');
  const session = await Session.create(exportOnnx(g, { outputs: outs, params: 'initializers' }).bytes);
  try {
    const out = await session.run({
      f: { dtype: 'float32', dims: [2, 4], data: Float32Array.of(0.1, 3, -1, 3, 5, 5, 5, 2) },
      i: { dtype: 'int32', dims: [2, 4], data: Int32Array.of(49406, 320, 49407, 49407, 7, 0, 0, 0) },
      l: { dtype: 'int64', dims: [2, 4], data: BigInt64Array.of(1n, 9n, 3n, 3n, 2n, 0n, 3n, 4n) },
    });
    assert.deepEqual([...(out.af!.data as BigInt64Array)], [1n, 0n]);
    assert.deepEqual([...(out.ai!.data as BigInt64Array)], [2n, 0n]);
    assert.deepEqual([...(out.al!.data as BigInt64Array)], [1n, 0n, 0n, 1n]);
  } finally {
    await session.release();
  }
});

test('ArgMax carries no gradient and refuses bool input', () => {
  assert.ok(hasRule('ArgMax') && isNonDifferentiable('ArgMax'));
  const g = new Graph();
  const x = g.input('x', [3]);
  const loss = reduceSum(mul(x, cast(argmax(x), 'float32')));
  const [gx] = gradients(loss, [x]);
  assert.ok(gx);
  assert.throws(() => argmax(g.input('b', [3], 'bool')), /bool .* not supported/);
});
