/**
 * `npm run bench:dnnl [-- --quick] [-- --no-write]`: issue 9's optional oneDNN backend
 * (src/runtime/dnnl/) against gesso's ORT route and PyTorch, per convolution pass, in one run.
 *
 * The conv cases of bench/lib/pass-cases.ts (the issue's 64→64 3×3 on 8×64×64, stride 1 and 2), at 1
 * and 2 threads. Each round runs, in turn: the PyTorch peer (bench/peers/torch_passes.py, fp32; its
 * convolutions are oneDNN's too) as installed and with glibc keeping freed memory (GLIBC_KEEP_MEMORY), gesso's ORT route (bench/gesso_passes.ts, the variant the training step
 * uses, its result summed inside the graph), and oneDNN through koffi with blocked and with plain
 * activations (outputs written into arrays allocated once, as a layer executor would keep them). Each
 * side reports the median of a few runs per round; the tables give the median over rounds, wall and CPU
 * (this process, all threads) ms.
 *
 * A second table measures what splitting a training step at its convolutions would add per activation
 * tensor of the reference layer (8 MB): a copy in JavaScript, writing into a fresh array (page faults),
 * and one ORT run whose input comes from and output goes to JavaScript.
 *
 * Run it with the machine quiet (other jobs stretch both sides unequally). Last stdout line: one JSON object.
 */
import { parseArgs } from 'node:util';
import { Rng } from '../src/core/rng.ts';
import { exportOnnx } from '../src/graph/export.ts';
import { Graph } from '../src/graph/graph.ts';
import type { Tensor } from '../src/graph/graph.ts';
import { reduceSum, relu } from '../src/graph/ops/index.ts';
import { dnnlConv2d, dnnlStatus, releaseDnnlConvs, setDnnlThreads } from '../src/runtime/dnnl/backend.ts';
import type { DnnlConv2d } from '../src/runtime/dnnl/conv2d.ts';
import { Session } from '../src/runtime/session.ts';
import { buildPassVariants, timePassRound } from './gesso_passes.ts';
import { writeSection } from './lib/benchmarks-md.ts';
import { runJsonChild } from './lib/child.ts';
import { currentLoad, machineInfo } from './lib/machine.ts';
import { CONV_PASSES, type ConvPass, type ConvPassCase, convPassFlops, PASS_CASES } from './lib/pass-cases.ts';
import { GLIBC_KEEP_MEMORY, TORCH_UNSET_ENV, torchPython } from './lib/peers.ts';
import { median } from './lib/rounds.ts';

const PEERS_DIR = new URL('./peers/', import.meta.url).pathname;
const SIDES = ['torch', 'torch-kept', 'ort', 'dnnl', 'dnnl-plain'] as const;
type Side = (typeof SIDES)[number];
const SIDE_LABEL: Record<Side, string> = {
  torch: 'PyTorch fp32',
  'torch-kept': 'PyTorch fp32, malloc keeps memory',
  ort: 'gesso ORT (training-step variant)',
  dnnl: 'oneDNN, blocked activations',
  'dnnl-plain': 'oneDNN, plain NCHW',
};

interface Time {
  wallMs: number;
  cpuMs: number;
}

function log(message: string): void {
  process.stderr.write(`[bench:dnnl] ${message}\n`);
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** Median wall and CPU ms of `reps` calls after one warm-up. */
function timeSync(fn: () => void, reps: number): Time {
  fn();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = cpuMs();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    cpu.push(cpuMs() - c0);
  }
  return { wallMs: median(wall), cpuMs: median(cpu) };
}

/** One oneDNN convolution with random inputs and output arrays allocated once. */
function dnnlRunner(c: ConvPassCase, activations: 'blocked' | 'plain', rng: Rng): { conv: DnnlConv2d; run: Record<ConvPass, () => void> } {
  const conv = dnnlConv2d(
    {
      batch: c.batch,
      inChannels: c.cin,
      height: c.size,
      width: c.size,
      outChannels: c.cout,
      kernel: [c.kernel, c.kernel],
      stride: [c.stride, c.stride],
      padding: [c.pad, c.pad, c.pad, c.pad],
    },
    { activations },
  );
  const [n, o, oh, ow] = conv.outputDims;
  const x = rng.normal(c.batch * c.cin * c.size * c.size, 0.1);
  const w = rng.normal(c.cout * c.cin * c.kernel * c.kernel, 0.1);
  const dy = rng.normal(n * o * oh * ow, 0.1);
  const y = new Float32Array(dy.length);
  const dx = new Float32Array(x.length);
  const dw = new Float32Array(w.length);
  return {
    conv,
    run: {
      forward: () => conv.forward(x, w, null, y),
      dX: () => conv.backwardData(w, dy, dx),
      dW: () => conv.backwardWeights(x, dy, { dw }),
    },
  };
}

