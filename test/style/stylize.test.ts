/**
 * Style transfer end to end on small images: Gatys through the CLI-equivalent API writes a PNG with a
 * recipe and IPTC composite provenance and moves the image toward the style; a fast-neural-style ONNX
 * file declared at 1×3×224×224 runs at another size with the same result as the network built at that size.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '../../src/core/rng.ts';
import { Graph } from '../../src/graph/graph.ts';
import { exportOnnx } from '../../src/graph/export.ts';
import { readImageInfo } from '../../src/image/read-info.ts';
import { Session } from '../../src/runtime/session.ts';
import { COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA } from '../../src/image/xmp.ts';
import { buildFastNet, FAST_NET_DEFAULT } from '../../src/style/fast-net.ts';
import { runImageModel } from '../../src/style/onnx-image-model.ts';
import { stylize, stylizeToFile } from '../../src/style/stylize.ts';
import { exportFastNet } from '../../src/style/train-fast.ts';
import { parseStyleArg } from '../../src/cli/commands/style.ts';
import type { RgbPlanes } from '../../src/style/planes.ts';

const dir = mkdtempSync(join(tmpdir(), 'gesso-style-'));

/** Content: a grey left half and white right half. Style: red and blue stripes. */
function content(w: number, h: number): RgbPlanes {
  const data = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[c * w * h + y * w + x] = x < w / 2 ? 0.5 : 0.95;
  return { data, width: w, height: h };
}
function stripes(w: number, h: number): RgbPlanes {
  const data = new Float32Array(3 * w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const red = Math.floor(x / 4) % 2 === 0;
      data[y * w + x] = red ? 0.9 : 0.1;
      data[2 * w * h + y * w + x] = red ? 0.1 : 0.9;
    }
  return { data, width: w, height: h };
}
const meanOf = (p: RgbPlanes, c: number): number =>
  p.data.subarray(c * p.width * p.height, (c + 1) * p.width * p.height).reduce((a, b) => a + b, 0) / (p.width * p.height);

test('gatys: writes a PNG with recipe and provenance; the image takes on the style', async () => {
  const out = join(dir, 'gatys.png');
  const seen: number[] = [];
  const result = await stylizeToFile(
    {
      content: { planes: content(48, 40), name: 'halves' },
      styles: [{ image: { planes: stripes(48, 48), name: 'stripes' }, weight: 2 }],
      method: 'gatys',
      iterations: 30,
      size: 48,
      onIteration: (i) => seen.push(i),
    },
    out,
  );
  assert.deepEqual(
    seen,
    Array.from({ length: 30 }, (_, i) => i + 1),
  );
  assert.equal(result.image.width, 48);
  assert.equal(result.image.height, 40);
  // The content is grey/white (R = B); the style's red and blue stripes must appear: per-pixel |R - B| grows.
  const n = 48 * 40;
  let diff = 0;
  for (let i = 0; i < n; i++) diff += Math.abs((result.image.data[i] as number) - (result.image.data[2 * n + i] as number));
  assert.ok(diff / n > 0.1, `mean |R - B| ${diff / n} should show the style's red/blue`);
  const info = await readImageInfo(out);
  assert.equal(info.digitalSourceType, COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA);
  assert.equal(info.recipe?.['format'], 'gesso.style');
  assert.equal(info.recipe?.['method'], 'gatys');
  assert.equal((info.recipe!['styles'] as { weight: number }[])[0]?.weight, 2);
});

test('preserve-color keeps the content colours (chrominance) while the luminance changes', async () => {
  const r = await stylize({
    content: { planes: content(32, 32), name: 'halves' },
    styles: [{ image: { planes: stripes(32, 32), name: 'stripes' } }],
    method: 'gatys',
    iterations: 10,
    size: 32,
    preserveColor: true,
  });
  const n = 32 * 32;
  let diff = 0;
  for (let i = 0; i < n; i++) diff += Math.abs((r.image.data[i] as number) - (r.image.data[2 * n + i] as number));
  assert.ok(diff / n < 0.02, `grey content stays grey: mean |R - B| ${diff / n}`);
  assert.ok(Math.abs(meanOf(r.image, 0) - meanOf(r.image, 2)) < 0.02);
});

