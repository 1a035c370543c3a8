/**
 * The three weight-gradient methods of src/autodiff/conv-grads.ts give the same dW, including the
 * factored method split into batch chunks (a big layer's path), on random data in float32.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.ts';
import { convWeightGradFactored, convWeightGradPerTap, convWeightGradUnfold } from '../../src/autodiff/conv-grads.ts';
import { exportOnnx } from '../../src/graph/export.ts';
import { Graph, type Tensor } from '../../src/graph/graph.ts';
import { conv, convGeometry, type ConvOptions } from '../../src/graph/ops/index.ts';
import { Session } from '../../src/runtime/session.ts';

type Method = (x: Tensor, gy: Tensor, kernel: readonly [number, number], geo: ReturnType<typeof convGeometry>) => Tensor;

async function weightGrad(xShape: number[], wShape: number[], options: ConvOptions, method: Method): Promise<Float32Array> {
  const g = new Graph();
  const x = g.input('x', xShape);
  const probe = conv(x, g.input('w', wShape), null, options); // only for gy's shape
  const gy = g.input('gy', probe.shape);
  const dw = method(x, gy, [wShape[2] as number, wShape[3] as number], convGeometry(2, options));
  const model = exportOnnx(g, { outputs: { dw }, params: 'inputs' });
  const session = await Session.create(model.bytes);
  const rng = new Rng(7);
  const feed = (t: Tensor) => ({ dtype: 'float32' as const, dims: [...t.shape], data: rng.normal(t.size) });
  const out = await session.run({ x: feed(x), gy: feed(gy) });
  await session.release();
  return out['dw']?.data as Float32Array;
}

function assertClose(actual: Float32Array, expected: Float32Array, what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < actual.length; i++) {
    const e = expected[i] as number;
    assert.ok(Math.abs((actual[i] as number) - e) <= 1e-3 * (1 + Math.abs(e)), `${what}: element ${i} is ${actual[i]}, expected ${e}`);
  }
}

test('factored dW equals per-tap dW (3x3 pad 1, 2x3 dilated with asymmetric pads, groups 2)', async () => {
  const cases: [number[], number[], ConvOptions][] = [
    [[3, 4, 6, 7], [5, 4, 3, 3], { pads: 1 }],
    [[2, 3, 9, 8], [4, 3, 2, 3], { pads: [1, 0, 2, 1], dilations: [2, 2] }],
    [[2, 4, 5, 5], [6, 2, 3, 3], { pads: 1, group: 2 }],
  ];
  for (const [xs, ws, o] of cases) {
    const expected = await weightGrad(xs, ws, o, convWeightGradPerTap);
    assertClose(await weightGrad(xs, ws, o, convWeightGradFactored), expected, `factored ${JSON.stringify(o)}`);
  }
});

test('factored dW in batch chunks equals one piece; unfold equals per-tap at stride 2', async () => {
  const whole = await weightGrad([5, 4, 6, 6], [3, 4, 3, 3], { pads: 1 }, convWeightGradFactored);
  // 1 KiB per chunk: one sample per chunk, five chunks summed.
  const chunked = await weightGrad([5, 4, 6, 6], [3, 4, 3, 3], { pads: 1 }, (x, gy, k, geo) => convWeightGradFactored(x, gy, k, geo, 1024));
  assertClose(chunked, whole, 'chunked');
  const strided: [number[], number[], ConvOptions] = [[3, 4, 7, 6], [5, 4, 3, 3], { pads: 1, strides: [2, 2] }];
  assertClose(await weightGrad(...strided, convWeightGradUnfold), await weightGrad(...strided, convWeightGradPerTap), 'unfold, stride 2');
});

test('factored dW refuses a strided convolution with a message naming the strides', () => {
  const g = new Graph();
  const x = g.input('x', [1, 2, 6, 6]);
  const gy = g.input('gy', [1, 3, 3, 3]);
  assert.throws(() => convWeightGradFactored(x, gy, [3, 3], convGeometry(2, { strides: [2, 2], pads: 1 })), /strides 2x2; only stride 1/);
});
