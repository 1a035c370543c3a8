// The README's `gesso serve` as a real process on a fresh data folder: generate through the API, kill the
// server (SIGKILL) while jobs are queued and one is running, start it again: the library and the queue
// are intact, and every job finishes with its image stored once.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort } from '../helpers/redis.ts';

const GESSO = join(import.meta.dirname, '../../bin/gesso.js');
const dir = mkdtempSync(join(tmpdir(), 'gesso-serve-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function startServe(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [GESSO, 'serve', '--data', dir, '--port', String(port)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes('gesso serve: http://127.0.0.1')) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => reject(new Error(`gesso serve exited (${code}): ${output}`)));
  });
  return child;
}

test('gesso serve: generate, SIGKILL mid-queue, restart: library and queued jobs intact', async () => {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const res = await fetch(base + path, { method, ...(body ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) });
    return (await res.json()) as T;
  };
  let server = await startServe(port);
  try {
    const first = await call<{ id: string }>('POST', '/api/generate', { prompt: 'a red star', steps: 4, seed: 1 });
    for (let i = 0; i < 600 && (await call<{ state: string }>('GET', `/api/jobs/${first.id}`)).state !== 'done'; i++)
      await new Promise((r) => setTimeout(r, 100));
    const jobs: { id: string }[] = [];
    for (let i = 0; i < 3; i++) jobs.push(await call<{ id: string }>('POST', '/api/generate', { prompt: 'a blue circle', steps: 60, seed: 100 + i }));
    // Kill while the first of them is part-way through.
    for (let i = 0; i < 600; i++) {
      const job = await call<{ state: string; progress: { step: number } | null }>('GET', `/api/jobs/${jobs[0]!.id}`);
      if (job.state === 'running' && (job.progress?.step ?? 0) >= 2) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise<void>((resolve) => {
      server.once('exit', () => resolve());
      server.kill('SIGKILL');
    });

    server = await startServe(port);
    const states = await Promise.all(
      jobs.map(async (j) => {
        for (let i = 0; i < 1200; i++) {
          const job = await call<{ state: string; attempts: number }>('GET', `/api/jobs/${j.id}`);
          if (['done', 'failed', 'cancelled'].includes(job.state)) return job;
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`job ${j.id} did not finish`);
      }),
    );
    assert.deepEqual(
      states.map((s) => s.state),
      ['done', 'done', 'done'],
    );
    assert.ok(states[0]!.attempts >= 2, 'the interrupted job ran again');
    const library = await call<{ images: { prompt: string; seed: number; jobId: string }[] }>('GET', '/api/images?limit=50');
    assert.equal(library.images.length, 4, 'the first image and one per queued job, none twice');
    assert.deepEqual(
      library.images
        .filter((i) => i.prompt === 'a blue circle')
        .map((i) => i.seed)
        .sort(),
      [100, 101, 102],
    );
    assert.ok(
      library.images.some((i) => i.jobId === first.id),
      'the image made before the kill is still there',
    );
  } finally {
    server.kill('SIGTERM');
  }
});
