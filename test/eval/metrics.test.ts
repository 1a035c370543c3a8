// The evaluation's pure measures: hue naming, circular mean, image hue, PSNR, Fréchet distance.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../src/core/rng.ts';
import { featureStats, frechetDistance, frechetDistanceFromStats, sqrtSymmetric, symmetricEigen } from '../../src/eval/frechet.ts';
import { circularMeanDegrees, hueInRange, hueName, imageHue, matchesColor, rgbToHsv } from '../../src/eval/hue.ts';
import { meanSquaredError, psnr, psnrFromMse } from '../../src/image/metrics.ts';

const close = (a: number, b: number, eps: number, what = ''): void => assert.ok(Math.abs(a - b) <= eps, `${what} ${a} vs ${b}`);

test('HSV: primaries, greys and wrap-around', () => {
  assert.deepEqual(rgbToHsv(1, 0, 0), { hue: 0, saturation: 1, value: 1 });
  assert.equal(rgbToHsv(0, 1, 0).hue, 120);
  assert.equal(rgbToHsv(0, 0, 1).hue, 240);
  assert.equal(rgbToHsv(1, 1, 0).hue, 60);
  close(rgbToHsv(1, 0, 0.1).hue, 354, 1e-9, 'a red with some blue is just under 360');
  assert.deepEqual(rgbToHsv(0.5, 0.5, 0.5), { hue: 0, saturation: 0, value: 0.5 });
  assert.equal(rgbToHsv(0, 0, 0).saturation, 0);
});

test('hue names follow the palette ranges, red wrapping past 0°', () => {
  assert.equal(hueName(0), 'red');
  assert.equal(hueName(350), 'red');
  assert.equal(hueName(14.9), 'red');
  assert.equal(hueName(15), 'orange');
  assert.equal(hueName(60), 'yellow');
  assert.equal(hueName(120), 'green');
  assert.equal(hueName(210), 'blue');
  assert.equal(hueName(280), 'purple');
  assert.equal(hueName(320), 'pink');
  assert.equal(hueName(-10), 'red');
  assert.ok(hueInRange(359.9, 'red'));
  assert.ok(!hueInRange(180, 'red'));
  assert.ok(hueInRange(165, 'blue') && !hueInRange(165, 'green'));
});

test('circular mean: 350° and 10° average to 0°, not 180°; resultant length measures spread', () => {
  const m = circularMeanDegrees([350, 10]);
  assert.ok(m.mean < 1e-9 || m.mean > 360 - 1e-9, String(m.mean));
  close(m.resultant, Math.cos((10 * Math.PI) / 180), 1e-12);
  close(circularMeanDegrees([90, 90, 90]).mean, 90, 1e-9);
  close(circularMeanDegrees([90, 90, 90]).resultant, 1, 1e-12);
  close(circularMeanDegrees([200, 220]).mean, 210, 1e-9);
  close(circularMeanDegrees([0, 90, 180, 270]).resultant, 0, 1e-12);
  assert.throws(() => circularMeanDegrees([]), /no angles/);
});

/** A (H, W, 3) image: a white background with `ink` pixels of one colour. */
function picture(size: number, ink: number, rgb: [number, number, number]): Float32Array {
  const px = new Float32Array(size * size * 3).fill(1);
  for (let i = 0; i < ink; i++) px.set(rgb, i * 3);
  return px;
}

test('image hue: white background, black outlines and greys are left out; too little colour is no colour', () => {
  const px = picture(8, 20, [0.1, 0.2, 0.9]); // blue ink
  px.set([0, 0, 0], 30 * 3); // black outline
  px.set([0.5, 0.5, 0.5], 31 * 3); // grey
  const h = imageHue(px, 8, 8);
  assert.ok(h.hue !== null);
  assert.equal(hueName(h.hue), 'blue');
  close(h.chromaticShare, 20 / 64, 1e-12);
  assert.ok(matchesColor(h, 'blue'));
  assert.ok(!matchesColor(h, 'green'));

  const red = picture(8, 10, [0.9, 0.1, 0.05]);
  red.set([0.9, 0.05, 0.15], 3 * 3); // a red just under 360°
  assert.ok(matchesColor(imageHue(red, 8, 8), 'red'));

  const blank = picture(8, 0, [0, 0, 0]);
  assert.deepEqual(imageHue(blank, 8, 8), { hue: null, resultant: 0, chromaticShare: 0 });
  assert.ok(!matchesColor(imageHue(blank, 8, 8), 'red'), 'an image with no colour never matches');
  assert.throws(() => imageHue(new Float32Array(5), 2, 2), /needs 12 values/);
});

