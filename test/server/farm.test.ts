// The render farm with real processes: `gesso worker` children on a real Redis. A worker SIGKILLed in the
// middle of a generation loses its lock; the job runs again on the other worker and its image is stored
// once. A Redis that restarts empty loses its jobs; the server hands them over again from SQLite.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Studio } from '../../src/server/studio.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';

const GESSO = join(import.meta.dirname, '../../bin/gesso.js');

interface WorkerProcess {
  child: ChildProcess;
  output: string[];
  ready: Promise<void>;
}

function startWorkerProcess(redisUrl: string, queueName: string): WorkerProcess {
  const child = spawn(process.execPath, [GESSO, 'worker', '--redis', redisUrl, '--lock-seconds', '2', '--queue', queueName], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      output.push(...d.toString().split('\n').filter(Boolean));
      if (output.some((l) => l.includes('ready'))) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => output.push(d.toString()));
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before it was ready: ${output.join('\n')}`)));
  });
  return { child, output, ready };
}

async function stopProcess(p: WorkerProcess): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    p.child.once('exit', () => resolve());
    p.child.kill('SIGTERM');
  });
}

describe('render farm with gesso worker processes', () => {
  let redis: TestRedis;
  let dir: string;
  before(async () => {
    redis = await startRedis();
    dir = mkdtempSync(join(tmpdir(), 'gesso-farm-'));
  });
  after(async () => {
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a worker killed mid-generation: the job completes on the other worker, stored once', async () => {
    const queueName = 'farm-kill';
    const workers = [startWorkerProcess(redis.url, queueName), startWorkerProcess(redis.url, queueName)];
    const studio = await Studio.open({ dataDir: join(dir, 'kill'), redisUrl: redis.url, queueName, dispatchWindow: 2 });
    try {
      await Promise.all(workers.map((w) => w.ready));
      const user = studio.users.local();
      const job = await studio.queue.submit({
        userId: user.id,
        kind: 'generate',
        payload: { model: 'gesso-clipart-v1', prompt: 'a red star', steps: 120, seed: 7 },
      });
      // Wait until the job is part-way through, then kill the worker running it.
      await new Promise<void>((resolve) => {
        const on = (j: { id: string }, p: { step: number }): void => {
          if (j.id === job.id && p.step >= 3) {
            studio.queue.events.off('progress', on);
            resolve();
          }
        };
        studio.queue.events.on('progress', on);
      });
      const victim = workers.find((w) => w.output.some((l) => l.includes(`job ${job.id}`)));
      assert.ok(victim, 'one worker logged that it started the job');
      const survivor = workers.find((w) => w !== victim)!;
      victim.child.kill('SIGKILL');
      const done = await studio.queue.waitFor(user.id, job.id, 120_000);
      assert.equal(done.state, 'done', done.error ?? '');
      assert.ok(
        survivor.output.some((l) => l.includes(`job ${job.id} (generate) started`)),
        `the other worker ran it: victim ${victim.output.join(' | ')}; survivor ${survivor.output.join(' | ')}`,
      );
      assert.ok(survivor.output.some((l) => l.includes(`job ${job.id} done`)));
      const images = studio.library.imagesOfJob(user.id, job.id);
      assert.equal(images.length, 1, 'stored once');
      assert.equal(images[0]!.seed, 7);
      assert.equal(images[0]!.prompt, 'a red star');
    } finally {
      await studio.close();
      await Promise.all(workers.map(stopProcess));
    }
  });

  test('Redis restarts empty mid-queue: every job still completes, each stored once', async () => {
    const queueName = 'farm-redis-restart';
    const worker = startWorkerProcess(redis.url, queueName);
    const studio = await Studio.open({ dataDir: join(dir, 'redis'), redisUrl: redis.url, queueName, dispatchWindow: 2 });
    try {
      await worker.ready;
      const user = studio.users.local();
      const jobs = [];
      for (let i = 0; i < 5; i++) jobs.push(await studio.queue.submit({ userId: user.id, kind: 'sleep', payload: { ms: 300, steps: 3, echo: i } }));
      await new Promise((r) => setTimeout(r, 400));
      await redis.restart();
      for (const j of jobs) {
        const done = await studio.queue.waitFor(user.id, j.id, 60_000);
        assert.equal(done.state, 'done', `${j.id}: ${done.error}`);
        assert.equal((done.result as { echo: number }).echo, jobs.indexOf(j));
      }
    } finally {
      await studio.close();
      await stopProcess(worker);
    }
  });
});