test('fast: a zoo-format network declared 1x3x224x224 runs at 60x44 like the network built at that size', async () => {
  const g0 = new Graph();
  buildFastNet(g0, g0.input('x', [1, 3, 224, 224]), FAST_NET_DEFAULT, new Rng(5));
  const values = new Map([...g0.params.values()].map((p) => [p.name, p.value]));
  const path = join(dir, 'style.onnx');
  exportFastNet(values, FAST_NET_DEFAULT, path);
  const image = stripes(60, 44);
  const ran = await runImageModel(path, image);
  assert.equal(ran.width, 60);
  // Reference: the same weights built directly at 60x44.
  const g = new Graph();
  const x = g.input('x', [1, 3, 44, 60]);
  const y = buildFastNet(g, x, FAST_NET_DEFAULT, new Rng(0));
  g.setValues(values, { complete: true });
  const s = await Session.create(exportOnnx(g, { outputs: { y }, params: 'initializers' }).bytes);
  const want = (await s.run({ x: { dtype: 'float32', dims: [1, 3, 44, 60], data: image.data.map((v) => v * 255) } }))['y']?.data as Float32Array;
  await s.release();
  let worst = 0;
  for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs((ran.data[i] as number) - Math.min(1, Math.max(0, (want[i] as number) / 255))));
  assert.ok(worst < 1e-4, `max difference ${worst}`);
  const via = await stylize({ content: { planes: image, name: 'stripes' }, method: 'fast', model: path, size: 60 });
  assert.equal(via.recipe['method'], 'fast');
});

test('--style FILE:W parses a weight; a path with a colon keeps it', () => {
  assert.deepEqual(parseStyleArg('a.png:0.5'), { path: 'a.png', weight: 0.5 });
  assert.deepEqual(parseStyleArg('C:/art/b.png'), { path: 'C:/art/b.png', weight: 1 });
  assert.deepEqual(parseStyleArg('b.png'), { path: 'b.png', weight: 1 });
  assert.throws(() => parseStyleArg('a.png:0'), /weight "0" must be a number > 0/);
});

test('a mask puts the first style in its white part and the second in its black part', async () => {
  const w = 32;
  const flat = (r: number, b: number): RgbPlanes => {
    const data = new Float32Array(3 * w * w);
    for (let y = 0; y < w; y++)
      for (let x = 0; x < w; x++) {
        // Stripes give texture; the two styles differ in colour.
        const on = Math.floor(x / 4) % 2 === 0 ? 1 : 0.6;
        data[y * w + x] = r * on;
        data[w * w + y * w + x] = 0.2 * on;
        data[2 * w * w + y * w + x] = b * on;
      }
    return { data, width: w, height: w };
  };
  const maskData = new Float32Array(3 * w * w);
  for (let c = 0; c < 3; c++) for (let y = 0; y < w; y++) for (let x = 0; x < w / 2; x++) maskData[c * w * w + y * w + x] = 1;
  const r = await stylize({
    content: { planes: content(w, w), name: 'halves' },
    styles: [{ image: { planes: flat(0.9, 0.1), name: 'red' } }, { image: { planes: flat(0.1, 0.9), name: 'blue' } }],
    mask: { planes: { data: maskData, width: w, height: w }, name: 'left' },
    method: 'gatys',
    iterations: 40,
    size: w,
  });
  const n = w * w;
  let left = 0;
  let right = 0;
  for (let y = 0; y < w; y++)
    for (let x = 0; x < w; x++) {
      const redness = (r.image.data[y * w + x] as number) - (r.image.data[2 * n + y * w + x] as number);
      if (x < w / 2 - 4) left += redness;
      else if (x >= w / 2 + 4) right += redness;
    }
  assert.ok(left > right + (0.05 * n) / 4, `left (white, red style) should be redder than right: ${left} vs ${right}`);
  assert.equal((r.recipe['mask'] as { name: string }).name, 'left');
});
