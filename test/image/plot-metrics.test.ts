/** Image helpers the upscaler's training reports with: bicubic/bilinear baselines, PSNR/SSIM, line charts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { InputError } from '../../src/core/errors.ts';
import { Rng } from '../../src/core/rng.ts';
import { exportOnnx } from '../../src/graph/export.ts';
import { Graph } from '../../src/graph/graph.ts';
import { bicubicUpscale, keysCubic } from '../../src/image/bicubic.ts';
import { meanPsnr, psnr, ssim } from '../../src/image/metrics.ts';
import { linearTicks, plotLines, plotSvg } from '../../src/image/plot.ts';
import { Session } from '../../src/runtime/session.ts';

const randomBytes = (n: number, seed: number): Uint8Array => Uint8Array.from(new Rng(seed).uniformArray(n, 0, 255), Math.round);

test("Keys' kernel: 1 at 0, 0 at other integers, weights sum to 1", () => {
  assert.equal(keysCubic(0), 1);
  for (const t of [1, -1, 2, -2, 2.5]) assert.equal(keysCubic(t), 0);
  for (const f of [0.125, 0.375, 0.6]) assert.ok(Math.abs(keysCubic(f + 1) + keysCubic(f) + keysCubic(1 - f) + keysCubic(2 - f) - 1) < 1e-12);
});

test('bicubicUpscale matches ONNX Runtime Resize (cubic, a = -0.5, half_pixel) and keeps flat images flat', async () => {
  const [c, h, w] = [3, 7, 9];
  const bytes = randomBytes(c * h * w, 1);
  const g = new Graph();
  const x = g.input('x', [1, c, h, w]);
  const scales = g.constant(Float32Array.from([1, 1, 4, 4]), [4], 'float32', 'scales');
  const attrs = { mode: { s: 'cubic' }, cubic_coeff_a: { f: -0.5 }, coordinate_transformation_mode: { s: 'half_pixel' }, exclude_outside: { i: 0 } };
  const [y] = g.addNode('Resize', [x, null, scales], attrs, [{ shape: [1, c, 4 * h, 4 * w], dtype: 'float32' }]);
  const session = await Session.create(exportOnnx(g, { outputs: { y: y! }, params: 'initializers' }).bytes);
  try {
    const ort = (await session.run({ x: { dtype: 'float32', dims: [1, c, h, w], data: Float32Array.from(bytes) } }))['y']!.data as Float32Array;
    const mine = bicubicUpscale(bytes, c, h, w, 4);
    const worst = mine.reduce((m, v, i) => Math.max(m, Math.abs(v - Math.max(0, Math.min(255, Math.round(ort[i]))))), 0);
    assert.ok(worst <= 1, `largest difference from ONNX Runtime: ${worst}`);
  } finally {
    await session.release();
  }
  assert.ok(bicubicUpscale(new Uint8Array(3 * 4 * 4).fill(77), 3, 4, 4, 4).every((v) => v === 77));
  assert.throws(() => bicubicUpscale(new Uint8Array(5), 3, 4, 4, 4), InputError);
});

test('psnr and ssim: known values, identical images, noise lowers both', () => {
  const a = new Uint8Array(300).fill(100);
  const b = a.map((v, i) => (i % 2 ? v + 10 : v - 10));
  assert.ok(Math.abs(psnr(a, b, 255) - 10 * Math.log10((255 * 255) / 100)) < 1e-9);
  assert.equal(psnr(a, a, 255), 100, 'identical images are capped at 100 dB');
  assert.equal(meanPsnr([[a, a]]), 100);
  assert.throws(() => psnr(a, new Uint8Array(3), 255), InputError);

  const img = randomBytes(3 * 24 * 24, 2).map((v, i) => (i % 24 < 12 ? v / 4 : 200 + v / 5)); // structure plus texture
  assert.ok(Math.abs(ssim(img, img, 3, 24, 24) - 1) < 1e-12);
  const rng = new Rng(3);
  const noisy = (amp: number): Uint8Array => img.map((v) => Math.max(0, Math.min(255, Math.round(v + amp * rng.gaussian()))));
  const s1 = ssim(img, noisy(5), 3, 24, 24);
  const s2 = ssim(img, noisy(30), 3, 24, 24);
  assert.ok(s1 < 1 && s2 < s1 && s2 > -1, `ssim ${s1} then ${s2}`);
  assert.throws(() => ssim(new Uint8Array(3 * 8 * 8), new Uint8Array(3 * 8 * 8), 3, 8, 8), /smaller than the 11x11 window/);
});

test('plotLines draws a PNG of the asked size; log axes skip y <= 0; no points is an InputError', async () => {
  const series = [
    { name: 'loss', points: Array.from({ length: 50 }, (_, i): [number, number] => [i + 1, 1 / (i + 1)]) },
    {
      name: 'val <psnr> & co',
      points: [
        [10, 0.5],
        [40, 0],
        [45, Number.NaN],
      ] as [number, number][],
    },
  ];
  const png = await plotLines(series, { title: 'Loss', xLabel: 'step', yLabel: 'L1', logY: true, width: 400, height: 240 });
  const meta = await sharp(png).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', 400, 240]);
  const svg = plotSvg(series, { title: 'Loss', xLabel: 'step', yLabel: 'L1', logY: true });
  assert.match(svg, /val &lt;psnr&gt; &amp; co/);
  assert.match(svg, />0\.1</, 'a decade tick');
  assert.throws(() => plotSvg([{ name: 'x', points: [[1, 0]] }], { title: 'T', xLabel: 'a', yLabel: 'b', logY: true }), /no finite points.*y > 0/);
  assert.deepEqual(linearTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
});
