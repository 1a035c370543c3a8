// Items 2 and 3: every place that reads a file a user names refuses non-regular files (devices, FIFOs,
// folders), files past its size cap and decompression bombs, quickly and with a message, before
// reading the file whole or decoding a pixel. New commands that take files belong in PLACES.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { scratchDir, tinyFolder } from '../pipelines/tiny-models.ts';
import { gesso } from './gesso-cli.ts';
import { bombPng, fifo, hostileFiles, pngWithText, scratch } from './hostile-inputs.ts';

const RUN_PLACES = new URL('./run-places.ts', import.meta.url).pathname;

const EXPECTED: Record<string, RegExp> = {
  'character device': /is a character device; expected a regular file/,
  FIFO: /is a FIFO \(named pipe\); expected a regular file/,
  folder: /is a folder/,
  '300 MB file': /is 300 MiB; gesso reads at most (256|1) MiB/,
  'missing file': /not found/,
  bomb: /is 8192x8192; expected at most (4096x4096|512x512) pixels \(nothing was decoded\)/,
};

/** Each place a command reads a user's file; FILE is replaced by the hostile file. */
function places(dir: string): Record<string, string[]> {
  const model = tinyFolder('sd1');
  const init = pngWithText(join(dir, 'ok.png'), [], 64);
  const gen = ['--model', model, '--steps', '1', '--size', '64x64', '--out', join(dir, 'out')];
  return {
    'info IMAGE': ['info', 'FILE'],
    'upscale IMAGE': ['upscale', 'FILE', '--out', join(dir, 'up.png')],
    'generate --init': ['generate', 'a cat', '--init', 'FILE', ...gen],
    'generate --mask': ['generate', 'a cat', '--init', init, '--mask', 'FILE', ...gen],
    'generate --recipe': ['generate', '--recipe', 'FILE', ...gen],
    'generate --prompt-file': ['generate', '--prompt-file', 'FILE', ...gen],
  };
}

test('every file-taking place refuses every hostile file with a message, in bounded time', async () => {
  const dir = scratch('files');
  const files = await hostileFiles(dir);
  const cases: { name: string; args: string[]; kind: string }[] = [];
  for (const [place, template] of Object.entries(places(dir))) {
    for (const [kind, path] of Object.entries(files)) {
      if (kind === 'bomb') continue; // its own test below, with a memory ceiling
      cases.push({ name: `${place} with a ${kind}`, kind, args: template.map((a) => (a === 'FILE' ? path : a)) });
    }
  }
  const { results } = runInProcess(dir, cases);
  for (const c of cases) {
    const r = results.get(c.name);
    assert.ok(r, `${c.name}: no result (an earlier case hung or crashed the process)`);
    assert.equal(r.ok, false, `${c.name}: accepted`);
    assert.match(r.message, /^InputError: /, `${c.name}: ${r.message}`);
    assert.match(r.message, EXPECTED[c.kind]!, c.name);
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the cases in one child process (run-places.ts) with a time limit and a memory ceiling. */
export function runInProcess(
  dir: string,
  cases: { name: string; args: string[] }[],
): { results: Map<string, { ok: boolean; message: string }>; maxRssMb: number } {
  const file = join(dir, 'cases.json');
  writeFileSync(file, JSON.stringify(cases));
  const r = spawnSync(process.execPath, ['--max-old-space-size=512', '--import', 'tsx', RUN_PLACES, file], {
    encoding: 'utf8',
    timeout: 120_000,
    killSignal: 'SIGKILL',
  });
  assert.equal(r.signal, null, `killed by ${r.signal} (a case hung or ran away); last results:\n${r.stdout.slice(-2000)}`);
  const results = new Map<string, { ok: boolean; message: string }>();
  let maxRssMb = Infinity;
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const v = JSON.parse(line) as { name: string; ok: boolean; message: string; maxRssMb?: number };
    if (v.maxRssMb !== undefined) maxRssMb = v.maxRssMb;
    else results.set(v.name, v);
  }
  return { results, maxRssMb };
}

test('a decompression bomb (8192 x 8192 in a small PNG) is refused by its header, in under 200 MB, as init, mask and upscale input', async () => {
  const dir = scratch('bomb');
  const bomb = await bombPng(join(dir, 'bomb.png'), 8192, 8192);
  const all = places(dir);
  const cases = ['upscale IMAGE', 'generate --init', 'generate --mask'].map((place) => ({
    name: place,
    args: all[place]!.map((a) => (a === 'FILE' ? bomb : a)),
  }));
  const { results, maxRssMb } = runInProcess(dir, cases);
  for (const c of cases) {
    const r = results.get(c.name);
    assert.ok(r, `${c.name}: no result`);
    assert.equal(r.ok, false, `${c.name}: the bomb was accepted`);
    assert.match(r.message, EXPECTED.bomb!, c.name);
  }
  assert.ok(maxRssMb < 200, `peak RSS ${maxRssMb} MB; a refused bomb should stay under 200 MB`);
  rmSync(dir, { recursive: true, force: true });
});

test('a FIFO in place of unet/model.onnx is refused, not waited on', () => {
  const dir = join(scratchDir(), 'fifo-model');
  cpSync(tinyFolder('sd1'), dir, { recursive: true });
  rmSync(join(dir, 'unet', 'model.onnx'));
  fifo(join(dir, 'unet', 'model.onnx'));
  const r = gesso(['generate', 'a cat', '--model', dir, '--out', join(dir, 'out')], { timeoutMs: 45_000 });
  assert.equal(r.signal, null, 'hung on the FIFO');
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /unet\/model\.onnx" is a FIFO \(named pipe\); expected a regular file/);
});
