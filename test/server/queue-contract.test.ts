// One contract, two queues: the in-process queue and the BullMQ render farm (a real Redis, a real
// BullMQ worker) must both run jobs, store each result once, honour priorities, share fairly between
// users, report progress, cancel, and pick up after a restart.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { JsonValue } from '../../src/core/json.ts';
import { sleepHandler } from '../../src/server/jobs/sleep-job.ts';
import { BullMqQueue } from '../../src/server/queue/bullmq-queue.ts';
import { FarmWorker } from '../../src/server/queue/farm-worker.ts';
import { InProcessQueue } from '../../src/server/queue/in-process-queue.ts';
import { JobStore } from '../../src/server/queue/job-store.ts';
import type { JobProgress, JobQueue, JobRecord } from '../../src/server/queue/types.ts';
import { openDatabase, type Db } from '../../src/studio/database.ts';
import { startRedis, type TestRedis } from '../helpers/redis.ts';

interface Harness {
  queue: JobQueue;
  /** The job ids the sink stored, in order (each should appear once). */
  stored: string[];
  /** Closes the queue (not the workers) and opens a new one on the same database: a server restart. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

type Factory = (dbPath: string) => Promise<Harness>;

const handlers = { sleep: sleepHandler };

function recordingSink(stored: string[]) {
  return async (job: JobRecord, output: JsonValue): Promise<JsonValue> => {
    stored.push(job.id);
    return { stored: output };
  };
}

const inProcess: Factory = async (dbPath) => {
  const stored: string[] = [];
  let db: Db = openDatabase(dbPath);
  const open = (): InProcessQueue => new InProcessQueue(new JobStore(db), { handlers, sink: recordingSink(stored), concurrency: 1 });
  const h: Harness = {
    queue: open(),
    stored,
    async restart() {
      await h.queue.close();
      db.close();
      db = openDatabase(dbPath);
      h.queue = open();
    },
    async close() {
      await h.queue.close();
      db.close();
    },
  };
  return h;
};

let redis: TestRedis;
let queueCounter = 0;

const bullmq: Factory = async (dbPath) => {
  const stored: string[] = [];
  const queueName = `contract-${process.pid}-${queueCounter++}`;
  let db: Db = openDatabase(dbPath);
  const open = async (): Promise<BullMqQueue> => {
    const q = new BullMqQueue(new JobStore(db), { redisUrl: redis.url, sink: recordingSink(stored), queueName, window: 1, reconcileMs: 200 });
    await q.ready();
    return q;
  };
  const worker = new FarmWorker({ redisUrl: redis.url, handlers, queueName, concurrency: 1, lockMs: 2000 });
  await worker.ready();
  const h: Harness = {
    queue: await open(),
    stored,
    async restart() {
      await h.queue.close();
      db.close();
      db = openDatabase(dbPath);
      h.queue = await open();
    },
    async close() {
      await h.queue.close();
      await worker.close();
      db.close();
    },
  };
  return h;
};

function contract(name: string, factory: Factory): void {
  describe(`queue contract: ${name}`, () => {
    let dir: string;
    let h: Harness;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'gesso-queue-'));
    });
    after(() => rmSync(dir, { recursive: true, force: true }));
    const fresh = async (label: string): Promise<Harness> => {
      h = await factory(join(dir, `${label}.db`));
      return h;
    };

    test('runs a job, reports progress, and stores its result once', async () => {
      const h = await fresh('run');
      try {
        const progress: JobProgress[] = [];
        h.queue.events.on('progress', (_job, p) => progress.push(p));
        const job = await h.queue.submit({ userId: 'u1', kind: 'sleep', payload: { ms: 150, steps: 3, echo: 'hello' } });
        const done = await h.queue.waitFor('u1', job.id, 20_000);
        assert.equal(done.state, 'done');
        assert.deepEqual((done.result as { stored: { echo: string } }).stored.echo, 'hello');
        assert.deepEqual(h.stored, [job.id]);
        assert.deepEqual(
          progress.map((p) => p.step),
          [1, 2, 3],
        );
        assert.equal(h.queue.get('u2', job.id), null, 'another user does not see the job');
      } finally {
        await h.close();
      }
    });

    test('submitting the same id twice is one job, run and stored once', async () => {
      const h = await fresh('idempotent');
      try {
        const a = await h.queue.submit({ id: 'job_client-chosen-1', userId: 'u1', kind: 'sleep', payload: { ms: 50 } });
        const b = await h.queue.submit({ id: 'job_client-chosen-1', userId: 'u1', kind: 'sleep', payload: { ms: 50 } });
        assert.equal(a.id, b.id);
        await h.queue.waitFor('u1', a.id, 20_000);
        const again = await h.queue.submit({ id: 'job_client-chosen-1', userId: 'u1', kind: 'sleep', payload: { ms: 50 } });
        assert.equal(again.state, 'done');
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual(h.stored, ['job_client-chosen-1']);
        await assert.rejects(h.queue.submit({ id: 'job_client-chosen-1', userId: 'u2', kind: 'sleep', payload: {} }), /taken/);
      } finally {
        await h.close();
      }
    });

    test("priorities order one user's jobs; fair share lets another user in before a long batch", async () => {
      const h = await fresh('order');
      try {
        const blocker = await h.queue.submit({ userId: 'u1', kind: 'sleep', payload: { ms: 400 } });
        const batch: JobRecord[] = [];
        for (let i = 0; i < 4; i++) batch.push(await h.queue.submit({ userId: 'u1', kind: 'sleep', payload: { ms: 20 } }));
        const urgent = await h.queue.submit({ userId: 'u1', kind: 'sleep', payload: { ms: 20 }, priority: 5 });
        const other = await h.queue.submit({ userId: 'u2', kind: 'sleep', payload: { ms: 20 } });
        for (const j of [...batch, urgent]) await h.queue.waitFor('u1', j.id, 20_000);
        await h.queue.waitFor('u2', other.id, 20_000);
        assert.equal(h.stored[0], blocker.id);
        assert.equal(h.stored[1], other.id, 'u2 runs right after the job that was running: u1 was just served');
        assert.equal(h.stored[2], urgent.id, "u1's priority-5 job before its earlier priority-0 ones");
        assert.deepEqual(
          h.stored.slice(3),
          batch.map((j) => j.id),
        );
      } finally {
        await h.close();
      }
    });

    test('cancels a queued job and a running one; the queue goes on', async () => {
      const h = await fresh('cancel');
      try {
        const long = await h.queue.submit({ userId: 'u1', kind: 'sleep', payload: { ms: 5000, steps: 50 } });
        const queued = await h.queue.submit({ userId: 'u1', kind: 'sleep', payload: { ms: 10 } });
        const next = await h.queue.submit({ userId: 'u1', kind: 'sleep', payload: { ms: 10 } });
        await new Promise<void>((resolve) => {
          const on = (job: { id: string }): void => {
            if (job.id === long.id) {
              h.queue.events.off('progress', on);
              resolve();
            }
          };
          h.queue.events.on('progress', on);
        });
        assert.equal((await h.queue.cancel('u1', queued.id)).state, 'cancelled');
        const started = Date.now();
        assert.equal((await h.queue.cancel('u1', long.id)).state, 'cancelled');
        assert.equal((await h.queue.waitFor('u1', next.id, 20_000)).state, 'done');
        assert.ok(Date.now() - started < 4000, 'the running job stopped early');
        assert.deepEqual(h.stored, [next.id]);
        assert.equal(h.queue.get('u1', long.id)?.state, 'cancelled');
        await assert.rejects(h.queue.cancel('u2', next.id), /not found/);
      } finally {
        await h.close();
      }
    });

    test('a restart mid-queue loses nothing: queued jobs run, each stored once', async () => {
      const h = await fresh('restart');
      try {
        const jobs: JobRecord[] = [];
        for (let i = 0; i < 4; i++) jobs.push(await h.queue.submit({ userId: 'u1', kind: 'sleep', payload: { ms: 200, steps: 2 } }));
        await new Promise((r) => setTimeout(r, 250)); // the first is running
        await h.restart();
        for (const j of jobs) assert.equal((await h.queue.waitFor('u1', j.id, 30_000)).state, 'done');
        assert.deepEqual([...h.stored].sort(), jobs.map((j) => j.id).sort());
      } finally {
        await h.close();
      }
    });
  });
}

contract('in-process (SQLite)', inProcess);

describe('with a real Redis', () => {
  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    await redis.stop();
  });
  contract('BullMQ render farm', bullmq);
});
