// `gesso generate` end to end (worker sessions, as users run it): the PNG carries the settings, and
// `--recipe` re-makes the same pixels, saying whether the runtime matches the recipe's.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { decodeImage, readImageInfo } from '../../src/image/read-info.ts';
import { writeImageFile } from '../../src/image/write-image.ts';
import { runtimeInfo } from '../../src/runtime/runtime-info.ts';
import { TRAINED_ALGORITHMIC_MEDIA } from '../../src/image/xmp.ts';
import { modelFolderHash } from '../../src/pipelines/model-hash.ts';
import { scratchDir, tinyFolder } from './tiny-models.ts';

const GESSO = new URL('../../bin/gesso.js', import.meta.url).pathname;

function gesso(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [GESSO, 'generate', ...args], { encoding: 'utf8', cwd: scratchDir() });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('gesso generate writes a PNG whose metadata gives back every setting; --recipe re-makes it', async () => {
  const model = tinyFolder('sd1');
  const out = join(scratchDir(), 'lighthouse.png');
  const r = gesso([
    'a (red:1.2) lighthouse, dusk',
    '--model',
    model,
    '--negative',
    'fog, blur',
    '--steps',
    '3',
    '--cfg',
    '6.5',
    '--scheduler',
    'Euler a',
    '--seed',
    '77',
    '--size',
    '64x48',
    '--out',
    out,
  ]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /wrote .*lighthouse\.png \(64x48, seed 77\)/);
  assert.match(r.stdout, /3 UNet steps/);
  assert.match(r.stderr, /generate \[/, 'a progress bar on stderr');

  const info = await readImageInfo(out);
  assert.equal(info.width, 64);
  assert.equal(info.height, 48);
  const a = info.a1111;
  assert.ok(a);
  assert.equal(a.prompt, 'a (red:1.2) lighthouse, dusk');
  assert.equal(a.negativePrompt, 'fog, blur');
  assert.equal(a.steps, 3);
  assert.equal(a.sampler, 'Euler a');
  assert.equal(a.cfgScale, 6.5);
  assert.equal(a.seed, 77);
  assert.equal(a.width, 64);
  assert.equal(a.height, 48);
  assert.equal(a.modelHash, (await modelFolderHash(join(model, 'unet', 'model.onnx'))).short);
  assert.equal(a.model, 'sd1');
  assert.equal(info.digitalSourceType, TRAINED_ALGORITHMIC_MEDIA);
  assert.equal(info.recipe?.format, 'gesso.generate');
  assert.equal(info.recipe?.seed, 77);

  const again = join(scratchDir(), 'again.png');
  const re = gesso(['--recipe', out, '--model', model, '--out', again]);
  assert.equal(re.status, 0, re.stderr);
  assert.doesNotMatch(re.stderr, /warning/);
  const [first, second] = await Promise.all([decodeImage(out), decodeImage(again)]);
  assert.deepEqual(second.data, first.data, 'the recipe reproduces the pixels');
  assert.deepEqual((await readImageInfo(again)).a1111, a);
  assert.deepEqual(info.recipe?.runtime, { ...runtimeInfo() }, 'the recipe records ORT version and CPU kernel family');
  const here = runtimeInfo();
  assert.ok(re.stdout.includes(`recipe: same runtime (ORT ${here.ort}, ${here.cpu} kernels): exact re-make expected`), re.stdout);

  // The same recipe as if made on another runtime: the user is told to expect small differences.
  const elsewhere = join(scratchDir(), 'elsewhere.png');
  await writeImageFile(elsewhere, first.data, first.width, first.height, 3, { recipe: { ...info.recipe, runtime: { ort: '1.16.3', cpu: 'avx2' } } });
  const third = gesso(['--recipe', elsewhere, '--model', model, '--out', join(scratchDir(), 'third.png')]);
  assert.equal(third.status, 0, third.stderr);
  assert.match(third.stdout, /recipe: different CPU kernels\/ORT \(recorded: ORT 1\.16\.3, avx2 kernels; here: ORT [^)]+\): small pixel differences possible/);
});
