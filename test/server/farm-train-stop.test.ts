// Stop and Resume of a training run on the render farm: the studio queues the legs on a real Redis and a
// `gesso worker` process runs them (its training child process writes the run folder). A stop mid-run
// cancels the leg over Redis; Resume queues a new leg that continues from the run's checkpoint: the loss
// lines up to the checkpoint are kept as they were (not trained again), and every step is in the history once.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '../../src/server/serve.ts';
import { readSafetensorsHeader } from '../../src/weights/safetensors.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';
import { writeTinyDataset } from '../helpers/tiny-dataset.ts';

const GESSO = join(import.meta.dirname, '../../bin/gesso.js');
const STEPS = 150; // enough that a stop relayed through Redis lands mid-run on a quiet machine (8 steps finished first)

describe('render farm: stop and resume a training run', { timeout: 600_000 }, () => {
  let redis: TestRedis;
  let dir: string;
  let server: RunningServer;
  let worker: ChildProcess;
  const workerOutput: string[] = [];

  async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
    const res = await fetch(server.url + path, {
      method,
      ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, json: (await res.json()) as T };
  }

  before(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'gesso-farm-train-'));
    await writeTinyDataset(join(dir, 'datasets', 'shapes'), 8);
    const queueName = 'farm-train-stop';
    worker = spawn(process.execPath, [GESSO, 'worker', '--redis', redis.url, '--lock-seconds', '5', '--queue', queueName], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    await new Promise<void>((resolve, reject) => {
      worker.stdout!.on('data', (d: Buffer) => {
        workerOutput.push(...d.toString().split('\n').filter(Boolean));
        if (workerOutput.some((l) => l.includes('ready'))) resolve();
      });
      worker.stderr!.on('data', (d: Buffer) => workerOutput.push(d.toString()));
      worker.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready: ${workerOutput.join('\n')}`)));
    });
    server = await startServer({ dataDir: join(dir, 'studio'), port: 0, datasetFolders: [join(dir, 'datasets')], redisUrl: redis.url, queueName });
    assert.equal((await call('POST', '/api/datasets', { id: 'shapes' })).status, 201);
  });
  after(async () => {
    await server?.close();
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      await new Promise<void>((resolve) => {
        worker.once('exit', () => resolve());
        worker.kill('SIGTERM');
      });
    }
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a stop mid-run cancels the leg on the worker; resume continues from the checkpoint, each step once', async () => {
    const userId = server.studio.users.local().id;
    const start = await call<{ run: { id: string }; job: { id: string } }>('POST', '/api/train/runs', {
      type: 'gan',
      dataset: 'shapes',
      name: 'farm-gan',
      steps: STEPS,
      batch: 2,
      tiny: true,
      sampleEvery: 50,
      checkpointEvery: 1,
    });
    assert.equal(start.status, 202);
    const { id: runId } = start.json.run;
    const jobId = start.json.job.id;

    // Stop once the worker's leg has reported step 2 (a checkpoint is written every step).
    await new Promise<void>((resolve) => {
      const on = (j: { id: string }, p: { step: number }): void => {
        if (j.id === jobId && p.step >= 2) {
          server.studio.queue.events.off('progress', on);
          resolve();
        }
      };
      server.studio.queue.events.on('progress', on);
    });
    const stop = await call<{ state: string }>('POST', `/api/train/runs/${runId}/stop`);
    assert.equal(stop.status, 200);
    const stopped = await server.studio.queue.waitFor(userId, jobId, 120_000);
    assert.equal(stopped.state, 'cancelled', `${stopped.state}: ${stopped.error ?? ''}; worker: ${workerOutput.join(' | ')}`);
    assert.equal((await call<{ state: string }>('GET', `/api/train/runs/${runId}`)).json.state, 'cancelled');

    const runDir = server.studio.trainRuns.dir(runId);
    const checkpointStep = Number(readSafetensorsHeader(join(runDir, 'checkpoint.safetensors')).metadata['step']);
    assert.ok(checkpointStep >= 2 && checkpointStep < STEPS, `the stop came mid-run (checkpoint at step ${checkpointStep} of ${STEPS})`);
    const linesBefore = readFileSync(join(runDir, 'history.jsonl'), 'utf8').split('\n').filter(Boolean);
    const kept = linesBefore.filter((l) => (JSON.parse(l) as { step: number }).step <= checkpointStep);
    assert.equal(kept.length, checkpointStep, 'one loss line per step up to the checkpoint');

    const resumed = await call<{ job: { id: string } }>('POST', `/api/train/runs/${runId}/resume`);
    assert.equal(resumed.status, 202);
    const final = await server.studio.queue.waitFor(userId, resumed.json.job.id, 300_000);
    assert.equal(final.state, 'done', `${final.error ?? ''}; worker: ${workerOutput.join(' | ')}`);
    assert.ok(
      workerOutput.some((l) => l.includes(`job ${resumed.json.job.id}`)),
      `the worker ran the resumed leg: ${workerOutput.join(' | ')}`,
    );

    const linesAfter = readFileSync(join(runDir, 'history.jsonl'), 'utf8').split('\n').filter(Boolean);
    // Each line carries the run's elapsed seconds: a leg that trained steps 1..checkpoint again would rewrite them.
    assert.deepEqual(linesAfter.slice(0, checkpointStep), kept, 'the steps up to the checkpoint were not trained again');
    const run = (await call<{ state: string; history: { step: number }[]; samples: number[] }>('GET', `/api/train/runs/${runId}`)).json;
    assert.equal(run.state, 'done');
    assert.deepEqual(
      run.history.map((h) => h.step),
      Array.from({ length: STEPS }, (_, i) => i + 1),
      'every step once',
    );
    assert.equal(Number(readSafetensorsHeader(join(runDir, 'checkpoint.safetensors')).metadata['step']), STEPS);
    assert.ok(run.samples.includes(STEPS));
  });
});
