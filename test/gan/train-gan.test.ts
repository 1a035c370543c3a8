import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { InputError } from '../../src/core/errors.ts';
import { Rng } from '../../src/core/rng.ts';
import { readSafetensors } from '../../src/weights/safetensors.ts';
import { prepareGanData } from '../../src/train/gan/gan-data.ts';
import { trainGan, type TrainGanOptions } from '../../src/train/gan/train-gan.ts';
import { GanModel } from '../../src/pipelines/gan-model.ts';
import { Session } from '../../src/runtime/session.ts';

const TINY = { zDim: 8, wDim: 8, baseChannels: 2, maxChannels: 8 };

/** A folder of drawings in mixed formats and sizes, with a corrupt PNG and a text file among them. */
async function drawings(count: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'gesso-gan-'));
  mkdirSync(join(dir, 'shapes'));
  const rng = new Rng(1);
  for (let i = 0; i < count; i++) {
    const size = [40, 64, 90][i % 3] as number;
    const color = `#${[0, 0, 0].map(() => rng.int(256).toString(16).padStart(2, '0')).join('')}`;
    const inner = sharp({ create: { width: Math.round(size / 2), height: Math.round(size / 3), channels: 3, background: color } });
    const img = sharp({ create: { width: size, height: size, channels: 3, background: '#ffffff' } }).composite([
      { input: await inner.png().toBuffer(), left: rng.int(size / 2), top: rng.int(size / 2) },
    ]);
    const path = join(dir, 'shapes', `shape-${i}`);
    if (i % 3 === 0) await img.jpeg().toFile(`${path}.jpg`);
    else if (i % 3 === 1) await img.webp({ lossless: true }).toFile(`${path}.webp`);
    else await img.png().toFile(`${path}.png`);
  }
  writeFileSync(join(dir, 'shapes', 'corrupt.png'), Buffer.from('\x89PNG\r\n\x1a\nnot really'));
  writeFileSync(join(dir, 'notes.txt'), 'not a picture');
  writeFileSync(join(dir, 'LICENSE'), 'SPDX-License-Identifier: CC0-1.0\n');
  return dir;
}

const options = (data: string, run: string, extra: Partial<TrainGanOptions> = {}): TrainGanOptions => ({
  dataDir: data,
  runDir: run,
  steps: 4,
  batchSize: 4,
  architecture: TINY,
  sampleEvery: 2,
  checkpointEvery: 2,
  quiet: true,
  log: () => {},
  threads: 1,
  ...extra,
});

