// Item 11: every config value of a model folder is range-checked with a message (30 block_out_channels
// gave "RangeError: Invalid typed array length" from deep inside the pipeline).
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { InputError } from '../../src/core/errors.ts';
import { DiffusionModel } from '../../src/pipelines/model-folder.ts';
import { scratchDir, tinyFolder } from '../pipelines/tiny-models.ts';

test('out-of-range config values are refused by name before any session loads', async () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    [
      'unet/config.json',
      { block_out_channels: new Array(30).fill(32) },
      /unet\/config\.json: block_out_channels is \[32,32,.*; expected a list of 1 to 6 whole numbers from 1 to 16384/,
    ],
    ['unet/config.json', { sample_size: 1e9 }, /unet\/config\.json: sample_size is 1000000000; expected one of whole numbers from 1 to 1024/],
    ['unet/config.json', { attention_head_dim: 'eight' }, /attention_head_dim is "eight"/],
    [
      'vae_decoder/config.json',
      { scaling_factor: 1e308 },
      /vae_decoder\/config\.json: scaling_factor is 1e\+308; expected one of numbers from 0\.000001 to 100/,
    ],
    ['vae_decoder/config.json', { block_out_channels: 4 }, /block_out_channels is 4; expected a list/],
    ['text_encoder/config.json', { hidden_size: -768 }, /hidden_size is -768/],
  ];
  for (const [i, [file, change, pattern]] of cases.entries()) {
    const dir = join(scratchDir(), `bad-config-${i}`);
    cpSync(tinyFolder('sd1'), dir, { recursive: true });
    const path = join(dir, file);
    let base: Record<string, unknown> = {};
    try {
      base = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    } catch {
      // the tiny folder may have no such config: the bad field alone is enough
    }
    writeFileSync(path, JSON.stringify({ ...base, ...change }));
    await assert.rejects(DiffusionModel.load(dir, { runner: 'in-process' }), (e: unknown) => {
      assert.ok(e instanceof InputError, `${file} ${JSON.stringify(change).slice(0, 60)}: ${String(e)}`);
      assert.match(e.message, pattern);
      return true;
    });
  }
});
