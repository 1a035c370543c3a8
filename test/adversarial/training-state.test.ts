// Items 9, 12, 13, 14, 15: training state on disk is untrusted after a crash, a kill or a full disk.
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildTrainStep } from '../../src/autodiff/train-step.ts';
import { InputError } from '../../src/core/errors.ts';
import { Graph } from '../../src/graph/graph.ts';
import * as op from '../../src/graph/ops/index.ts';
import { StageLog } from '../../src/train/default-model/stage-log.ts';
import { trainDefaultModel } from '../../src/train/default-model/train-default-model.ts';
import { trainLoop } from '../../src/train/loop.ts';
import { constantLr } from '../../src/train/lr-schedule.ts';
import { TrainSession } from '../../src/train/train-session.ts';
import { writeFileAtomic } from '../../src/weights/file-io.ts';
import { readSafetensors, writeSafetensors } from '../../src/weights/safetensors.ts';
import { nanCheckpoint, scratch, torn } from './hostile-inputs.ts';

async function tinySession(): Promise<TrainSession> {
  const g = new Graph();
  const x = g.input('x', [2, 3]);
  const w = g.param('w', [3, 1], Float32Array.of(0.1, 0.2, 0.3));
  const y = op.matmul(x, w);
  const loss = op.reduceMean(op.mul(y, y));
  return TrainSession.create(g, buildTrainStep(g, { loss, optimizer: { kind: 'adam' } }), { inProcess: true });
}

const batch = { x: { dtype: 'float32' as const, dims: [2, 3], data: Float32Array.of(1, 2, 3, 4, 5, 6) } };

test('item 9: a checkpoint full of NaN, or claiming step 1e300, is refused on load', async () => {
  const dir = scratch('ckpt');
  const session = await tinySession();
  try {
    const path = join(dir, 'run.safetensors');
    await trainLoop({ session, steps: 2, lr: constantLr(1e-2), quiet: true, batch: () => batch, checkpoint: { path, every: 1 } });
    const file = readSafetensors(path, path);
    const nan = nanCheckpoint(join(dir, 'nan.safetensors'), Object.fromEntries([...file.tensors].map(([name, t]) => [name, t.shape])), file.metadata);
    await assert.rejects(session.load(nan), /tensor ".*" holds NaN at index 0: the checkpoint is corrupt .*delete it/);
    const far = join(dir, 'far.safetensors');
    writeSafetensors(
      far,
      Object.fromEntries([...file.tensors].map(([name, t]) => [name, { dtype: 'F32' as const, shape: [...t.shape], data: t.data as Float32Array }])),
      { ...file.metadata, step: '1e300' },
    );
    await assert.rejects(session.load(far), /checkpoint step "1e300" is not a whole number from 0 to 1000000000/);
  } finally {
    await session.release();
  }
});

test('item 12: resuming removes temp files a killed run left beside its checkpoint (and only those of dead processes)', async () => {
  const dir = scratch('temps');
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
  writeFileSync(join(dir, `.run.safetensors.${dead}.a1b2c3.tmp`), Buffer.alloc(1024));
  execFileSync('mkdir', [join(dir, `.snapshot.${dead}.d4e5f6.tmp`)]);
  writeFileSync(join(dir, `.other.safetensors.${process.pid}.abcdef.tmp`), 'a live writer');
  const session = await tinySession();
  try {
    await trainLoop({
      session,
      steps: 1,
      lr: constantLr(1e-2),
      quiet: true,
      resume: true,
      batch: () => batch,
      checkpoint: { path: join(dir, 'run.safetensors'), every: 1 },
    });
  } finally {
    await session.release();
  }
  assert.deepEqual(readdirSync(dir).sort(), [`.other.safetensors.${process.pid}.abcdef.tmp`, 'run.safetensors']);
});

test('item 13: a log.jsonl whose last line a kill cut short loads with a warning, and later appends stay readable', () => {
  const dir = scratch('log');
  const path = join(dir, 'log.jsonl');
  const whole = `${JSON.stringify({ series: 'loss', x: 1, y: 0.5 })}\n`;
  writeFileSync(path, whole + torn(JSON.stringify({ series: 'loss', x: 2, y: 0.25 }), 17));
  const log = new StageLog(path);
  assert.deepEqual(log.get('loss'), [[1, 0.5]]);
  log.point('loss', 2, 0.3);
  assert.deepEqual(new StageLog(path).get('loss'), [
    [1, 0.5],
    [2, 0.3],
  ]);
  writeFileSync(path, `{broken\n${whole}`);
  assert.throws(() => new StageLog(path), /line 1 is not JSON; the training log is damaged/);
});

test('item 14: a full disk while writing a checkpoint is a clear error and the last good checkpoint stays', () => {
  const dir = scratch('enospc');
  const path = join(dir, 'unet.safetensors');
  writeFileSync(path, 'last good checkpoint');
  const enospc = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
  assert.throws(
    () =>
      writeFileAtomic(path, () => {
        throw enospc; // what writeSync throws when the disk fills mid-checkpoint
      }),
    (e: unknown) =>
      e instanceof InputError &&
      /cannot write file ".*unet\.safetensors": no space left on the device; nothing was written \(the previous .* is kept unchanged\)/.test(e.message),
  );
  assert.equal(readFileSync(path, 'utf8'), 'last good checkpoint');
  assert.deepEqual(readdirSync(dir), ['unet.safetensors'], 'no temp file left');
});

const hasClipart = spawnSync('dpkg', ['-s', 'openclipart-svg']).status === 0;
test('item 15: a dataset with only 3 validation drawings trains the VAE stage (and resumes)', {
  skip: hasClipart ? false : 'openclipart-svg is not installed',
}, async () => {
  const root = scratch('small-val');
  const dataDir = join(root, 'data');
  execFileSync(process.execPath, ['bin/gesso.js', 'data', 'openclipart', '--size', '64', '--limit', '24', '--val-fraction', '0.125', '--out', dataDir], {
    stdio: 'ignore',
  });
  const val = readFileSync(join(dataDir, 'manifest.jsonl'), 'utf8')
    .split('\n')
    .filter((l) => l.includes('"split":"val"')).length;
  assert.ok(val > 0 && val < 8, `${val} validation drawings; the case needs fewer than the grid's 8`);
  const runDir = join(root, 'run');
  await trainDefaultModel({ dataDir, runDir, outDir: join(root, 'model'), quick: true, quiet: true, version: 1, until: 'vae' });
  await trainDefaultModel({ dataDir, runDir, outDir: join(root, 'model'), quick: true, quiet: true, version: 1, until: 'vae' });
  assert.ok(existsSync(join(runDir, 'vae.final.safetensors')));
});