test('gan training: mixed formats and sizes train, a corrupt file is skipped and counted, resume is exact, the export is z -> image', async () => {
  const data = await drawings(24);
  const root = mkdtempSync(join(tmpdir(), 'gesso-gan-run-'));
  try {
    const lines: string[] = [];
    const whole = await trainGan(options(data, join(root, 'whole'), { log: (l) => lines.push(l) }));
    assert.equal(whole.data.skipped.broken, 1);
    assert.ok(
      lines.some((l) => /skipped 1 unreadable file.*corrupt\.png/.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /only \d+ training image/.test(l)),
      'a small set is trained with a warning',
    );
    assert.ok(existsSync(join(root, 'whole', 'samples', 'step-000000.png')) && existsSync(join(root, 'whole', 'samples', 'step-000004.png')));
    const history = readFileSync(join(root, 'whole', 'history.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { d_loss: number; g_loss: number });
    assert.equal(history.length, 4);
    assert.ok(history.every((h) => Number.isFinite(h.d_loss) && Number.isFinite(h.g_loss)));

    // Interrupted at step 2 and resumed: the same state as the uninterrupted run, bit for bit.
    await trainGan(options(data, join(root, 'split'), { stopAt: 2 }));
    appendFileSync(join(root, 'split', 'history.jsonl'), `${JSON.stringify({ step: 3, d_loss: 9, g_loss: 9 })}\n{"step":4,"d_lo`);
    await trainGan(options(data, join(root, 'split')));
    // History lines past the last checkpoint (a run killed between checkpoints, mid-line) are dropped on resume.
    const splitHistory = join(root, 'split', 'history.jsonl');
    const lines4 = readFileSync(splitHistory, 'utf8').trim().split('\n');
    assert.deepEqual(
      lines4.map((l) => (JSON.parse(l) as { step: number }).step),
      [1, 2, 3, 4],
    );
    // Killed before its first checkpoint: the resumed run starts over, and so does its history (each step once).
    mkdirSync(join(root, 'early'));
    writeFileSync(join(root, 'early', 'history.jsonl'), `${JSON.stringify({ step: 1, d_loss: 9, g_loss: 9 })}\n`, { flag: 'a' });
    await trainGan(options(data, join(root, 'early'), { stopAt: 1 }));
    assert.deepEqual(
      readFileSync(join(root, 'early', 'history.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { step: number; d_loss: number }).d_loss !== 9),
      [true],
      'the stale line of the killed run is gone',
    );
    const a = readSafetensors(join(root, 'whole', 'checkpoint.safetensors'));
    const b = readSafetensors(join(root, 'split', 'checkpoint.safetensors'));
    assert.deepEqual([...a.tensors.keys()].sort(), [...b.tensors.keys()].sort());
    for (const [name, t] of a.tensors) assert.deepEqual(b.tensors.get(name)!.data, t.data, `tensor ${name} differs after resume`);

    // The model folder: generator.onnx(z) equals synthesis(mapping(z)); the card names the data hash.
    const modelDir = whole.modelDir as string;
    const card = readFileSync(join(modelDir, 'README.md'), 'utf8');
    assert.match(card, new RegExp(whole.data.hash));
    assert.match(card, /CC0-1\.0/);
    const model = await GanModel.load(modelDir);
    const gen = await Session.create(join(modelDir, 'generator.onnx'));
    try {
      const z = new Rng(4).normal(3 * TINY.zDim);
      const viaParts = await model.synthesize(await model.map(z));
      const direct = (await gen.run({ z: { dtype: 'float32', dims: [3, TINY.zDim], data: z } }))['image']!.data as Float32Array;
      assert.equal(direct.length, 3 * 3 * 64 * 64);
      const maxDiff = direct.reduce((m, v, i) => Math.max(m, Math.abs(v - viaParts[i]!)), 0);
      // float32 sums in another order (a batch of 3 against one row at a time): ~1e-5, not bit-exact
      assert.ok(maxDiff < 1e-4, `generator.onnx and mapping + synthesis differ by ${maxDiff}`);
      assert.equal(model.info.genes.length, TINY.wDim, 'the genes are a full basis of w');
    } finally {
      await model.release();
      await gen.release();
    }
  } finally {
    rmSync(data, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  }
});

test('gan data: an empty folder, a folder without pictures and a wrong size are clear errors; 3 images train with a warning; large sets stream from disk', async () => {
  const root = mkdtempSync(join(tmpdir(), 'gesso-gan-bad-'));
  try {
    mkdirSync(join(root, 'empty'));
    await assert.rejects(prepareGanData(join(root, 'empty'), join(root, 'run1'), 64), (e: Error) => e instanceof InputError && /holds no .png/.test(e.message));
    mkdirSync(join(root, 'text'));
    writeFileSync(join(root, 'text', 'a.txt'), 'hello');
    await assert.rejects(prepareGanData(join(root, 'text'), join(root, 'run2'), 64), (e: Error) => e instanceof InputError && /holds no .png/.test(e.message));
    await assert.rejects(
      prepareGanData(join(root, 'missing'), join(root, 'run3'), 64),
      (e: Error) => e instanceof InputError && /does not exist/.test(e.message),
    );

    const three = await drawings(3);
    const logs: string[] = [];
    const data = await prepareGanData(three, join(root, 'run4'), 64, (l) => logs.push(l));
    assert.ok(data.train.count >= 1 && data.train.count <= 3);
    assert.ok(data.warnings.some((w) => /only \d training image/.test(w)));
    await assert.rejects(prepareGanData(data.dir, join(root, 'run5'), 128), (e: Error) => e instanceof InputError && /--size 128/.test(e.message));

    // Past the in-memory budget the same images are decoded from disk per batch, with the same values.
    const memory = await prepareGanData(data.dir, join(root, 'run6'), 64);
    const disk = await prepareGanData(data.dir, join(root, 'run6'), 64, () => {}, 1);
    assert.equal(memory.train.storage, 'memory');
    assert.equal(disk.train.storage, 'disk');
    const idx = [0, data.train.count - 1, 0];
    assert.deepEqual(await disk.train.readBatch(idx), await memory.train.readBatch(idx));
    rmSync(three, { recursive: true, force: true });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the 128 px GAN builds (one more up/down block) and sizes other than 64 and 128 are refused', async () => {
  const { buildGanTrainStep } = await import('../../src/train/gan/train-gan.ts');
  const { ganConfig } = await import('../../src/models/gan.ts');
  const { g, spec } = buildGanTrainStep(ganConfig(128, TINY), 2, 0, 0.995);
  assert.ok(g.params.has('G.up128.weight') && g.params.has('D.down128.weight'));
  assert.ok(spec.batchInputs.includes('real') && spec.batchInputs.includes('aug_fake.rows'));
  assert.throws(
    () => ganConfig(96),
    (e: Error) => e instanceof InputError && /96.*64 or 128/.test(e.message),
  );
});
