/**
 * `npm run bench:server [-- --quick]`: the studio server on this machine, loopback only, every loop
 * bounded in count and time:
 *   1. library queries at 100k images (full-text search, filters, tag, deep pages): median ms of rounds;
 *   2. latency of an HTTP library query (p50/p99) idle and while two generations run with the default
 *      model (in-process queue, concurrency 2), with the event loop's delay in both phases: generation
 *      runs in ORT worker threads, so the loop should stay free;
 *   3. queue throughput: no-op jobs per second through the in-process queue and through BullMQ on a
 *      real redis-server (started on a free loopback port), interleaved rounds, medians, ratio.
 * The server runs in its own process (bench/server_part.ts), so its event loop is measured alone.
 * Writes the `server` section of BENCHMARKS.md; the last line is one JSON object.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { sleepHandler } from '../src/server/jobs/sleep-job.ts';
import { BullMqQueue } from '../src/server/queue/bullmq-queue.ts';
import { FarmWorker } from '../src/server/queue/farm-worker.ts';
import { InProcessQueue } from '../src/server/queue/in-process-queue.ts';
import { JobStore } from '../src/server/queue/job-store.ts';
import type { JobQueue } from '../src/server/queue/types.ts';
import { openDatabase } from '../src/studio/database.ts';
import { ImageStore } from '../src/studio/image-store.ts';
import { Library } from '../src/studio/library.ts';
import { Users } from '../src/studio/users.ts';
import { startRedis } from '../test/helpers/redis.ts';
import { writeSection } from './lib/benchmarks-md.ts';
import { busyWarning, currentLoad, machineInfo, packageVersion } from './lib/machine.ts';
import { median, timeRounds } from './lib/rounds.ts';

const { values: flags } = parseArgs({ options: { quick: { type: 'boolean', default: false }, 'no-write': { type: 'boolean', default: false } } });
const QUICK = flags.quick === true;
const LIBRARY_SIZE = 100_000;
const LATENCY_QUERIES = QUICK ? 100 : 300;
const QUEUE_JOBS = QUICK ? 200 : 500;
const QUEUE_ROUNDS = QUICK ? 2 : 3;
/** No phase may run longer than this. */
const PHASE_LIMIT_MS = 5 * 60_000;

const log = (m: string): void => void process.stderr.write(`bench:server: ${m}\n`);
const loads: number[] = [currentLoad()];
const dir = mkdtempSync(join(tmpdir(), 'gesso-bench-server-'));

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}
const round1 = (x: number): number => Math.round(x * 10) / 10;
const round2 = (x: number): number => Math.round(x * 100) / 100;

