/**
 * L-BFGS: solves an ill-conditioned quadratic that plain gradient steps crawl on; on a small Gatys
 * problem it reaches a lower loss than Adam in the same number of iterations (both measured by the same
 * loss graph), through the public option `optimizer: 'lbfgs'`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultEncoder } from '../../src/style/encoder.ts';
import { gatysLossEvaluator, gatysTransfer } from '../../src/style/gatys.ts';
import { lbfgsMinimize } from '../../src/style/lbfgs.ts';
import type { RgbPlanes } from '../../src/style/planes.ts';

test('lbfgs minimises an ill-conditioned quadratic far faster than the best fixed-step gradient descent', async () => {
  const n = 50;
  const scale = Float32Array.from({ length: n }, (_, i) => 100 ** (i / (n - 1))); // eigenvalues 1 .. 100
  const value = (x: Float32Array): number => x.reduce((s, v, i) => s + 0.5 * (scale[i] as number) * (v - 1) ** 2, 0);
  const f = async (x: Float32Array) => ({ loss: value(x), grad: Float32Array.from(x, (v, i) => (scale[i] as number) * (v - 1)), metrics: {} });
  const iterations = 60;
  const r = await lbfgsMinimize(new Float32Array(n), f, { iterations, firstStep: 1e-2 });
  // Gradient descent with the optimal fixed step 2 / (L + mu) for the same number of gradients.
  const gd = new Float32Array(n);
  for (let k = 0; k < r.evaluations; k++) for (let i = 0; i < n; i++) gd[i] = (gd[i] as number) - (2 / 101) * (scale[i] as number) * ((gd[i] as number) - 1);
  assert.ok(r.loss < 1e-6, `L-BFGS loss ${r.loss} after ${r.iterations} iterations, ${r.evaluations} evaluations`);
  assert.ok(value(gd) > 1e3 * r.loss, `gradient descent ${value(gd)} vs L-BFGS ${r.loss}`);
});

function texture(w: number, f: number, phase: number): RgbPlanes {
  const data = new Float32Array(3 * w * w);
  for (let c = 0; c < 3; c++)
    for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) data[c * w * w + y * w + x] = 0.5 + 0.4 * Math.sin(x / f + c * phase) * Math.cos(y / (f + 1.3) - c);
  return { data, width: w, height: w };
}

test('gatys: L-BFGS lowers the loss more per iteration than Adam (same loss graph, same start)', async () => {
  const encoder = defaultEncoder();
  const content = texture(40, 5, 0.3);
  const styles = [{ image: texture(40, 1.5, 2.1), weight: 1 }];
  const iterations = 10;
  const adam = await gatysTransfer(encoder, content, styles, { iterations });
  const lbfgsLosses: number[] = [];
  const lbfgs = await gatysTransfer(encoder, content, styles, { iterations, optimizer: 'lbfgs', onIteration: (_, __, l) => lbfgsLosses.push(l.loss) });
  assert.equal(lbfgsLosses.length, iterations);
  const evaluator = await gatysLossEvaluator(encoder, content, styles);
  try {
    const start = (await evaluator.evaluate(content.data)).loss;
    const a = (await evaluator.evaluate(adam.data)).loss;
    const l = (await evaluator.evaluate(lbfgs.data)).loss;
    assert.ok(l < a && a < start, `loss from ${start}: Adam ${a}, L-BFGS ${l} after ${iterations} iterations`);
    assert.ok(Math.abs(l - (lbfgsLosses.at(-1) as number)) < 1e-3 * l, 'the reported loss is the loss of the returned image');
  } finally {
    await evaluator.release();
  }
});
