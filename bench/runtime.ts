/**
 * `node --import tsx bench/runtime.ts [--quick]`: measures the runtime's own choices (not a peer
 * comparison, so it prints and does not touch BENCHMARKS.md):
 *   1. ORT thread spinning on/off for a small conv net, in-process (time, CPU per run) and in a
 *      worker (time, and how late the main thread's timers fire meanwhile);
 *   2. held state carried inside the runner vs state sent to the worker and back every step (~4 MB);
 *   3. pre-allocated outputs vs ORT-allocated ones for a ~1M-parameter update step (ORT directly).
 * Variants alternate within each round so machine noise hits them alike; medians are reported.
 */
import ort from 'onnxruntime-node';
import { parseArgs } from 'node:util';
import type { Runner, SessionOptions } from '../src/runtime/runner.ts';
import { Session } from '../src/runtime/session.ts';
import { tensor, type HostTensor } from '../src/runtime/tensor.ts';
import { WorkerSession } from '../src/runtime/worker-session.ts';
import { convModel, momentumModel } from '../test/runtime/fixtures.ts';
import { median } from './lib/rounds.ts';

const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false } } });
const ROUNDS = values.quick ? 3 : 7;
const RUNS = values.quick ? 5 : 10;

const fmt = (ms: number): string => ms.toFixed(2).padStart(8);

/** Runs fn `runs` times; returns wall ms per run and process CPU ms per run. */
async function timeRuns(runs: number, fn: () => Promise<unknown>): Promise<{ ms: number; cpu: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < runs; i++) await fn();
  const ms = (performance.now() - t0) / runs;
  const cpu = process.cpuUsage(cpu0);
  return { ms, cpu: (cpu.user + cpu.system) / 1000 / runs };
}

/** Mean and max lateness (ms) of a 5 ms interval timer on this thread while fn runs. */
async function timerLateness(fn: () => Promise<unknown>): Promise<{ mean: number; max: number }> {
  const lates: number[] = [];
  let expected = performance.now() + 5;
  const timer = setInterval(() => {
    const now = performance.now();
    lates.push(Math.max(0, now - expected));
    expected = now + 5;
  }, 5);
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  const mean = lates.reduce((a, b) => a + b, 0) / Math.max(1, lates.length);
  return { mean, max: Math.max(0, ...lates) };
}

async function spinning(): Promise<void> {
  const [batch, channels, size] = [8, 64, 64];
  const bytes = convModel(batch, channels, size);
  const x = tensor('float32', [batch, channels, size, size], new Float32Array(batch * channels * size * size).fill(0.5));
  const flops = 2 * 2 * batch * size * size * channels * channels * 9;
  console.log(`\n1. Spinning: two Conv ${channels}->${channels} 3x3 on ${batch}x${size}x${size} (${(flops / 1e9).toFixed(1)} GFLOP/run), intraOpThreads 2`);
  for (const where of ['in-process', 'worker'] as const) {
    const open = (o: SessionOptions): Promise<Runner> => (where === 'worker' ? WorkerSession.create(bytes, o) : Session.create(bytes, o));
    const runners = { off: await open({ intraOpThreads: 2, allowSpinning: false }), on: await open({ intraOpThreads: 2, allowSpinning: true }) };
    const results = {
      off: [] as { ms: number; cpu: number; late: number; maxLate: number }[],
      on: [] as { ms: number; cpu: number; late: number; maxLate: number }[],
    };
    for (const r of Object.values(runners)) await r.run({ x }, ['y']);
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of round % 2 === 0 ? (['off', 'on'] as const) : (['on', 'off'] as const)) {
        let timed = { ms: 0, cpu: 0 };
        const late = await timerLateness(async () => {
          timed = await timeRuns(RUNS, () => runners[mode].run({ x }, ['y']));
        });
        results[mode].push({ ...timed, late: late.mean, maxLate: late.max });
      }
    }
    for (const mode of ['off', 'on'] as const) {
      const rs = results[mode];
      const ms = median(rs.map((r) => r.ms));
      const cpuNote = where === 'worker' ? 'cpu ms/run (all threads)' : 'cpu ms/run';
      console.log(
        `  ${where.padEnd(10)} spinning ${mode.padEnd(3)}: ${fmt(ms)} ms/run  ${fmt(median(rs.map((r) => r.cpu)))} ${cpuNote}` +
          `  ${(flops / (ms * 1e6)).toFixed(0).padStart(4)} GFLOP/s  main-thread timer late: mean ${median(rs.map((r) => r.late)).toFixed(1)} ms, max ${median(rs.map((r) => r.maxLate)).toFixed(0)} ms`,
      );
    }
    await Promise.all(Object.values(runners).map((r) => r.release()));
  }
}