try {
  // 1 + 2. A server (its own process) on a 100k-image library; this process sends the requests.
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'server_part.ts'), join(dir, 'studio'), String(LIBRARY_SIZE)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const nextJson = async <T>(): Promise<T> => {
    const { value, done } = await lines.next();
    if (done) throw new Error('the server part exited early');
    return JSON.parse(value as string) as T;
  };
  const part = await nextJson<{ port: number; db: string; fillSeconds: number }>();
  log(`filled ${LIBRARY_SIZE} images in ${part.fillSeconds.toFixed(1)} s`);
  const db = openDatabase(part.db); // a second connection: WAL readers do not wait for the server
  const lib = new Library(db, new ImageStore(join(dir, 'unused')));
  const user = new Users(db).local();
  const rounds = { warmup: 2, rounds: QUICK ? 10 : 25 };
  const queries: { name: string; run: () => unknown }[] = [
    { name: 'full-text "red lighthouse", first page of 50', run: () => lib.search(user.id, { text: 'red lighthouse', limit: 50 }) },
    { name: 'filter model + sampler + rating >= 4, page of 50', run: () => lib.search(user.id, { model: 'sd15', sampler: 'DDIM', minRating: 4, limit: 50 }) },
    { name: 'tag "keeper", page of 50', run: () => lib.search(user.id, { tag: 'keeper', limit: 50 }) },
    {
      name: 'full-text + model + date range, page of 50',
      run: () => lib.search(user.id, { text: 'watercolor cat', model: 'anime-v3', from: Date.UTC(2026, 0, 20), to: Date.UTC(2026, 1, 20), limit: 50 }),
    },
    {
      name: 'newest first, 20 pages of 50 by cursor',
      run: () => {
        let cursor: string | null = null;
        for (let i = 0; i < 20; i++) {
          const page = lib.search(user.id, { limit: 50, ...(cursor ? { cursor } : {}) });
          cursor = page.nextCursor;
        }
      },
    },
    { name: 'count of the library', run: () => lib.count(user.id) },
  ];
  const libraryRows: { name: string; ms: number }[] = [];
  for (const q of queries) {
    const ms = median(await timeRounds(q.run, rounds));
    libraryRows.push({ name: q.name, ms: round2(ms) });
    log(`${q.name}: ${ms.toFixed(2)} ms`);
  }
  db.close();
  loads.push(currentLoad());

  const base = `http://127.0.0.1:${part.port}`;
  const url = `${base}/api/images?model=sd15&minRating=3&limit=50`;
  const latencyPhase = async (label: string): Promise<{ p50: number; p99: number; loopP99: number; loopMax: number }> => {
    child.stdin!.write('reset\n');
    const ms: number[] = [];
    const until = performance.now() + PHASE_LIMIT_MS;
    for (let i = 0; i < LATENCY_QUERIES && performance.now() < until; i++) {
      const s = performance.now();
      const res = await fetch(url);
      await res.arrayBuffer();
      ms.push(performance.now() - s);
    }
    child.stdin!.write('report\n');
    const loop = await nextJson<{ p99Ms: number; maxMs: number }>();
    const r = { p50: round2(percentile(ms, 50)), p99: round2(percentile(ms, 99)), loopP99: round2(loop.p99Ms), loopMax: round2(loop.maxMs) };
    log(`${label}: query p50 ${r.p50} ms, p99 ${r.p99} ms; server event-loop delay p99 ${r.loopP99} ms, max ${r.loopMax} ms`);
    return r;
  };
  const generateOnce = async (prompt: string, steps: number): Promise<void> => {
    const res = await fetch(`${base}/api/generate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt, steps }),
    });
    const { id } = (await res.json()) as { id: string };
    const until = performance.now() + PHASE_LIMIT_MS;
    while (performance.now() < until) {
      const job = (await (await fetch(`${base}/api/jobs/${id}`)).json()) as { state: string };
      if (['done', 'failed', 'cancelled'].includes(job.state)) return;
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const idle = await latencyPhase('idle');
  await generateOnce('warm up', 2); // loads the model
  let generating = true;
  let generated = 0;
  const keepGenerating = async (): Promise<void> => {
    while (generating) {
      await generateOnce('a red apple', 50);
      generated++;
    }
  };
  const generators = [keepGenerating(), keepGenerating()];
  await new Promise((r) => setTimeout(r, 1000));
  const busy = await latencyPhase('two generations running');
  generating = false;
  await Promise.all(generators);
  log(`${generated} images generated during the busy phase`);
  loads.push(currentLoad());
  child.stdin!.write('stop\n');
  await new Promise((r) => child.once('exit', r));

  // 3. Queue throughput: in-process vs BullMQ, interleaved rounds.
  const redis = await startRedis();
  const throughput = async (kind: 'in-process' | 'bullmq', roundNo: number): Promise<number> => {
    const db = openDatabase(join(dir, `queue-${kind}-${roundNo}.db`));
    const store = new JobStore(db);
    const sink = async (_job: unknown, output: import('../src/core/json.ts').JsonValue) => output;
    let queue: JobQueue;
    let worker: FarmWorker | null = null;
    if (kind === 'in-process') {
      queue = new InProcessQueue(store, { handlers: { sleep: sleepHandler }, sink, concurrency: 4 });
    } else {
      const queueName = `bench-${roundNo}`;
      const farm = new BullMqQueue(store, { redisUrl: redis.url, sink, queueName, window: 32 });
      await farm.ready();
      queue = farm;
      worker = new FarmWorker({ redisUrl: redis.url, handlers: { sleep: sleepHandler }, queueName, concurrency: 8 });
      await worker.ready();
    }
    const start = performance.now();
    const ids: string[] = [];
    for (let i = 0; i < QUEUE_JOBS; i++) ids.push((await queue.submit({ userId: `u${i % 4}`, kind: 'sleep', payload: { ms: 0 } })).id);
    for (const [i, id] of ids.entries()) await queue.waitFor(`u${i % 4}`, id, PHASE_LIMIT_MS);
    const jobsPerSecond = QUEUE_JOBS / ((performance.now() - start) / 1000);
    await queue.close();
    await worker?.close();
    db.close();
    log(`${kind} round ${roundNo}: ${jobsPerSecond.toFixed(0)} no-op jobs/s`);
    return jobsPerSecond;
  };
  const inProcessRates: number[] = [];
  const bullRates: number[] = [];
  for (let r = 0; r < QUEUE_ROUNDS; r++) {
    inProcessRates.push(await throughput('in-process', r));
    bullRates.push(await throughput('bullmq', r));
  }
  await redis.stop();
  loads.push(currentLoad());

  const inProcessRate = Math.round(median(inProcessRates));
  const bullRate = Math.round(median(bullRates));
  const machine = machineInfo();
  const warning = busyWarning(loads, machine.nproc);
  const section = [
    '## Server: library queries, latency under generation, queue throughput (`npm run bench:server`)',
    '',
    `${machine.date.slice(0, 10)}, ${machine.cpuModel}, ${machine.nproc} CPUs, Node ${machine.node}, better-sqlite3 ${packageVersion('better-sqlite3')}, fastify ${packageVersion('fastify')}, bullmq ${packageVersion('bullmq')}, commit ${machine.gitCommit}${QUICK ? ', --quick' : ''}. Load average during the run: ${loads.join(' → ')}.`,
    ...(warning ? ['', `**${warning}**`] : []),
    '',
    `**Library queries at ${LIBRARY_SIZE.toLocaleString('en')} images** (SQLite WAL, FTS5; median of ${rounds.rounds} rounds, in-process calls):`,
    '',
    '| query | ms |',
    '| --- | --- |',
    ...libraryRows.map((r) => `| ${r.name} | ${r.ms} |`),
    '',
    `**HTTP library query while generating** (\`GET /api/images?model=sd15&minRating=3&limit=50\` over loopback from another process, ${LATENCY_QUERIES} sequential requests on the 100k library; event-loop delay measured inside the server process; two generations of the default model, 50 steps each, kept running by the in-process queue at concurrency 2; ${generated} images made during the phase):`,
    '',
    '| phase | p50 ms | p99 ms | event-loop delay p99 ms | event-loop delay max ms |',
    '| --- | --- | --- | --- | --- |',
    `| idle | ${idle.p50} | ${idle.p99} | ${idle.loopP99} | ${idle.loopMax} |`,
    `| two generations running | ${busy.p50} | ${busy.p99} | ${busy.loopP99} | ${busy.loopMax} |`,
    '',
    `**Queue throughput** (${QUEUE_JOBS} no-op \`sleep\` jobs from 4 users, submitted then awaited; median of ${QUEUE_ROUNDS} interleaved rounds): in-process (SQLite, concurrency 4) **${inProcessRate} jobs/s**; BullMQ on a local redis-server (window 32, one worker at concurrency 8) **${bullRate} jobs/s**; in-process / BullMQ = **${round1(inProcessRate / bullRate)}×**. Every job is a SQLite row in both; BullMQ adds Redis round trips per job, and buys workers on other machines.`,
  ].join('\n');
  if (flags['no-write'] !== true) writeSection(join(import.meta.dirname, '..', 'BENCHMARKS.md'), 'server', section);
  console.log(section);
  console.log(
    JSON.stringify({
      library_size: LIBRARY_SIZE,
      library_query_ms: Object.fromEntries(libraryRows.map((r, i) => [['fts', 'filter', 'tag', 'fts_filter_date', 'pages20', 'count'][i], r.ms])),
      query_p50_idle_ms: idle.p50,
      query_p99_idle_ms: idle.p99,
      query_p50_generating_ms: busy.p50,
      query_p99_generating_ms: busy.p99,
      event_loop_p99_generating_ms: busy.loopP99,
      queue_in_process_jobs_per_s: inProcessRate,
      queue_bullmq_jobs_per_s: bullRate,
      load_average: loads,
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