test('PSNR: 10 log10(1 / MSE) on [0, 1] pixels', () => {
  assert.equal(meanSquaredError([0, 1], [0, 0]), 0.5);
  close(psnr([0, 0, 0, 0], [0.1, 0.1, 0.1, 0.1]), 20, 1e-9, 'MSE 0.01 is 20 dB');
  close(psnrFromMse(0.001), 30, 1e-9);
  assert.equal(psnr([0.5], [0.5]), 100, 'identical images are capped at 100 dB, not infinite');
  assert.throws(() => psnr([0], [0, 1]), /different lengths/);
});

test('Jacobi eigen-decomposition reconstructs a random symmetric matrix; the square root squares back', () => {
  const d = 6;
  const rng = new Rng(3);
  const b = rng.normal(d * d);
  const m = new Float64Array(d * d); // BᵀB: symmetric PSD
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) m[i * d + j] = m[i * d + j] + b[k * d + i] * b[k * d + j];
  const { values, vectors } = symmetricEigen(m, d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let v = 0;
      for (let k = 0; k < d; k++) v += vectors[i * d + k] * values[k] * vectors[j * d + k];
      close(v, m[i * d + j], 1e-9, `A[${i}][${j}]`);
    }
  }
  const root = sqrtSymmetric(m, d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let v = 0;
      for (let k = 0; k < d; k++) v += root[i * d + k] * root[k * d + j];
      close(v, m[i * d + j], 1e-9, `root²[${i}][${j}]`);
    }
  }
});

test('Fréchet distance: hand-computed 2-D cases', () => {
  // C1 = [[2, 1], [1, 2]] (eigenvalues 3 and 1), C2 = I, means (0, 0) and (2, 0):
  // d² = 4 + tr(C1) + tr(I) − 2 tr(C1^½) = 4 + 4 + 2 − 2(√3 + 1) = 8 − 2√3.
  const s1 = { dim: 2, mean: Float64Array.of(0, 0), cov: Float64Array.of(2, 1, 1, 2) };
  const s2 = { dim: 2, mean: Float64Array.of(2, 0), cov: Float64Array.of(1, 0, 0, 1) };
  close(frechetDistanceFromStats(s1, s2), 8 - 2 * Math.sqrt(3), 1e-9);
  close(frechetDistanceFromStats(s2, s1), 8 - 2 * Math.sqrt(3), 1e-9, 'symmetric');
  // diag(1, 4) vs diag(4, 1), same mean: 10 − 2 tr(diag(2, 2)) = 2.
  close(
    frechetDistanceFromStats(
      { dim: 2, mean: Float64Array.of(1, 1), cov: Float64Array.of(1, 0, 0, 4) },
      { dim: 2, mean: Float64Array.of(1, 1), cov: Float64Array.of(4, 0, 0, 1) },
    ),
    2,
    1e-9,
  );
});

test('Fréchet distance of feature sets: identical sets give 0, a shift by v gives |v|², stats use N − 1', () => {
  // Four 2-D points: mean (1, 2), unbiased covariance [[4/3, 0], [0, 4/3]].
  const pts = Float64Array.of(0, 1, 2, 1, 0, 3, 2, 3);
  const stats = featureStats({ data: pts, count: 4, dim: 2 });
  assert.deepEqual([...stats.mean], [1, 2]);
  close(stats.cov[0], 4 / 3, 1e-12);
  close(stats.cov[1], 0, 1e-12);
  close(stats.cov[3], 4 / 3, 1e-12);
  close(frechetDistance({ data: pts, count: 4, dim: 2 }, { data: pts, count: 4, dim: 2 }), 0, 1e-12, 'identical sets');
  const shifted = pts.map((v, i) => v + (i % 2 === 0 ? 3 : -4));
  close(frechetDistance({ data: pts, count: 4, dim: 2 }, { data: shifted, count: 4, dim: 2 }), 25, 1e-9);

  const rng = new Rng(9);
  const a = { data: rng.normal(200 * 16), count: 200, dim: 16 };
  const b = { data: rng.normal(200 * 16, 2), count: 200, dim: 16 };
  close(frechetDistance(a, a), 0, 1e-8, 'identical 16-d sets');
  assert.ok(frechetDistance(a, b) > 5, 'wider spread is far');
  assert.throws(() => featureStats({ data: new Float64Array(3), count: 1, dim: 3 }), /at least 2/);
});
