// Stop arriving at the edges of a training leg, placed deterministically by watching the real training
// process's events: a stop the instant the child reports its last step done (before the job hears it),
// twice in a row, and after the leg has finished and its process exited. The job ends only once its
// process is gone (a resumed leg never runs beside a dying one), the server keeps answering, every step
// is in the loss history once, and a run that finished stays finished.
import assert from 'node:assert/strict';
import { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startServer, type RunningServer } from '../../src/server/serve.ts';
import { writeTinyDataset } from '../helpers/tiny-dataset.ts';

let server: RunningServer;
let dir: string;

async function call<T>(method: string, path: string, body?: unknown): Promise<{ status: number; json: T }> {
  const res = await fetch(server.url + path, {
    method,
    ...(body !== undefined ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as T };
}

/** A training process's event as it reaches the train job: its "done" message, or its end ('close'). */
type ChildEvent = 'done' | 'close';
const originalEmit = ChildProcess.prototype.emit;
/** Run synchronously when the next `at` event of a training process is about to reach the job. */
let hook: { at: ChildEvent; run: () => void } | null = null;
/** The next process end reaches the job this many ms late (a process slow to die). */
let closeDelayMs = 0;
/** When each process end reached the job (performance.now()). */
const closes: number[] = [];
/** When each job entered each state. */
const stateTimes = new Map<string, number>();

function watchTrainingProcesses(): void {
  ChildProcess.prototype.emit = function (this: ChildProcess, name: string | symbol, ...args: unknown[]): boolean {
    const event = name === 'close' ? 'close' : name === 'message' && (args[0] as { kind?: string } | undefined)?.kind === 'done' ? 'done' : null;
    if (event && hook?.at === event) {
      const h = hook;
      hook = null;
      h.run();
    }
    if (event === 'close' && closeDelayMs > 0) {
      const delay = closeDelayMs;
      closeDelayMs = 0;
      setTimeout(() => {
        closes.push(performance.now());
        Reflect.apply(originalEmit, this, [name, ...args]) as boolean;
      }, delay);
      return true;
    }
    if (event === 'close') closes.push(performance.now());
    return Reflect.apply(originalEmit, this, [name, ...args]) as boolean;
  } as typeof ChildProcess.prototype.emit;
}

async function startRun(name: string): Promise<{ runId: string; jobId: string }> {
  const start = await call<{ run: { id: string }; job: { id: string } }>('POST', '/api/train/runs', {
    type: 'gan',
    dataset: 'shapes',
    name,
    steps: 2,
    batch: 2,
    tiny: true,
    sampleEvery: 1,
    checkpointEvery: 1,
  });
  assert.equal(start.status, 202);
  return { runId: start.json.run.id, jobId: start.json.job.id };
}

describe('train: stop at the edges of a leg', { timeout: 600_000 }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gesso-train-stop-'));
    await writeTinyDataset(join(dir, 'datasets', 'shapes'), 8);
    server = await startServer({ dataDir: join(dir, 'studio'), port: 0, datasetFolders: [join(dir, 'datasets')] });
    server.studio.queue.events.on('state', (j) => stateTimes.set(`${j.id}:${j.state}`, performance.now()));
    watchTrainingProcesses();
    assert.equal((await call('POST', '/api/datasets', { id: 'shapes' })).status, 201);
  });
  after(async () => {
    ChildProcess.prototype.emit = originalEmit;
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a stop the instant the last step is reported (and again) cancels the leg once its process is gone; resume finishes, each step once', async () => {
    const userId = server.studio.users.local().id;
    const { runId, jobId } = await startRun('edge-gan');
    // The stop lands as the process reports its last step done, before the job hears of it; the killed
    // process is slow to go (its end reaches the job 800 ms late), and resume is asked for at once.
    const stopped = new Promise<void>((resolve) => {
      hook = {
        at: 'done',
        run: () => {
          closeDelayMs = 800;
          void server.studio.queue.cancel(userId, jobId).then(() => resolve());
        },
      };
    });
    await stopped;
    const again = await Promise.all([
      call<{ state: string }>('POST', `/api/train/runs/${runId}/stop`),
      call<{ state: string }>('POST', `/api/train/runs/${runId}/stop`),
    ]);
    assert.deepEqual(
      again.map((r) => [r.status, r.json.state]),
      [
        [200, 'cancelled'],
        [200, 'cancelled'],
      ],
      'stopping a stopped run again is answered and changes nothing',
    );
    const resumed = await call<{ job: { id: string } }>('POST', `/api/train/runs/${runId}/resume`);
    assert.equal(resumed.status, 202);
    assert.equal((await call<{ ok: boolean }>('GET', '/api/health')).json.ok, true, 'the server answers while the stopped process goes');
    const final = await server.studio.queue.waitFor(userId, resumed.json.job.id, 300_000);
    assert.equal(final.state, 'done', final.error ?? '');
    const firstGone = closes[0] ?? Number.POSITIVE_INFINITY;
    const resumedStarted = stateTimes.get(`${resumed.json.job.id}:running`) ?? 0;
    assert.ok(resumedStarted > firstGone, `the resumed leg started ${(firstGone - resumedStarted).toFixed(0)} ms before the stopped process was gone`);
    const run = (await call<{ state: string; history: { step: number }[]; samples: number[] }>('GET', `/api/train/runs/${runId}`)).json;
    assert.equal(run.state, 'done');
    assert.deepEqual(
      run.history.map((h) => h.step),
      [1, 2],
    );
    assert.ok(run.samples.includes(2));
  });

  test('a stop after the leg finished and its process exited changes nothing, twice; resume is refused; the model is installed', async () => {
    const userId = server.studio.users.local().id;
    const { runId, jobId } = await startRun('late-gan');
    const exited = new Promise<void>((resolve) => {
      hook = { at: 'close', run: resolve };
    });
    const job = await server.studio.queue.waitFor(userId, jobId, 300_000);
    assert.equal(job.state, 'done', job.error ?? '');
    await exited;
    for (let i = 0; i < 2; i++) {
      const stop = await call<{ state: string }>('POST', `/api/train/runs/${runId}/stop`);
      assert.equal(stop.status, 200);
      assert.equal(stop.json.state, 'done');
    }
    const resume = await call<{ error: string }>('POST', `/api/train/runs/${runId}/resume`);
    assert.equal(resume.status, 400);
    assert.match(resume.json.error, /has finished/);
    const ex = await call<{ id: string }>('POST', '/api/explore', { model: 'late-gan', mode: 'samples', seeds: [1] });
    assert.equal((await server.studio.queue.waitFor(userId, ex.json.id)).state, 'done');
  });
});
