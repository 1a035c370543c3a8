import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.ts';
import { crossover, ease, EASINGS, frameTimes, lerp, mutate, norm, slerp, weightedMean } from '../../src/pipelines/latent-math.ts';
import { walkSpecs, cornerGridSpecs, seedSpec } from '../../src/pipelines/explore-specs.ts';

test('slerp keeps the norm of Gaussian latents near sqrt(d); lerp does not', () => {
  const d = 512;
  const rng = new Rng(3);
  for (let pair = 0; pair < 20; pair++) {
    const a = rng.normal(d);
    const b = rng.normal(d);
    const expected = (norm(a) + norm(b)) / 2;
    const s = norm(slerp(a, b, 0.5));
    const l = norm(lerp(a, b, 0.5));
    assert.ok(Math.abs(s - expected) / expected < 1e-5, `slerp norm ${s} vs ${expected}`);
    // Independent Gaussians are nearly orthogonal: the midpoint of the chord is ~1/sqrt(2) as long.
    assert.ok(l / expected < 0.8, `lerp norm ${l} should drop well below ${expected}`);
    assert.ok(Math.abs(s - Math.sqrt(d)) / Math.sqrt(d) < 0.1);
  }
});

test('interpolation endpoints are exactly the endpoints', () => {
  const rng = new Rng(9);
  const a = rng.normal(64);
  const b = rng.normal(64);
  assert.deepEqual(slerp(a, b, 0), a);
  assert.deepEqual(slerp(a, b, 1), b);
  assert.deepEqual(lerp(a, b, 0), a);
  for (const e of EASINGS) {
    assert.equal(ease(e, 0), 0);
    assert.ok(Math.abs(ease(e, 1) - 1) < 1e-12);
  }
  const times = frameTimes(5, 'ease-in-out');
  assert.equal(times.length, 5);
  assert.equal(times[0], 0);
  assert.equal(times[4], 1);
  assert.ok(times[1]! < 0.25, 'ease-in-out starts slowly');
});

test('a looping walk visits every key once and does not repeat the first frame at the end', () => {
  const keys = [seedSpec(1), seedSpec(2), seedSpec(3)];
  const frames = walkSpecs(keys, { frames: 4 });
  assert.equal(frames.length, 9); // 3 segments of 3 new frames each
  assert.deepEqual(frames[0], keys[0]);
  assert.deepEqual(frames[3], keys[1]);
  assert.deepEqual(frames[6], keys[2]);
  const open = walkSpecs(keys, { frames: 4, loop: false });
  assert.equal(open.length, 7);
  assert.deepEqual(open[6], keys[2]);
  const grid = cornerGridSpecs([seedSpec(1), seedSpec(2), seedSpec(3), seedSpec(4)], 3);
  assert.deepEqual([grid[0], grid[2], grid[6], grid[8]], [seedSpec(1), seedSpec(2), seedSpec(3), seedSpec(4)]);
});

test('crossover takes each coordinate from a parent; mutation rate 0 changes nothing; both are seeded', () => {
  const a = new Float32Array(100).fill(1);
  const b = new Float32Array(100).fill(2);
  const child = crossover([a, b], new Rng(5));
  assert.ok(child.every((x) => x === 1 || x === 2));
  assert.ok(child.some((x) => x === 1) && child.some((x) => x === 2));
  assert.deepEqual(crossover([a, b], new Rng(5)), child);
  const scale = new Float32Array(100).fill(1);
  assert.deepEqual(mutate(child, 0, scale, new Rng(1)), child);
  const m = mutate(child, 0.5, scale, new Rng(1));
  const changed = m.filter((x, i) => x !== child[i]).length;
  assert.ok(changed > 30 && changed < 70, `${changed} of 100 mutated at rate 0.5`);
  assert.deepEqual(weightedMean([a, b], [1, 3]), new Float32Array(100).fill(1.75));
});
