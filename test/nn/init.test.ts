/** Initial parameter values: PyTorch's default distributions, xavier and zeros, drawn from the seeded Rng. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.ts';
import { Graph } from '../../src/graph/graph.ts';
import { Conv2d, ConvTranspose2d, Embedding, GroupNorm, init, LayerNorm, Linear } from '../../src/nn/index.ts';
import { paramValue } from './run-graph.ts';

function stats(v: Float32Array): { min: number; max: number; mean: number; std: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (const x of v) {
    min = Math.min(min, x);
    max = Math.max(max, x);
    sum += x;
  }
  const mean = sum / v.length;
  let sq = 0;
  for (const x of v) sq += (x - mean) ** 2;
  return { min, max, mean, std: Math.sqrt(sq / v.length) };
}

/** Values fill uniform(-bound, bound): inside it, reaching near both ends, with std bound/sqrt(3). */
function assertUniform(v: Float32Array, bound: number): void {
  const s = stats(v);
  assert.ok(s.min >= -bound && s.max <= bound, `values in [${s.min}, ${s.max}] exceed ±${bound}`);
  assert.ok(s.min < -0.9 * bound && s.max > 0.9 * bound, `values in [${s.min}, ${s.max}] do not fill ±${bound}`);
  assert.ok(Math.abs(s.std - bound / Math.sqrt(3)) < 0.05 * bound, `std ${s.std} vs ${bound / Math.sqrt(3)}`);
}

test('fans as torch.nn.init._calculate_fan_in_and_fan_out', () => {
  assert.deepEqual(init.fans([1024, 256]), { fanIn: 256, fanOut: 1024 });
  assert.deepEqual(init.fans([128, 16, 3, 3]), { fanIn: 144, fanOut: 1152 });
  assert.throws(() => init.fans([5]), /at least 2 dims/);
});

test('Linear: kaiming-uniform(a=√5) weight and bias both within ±1/√in, as nn.Linear', () => {
  const g = new Graph();
  new Linear(g, 'l', { in: 64, out: 512 }, new Rng(1));
  assertUniform(paramValue(g, 'l.weight'), 1 / 8);
  assertUniform(paramValue(g, 'l.bias'), 1 / 8);
});

test('Conv2d uses fan_in = in/groups · k², ConvTranspose2d fan_in = out/groups · k², as PyTorch', () => {
  const g = new Graph();
  const rng = new Rng(2);
  new Conv2d(g, 'c', { in: 32, out: 256, kernel: 3, groups: 2 }, rng); // fan_in 16·9 = 144
  new ConvTranspose2d(g, 't', { in: 512, out: 8, kernel: 2 }, rng); // fan_in 8·4 = 32
  assertUniform(paramValue(g, 'c.weight'), 1 / 12);
  assertUniform(paramValue(g, 'c.bias'), 1 / 12);
  assertUniform(paramValue(g, 't.weight'), 1 / Math.sqrt(32));
});

test('xavier init: uniform(±√(6/(fan_in+fan_out))) weight, zero bias; zeros init: all zero', () => {
  const g = new Graph();
  const rng = new Rng(3);
  new Linear(g, 'x', { in: 100, out: 200, init: 'xavier' }, rng);
  new Conv2d(g, 'z', { in: 4, out: 4, kernel: 3, init: 'zeros' }, rng);
  assertUniform(paramValue(g, 'x.weight'), Math.sqrt(6 / 300));
  assert.ok(paramValue(g, 'x.bias').every((v) => v === 0));
  assert.ok(paramValue(g, 'z.weight').every((v) => v === 0) && paramValue(g, 'z.bias').every((v) => v === 0));
  const xn = stats(init.xavierNormal(new Rng(4), [300, 500]));
  assert.ok(Math.abs(xn.std - Math.sqrt(2 / 800)) < 0.02 * Math.sqrt(2 / 800), `xavier-normal std ${xn.std}`);
  assert.throws(() => new Linear(g, 'bad', { in: 2, out: 2, init: 'he' as init.WeightInit }, rng), /unknown weight init "he"/);
});

test('norms start at weight 1, bias 0; embeddings at normal(0, 1)', () => {
  const g = new Graph();
  new GroupNorm(g, 'gn', { groups: 4, channels: 16 });
  new LayerNorm(g, 'ln', { dim: 8 });
  new Embedding(g, 'e', { num: 1000, dim: 50 }, new Rng(5));
  for (const n of ['gn', 'ln']) {
    assert.ok(paramValue(g, `${n}.weight`).every((v) => v === 1));
    assert.ok(paramValue(g, `${n}.bias`).every((v) => v === 0));
  }
  const e = stats(paramValue(g, 'e.weight'));
  assert.ok(Math.abs(e.mean) < 0.01 && Math.abs(e.std - 1) < 0.01, `mean ${e.mean}, std ${e.std}`);
});

test('the same seed gives the same parameters; another seed different ones', () => {
  const build = (seed: number): Float32Array => {
    const g = new Graph();
    new Conv2d(g, 'c', { in: 3, out: 4, kernel: 3 }, new Rng(seed));
    return paramValue(g, 'c.weight');
  };
  assert.deepEqual(build(7), build(7));
  assert.notDeepEqual(build(7), build(8));
});
