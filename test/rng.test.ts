import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../src/core/rng.ts';

test('same seed gives the same stream, another seed another', () => {
  assert.deepEqual(new Rng(42).normal(16), new Rng(42).normal(16));
  assert.notDeepEqual(new Rng(42).normal(16), new Rng(43).normal(16));
});

test('normals have mean ~0 and variance ~1', () => {
  const x = new Rng(7).normal(100_000);
  let m = 0;
  for (const v of x) m += v;
  m /= x.length;
  let v2 = 0;
  for (const v of x) v2 += (v - m) ** 2;
  v2 /= x.length;
  assert.ok(Math.abs(m) < 0.02, `mean ${m}`);
  assert.ok(Math.abs(v2 - 1) < 0.02, `variance ${v2}`);
});

test('a bad seed is refused with its value', () => {
  assert.throws(() => new Rng(-1), /seed -1/);
  assert.throws(() => new Rng(1.5), /seed 1.5/);
});
