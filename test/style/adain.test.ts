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
