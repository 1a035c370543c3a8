// Golden values of gesso's seeded Rng (src/core/rng.ts): every image's noise comes from this stream, so
// a recipe re-makes its image only while these numbers stay the same. They are literals on purpose: a
// change to the generator fails here. An intended change updates them and says so in CHANGELOG.md.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/core/rng.ts';

const draw = <T>(n: number, next: () => T): T[] => Array.from({ length: n }, next);

test('seed 42: the first 32-bit draws (xoshiro128** from splitmix32)', () => {
  const rng = new Rng(42);
  assert.deepEqual(
    draw(8, () => rng.nextUint32()),
    [2837322924, 544945897, 479756282, 3500138142, 339756180, 113173290, 65323186, 1112262688],
  );
});

test('seed 42: the first uniform draws', () => {
  const rng = new Rng(42);
  assert.deepEqual(
    draw(6, () => rng.uniform()),
    [0.6606157226487994, 0.12688010395504534, 0.11170196393504739, 0.8149394164793193, 0.07910565007477999, 0.026350209955126047],
  );
});

test('seed 42: the first normal draws (Box–Muller, float64)', () => {
  const rng = new Rng(42);
  assert.deepEqual(
    draw(6, () => rng.gaussian()),
    [1.0271775679456403, 1.0517370146991034, 0.1931295978853847, -0.4467626781880613, 0.40042869885474475, 0.06690874717120372],
  );
});

test('the float32 noise of seeds 0 and 4294967295, and the sum of a 4×8×8 latent for seed 1234', () => {
  assert.deepEqual(
    Array.from(new Rng(0).normal(6)),
    [-0.18286387622356415, 2.079594373703003, -0.07349541038274765, -0.14037568867206573, -0.25629299879074097, -0.020961470901966095],
  );
  assert.deepEqual(Array.from(new Rng(4294967295).normal(4)), [-0.622240424156189, 0.21376407146453857, -1.1699538230895996, 0.4711650609970093]);
  const latent = new Rng(1234).normal(4 * 8 * 8);
  let sum = 0;
  for (const v of latent) sum += v;
  assert.equal(sum, -14.276787254959345);
  assert.equal(latent[255], 1.1904643774032593);
});

test('seed 5: integers and a shuffle', () => {
  const rng = new Rng(5);
  assert.deepEqual(
    draw(6, () => rng.int(1000)),
    [842, 830, 624, 266, 472, 745],
  );
  assert.deepEqual(new Rng(5).shuffle([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), [5, 6, 0, 9, 3, 2, 1, 4, 7, 8]);
});
