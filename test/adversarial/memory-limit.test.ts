// Item 7: requests the machine cannot hold are refused before anything runs, with the estimate.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { estimateGenerateMemory } from '../../src/pipelines/memory-estimate.ts';
import { gesso } from './gesso-cli.ts';
import { scratch } from './hostile-inputs.ts';

test('2048x2048 (ORT once asked for 137 GB) and 1024x1024 (passed 8 GB) are refused before a step, naming the estimate', () => {
  const dir = scratch('memory');
  for (const size of ['2048x2048', '1024x1024']) {
    const out = join(dir, `${size}.png`);
    const r = gesso(['generate', 'a red star', '--size', size, '--steps', '1', '--no-upscale', '--max-memory', '16', '--out', out]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(
      r.stderr,
      new RegExp(
        `${size} needs about [\\d.]+ GB of memory \\(runtime .*UNet .*VAE decoder .*\\); the limit is 16\\.0 GB\\. Attention memory grows with the square`,
      ),
    );
    assert.doesNotMatch(r.stderr, /generate \[/, 'no step ran');
    assert.equal(existsSync(out), false);
  }
  const help = gesso(['generate', '--help']);
  assert.match(help.stdout, /--max-memory GB +refuse requests estimated to need more \(default: 80% of RAM/);
});

test('the estimate is quadratic in pixels where attention dominates, and counts batch, guidance and the upscaler', () => {
  const model = { vaeScaleFactor: 8, unetConfig: null, vaeConfig: null, weightBytes: 0, upscalerChannels: 32 };
  const at = (side: number, extra: Partial<Parameters<typeof estimateGenerateMemory>[1]> = {}): number =>
    estimateGenerateMemory(model, { width: side, height: side, batchSize: 1, guided: true, upscale: false, encodes: false, ...extra }).bytes;
  assert.ok(at(2048) / at(1024) > 12, 'doubling the side multiplies attention memory by ~16');
  assert.ok(at(512, { batchSize: 4 }) > at(512));
  assert.ok(at(512, { guided: false }) < at(512));
  assert.ok(at(512, { upscale: true }) > at(512));
});
