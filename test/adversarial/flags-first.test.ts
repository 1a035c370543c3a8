// Item 16: argument errors are found before any model loads (loading took ~1 s and 300 MB first). The
// model folder here has a broken UNet: had gesso loaded it first, that would be the error reported.
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateCommand } from '../../src/cli/commands/generate.ts';
import { upscaleCommand } from '../../src/cli/commands/upscale.ts';
import { scratchDir, tinyFolder } from '../pipelines/tiny-models.ts';
import { pngWithText, scratch } from './hostile-inputs.ts';

test('generate and upscale check every flag and input file before loading a model', async () => {
  const model = join(scratchDir(), 'broken-unet');
  cpSync(tinyFolder('sd1'), model, { recursive: true });
  writeFileSync(join(model, 'unet', 'model.onnx'), 'not onnx');
  const dir = scratch('flags');
  const ok = pngWithText(join(dir, 'ok.png'), [], 16);
  const run = (...args: string[]) => generateCommand.run(['a cat', '--model', model, '--out', join(dir, 'out'), ...args]);
  const cases: [string[], RegExp][] = [
    [['--steps', '0'], /steps 0: expected a whole number from 1 to 1000/],
    [['--cfg', '1000'], /CFG scale 1000/],
    [['--batch', '100'], /batch size 100/],
    [['--seed=-1'], /seed -1/],
    [['--size', '99999x64'], /width 99999: expected a whole number of pixels up to 4096/],
    [['--scheduler', 'Bogus'], /unknown scheduler "Bogus"/],
    [['--init', ok, '--strength', '2'], /strength 2: expected a number in \(0, 1\]/],
    [['--init', '/dev/zero'], /init image "\/dev\/zero" is a character device/],
    [['--init', ok, '--mask', join(dir, 'none.png')], /mask not found/],
    [['--negative', `(blurry:1${'0'.repeat(39)})`], /prompt emphasis on "blurry"/],
    [['--eta', '5'], /eta 5/],
    [['--max-memory=-1'], /--max-memory "-1": expected a positive number/],
  ];
  for (const [args, pattern] of cases) await assert.rejects(run(...args), pattern, args.join(' '));
  await assert.rejects(upscaleCommand.run([ok, '--model', model, '--threads', '0', '--out', join(dir, 'up.png')]), /--threads="0"/);
});
