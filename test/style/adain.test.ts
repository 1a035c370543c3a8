/**
 * AdaIN end to end on tiny images: the decoder trains with gesso's engine for a few steps (loss finite,
 * checkpoint written, resumable), exports a model folder, and `stylize --method adain` runs it with two
 * weighted styles and alpha. Quality is not tested here (a few steps); the statistics maths is:
 * AdaIN output has the style's channel means and standard deviations.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../src/core/rng.ts';
import { Graph } from '../../src/graph/graph.ts';
import { exportOnnx } from '../../src/graph/export.ts';
import { Session } from '../../src/runtime/session.ts';
import { adaptiveInstanceNorm } from '../../src/style/adain.ts';
import type { RgbPlanes } from '../../src/style/planes.ts';
import { stylize } from '../../src/style/stylize.ts';
import { trainAdainDecoder } from '../../src/style/train-adain.ts';

test('AdaIN gives the content the style statistics per channel', async () => {
  const g = new Graph();
  const c = g.input('c', [1, 2, 4, 4]);
  const y = adaptiveInstanceNorm(c, g.constant(Float32Array.of(3, -1), [1, 2, 1, 1], 'float32'), g.constant(Float32Array.of(2, 0.5), [1, 2, 1, 1], 'float32'));
  const s = await Session.create(exportOnnx(g, { outputs: { y }, params: 'initializers' }).bytes);
  const out = (await s.run({ c: { dtype: 'float32', dims: [1, 2, 4, 4], data: new Rng(1).normal(32, 5, 7) } }))['y']?.data as Float32Array;
  await s.release();
  for (const [k, [m, sd]] of [
    [3, 2],
    [-1, 0.5],
  ].entries()) {
    const ch = out.subarray(k * 16, k * 16 + 16);
    const mean = ch.reduce((a, b) => a + b, 0) / 16;
    const std = Math.sqrt(ch.reduce((a, b) => a + (b - mean) ** 2, 0) / 16);
    assert.ok(Math.abs(mean - m!) < 1e-4 && Math.abs(std - sd!) < 1e-3, `channel ${k}: mean ${mean} std ${std}`);
  }
});

test('the decoder trains a few steps, resumes, exports, and stylize runs it', async () => {
  const root = mkdtempSync(join(tmpdir(), 'gesso-adain-'));
  for (const sub of ['content', 'styles']) {
    mkdirSync(join(root, sub));
    for (let i = 0; i < 2; i++) {
      const px = Buffer.from(new Rng(i + (sub === 'styles' ? 10 : 0)).uniformArray(40 * 40 * 3, 0, 255).map(Math.floor));
      await sharp(px, { raw: { width: 40, height: 40, channels: 3 } })
        .png()
        .toFile(join(root, sub, `${i}.png`));
    }
  }
  const common = {
    contentDir: join(root, 'content'),
    styleDir: join(root, 'styles'),
    runDir: join(root, 'run'),
    out: join(root, 'model'),
    batch: 1,
    size: 32,
    quiet: true,
    checkpointEvery: 1,
  };
  await trainAdainDecoder({ ...common, steps: 2 });
  await trainAdainDecoder({ ...common, steps: 3 }); // resumes at step 2
  const log = readFileSync(join(root, 'run', 'log.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { step: number; loss: number });
  assert.deepEqual(
    log.map((l) => l.step),
    [1, 2, 3],
  );
  assert.ok(log.every((l) => Number.isFinite(l.loss)));
  assert.ok(existsSync(join(root, 'model', 'decoder.safetensors')));
  const r = await stylize({
    content: join(root, 'content', '0.png'),
    styles: [
      { image: join(root, 'styles', '0.png'), weight: 1 },
      { image: join(root, 'styles', '1.png'), weight: 3 },
    ],
    method: 'adain',
    model: join(root, 'model'),
    strength: 0.7,
    size: 32,
  });
  assert.equal(r.image.width, 32);
  assert.equal(r.recipe['method'], 'adain');
  assert.equal((r.recipe['settings'] as { alpha: number }).alpha, 0.7);
});

test('the shipped model matches the output colours to the style (outputColor), halfway at strength 0.5, and its recipe names the model hash', async () => {
  const planes = (w: number, h: number, rgb: (x: number, y: number) => [number, number, number]): { planes: RgbPlanes; name: string } => {
    const data = new Float32Array(3 * w * h);
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) rgb(x, y).forEach((v, c) => void data.set([v], c * w * h + y * w + x));
    return { planes: { data, width: w, height: h }, name: `${w}x${h}` };
  };
  // Content: blue gradient with a disc. Style: purple stripes with light streaks, nothing like it in colour.
  const content = planes(64, 64, (x, y) => ((x - 32) ** 2 + (y - 32) ** 2 < 200 ? [0.9, 0.9, 0.95] : [0.1, 0.35 + y / 200, 0.8]));
  const style = planes(64, 64, (x, y) => ((x + 2 * y) % 11 < 2 ? [0.95, 0.85, 1] : [0.3 + (x % 7) / 30, 0.1, 0.45]));
  const means = (p: RgbPlanes): number[] =>
    [0, 1, 2].map((c) => p.data.subarray(c * p.width * p.height, (c + 1) * p.width * p.height).reduce((a, b) => a + b, 0) / (p.width * p.height));
  const run = (strength: number) => stylize({ content, styles: [{ image: style }], method: 'adain', strength, size: 64 });
  const full = await run(1);
  const half = await run(0.5);
  const [cm, sm, fm, hm] = [means(content.planes), means(style.planes), means(full.image), means(half.image)];
  for (let c = 0; c < 3; c++) {
    assert.ok(Math.abs(fm[c]! - sm[c]!) < 0.03, `channel ${c}: output mean ${fm[c]} vs style ${sm[c]}`);
    assert.ok(Math.abs(hm[c]! - (sm[c]! + cm[c]!) / 2) < 0.05, `channel ${c} at strength 0.5: ${hm[c]} vs halfway ${(sm[c]! + cm[c]!) / 2}`);
  }
  assert.match(String((full.recipe['settings'] as { modelSha256?: string }).modelSha256), /^[0-9a-f]{64}$/);
});