async function stateCarry(): Promise<void> {
  const n = 1 << 19; // w and m: 2 x 2 MiB = 4 MiB of state
  const bytes = momentumModel(n);
  const steps = RUNS * 2;
  const g = new Float32Array(n).fill(0.001);
  console.log(`\n2. Held state: momentum step on ${n} params (w + m = ${((2 * n * 4) / 2 ** 20).toFixed(0)} MiB), ms per step`);
  const carry = { 'new.w': 'w', 'new.m.w': 'm.w' };

  const variants: Record<string, () => Promise<() => Promise<void>>> = {
    'in-process, state held (carry)': async () => {
      const s = await Session.create(bytes);
      await s.setState({ w: tensor('float32', [n]), 'm.w': tensor('float32', [n]) });
      return withRelease(s, async () => void (await s.run({ g: tensor('float32', [n], g) }, { fetch: ['loss'], carry })));
    },
    'in-process, state fed and fetched': async () => {
      const s = await Session.create(bytes);
      let w = tensor('float32', [n]);
      let m = tensor('float32', [n]);
      return withRelease(s, async () => {
        const out = await s.run({ g: tensor('float32', [n], g), w, 'm.w': m }, ['loss', 'new.w', 'new.m.w']);
        [w, m] = [out['new.w'], out['new.m.w']];
      });
    },
    'worker, state held (carry)': async () => {
      const s = await WorkerSession.create(bytes);
      await s.setState({ w: tensor('float32', [n]), 'm.w': tensor('float32', [n]) });
      return withRelease(s, async () => void (await s.run({ g: tensor('float32', [n], g) }, { fetch: ['loss'], carry })));
    },
    'worker, state sent + returned (copy)': async () => workerRoundTrip(bytes, n, g, false),
    'worker, state sent + returned (transfer)': async () => workerRoundTrip(bytes, n, g, true),
  };
  const steppers = new Map<string, () => Promise<void>>();
  for (const [name, make] of Object.entries(variants)) steppers.set(name, await make());
  const results = new Map<string, number[]>([...steppers.keys()].map((k) => [k, []]));
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [...steppers.keys()] : [...steppers.keys()].reverse();
    for (const name of order) {
      const step = steppers.get(name) as () => Promise<void>;
      await step();
      results.get(name)?.push((await timeRuns(steps, step)).ms);
    }
  }
  for (const [name, ms] of results) console.log(`  ${name.padEnd(42)} ${fmt(median(ms))}`);
  for (const step of steppers.values()) await (step as Releasable).release?.();
}

type Releasable = (() => Promise<void>) & { release?: () => Promise<void> };

function withRelease(runner: Runner, step: () => Promise<void>): Releasable {
  return Object.assign(step, { release: () => runner.release() });
}

async function workerRoundTrip(bytes: Uint8Array, n: number, g: Float32Array, transfer: boolean): Promise<Releasable> {
  const s = await WorkerSession.create(bytes);
  let state: Record<string, HostTensor> = { w: tensor('float32', [n]), 'm.w': tensor('float32', [n]) };
  return withRelease(s, async () => {
    const out = await s.run({ g: tensor('float32', [n], transfer ? g.slice() : g), ...state }, { fetch: ['loss', 'new.w', 'new.m.w'], transfer });
    state = { w: out['new.w'], 'm.w': out['new.m.w'] };
  });
}

async function preallocated(): Promise<void> {
  const n = 1 << 20;
  console.log(`\n3. Pre-allocated outputs: momentum step on ${n} params, ORT directly, ms per step`);
  const session = await ort.InferenceSession.create(momentumModel(n), { intraOpNumThreads: 2, logSeverityLevel: 4 });
  const f32 = (): ort.Tensor => new ort.Tensor('float32', new Float32Array(n), [n]);
  const g = f32();
  // ORT-allocated: outputs come back as new arrays and are fed back next step.
  let w = f32();
  let m = f32();
  const plain = async (): Promise<void> => {
    const out = await session.run({ g, w, 'm.w': m }, ['loss', 'new.w', 'new.m.w']);
    [w, m] = [out['new.w'] as ort.Tensor, out['new.m.w'] as ort.Tensor];
  };
  // Pre-allocated ping-pong: step k reads buffers A and writes buffers B, step k+1 the other way.
  const bufs = [
    [f32(), f32()],
    [f32(), f32()],
  ];
  let k = 0;
  const pre = async (): Promise<void> => {
    const [src, dst] = [bufs[k % 2], bufs[(k + 1) % 2]];
    await session.run({ g, w: src[0], 'm.w': src[1] }, { loss: null, 'new.w': dst[0], 'new.m.w': dst[1] });
    k++;
  };
  const res = { plain: [] as number[], preallocated: [] as number[] };
  await plain();
  await pre();
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of round % 2 === 0 ? (['plain', 'preallocated'] as const) : (['preallocated', 'plain'] as const)) {
      res[mode].push((await timeRuns(RUNS * 2, mode === 'plain' ? plain : pre)).ms);
    }
  }
  console.log(`  ORT-allocated outputs           ${fmt(median(res.plain))}`);
  console.log(`  pre-allocated (ping-pong)       ${fmt(median(res.preallocated))}`);
  await session.release();
}

await spinning();
await stateCarry();
await preallocated();