interface TorchRow {
  case: string;
  pass: string;
  config: string;
  wallMs: number;
  cpuMs: number;
}

/**
 * PyTorch allocates its outputs and blocked copies afresh on every call; glibc returns such large blocks
 * to the kernel (mmap / trim) and the next call page-faults them in again. On this VM that cost a stride-1
 * forward 4–6k minor faults, 20–55 ms of system time and ~100 ms of user time instead of ~13; with these
 * tunables glibc keeps freed memory and the faults disappear. PyTorch users can set them too, so the peer
 * runs both ways and the ratios use the faster.
 */

type Key = string;
const key = (threads: number, caseId: string, pass: string, side: Side): Key => `${threads}|${caseId}|${pass}|${side}`;

async function measure(
  threads: number,
  cases: ConvPassCase[],
  rounds: number,
  reps: number,
  times: Map<Key, Time[]>,
  notes: string[],
): Promise<Record<string, string>> {
  const push = (k: Key, t: Time) => times.set(k, [...(times.get(k) ?? []), t]);
  log(`${threads} thread(s): building ORT sessions and oneDNN primitives`);
  const all = await buildPassVariants(cases, threads);
  const used = all.filter((v) => v.used);
  for (const v of all) if (!v.used) await v.session.release();
  setDnnlThreads(threads);
  const rng = new Rng(7);
  const dnnl = cases.flatMap((c) => (['blocked', 'plain'] as const).map((layout) => ({ c, layout, ...dnnlRunner(c, layout, rng) })));
  const implementations: Record<string, string> = {};
  for (const d of dnnl)
    for (const pass of ['forward', 'backwardData', 'backwardWeights'] as const) implementations[`${d.layout} ${pass}`] = d.conv.implementation(pass);
  try {
    for (let r = 0; r < rounds; r++) {
      for (const side of ['torch', 'torch-kept'] as const) {
        log(`${threads} thread(s), round ${r + 1}/${rounds}: ${SIDE_LABEL[side]}`);
        try {
          const json = (await runJsonChild(
            torchPython(),
            [`${PEERS_DIR}torch_passes.py`, JSON.stringify(cases), String(reps), String(threads), 'fp32'],
            'torch passes',
            {
              unsetEnv: TORCH_UNSET_ENV,
              setEnv: side === 'torch-kept' ? { GLIBC_TUNABLES: GLIBC_KEEP_MEMORY } : {},
              timeoutMs: 10 * 60_000,
              echoStderr: false,
            },
          )) as { rows: TorchRow[]; mkldnn?: boolean };
          if (json.mkldnn === false) notes.push('PyTorch reports torch.backends.mkldnn unavailable: its convolutions do not run on oneDNN');
          for (const row of json.rows) push(key(threads, row.case, row.pass, side), { wallMs: row.wallMs, cpuMs: row.cpuMs });
        } catch (err) {
          notes.push(`${SIDE_LABEL[side]} round ${r + 1} at ${threads} thread(s) failed: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      log(`${threads} thread(s), round ${r + 1}/${rounds}: gesso ORT`);
      (await timePassRound(used, reps)).forEach((t, i) => {
        const v = used[i];
        if (v !== undefined) push(key(threads, v.caseId, v.pass, 'ort'), t);
      });
      log(`${threads} thread(s), round ${r + 1}/${rounds}: oneDNN`);
      for (const d of dnnl)
        for (const pass of CONV_PASSES) push(key(threads, d.c.id, pass, d.layout === 'blocked' ? 'dnnl' : 'dnnl-plain'), timeSync(d.run[pass], reps));
    }
  } finally {
    for (const v of used) await v.session.release();
    releaseDnnlConvs();
  }
  return implementations;
}

interface RoundTrip {
  what: string;
  wallMs: number;
  cpuMs: number;
}

/** Costs per 8 MB activation of a graph split at its convolutions (see the file comment). */
async function roundTrips(reps: number): Promise<RoundTrip[]> {
  const dims = [8, 64, 64, 64];
  const size = dims.reduce((a, b) => a * b, 1);
  const src = new Rng(3).normal(size);
  const dst = new Float32Array(size);
  const out: RoundTrip[] = [];
  out.push({ what: 'copy 8 MB between Float32Arrays (TypedArray.set)', ...timeSync(() => dst.set(src), reps) });
  out.push({ what: 'new 8 MB Float32Array, every element written (page faults)', ...timeSync(() => new Float32Array(size).set(src), reps) });
  // Three small ORT models separate a run's fixed cost, feeding 8 MB from JS, and returning 8 MB to JS.
  const models: [string, number[], (x: Tensor) => Tensor][] = [
    ['one ORT run of a 1-element Relu (the fixed cost of a run)', [1], (x) => relu(x)],
    ['one ORT run, 8 MB in from JS, its sum out (ReduceSum of Relu)', dims, (x) => reduceSum(relu(x), [0, 1, 2, 3], false)],
    ['one ORT run, 8 MB in from JS and 8 MB out to JS (Relu)', dims, (x) => relu(x)],
  ];
  for (const [what, shape, build] of models) {
    const g = new Graph();
    const x = g.input('x', shape);
    const model = exportOnnx(g, { outputs: { y: build(x) }, params: 'inputs' });
    const session = await Session.create(model.bytes, { name: 'round trip', intraOpThreads: 1 });
    try {
      const data = shape.length === dims.length ? src : new Float32Array(1);
      const feeds = { x: { dtype: 'float32' as const, dims: shape, data } };
      await session.run(feeds);
      const wall: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < reps; i++) {
        const c0 = cpuMs();
        const t0 = performance.now();
        await session.run(feeds);
        wall.push(performance.now() - t0);
        cpu.push(cpuMs() - c0);
      }
      out.push({ what: `${what}, 1 thread`, wallMs: median(wall), cpuMs: median(cpu) });
    } finally {
      await session.release();
    }
  }
  return out;
}

/** The PyTorch configuration with the lower wall time (either may be missing). */
function faster(a: Time | null, b: Time | null): Time | null {
  if (a === null || b === null) return a ?? b;
  return a.wallMs <= b.wallMs ? a : b;
}

function fmt(t: Time | null): string {
  return t === null ? 'n/a' : `${t.wallMs.toFixed(1)} / ${t.cpuMs.toFixed(1)}`;
}

function ratio(a: number | undefined, b: number | undefined): string {
  return a === undefined || b === undefined ? 'n/a' : `${(a / b).toFixed(2)}×`;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: { quick: { type: 'boolean', default: false }, 'no-write': { type: 'boolean', default: false } },
  });
  const quick = values.quick ?? false;
  const status = dnnlStatus();
  if (!status.available) {
    log(`oneDNN not available: ${status.reason}`);
    console.log(JSON.stringify({ bench: 'dnnl', available: false, reason: status.reason }));
    return;
  }
  const rounds = quick ? 2 : 3;
  const reps = quick ? 3 : 5;
  const machine = machineInfo();
  const loads = [currentLoad()];
  log(`oneDNN ${status.version} via koffi ${status.koffi}; load average ${loads[0]} on ${machine.nproc} CPUs`);
  const cases = PASS_CASES.filter((c): c is ConvPassCase => c.kind === 'conv');
  const times = new Map<Key, Time[]>();
  const notes: string[] = [];
  const threadCounts = [1, 2];
  let implementations: Record<string, string> = {};
  for (const threads of threadCounts) {
    implementations = { ...implementations, ...(await measure(threads, cases, rounds, reps, times, notes)) };
    loads.push(currentLoad());
  }
  const trips = await roundTrips(reps * 2);
  loads.push(currentLoad());

  const med = (k: Key): Time | null => {
    const ts = times.get(k);
    return ts === undefined || ts.length === 0 ? null : { wallMs: median(ts.map((t) => t.wallMs)), cpuMs: median(ts.map((t) => t.cpuMs)) };
  };
  const rows = threadCounts.flatMap((threads) =>
    cases.flatMap((c) =>
      CONV_PASSES.map((pass) => {
        const t = Object.fromEntries(SIDES.map((s) => [s, med(key(threads, c.id, pass, s))])) as Record<Side, Time | null>;
        return { threads, caseId: c.id, pass, gflop: convPassFlops(c) / 1e9, t, torchBest: faster(t.torch, t['torch-kept']) };
      }),
    ),
  );
  const header = `| threads | case | pass | ${SIDES.map((s) => `${SIDE_LABEL[s]} wall / CPU ms`).join(' | ')} | oneDNN vs faster PyTorch (wall) | oneDNN vs ORT (wall) | oneDNN vs faster PyTorch (CPU) |`;
  const table = [
    header,
    `| ---: | --- | --- | ${SIDES.map(() => '---:').join(' | ')} | ---: | ---: | ---: |`,
    ...rows.map((r) => {
      const best = r.t.dnnl;
      return `| ${r.threads} | ${r.caseId} | ${r.pass} | ${SIDES.map((s) => fmt(r.t[s])).join(' | ')} | ${ratio(r.torchBest?.wallMs, best?.wallMs)} | ${ratio(r.t.ort?.wallMs, best?.wallMs)} | ${ratio(r.torchBest?.cpuMs, best?.cpuMs)} |`;
    }),
  ].join('\n');
  const tripTable = [
    '| per 8 MB activation (8×64×64×64 float32) | wall ms | CPU ms |',
    '| --- | ---: | ---: |',
    ...trips.map((t) => `| ${t.what} | ${t.wallMs.toFixed(2)} | ${t.cpuMs.toFixed(2)} |`),
  ].join('\n');
  const impl = [...new Set(Object.entries(implementations).map(([k, v]) => `${k}: ${v}`))].join('; ');
  const section = [
    '## oneDNN convolution backend, per pass (`npm run bench:dnnl`)',
    '',
    `Run ${machine.date}${quick ? ' (quick)' : ''} at commit ${machine.gitCommit}. ${machine.cpuModel}, nproc ${machine.nproc}, ${machine.simd}; Node ${machine.node}. ` +
      `1-minute load average ${loads.map((l) => l.toFixed(1)).join(' → ')} (start, after 1 thread, after 2 threads, end).`,
    '',
    `oneDNN ${status.version} (Debian libdnnl2) through koffi ${status.koffi}; implementations: ${impl}. ${rounds} rounds × ${reps} runs per side (PyTorch child, gesso ORT, oneDNN in turn), medians. ` +
      'ORT sums its result inside the graph (no output copy to JavaScript); oneDNN writes into arrays allocated once. ' +
      `PyTorch runs twice per round: as installed, and with GLIBC_TUNABLES=${GLIBC_KEEP_MEMORY} (glibc keeps freed memory, so its per-call buffers stop page-faulting); the ratios use the faster. Ratios above 1: oneDNN is faster.`,
    '',
    table,
    '',
    'What a graph split at the convolutions would add per activation tensor crossing between ORT and JavaScript:',
    '',
    tripTable,
    ...(notes.length > 0 ? ['', ...notes.map((n) => `- ${n}`)] : []),
  ].join('\n');
  console.error(section);
  if (!(values['no-write'] ?? false)) writeSection('BENCHMARKS.md', 'dnnl', section);
  const ref = cases[0]?.id ?? '';
  const summary: Record<string, number | null> = {};
  for (const r of rows.filter((x) => x.caseId === ref))
    for (const side of ['torch', 'ort'] as const) {
      const a = (side === 'torch' ? r.torchBest : r.t.ort)?.wallMs;
      const b = r.t.dnnl?.wallMs;
      summary[`dnnl_vs_${side}_${r.pass}_${r.threads}t`] = a === undefined || b === undefined ? null : Number((a / b).toFixed(3));
    }
  console.log(
    JSON.stringify({
      bench: 'dnnl',
      available: true,
      onednn: status.version,
      load: loads,
      ...summary,
      rows: rows.map((r) => ({ threads: r.threads, case: r.caseId, pass: r.pass, ...Object.fromEntries(SIDES.map((s) => [s, r.t[s]])) })),
      round_trips: trips,
    }),
  );
}

await main();
