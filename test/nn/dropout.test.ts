/** Dropout: identity at inference; in training a seeded random mask, scaled by 1/(1-p), with the right gradient. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gradients } from '../../src/autodiff/grad.ts';
import { Rng } from '../../src/core/rng.ts';
import { exportOnnx } from '../../src/graph/export.ts';
import { Graph, type Tensor } from '../../src/graph/graph.ts';
import { reduceSum } from '../../src/graph/ops/index.ts';
import { Dropout, ResBlock } from '../../src/nn/index.ts';
import { Session } from '../../src/runtime/session.ts';

const N = 20000;

/** Builds y = dropout(x) and dL/dx for L = sum(y); returns the model bytes. */
function build(p: number, seed: number, twice = false): Uint8Array {
  const g = new Graph();
  const x = g.input('x', [4, N / 4]);
  const drop = new Dropout(p, { training: true, seed });
  const y = drop.forward(x);
  const [dx] = gradients(reduceSum(y), [x]);
  const outputs: Record<string, Tensor> = twice ? { y, y2: drop.forward(x) } : { y, dx: dx! };
  return exportOnnx(g, { outputs, params: 'initializers' }).bytes;
}

const ones = { x: { dtype: 'float32' as const, dims: [4, N / 4], data: new Float32Array(N).fill(1) } };

async function runs(bytes: Uint8Array, count: number): Promise<Record<string, Float32Array>[]> {
  const s = await Session.create(bytes);
  try {
    const out: Record<string, Float32Array>[] = [];
    for (let i = 0; i < count; i++) {
      const r = await s.run(ones);
      out.push(Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.data as Float32Array])));
    }
    return out;
  } finally {
    await s.release();
  }
}

test('inference dropout returns its input and adds no nodes', () => {
  const g = new Graph();
  const x = g.input('x', [2, 3]);
  assert.equal(new Dropout(0.5).forward(x), x);
  assert.equal(new Dropout(0.5, { training: false, seed: 3 }).forward(x), x);
  assert.equal(g.nodes.length, 0);
});

test('training dropout zeroes about p of the values and scales the rest by 1/(1-p); dx is the same mask', async () => {
  const p = 0.3;
  const [{ y, dx }] = (await runs(build(p, 1), 1)) as [Record<string, Float32Array>];
  const zeros = y!.filter((v) => v === 0).length;
  // Binomial(20000, 0.3): std ≈ 65, so ±400 is six standard deviations.
  assert.ok(Math.abs(zeros - p * N) < 400, `${zeros} zeros of ${N}`);
  assert.ok(y!.every((v) => v === 0 || Math.abs(v - 1 / (1 - p)) < 1e-6));
  assert.deepEqual(dx, y, 'dL/dx of sum(dropout(x)) at x = 1 is the scaled mask itself');
});

test('masks are reproducible across sessions with the same seed, fresh each run, and differ between seeds and calls', async () => {
  const [a1, a2] = await runs(build(0.5, 42), 2);
  const [b1, b2] = await runs(build(0.5, 42), 2);
  const [c1] = await runs(build(0.5, 43), 1);
  assert.deepEqual(a1!['y'], b1!['y']);
  assert.deepEqual(a2!['y'], b2!['y']);
  assert.notDeepEqual(a1!['y'], a2!['y']);
  assert.notDeepEqual(a1!['y'], c1!['y']);
  const [t] = await runs(build(0.5, 42, true), 1);
  assert.notDeepEqual(t!['y'], t!['y2'], 'two forward() calls of one Dropout draw different masks');
});

test('a ResBlock with training dropout builds, exports and differentiates', async () => {
  const g = new Graph();
  const rng = new Rng(1);
  const x = g.input('x', [1, 4, 3, 3]);
  const block = new ResBlock(g, 'res', { in: 4, groups: 2, dropout: new Dropout(0.1, { training: true, seed: 5 }) }, rng);
  const y = block.forward(x);
  const grads = gradients(reduceSum(y), [x, block.conv1.weight]);
  assert.ok(grads.every((t) => t !== null));
  assert.ok(g.nodes.some((n) => n.op === 'RandomUniformLike'));
  const model = exportOnnx(g, { outputs: { y, dx: grads[0]!, dw: grads[1]! }, params: 'initializers' });
  const s = await Session.create(model.bytes);
  try {
    const out = await s.run({ x: { dtype: 'float32', dims: [1, 4, 3, 3], data: new Rng(2).normal(36) } });
    assert.ok([...(out['dw']!.data as Float32Array)].every(Number.isFinite));
  } finally {
    await s.release();
  }
});
